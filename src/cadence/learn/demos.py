"""Demonstration-guided start of SRL: a guide policy's sequences seed the replay buffer and the actor.

The rover's backup controller (:class:`cadence.policy.backup.BackupPolicy`, a verifiable
go-to-waypoint law) already reaches goals slowly. Using it — with exploration noise — instead of
uniform random sequences for the first ``learning_starts`` steps gives the critic and the model
transitions that actually reach goal regions, and a behaviour-cloning term on its sequences keeps
the actor near a working policy while the critic is still wrong (TD3+BC-style, weight decaying to 0
over ``bc_decay_steps``). After that the actor is pure SRL: it is free to drive faster than the guide.
On a two-core machine shared by many jobs this turns an hour of exploration into minutes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

SequenceFn = Callable[[np.ndarray], np.ndarray]
GUIDES = ("backup",)


def make_guide(name: str, obs_dim: int, k: int) -> SequenceFn:
    """A guide policy by name: ``obs [obs_dim] -> [k, action_dim]``.

    Raises:
        ValueError: for an unknown name (listing the valid ones) or a guide that does not fit the env.
    """
    if name != "backup":
        raise ValueError(f"unknown guide policy {name!r}; valid: {', '.join(GUIDES)}")
    from cadence.policy.backup import BackupConfig, BackupPolicy

    guide = BackupPolicy(config=BackupConfig(k=k))
    if guide.obs_dim != obs_dim:
        raise ValueError(f"guide {name!r} reads obs_dim {guide.obs_dim}, the env has {obs_dim}")
    return lambda obs: guide.act(np.asarray(obs, dtype=np.float32)[None, :])[0]


class DemoStore:
    """Decision-level pairs ``(obs, sequence)`` recorded from the guide."""

    def __init__(self, obs_dim: int, k: int, action_dim: int, capacity: int) -> None:
        self.obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.seq = np.zeros((capacity, k, action_dim), dtype=np.float32)
        self.size = 0

    def add(self, obs: np.ndarray, seq: np.ndarray) -> None:
        """Store one decision (ignored when full)."""
        if self.size < len(self.obs):
            self.obs[self.size], self.seq[self.size] = obs, seq
            self.size += 1

    def sample(self, batch_size: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        idx = rng.integers(0, self.size, size=batch_size)
        return torch.from_numpy(self.obs[idx]), torch.from_numpy(self.seq[idx])


def noisy(
    seq: np.ndarray, low: np.ndarray, high: np.ndarray, scale: float, rng: np.random.Generator
) -> np.ndarray:
    """Add Gaussian noise of ``scale`` x half the action range, clipped to the bounds."""
    noise = rng.normal(0.0, scale, seq.shape) * (high - low) / 2.0
    return np.clip(seq + noise, low, high).astype(np.float32)
