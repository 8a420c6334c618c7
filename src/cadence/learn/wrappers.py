"""Gymnasium wrappers that change the decision interval of a primitive environment.

* :class:`SequenceWrapper` — one step takes a whole ``(k, action_dim)`` sequence, plays it on the
  primitive env and returns every primitive transition in ``info["transitions"]`` (what the SRL
  model and critic learn from).
* :class:`ActionRepeat` — one step repeats a single action ``repeat`` times (the SB3 SAC baseline
  at decision interval J).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np

from cadence.learn.errors import EnvironmentSpecError


class Transition(NamedTuple):
    """One primitive step of the underlying environment."""

    obs: np.ndarray
    action: np.ndarray
    reward: float
    next_obs: np.ndarray
    terminated: bool
    truncated: bool


def check_box_env(env: gym.Env) -> gym.spaces.Box:
    """Return the env's 1-D ``Box`` action space.

    Raises:
        EnvironmentSpecError: for any other action or observation space.
    """
    space = env.action_space
    if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
        raise EnvironmentSpecError(f"need a 1-D Box action space, got {space!r}")
    obs_space = env.observation_space
    if not isinstance(obs_space, gym.spaces.Box) or len(obs_space.shape) != 1:
        raise EnvironmentSpecError(f"need a 1-D Box observation space, got {obs_space!r}")
    return space


class SequenceWrapper(gym.Wrapper):
    """Play ``k`` primitive actions per step.

    The returned reward is the plain sum of the primitive rewards (the per-step discounting is done
    by the learner, which sees every primitive transition). The sequence stops early when the
    primitive env terminates or truncates.

    Args:
        env: A primitive env with a 1-D Box action space.
        k: Sequence length.
    """

    def __init__(self, env: gym.Env, k: int) -> None:
        super().__init__(env)
        if k <= 0:
            raise EnvironmentSpecError(f"sequence length k must be > 0, got {k}")
        base = check_box_env(env)
        self.k = int(k)
        self.action_space = gym.spaces.Box(
            low=np.tile(base.low, (k, 1)), high=np.tile(base.high, (k, 1)), dtype=np.float32
        )
        self._obs: np.ndarray | None = None

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        self._obs = np.asarray(obs, dtype=np.float32)
        return obs, info

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._obs is None:
            raise EnvironmentSpecError("SequenceWrapper.step called before reset")
        seq = np.asarray(action, dtype=np.float32)
        if seq.shape != self.action_space.shape:
            raise EnvironmentSpecError(
                f"expected a sequence of shape {self.action_space.shape}, got {seq.shape}"
            )
        transitions: list[Transition] = []
        total = 0.0
        terminated = truncated = False
        info: dict[str, Any] = {}
        for primitive in seq:
            obs = self._obs
            next_obs, reward, terminated, truncated, info = self.env.step(primitive)
            next_obs = np.asarray(next_obs, dtype=np.float32)
            transitions.append(Transition(obs, primitive, float(reward), next_obs, terminated, truncated))
            total += float(reward)
            self._obs = next_obs
            if terminated or truncated:
                break
        info = dict(info)
        info["transitions"] = transitions
        return self._obs, total, terminated, truncated, info


class ActionRepeat(gym.Wrapper):
    """Repeat each action ``repeat`` primitive steps, summing rewards (frame-skip style)."""

    def __init__(self, env: gym.Env, repeat: int) -> None:
        super().__init__(env)
        if repeat <= 0:
            raise EnvironmentSpecError(f"action repeat must be > 0, got {repeat}")
        self.repeat = int(repeat)

    def step(self, action: np.ndarray) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        total = 0.0
        obs: Any = None
        terminated = truncated = False
        info: dict[str, Any] = {}
        for _ in range(self.repeat):
            obs, reward, terminated, truncated, info = self.env.step(action)
            total += float(reward)
            if terminated or truncated:
                break
        return obs, total, terminated, truncated, info
