"""Simulation exceptions (DEVELOPERS.md, "Errors": one base per subpackage)."""

from __future__ import annotations


class SimError(Exception):
    """Base class of cadence.sim errors."""


class WorldError(SimError):
    """A robot MJCF or a scene could not be turned into a MuJoCo world."""


class EnvError(SimError, ValueError):
    """An environment was asked for something invalid (unknown goal, bad option, bad action shape)."""


class ValidationError(SimError):
    """A validation suite or its configuration is invalid, or a policy does not fit the env."""
