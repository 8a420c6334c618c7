"""The one validator every plan passes before it is published ("never trust the model", issue 5).

:func:`validate` accepts a :class:`Plan`, its JSON mapping or its JSON text and raises
:class:`PlanRejected` with the reason on the first problem:

* schema: no extra or missing keys, right types, finite numbers only (NaN/Infinity rejected even
  though ``json.loads`` accepts them);
* the plan's scene, known regions only, a goal that is also a keep-out region;
* limits within the rover's envelope (``v_max``, ``omega_max``), horizon bounded;
* waypoints inside the map, outside obstacles, straight segments between them clear of obstacles,
  each subgoal's waypoint inside its region, no segment through a keep-out region;
* windows consistent with the nested STL form, requested deadlines kept, deadlines feasible at
  ``v_max`` along the waypoints;
* the STL spec equal to the one the subgoals and invariants imply, parsed by :mod:`cadence.stl`
  over the scene's region signals, with a finite horizon equal to the plan's;
* no string that looks like code, a shell command, a URL or a ROS topic name (the task text, which
  is the user's own words, is exempt).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from cadence.planner import stlgen
from cadence.planner.errors import PlanRejected
from cadence.planner.geometry import field_for, segments_hit_boxes
from cadence.planner.plan import Limits, Plan
from cadence.planner.schema import loads_strict

if TYPE_CHECKING:
    from cadence.planner.scene import Box, Scene

TOL = 0.1  # seconds / metres of numerical slack (deadlines are rounded to 0.1 s)
_CODE = re.compile(
    r"(__\w+|\bimport\s+\w|\b(?:eval|exec|system|popen|subprocess|lambda)\b|[`$]\(|\$\{|;\s*\w+\s*\(|"
    r"\brm\s+-|</?\w+>|https?://|\w+\(.*\)|(?:^|\s)/[A-Za-z_][\w/]*)"
)


@dataclass(frozen=True)
class ValidatorConfig:
    """Envelope a plan must fit in.

    Attributes:
        v_max: The rover's top speed (m/s).
        omega_max: The rover's top turn rate (rad/s).
        max_horizon: Longest plan in seconds.
        clearance: Metres segments between waypoints keep from obstacles.
        time_step: Every time in a plan must be a multiple of this (the control period the STL is
            evaluated at; :mod:`cadence.stl` refuses bounds that are not whole numbers of samples).
    """

    v_max: float = 1.0
    omega_max: float = 2.0
    max_horizon: float = 3600.0
    clearance: float = 0.05
    time_step: float = 0.05


def looks_like_code(text: str) -> bool:
    """Whether `text` contains something code-, shell-, URL- or topic-like."""
    return bool(_CODE.search(text))


def _stl_parse(text: str, signals: tuple[str, ...]) -> Any:
    try:
        from cadence.stl import parse
    except ImportError:  # the STL package exports parse from its parser module
        from cadence.stl.parser import parse
    return parse(text, signals=signals)


def validate(
    plan: Plan | Mapping[str, Any] | str | bytes, scene: Scene, config: ValidatorConfig | None = None
) -> Plan:
    """Check a plan against the scene and the envelope (see the module docstring).

    Returns:
        The plan, as read back from its JSON (so what was checked is what will be published).

    Raises:
        PlanRejected: with the reason (``PlanFormatError`` for schema problems).
    """
    cfg = config or ValidatorConfig()
    if isinstance(plan, Plan):
        data: Any = plan.to_dict()
    elif isinstance(plan, (str, bytes)):
        data = loads_strict(plan)
    else:
        data = plan
    p = Plan.from_dict(data)
    if p.scene != scene.name:
        raise PlanRejected(f"plan is for scene {p.scene!r}, not {scene.name!r}")
    _check_strings(p)
    _check_regions(p, scene)
    _check_limits(p, cfg)
    _check_geometry(p, scene, cfg)
    _check_times(p, cfg)
    _check_stl(p, scene)
    return p


def _check_strings(p: Plan) -> None:
    for what, text in [("backend", p.backend), ("replan_reason", p.replan_reason or "")] + [
        ("note", n) for n in p.notes
    ]:
        if looks_like_code(text):
            raise PlanRejected(f"plan {what} {text!r} looks like code or a topic name")


def _check_regions(p: Plan, scene: Scene) -> None:
    known = set(scene.region_names)
    for name in p.regions:
        if name not in known:
            raise PlanRejected(f"unknown region {name!r}; regions: {', '.join(scene.region_names)}")
    avoid = {i.region for i in p.invariants}
    for i, sg in enumerate(p.subgoals):
        if sg.region not in sg.options:
            raise PlanRejected(
                f"subgoal {i + 1}: region {sg.region!r} is not among its options {list(sg.options)}"
            )
        if sg.region in avoid:
            raise PlanRejected(f"{sg.region} is both a goal and a region to keep out of")


def _check_limits(p: Plan, cfg: ValidatorConfig) -> None:
    check_limits(p.limits, cfg)
    if p.horizon > cfg.max_horizon:
        raise PlanRejected(f"plan horizon {p.horizon:g} s exceeds the maximum {cfg.max_horizon:g} s")


def check_limits(limits: Limits, cfg: ValidatorConfig) -> None:
    """Reject speed limits outside the rover's envelope (also used before time allocation)."""
    if not 0 < limits.v_max <= cfg.v_max + 1e-9:
        raise PlanRejected(f"speed limit {limits.v_max:g} m/s is outside the rover's (0, {cfg.v_max:g}] m/s")
    if not 0 < limits.omega_max <= cfg.omega_max + 1e-9:
        raise PlanRejected(
            f"turn rate limit {limits.omega_max:g} rad/s is outside the rover's (0, {cfg.omega_max:g}] rad/s"
        )


