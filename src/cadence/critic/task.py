"""Building :class:`~cadence.critic.types.CriticTask` from what the rest of cadence produces.

- :func:`reach_task`: one region, optionally with a deadline and a hold (the env's goal).
- :func:`task_from_spec`: an STL text, through ``cadence.stl.decompose`` (TGPO): timed reach
  subgoals become stages, invariants keep their formulas; the critic monitors the spec online.
- :func:`task_from_plan`: a ``cadence.planner.plan.Plan`` (its subgoals become stages, its
  ``keep_out`` invariants become avoid-invariants; its spec is monitored).
"""

from __future__ import annotations

import math
from typing import Any

from cadence.critic.errors import TaskError
from cadence.critic.types import CriticTask, Invariant, Stage

INVARIANT_KINDS = {"keep_out": True, "stay_in": False}


def reach_task(scene: Any, region: str, deadline: float = math.inf, hold: float = 0.0) -> CriticTask:
    """Reach `region` (within `deadline` s, staying `hold` s).

    Raises:
        TaskError: for a region the scene does not have (listing its regions) or a bad window.
    """
    return CriticTask(scene, (Stage(region, (0.0, float(deadline)), float(hold)),))


def task_from_plan(plan: Any, scene: Any | None = None) -> CriticTask:
    """The critic's view of a planner ``Plan``.

    Args:
        plan: A ``cadence.planner.plan.Plan`` (``subgoals``, ``invariants``, ``spec``, ``scene``).
        scene: The Scene object; loaded by the plan's scene name when omitted.

    Raises:
        TaskError: for an invariant kind the critic does not know or regions not in the scene.
    """
    if scene is None:
        from cadence.planner.scene import load_scene

        scene = load_scene(plan.scene)
    stages = tuple(Stage(s.region, tuple(map(float, s.window)), float(s.hold)) for s in plan.subgoals)
    invariants = []
    for inv in plan.invariants:
        if inv.kind not in INVARIANT_KINDS:
            raise TaskError(
                f"plan invariant kind {inv.kind!r} is not understood by the critic; "
                f"kinds: {', '.join(INVARIANT_KINDS)}"
            )
        invariants.append(Invariant(inv.region, INVARIANT_KINDS[inv.kind], tuple(map(float, inv.window))))
    return CriticTask(scene, stages, tuple(invariants), spec=str(plan.spec))


def task_from_spec(scene: Any, spec: str) -> CriticTask:
    """The critic's view of an STL specification over region signals (TGPO decomposition).

    Each subgoal becomes a stage towards the region of its first option (a disjunction is judged
    against the option listed first), with its absolute window and dwell; each invariant keeps
    its formula (robustness from ``cadence.stl``) and window.

    Raises:
        TaskError: when the spec does not parse or decompose, or a subgoal is not a region reach.
    """
    from cadence.stl import STLError, decompose, parse

    try:
        decomposition = decompose(parse(spec, signals=scene.region_names))
    except STLError as err:
        raise TaskError(f"cannot build a critic task from {spec!r}: {err}") from err
    stages = []
    for sub in decomposition.subgoals:
        option = sub.options[0]
        if option.region is None:
            raise TaskError(f"subgoal {sub.index} of {spec!r} is not a region reach ('region > 0')")
        stages.append(Stage(option.region, (float(sub.window[0]), float(sub.window[1])), float(option.dwell)))
    invariants = tuple(
        Invariant(sorted(inv.formula.signals)[0], True, tuple(map(float, inv.window)), formula=inv.formula)
        for inv in decomposition.invariants
    )
    return CriticTask(scene, tuple(stages), invariants, spec=spec)
