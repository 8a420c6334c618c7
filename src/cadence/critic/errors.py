"""Critic exceptions: one base class, narrow subclasses (STYLE.md 7)."""

from __future__ import annotations


class CriticError(Exception):
    """Base class of critic errors."""


class TaskError(CriticError):
    """A critic task (subgoals, invariants, goal) is malformed or does not fit the scene."""


class CriticModelError(CriticError):
    """A learned critic model or its manifest is missing, corrupt or does not match."""
