"""Plans mean what they say: a robot that follows the waypoints satisfies the plan's STL spec.

A kinematic unicycle (turn in place at 2 rad/s, then drive at 0.8 m/s, 20 Hz) follows the waypoints
and dwells at each subgoal's waypoint for its hold; the spec's robustness on the resulting region
signals (cadence.stl, dt = the control period) must be positive. Stopping short of the last subgoal
must make it negative, so the check can fail.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from cadence.planner.planner import Planner
from cadence.planner.scene import load_scene
from cadence.stl import parse, robustness_at_zero

DT = 0.05


def follow(start, waypoints, holds: dict[int, float], v: float = 0.8, w: float = 2.0) -> np.ndarray:
    x, y, yaw = start
    trace = [(x, y)]
    for k, (tx, ty) in enumerate(waypoints):
        while math.dist((x, y), (tx, ty)) > 1e-6:
            err = math.remainder(math.atan2(ty - y, tx - x) - yaw, math.tau)
            if abs(err) > 1e-9:
                yaw += max(-w * DT, min(w * DT, err))
            else:
                step = min(v * DT, math.dist((x, y), (tx, ty)))
                x, y = x + step * math.cos(yaw), y + step * math.sin(yaw)
            trace.append((x, y))
        trace.extend([(x, y)] * (math.ceil(holds.get(k, 0.0) / DT) + 2))
    return np.asarray(trace)


def satisfied(plan, scene, cut: int | None = None) -> tuple[float, np.ndarray]:
    """(robustness at 0 of the plan's spec, the trace) for a robot following waypoints[:cut]."""
    holds = {sg.waypoint: sg.hold for sg in plan.subgoals}
    xy = follow(plan.start, plan.waypoints[:cut], holds)
    need = round(plan.horizon / DT) + 1
    if len(xy) < need:
        xy = np.concatenate([xy, np.repeat(xy[-1:], need - len(xy), axis=0)])
    formula = parse(plan.spec, signals=scene.region_names)
    return float(robustness_at_zero(formula, scene.region_signals(xy), DT)), xy


TASKS = [
    ("apartment", "go to the kitchen, then the office, then return to the dock and stay there for 5 s"),
    ("apartment", "go to the kitchen and wait there 3 s, then the dock within 60 s; avoid the lab"),
    ("apartment", "go to either the lab or the office, then the kitchen"),
    ("apartment", "go to the office via the hallway without entering the kitchen"),
    ("warehouse", "go to bay 1, then aisle two and wait 2 seconds, then the packing station"),
    ("open", "go to alpha then charlie then centre"),
]


@pytest.mark.parametrize(("scene_name", "task"), TASKS, ids=[t[1] for t in TASKS])
def test_following_the_waypoints_satisfies_the_spec(scene_name: str, task: str) -> None:
    scene = load_scene(scene_name)
    plan = Planner(scene).plan(task)
    rho, _ = satisfied(plan, scene)
    assert rho > 0, plan.spec
    # stopping before the last subgoal's waypoint: if the robot never entered that region, it fails
    last = plan.subgoals[-1]
    rho_cut, xy = satisfied(plan, scene, cut=last.waypoint)
    if max(float(scene.signed_distance(r, xy).max()) for r in last.options) <= 0:
        assert rho_cut < 0, plan.spec


def test_stopping_short_violates_the_spec() -> None:
    scene = load_scene("apartment")
    plan = Planner(scene).plan("go to the kitchen, then the office")
    assert satisfied(plan, scene)[0] > 0
    assert satisfied(plan, scene, cut=plan.subgoals[-1].waypoint - 1)[0] < 0


def test_replanned_plan_is_satisfied_from_the_new_pose() -> None:
    scene = load_scene("apartment")
    planner = Planner(scene)
    plan = planner.plan("go to the kitchen, then the office, then the dock within 90 s")
    again = planner.replan(plan, (5.0, 4.2, math.pi), satisfied=1, reason="stagnation", elapsed=15.0)
    assert satisfied(again, scene)[0] > 0
