"""Evaluate a policy on a primitive env at a given decision interval J.

A *sequence policy* maps one observation to ``[k, action_dim]`` actions. Evaluated at interval
``J`` it is queried every ``J`` primitive steps and the first ``J`` actions are played; when
``J > k`` the last action is held for the remaining steps (the robot's playback does the same when
a sequence runs out before the next decision). A single-action policy (SAC, PPO) is the ``k = 1``
case: it holds its action for ``J`` steps, i.e. action repeat J.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import gymnasium as gym
import numpy as np

SequencePolicyFn = Callable[[np.ndarray], np.ndarray]


class EvalResult(NamedTuple):
    """Returns of the evaluated episodes (primitive rewards summed, undiscounted)."""

    interval: int
    returns: tuple[float, ...]
    successes: tuple[bool, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.returns))

    @property
    def success_rate(self) -> float:
        return float(np.mean(self.successes)) if self.successes else 0.0


def play_interval(seq: np.ndarray, interval: int) -> np.ndarray:
    """The ``interval`` primitive actions actually played from ``seq [k, action_dim]``."""
    seq = np.asarray(seq, dtype=np.float32)
    if seq.ndim == 1:
        seq = seq[None, :]
    if interval <= len(seq):
        return seq[:interval]
    pad = np.repeat(seq[-1:], interval - len(seq), axis=0)
    return np.concatenate([seq, pad], axis=0)


def evaluate(
    env: gym.Env,
    policy: SequencePolicyFn,
    interval: int,
    episodes: int,
    seed: int = 0,
) -> EvalResult:
    """Run ``episodes`` episodes deciding every ``interval`` primitive steps.

    ``info["is_success"]`` (or ``info["success"]``) of the last step counts as success.

    Raises:
        ValueError: for a non-positive interval or episode count.
    """
    if interval <= 0 or episodes <= 0:
        raise ValueError(f"interval and episodes must be > 0, got {interval} and {episodes}")
    returns: list[float] = []
    successes: list[bool] = []
    for ep in range(episodes):
        obs, info = env.reset(seed=seed + ep)
        total, done = 0.0, False
        while not done:
            for action in play_interval(policy(np.asarray(obs, dtype=np.float32)), interval):
                obs, reward, terminated, truncated, info = env.step(action)
                total += float(reward)
                done = bool(terminated or truncated)
                if done:
                    break
        returns.append(total)
        successes.append(bool(info.get("is_success", info.get("success", False))))
    return EvalResult(interval, tuple(returns), tuple(successes))
