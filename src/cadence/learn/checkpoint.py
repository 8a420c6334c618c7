"""Checkpoints: torch ``state_dict`` weights plus a JSON-able header, loaded with ``weights_only``.

No pickled classes: :func:`load_checkpoint` uses ``torch.load(weights_only=True)``, so a
checkpoint cannot run code on load.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch

from cadence.learn.config import SRLConfig
from cadence.learn.errors import CheckpointError
from cadence.learn.srl import SRLAgent

FORMAT = "cadence-srl-checkpoint-1"


class Checkpoint(NamedTuple):
    """A loaded checkpoint: the rebuilt agent and its header."""

    agent: SRLAgent
    header: dict[str, Any]


def save_checkpoint(path: str | Path, agent: SRLAgent, env_name: str, step: int, **extra: Any) -> Path:
    """Write ``path`` atomically (temp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {
        "format": FORMAT,
        "env": env_name,
        "step": int(step),
        "obs_dim": agent.actor.obs_dim,
        "low": (agent.actor.action_bias - agent.actor.action_scale).tolist(),
        "high": (agent.actor.action_bias + agent.actor.action_scale).tolist(),
        "config": agent.config.to_dict(),
        **extra,
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"header": header, "weights": agent.state_dicts()}, tmp)
    os.replace(tmp, path)
    return path


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Rebuild an :class:`SRLAgent` from a checkpoint.

    Raises:
        CheckpointError: missing or unreadable file, wrong format, or weights that do not fit.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError, pickle.UnpicklingError) as err:
        raise CheckpointError(f"cannot read checkpoint {path}: {err}") from err
    header = blob.get("header") if isinstance(blob, dict) else None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a cadence SRL checkpoint (expected format {FORMAT})")
    try:
        config = SRLConfig(**header["config"])
        agent = SRLAgent(int(header["obs_dim"]), np.array(header["low"]), np.array(header["high"]), config)
        agent.load_state_dicts(blob["weights"])
    except (KeyError, TypeError, RuntimeError) as err:
        raise CheckpointError(f"checkpoint {path} does not match the SRL networks: {err}") from err
    return Checkpoint(agent, header)