def _inside(box: Box, x: float, y: float) -> bool:
    """Signed distance > 0 (strictly inside), in plain floats: one point does not need numpy."""
    return abs(x - box.center[0]) < box.half_extents[0] and abs(y - box.center[1]) < box.half_extents[1]


def _check_geometry(p: Plan, scene: Scene, cfg: ValidatorConfig) -> None:
    start = (p.start[0], p.start[1])
    (x0, y0), (x1, y1) = scene.bounds
    for k, (x, y) in enumerate(p.waypoints):
        if not (x0 <= x <= x1 and y0 <= y <= y1):
            raise PlanRejected(f"waypoint {k} {_pt((x, y))} is outside the map {scene.bounds}")
    for i, sg in enumerate(p.subgoals):
        if sg.waypoint >= len(p.waypoints):
            raise PlanRejected(
                f"subgoal {i + 1} points at waypoint {sg.waypoint}, there are {len(p.waypoints)}"
            )
        if i and sg.waypoint < p.subgoals[i - 1].waypoint:
            raise PlanRejected(f"subgoal {i + 1}'s waypoint comes before subgoal {i}'s")
        if not _inside(scene.region(sg.region), *p.waypoints[sg.waypoint]):
            raise PlanRejected(
                f"subgoal {i + 1}'s waypoint {_pt(p.waypoints[sg.waypoint])} is not inside {sg.region}"
            )
    keep_out = [scene.region(inv.region) for inv in p.invariants]
    for box in keep_out:
        if _inside(box, *start):
            raise PlanRejected(f"the robot is inside {box.name}, which the plan must keep out of")
    field = field_for(scene)
    pts = np.asarray(p.waypoints, dtype=np.float64)
    inside = field.distance(pts) <= 0.0
    if inside.any():
        k = int(np.argmax(inside))
        raise PlanRejected(f"waypoint {k} {_pt(pts[k])} is inside an obstacle")
    # one batched exact test: obstacles grown by the clearance, keep-out regions as they are
    chain = np.concatenate([np.asarray([start], dtype=np.float64), pts])
    n_obs = len(field.centers)
    centers = np.concatenate([field.centers, np.array([b.center for b in keep_out]).reshape(-1, 2)])
    half = np.concatenate([field.half, np.array([b.half_extents for b in keep_out]).reshape(-1, 2)])
    grow = np.concatenate([np.full(n_obs, cfg.clearance), np.zeros(len(keep_out))])
    hits = segments_hit_boxes(chain[:-1], chain[1:], centers, half, grow)
    blocked = hits[:, :n_obs].any(-1)
    if blocked.any():
        k = int(np.argmax(blocked))
        raise PlanRejected(
            f"the straight line from {_pt(chain[k])} to waypoint {k} {_pt(chain[k + 1])} crosses an obstacle"
        )
    for j, box in enumerate(keep_out):
        through = hits[:, n_obs + j]
        if through.any():
            k = int(np.argmax(through))
            raise PlanRejected(
                f"the route from {_pt(chain[k])} to {_pt(chain[k + 1])} passes through {box.name}, "
                "which the task says to keep out of"
            )


