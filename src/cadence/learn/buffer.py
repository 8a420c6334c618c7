"""Replay buffer of primitive transitions (numpy storage, torch batches)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from cadence.learn.wrappers import Transition


class Batch(NamedTuple):
    """A sampled mini-batch; ``done`` is 1.0 where the episode *terminated* (not truncated)."""

    obs: torch.Tensor
    action: torch.Tensor
    reward: torch.Tensor
    next_obs: torch.Tensor
    done: torch.Tensor


class ReplayBuffer:
    """Fixed-capacity ring buffer of primitive transitions.

    Args:
        obs_dim: Observation size.
        action_dim: Primitive action size.
        capacity: Maximum number of transitions kept.
    """

    def __init__(self, obs_dim: int, action_dim: int, capacity: int) -> None:
        self.capacity = int(capacity)
        self.obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.action = np.zeros((capacity, action_dim), dtype=np.float32)
        self.reward = np.zeros(capacity, dtype=np.float32)
        self.done = np.zeros(capacity, dtype=np.float32)
        self._next = 0
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(self, t: Transition) -> None:
        """Store one primitive transition (overwriting the oldest when full)."""
        i = self._next
        self.obs[i] = t.obs
        self.action[i] = t.action
        self.reward[i] = t.reward
        self.next_obs[i] = t.next_obs
        self.done[i] = float(t.terminated)
        self._next = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> Batch:
        """Uniform sample with replacement.

        Raises:
            ValueError: if the buffer is empty.
        """
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        idx = rng.integers(0, self.size, size=batch_size)
        return Batch(
            torch.from_numpy(self.obs[idx]),
            torch.from_numpy(self.action[idx]),
            torch.from_numpy(self.reward[idx]),
            torch.from_numpy(self.next_obs[idx]),
            torch.from_numpy(self.done[idx]),
        )
