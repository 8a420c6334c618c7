"""A gymnasium wrapper that adds the critic's progress as a dense reward term (issue 6).

Wraps a rover env (``cadence.sim.make(...)``: it exposes ``scene``, ``goal`` after reset,
``robot_state()`` and ``t``). At reset the wrapper gives the critic a one-stage task (reach the
env's goal) or the task from ``task_fn(env)``; at every ``every``-th step it scores the new pose and
adds ``scale * delta`` to the reward. ``base_scale`` scales the env's own reward, so
``base_scale=0`` plus a success bonus from ``success_bonus`` gives "sparse success + critic".
The verdict is in ``info["critic"]`` and the added term in ``info["terms"]["critic"]`` (when the env
reports terms), so training logs show it as one more named term (mujoco_playground style).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym

from cadence.critic.errors import TaskError
from cadence.critic.types import Critic, CriticTask, Progress, Snapshot, Stage


def snapshot_of(env: Any) -> Snapshot:
    """The critic's view of a rover env: its time and pose."""
    s = env.robot_state()
    return Snapshot(float(env.t), float(s.x), float(s.y), float(s.yaw))


def goal_task(env: Any) -> CriticTask:
    """A one-stage task: reach the env's current goal region."""
    return CriticTask(env.scene, (Stage(str(env.goal)),))


class CriticReward(gym.Wrapper):
    """Dense progress reward from a critic.

    Args:
        env: A rover env (unwrapped attributes ``scene``, ``goal``, ``t``, ``robot_state()``).
        critic: Any :class:`~cadence.critic.types.Critic` (``make_critic("stl")``, ...).
        scale: Reward per unit of progress (a full task is worth ``scale``).
        every: Score every N env steps (K = 8 matches the executor's decision rate); the term is
            added on those steps only.
        base_scale: Multiplier on the wrapped env's reward (0 drops it).
        success_bonus: Added once when ``info["success"]`` is true (for sparse-reward setups).
        task_fn: env -> CriticTask (default: reach the env's goal).
    """

    def __init__(
        self,
        env: gym.Env,
        critic: Critic,
        *,
        scale: float = 10.0,
        every: int = 1,
        base_scale: float = 1.0,
        success_bonus: float = 0.0,
        task_fn: Callable[[Any], CriticTask] = goal_task,
    ) -> None:
        super().__init__(env)
        if every < 1:
            raise TaskError(f"CriticReward.every must be >= 1, got {every}")
        self.critic = critic
        self.scale = float(scale)
        self.every = int(every)
        self.base_scale = float(base_scale)
        self.success_bonus = float(success_bonus)
        self.task_fn = task_fn
        self.last: Progress | None = None
        self._steps = 0

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        base = self.env.unwrapped
        self.last = self.critic.reset(self.task_fn(base), snapshot_of(base))
        self._steps = 0
        info["critic"] = self.last
        return obs, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        if self.last is None:
            raise TaskError("CriticReward.step called before reset")
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._steps += 1
        term = 0.0
        if self._steps % self.every == 0 or terminated or truncated:
            self.last = self.critic.observe(snapshot_of(self.env.unwrapped))
            term = self.scale * self.last.delta
        bonus = self.success_bonus if info.get("success") else 0.0
        info["critic"] = self.last
        if isinstance(info.get("terms"), dict):
            info["terms"] = {**info["terms"], "critic": term, "success_bonus": bonus}
        return obs, self.base_scale * float(reward) + term + bonus, terminated, truncated, info