def _pt(a: Any) -> str:
    return f"({a[0]:.2f}, {a[1]:.2f})"


def _on_grid(t: float, step: float) -> bool:
    return abs(round(t / step) * step - t) <= 1e-9 * max(1.0, abs(t))


def _check_times(p: Plan, cfg: ValidatorConfig) -> None:
    times = [("hold", s.hold) for s in p.subgoals] + [("deadline", s.window[1]) for s in p.subgoals]
    times += [("keep-out window end", i.window[1]) for i in p.invariants]
    for what, t in times:
        if not _on_grid(t, cfg.time_step):
            raise PlanRejected(
                f"{what} {t:g} s is not a multiple of the {cfg.time_step:g} s control period "
                "(STL bounds must be whole numbers of samples)"
            )
    expect = stlgen.windows([s.window[1] for s in p.subgoals], [s.hold for s in p.subgoals])
    chain = [(p.start[0], p.start[1]), *p.waypoints]
    dist = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(np.asarray(chain), axis=0).T))])
    holds = 0.0
    for i, (sg, (lo, _hi)) in enumerate(zip(p.subgoals, expect, strict=False)):
        if abs(sg.window[0] - lo) > 1e-6 or sg.window[1] < sg.window[0]:
            raise PlanRejected(
                f"subgoal {i + 1} ({sg.region}) has window {list(sg.window)}, expected [{lo:g}, ...]"
            )
        if i and sg.window[1] < p.subgoals[i - 1].window[1] + p.subgoals[i - 1].hold - 1e-6:
            raise PlanRejected(f"subgoal {i + 1} ({sg.region}) is due before subgoal {i} is done")
        if sg.requested_deadline is not None and abs(sg.requested_deadline - sg.window[1]) > 1e-6:
            raise PlanRejected(
                f"subgoal {i + 1} ({sg.region}) was asked for by {sg.requested_deadline:g} s "
                f"but the plan gives {sg.window[1]:g} s"
            )
        metres = float(dist[sg.waypoint + 1])
        need = metres / p.limits.v_max + holds
        if sg.window[1] + TOL < need:
            raise PlanRejected(
                f"{sg.region} is {metres:.1f} m along the route; {sg.window[1]:g} s at "
                f"{p.limits.v_max:g} m/s is not enough (it needs at least {need:.1f} s)"
            )
        holds += sg.hold
    if abs(p.horizon - stlgen.horizon(p.subgoals)) > 1e-6:
        raise PlanRejected(f"plan horizon {p.horizon:g} s does not match its subgoals")
    for inv in p.invariants:
        if not 0 <= inv.window[0] <= inv.window[1] <= p.horizon + 1e-6:
            raise PlanRejected(
                f"keep-out window {list(inv.window)} of {inv.region} is outside [0, {p.horizon:g}]"
            )


def _check_stl(p: Plan, scene: Scene) -> None:
    from cadence.stl.errors import STLError

    expected = stlgen.spec(p.subgoals, p.invariants)
    if p.spec != expected:
        raise PlanRejected(
            f"STL spec {p.spec!r} does not match the plan's subgoals and invariants ({expected!r})"
        )
    try:
        formula = _stl_parse(p.spec, scene.region_names)
    except STLError as err:
        raise PlanRejected(f"STL spec does not parse: {err}") from err
    if not math.isfinite(formula.horizon) or abs(formula.horizon - p.horizon) > 1e-6:
        raise PlanRejected(
            f"STL horizon {formula.horizon:g} s is unbounded or differs from the plan's {p.horizon:g} s"
        )
