"""A tiny primitive env for SRL smoke tests and docs: drive a 1-D point to a random target.

Real dynamics and reward (not a mock): ``x += 0.1 * a``, reward ``-|x - target|``; a policy that
moves towards the target scores far better than a random one, so learning is measurable in a few
thousand primitive steps.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np


class PointReach(gym.Env):
    """Observation ``[target - x]``; action velocity in ``[-1, 1]``; 30 steps per episode."""

    def __init__(self, horizon: int = 30) -> None:
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (1,), np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.horizon = horizon
        self._x = self._target = 0.0
        self._t = 0

    def _obs(self) -> np.ndarray:
        return np.array([self._target - self._x], dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._x = 0.0
        self._target = float(self.np_random.uniform(-1.0, 1.0))
        self._t = 0
        return self._obs(), {}

    def step(self, action):
        a = float(np.clip(np.asarray(action).reshape(-1)[0], -1.0, 1.0))
        self._x += 0.1 * a
        self._t += 1
        err = abs(self._target - self._x)
        return self._obs(), -err, False, self._t >= self.horizon, {"is_success": err < 0.1}
