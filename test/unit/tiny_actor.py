"""A small SRL actor exported to ONNX, for the tests of the policy executors (numpy graph, numba)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from cadence.learn.export import export_policy
from cadence.learn.networks import SequenceActor


def export_tiny_actor(path: Path, obs_dim: int, k: int, hidden: int, seed: int) -> Path:
    """The SRL actor architecture (Gemm/Relu trunk, Reshape, Gather, Tanh, Mul, Add) with random weights."""
    torch.manual_seed(seed)
    actor = SequenceActor(obs_dim, np.array([-0.5, -2.0]), np.array([1.0, 2.0]), k, hidden=hidden)
    export_policy(
        actor,
        {"obs_dim": obs_dim},
        k,
        path,
        action_names=("v", "omega"),
        action_low=(-0.5, -2.0),
        action_high=(1.0, 2.0),
        control_dt=0.05,
    )
    return path
