"""Planner exceptions."""

from __future__ import annotations


class PlannerError(Exception):
    """Base class of planner errors."""


class SceneError(PlannerError):
    """A scene file is missing, malformed or inconsistent."""
