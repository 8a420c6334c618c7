"""Planner exceptions: one base, narrow subclasses (STYLE.md 7)."""

from __future__ import annotations


class PlannerError(Exception):
    """Base class of planner errors."""


class SceneError(PlannerError):
    """A scene file is missing, malformed or inconsistent."""


class PlanRejected(PlannerError):
    """A plan failed validation and must not be published; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PlanRefused(PlanRejected):
    """The back end declined the task (a model's refusal); no fallback is tried."""


class PlanFormatError(PlanRejected):
    """Plan (or model reply) JSON that does not match its schema: extra keys, NaN, wrong types."""


class InfeasibleDeadline(PlanRejected):
    """A requested deadline cannot be met at the rover's speed limits."""


class TaskNotUnderstood(PlannerError):
    """The task text has words the back end cannot interpret; never a silent guess.

    Attributes:
        phrase: The words that were not understood.
        closest: The closest region names, best first.
    """

    def __init__(self, message: str, phrase: str = "", closest: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.phrase = phrase
        self.closest = closest


class BackendError(PlannerError):
    """A back end could not produce an intent (network, timeout, malformed reply)."""


class BackendUnavailable(BackendError):
    """A back end's optional dependency is not installed."""
