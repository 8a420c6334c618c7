"""Replay buffer of primitive transitions (numpy storage, torch batches)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from cadence.learn.wrappers import Transition


class Batch(NamedTuple):
    """A sampled mini-batch; ``done`` is 1.0 where the episode *terminated* (not truncated).

    ``discount`` (n-step batches only): the factor of the bootstrap value at ``next_obs``,
    ``gamma ** m`` for the ``m <= n`` steps summed into ``reward``.
    """

    obs: torch.Tensor
    action: torch.Tensor
    reward: torch.Tensor
    next_obs: torch.Tensor
    done: torch.Tensor
    discount: torch.Tensor | None = None


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
        self.end = np.zeros(capacity, dtype=bool)  # terminated or truncated: no continuation
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
        self.end[i] = bool(t.terminated or t.truncated)
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

    def sample_n_step(
        self, batch_size: int, rng: np.random.Generator, n_step: int, gamma: float
    ) -> tuple[Batch, Batch]:
        """The same uniform sample as one-step transitions and as ``n_step`` returns.

        The n-step return of index ``i`` sums ``gamma ** j * r_{i+j}`` over the stored continuation
        of ``i``'s episode, stopping after ``n_step`` steps, at the episode's end (terminated or
        truncated) or at the newest transition; ``next_obs`` is the observation after the last step
        summed, ``done`` whether that step terminated and ``discount`` is ``gamma ** m``.

        Raises:
            ValueError: if the buffer is empty or ``n_step < 1``.
        """
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        if n_step < 1:
            raise ValueError(f"n_step must be >= 1, got {n_step}")
        idx = rng.integers(0, self.size, size=batch_size)
        one = Batch(
            torch.from_numpy(self.obs[idx]),
            torch.from_numpy(self.action[idx]),
            torch.from_numpy(self.reward[idx]),
            torch.from_numpy(self.next_obs[idx]),
            torch.from_numpy(self.done[idx]),
        )
        newest = (self._next - 1) % self.capacity
        ret = self.reward[idx].astype(np.float64)
        last = idx.copy()
        steps = np.ones(batch_size, dtype=np.int64)
        alive = ~self.end[idx] & (idx != newest)
        for j in range(1, n_step):
            nxt = (last + 1) % self.capacity
            ret[alive] += gamma**j * self.reward[nxt[alive]]
            last[alive] = nxt[alive]
            steps[alive] += 1
            alive &= ~self.end[nxt] & (nxt != newest)
        n = Batch(
            one.obs,
            one.action,
            torch.from_numpy(ret.astype(np.float32)),
            torch.from_numpy(self.next_obs[last]),
            torch.from_numpy(self.done[last]),
            torch.from_numpy((gamma**steps).astype(np.float32)),
        )
        return one, n
