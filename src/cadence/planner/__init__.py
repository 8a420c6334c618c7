"""Planner: scene model, topological graph, plans and their back ends (ROS-free).

The public API is importable from here; names resolve lazily (PEP 562) so importing the package,
as the CLI does to find ``cadence.planner.cli``, loads nothing heavy::

    from cadence.planner import Planner, make_backend, PlanRejected
    planner = Planner(load_scene("apartment"), make_backend("rules"))
    plan = planner.plan("go to the kitchen, then the dock within 60 s", pose=(4.0, 4.0, 0.0))
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Planner": "cadence.planner.planner",
    "Plan": "cadence.planner.plan",
    "Subgoal": "cadence.planner.plan",
    "Invariant": "cadence.planner.plan",
    "Limits": "cadence.planner.plan",
    "PLAN_SCHEMA": "cadence.planner.plan",
    "PLAN_SCHEMA_VERSION": "cadence.planner.plan",
    "Intent": "cadence.planner.intent",
    "Step": "cadence.planner.intent",
    "make_backend": "cadence.planner.backends",
    "list_backends": "cadence.planner.backends",
    "PlanRequest": "cadence.planner.backends",
    "validate": "cadence.planner.validator",
    "ValidatorConfig": "cadence.planner.validator",
    "TimingConfig": "cadence.planner.timing",
    "LegTiming": "cadence.planner.timing",
    "AllocationScorer": "cadence.planner.timing",
    "scene_text": "cadence.planner.scene_text",
    "load_scene": "cadence.planner.scene",
    "Scene": "cadence.planner.scene",
    "PlannerError": "cadence.planner.errors",
    "PlanRejected": "cadence.planner.errors",
    "PlanRefused": "cadence.planner.errors",
    "PlanFormatError": "cadence.planner.errors",
    "InfeasibleDeadline": "cadence.planner.errors",
    "TaskNotUnderstood": "cadence.planner.errors",
    "BackendError": "cadence.planner.errors",
    "BackendUnavailable": "cadence.planner.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'cadence.planner' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
