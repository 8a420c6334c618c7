"""The executor's ROS-free core: plan following and the control step (no rclpy)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cadence.planner.planner import Planner
from cadence.planner.scene import load_scene
from cadence.policy.executor import HOLD_DONE, HOLD_NO_PLAN, ExecutorCore
from cadence.policy.mission import INSIDE_MARGIN, PlanFollower
from cadence.policy.observation import RobotState, Scan
from cadence.policy.runtime import load_policy

SCAN = Scan(np.full(36, 5.0), 0.0, 2 * math.pi / 36, 5.0)


@pytest.fixture(scope="module")
def scene():
    return load_scene("apartment")


@pytest.fixture(scope="module")
def plan(scene):
    return Planner(scene, "rules").plan(
        "Go to the kitchen and stay there for 2 seconds, then the office", (4.0, 4.0, 0.0)
    )


def test_follower_cuts_the_plan_into_one_route_per_subgoal(plan, scene) -> None:
    f = PlanFollower(plan, scene, t0=10.0)
    assert len(f.routes) == 2
    assert f.routes[0][-1] == plan.waypoints[plan.subgoals[0].waypoint]
    assert f.routes[1][-1] == plan.waypoints[-1]
    assert f.time_remaining(10.0) == pytest.approx(plan.subgoals[0].window[1])


def test_follower_needs_the_margin_and_the_hold(plan, scene) -> None:
    f = PlanFollower(plan, scene, t0=0.0)
    kitchen = scene.region("kitchen")
    edge_y = kitchen.lo[1] + INSIDE_MARGIN / 2  # inside, but not by the margin
    assert f.update(kitchen.center[0], edge_y, 1.0) == 0
    cx, cy = kitchen.center
    assert f.update(cx, cy, 2.0) == 0  # inside: the hold starts
    assert f.update(cx, cy, 3.5) == 0  # 1.5 s of a 2 s hold
    assert f.update(cx, cy, 4.0) == 1  # held: next subgoal, its route
    assert f.targets().goal == plan.waypoints[-1]
    ox, oy = scene.region("office").center
    assert f.update(ox, oy, 20.0) == 2 and f.done


def test_core_holds_without_a_plan_and_decides_on_fresh_observations(plan, scene) -> None:
    core = ExecutorCore(load_policy("backup"), stale_timeout=0.25)
    step = core.step(0.0)
    assert step.command.held and step.command.reason == HOLD_NO_PLAN
    core.set_plan(plan, scene, 0.0)
    assert core.observe(RobotState(4.0, 4.0, 0.0), SCAN, 0.05)
    step = core.step(0.05)
    assert step.sequence is not None and step.sequence.k == core.policy.k
    assert not step.command.held
    # no new observation: stale after 0.25 s -> hold, and no decision on stale data
    decisions = core.decisions
    for t in np.arange(0.10, 1.0, 0.05):
        step = core.step(float(t))
    assert step.command.held and step.command == (0.0, 0.0, True, step.command.reason)
    assert core.decisions <= decisions + 1


def test_core_holds_on_nan_odometry_and_after_the_plan(plan, scene) -> None:
    core = ExecutorCore(load_policy("backup"), stale_timeout=0.25)
    core.set_plan(plan, scene, 0.0)
    assert not core.observe(None, SCAN, 0.05)  # odometry with NaN arrives as None
    step = core.step(0.05)
    assert step.command.held and (step.command.v, step.command.omega) == (0.0, 0.0)
    assert core.decisions == 0
    core.follower.stage = len(plan.subgoals)  # every subgoal met
    assert core.step(0.1).command.reason == HOLD_DONE


def test_reset_sequence_drops_the_old_decision(plan, scene) -> None:
    core = ExecutorCore(load_policy("backup"), stale_timeout=0.25)
    core.set_plan(plan, scene, 0.0)
    core.observe(RobotState(4.0, 4.0, 0.0), SCAN, 0.05)
    core.step(0.05)
    assert core.player.current is not None
    core.reset_sequence()
    assert core.player.current is None
    step = core.step(0.10)  # no fresh observation since the reset: hold, no replay
    assert step.command.held and step.sequence is None
