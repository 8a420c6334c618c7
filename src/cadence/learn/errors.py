"""Narrow exceptions of :mod:`cadence.learn` (STYLE.md 7)."""

from __future__ import annotations


class LearnError(Exception):
    """Base class of every error raised by :mod:`cadence.learn`."""


class ConfigError(LearnError, ValueError):
    """A training hyper-parameter or option is invalid."""


class EnvironmentSpecError(LearnError, ValueError):
    """An environment cannot be used for training (unknown name, wrong action space, ...)."""


class CheckpointError(LearnError):
    """A checkpoint file is missing, truncated or does not match the network."""
