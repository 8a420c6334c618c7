"""planner_node and critic_node alone, with real rclpy: publish their inputs, check their outputs."""

from __future__ import annotations

import json

import pytest
from conftest import overrides

pytestmark = pytest.mark.ros


def _odom(t: float, x: float, y: float):
    from cadence.ros.convert import OdomSample, sample_to_odom

    return sample_to_odom(OdomSample(t, x, y, 0.0, 0.0, 0.0))


def _planner_probe(graph):
    from nav_msgs.msg import Odometry, Path
    from std_msgs.msg import String

    from cadence.ros import qos

    probe = graph.node("planner_probe")
    got = {"plan": [], "path": [], "status": []}
    probe.create_subscription(String, "plan", lambda m: got["plan"].append(m.data), qos.LATCHED)
    probe.create_subscription(Path, "plan/path", got["path"].append, qos.LATCHED)
    probe.create_subscription(
        String, "planner/status", lambda m: got["status"].append(json.loads(m.data)), qos.EVENTS
    )
    pubs = {
        "task": probe.create_publisher(String, "task", qos.EVENTS),
        "odom": probe.create_publisher(Odometry, "odom", qos.SENSOR),
        "replan": probe.create_publisher(String, "replan", qos.EVENTS),
    }
    return got, pubs


def test_planner_publishes_latched_plan_and_path_from_the_robot_pose(graph) -> None:
    from std_msgs.msg import String

    from cadence.planner.plan import Plan
    from cadence.ros.convert import path_to_waypoints
    from cadence.ros.planner_node import PlannerNode

    graph.add(PlannerNode(context=graph.context, parameter_overrides=overrides(replan_min_interval_s=0.0)))
    got, pubs = _planner_probe(graph)
    pubs["task"].publish(String(data="Go to the office, then the dock"))
    graph.spin_for(0.2)
    assert not got["plan"], "the planner waits for odometry before planning"
    assert graph.spin_until(lambda: any(s["state"] == "waiting" for s in got["status"]))
    pubs["odom"].publish(_odom(1.0, 3.0, 4.0))
    assert graph.spin_until(lambda: got["plan"] and got["path"])
    plan = Plan.from_json(got["plan"][0])
    assert [s.region for s in plan.subgoals] == ["office", "dock"]
    assert plan.start[:2] == pytest.approx((3.0, 4.0))
    assert path_to_waypoints(got["path"][0]) == [tuple(p) for p in plan.waypoints]
    # a late subscriber still gets the plan (latched)
    late = graph.node("late_listener")
    from cadence.ros import qos

    late_plans: list[str] = []
    late.create_subscription(String, "plan", lambda m: late_plans.append(m.data), qos.LATCHED)
    assert graph.spin_until(lambda: bool(late_plans))
    # a replan request from the critic gives a new plan for what is left
    pubs["odom"].publish(_odom(2.0, 7.5, 6.4))  # inside the office: first subgoal met
    graph.spin_for(0.2)
    pubs["replan"].publish(String(data="stagnation: test"))
    assert graph.spin_until(lambda: len(got["plan"]) >= 2)
    replanned = Plan.from_json(got["plan"][-1])
    assert [s.region for s in replanned.subgoals] == ["dock"]
    assert replanned.replan_reason == "stagnation: test"


@pytest.mark.parametrize("worker_thread", [True, False])
def test_replan_counts_time_from_the_pose_the_plan_was_made_at(graph, worker_thread: bool) -> None:
    """A plan made at t = 0.0 (a lockstep sim's first observation) starts its clock at 0.0: a replan
    at t = 20 keeps only what is left of the deadline (t0 = 0.0 is not "unknown")."""
    from std_msgs.msg import String

    from cadence.planner.plan import Plan
    from cadence.ros.planner_node import PlannerNode

    params = overrides(replan_min_interval_s=0.0, worker_thread=worker_thread)
    graph.add(PlannerNode(context=graph.context, parameter_overrides=params))
    got, pubs = _planner_probe(graph)
    pubs["odom"].publish(_odom(0.0, 3.0, 4.0))
    graph.spin_for(0.1)
    pubs["task"].publish(String(data="Go to the office, then the dock within 60 seconds"))
    assert graph.spin_until(lambda: bool(got["plan"]))
    first = Plan.from_json(got["plan"][0])
    pubs["odom"].publish(_odom(20.0, 3.0, 4.1))
    graph.spin_for(0.2)
    pubs["replan"].publish(String(data="stagnation: test"))
    assert graph.spin_until(lambda: len(got["plan"]) >= 2)
    replanned = Plan.from_json(got["plan"][-1])
    end = max(s.window[1] for s in first.subgoals)
    assert max(s.window[1] for s in replanned.subgoals) == pytest.approx(end - 20.0)


def test_planner_reports_why_it_refused(graph) -> None:
    from std_msgs.msg import String

    from cadence.ros.planner_node import PlannerNode

    graph.add(PlannerNode(context=graph.context))
    got, pubs = _planner_probe(graph)
    pubs["odom"].publish(_odom(0.0, 4.0, 4.0))
    graph.spin_for(0.2)
    pubs["task"].publish(String(data="fly to the moon and juggle"))
    assert graph.spin_until(lambda: any(s["state"] == "refused" for s in got["status"]))
    refused = next(s for s in got["status"] if s["state"] == "refused")
    assert refused["reason"], "a refusal carries its reason"
    assert not got["plan"], "a refused plan is never published"


def test_critic_reports_progress_and_done(graph, kitchen_plan) -> None:
    from nav_msgs.msg import Odometry
    from std_msgs.msg import Bool, Float32, String

    from cadence.ros import qos
    from cadence.ros.critic_node import CriticNode

    critic = graph.add(CriticNode(context=graph.context, parameter_overrides=overrides(period_s=0.4)))
    probe = graph.node("critic_probe")
    plan_pub = probe.create_publisher(String, "plan", qos.LATCHED)
    odom_pub = probe.create_publisher(Odometry, "odom", qos.SENSOR)
    progress: list[float] = []
    done: list[bool] = []
    probe.create_subscription(Float32, "critic/progress", lambda m: progress.append(m.data), qos.COMMAND)
    probe.create_subscription(Bool, "critic/done", lambda m: done.append(m.data), qos.EVENTS)
    plan_pub.publish(String(data=kitchen_plan.to_json()))
    assert graph.spin_until(lambda: critic._task is not None)
    # a straight-line caricature of the route: start -> kitchen -> hallway -> office
    route = [
        (4.0, 4.0),
        (2.5, 4.0),
        (2.5, 5.5),
        (2.5, 6.4),
        (2.5, 4.4),
        (5.0, 4.0),
        (7.5, 4.0),
        (7.5, 5.5),
        (7.5, 6.4),
    ]
    for i, (x, y) in enumerate(route):
        odom_pub.publish(_odom(2.0 * i, x, y))
        assert graph.spin_until(lambda i=i: len(done) >= i + 1)
    assert done[-1] is True and not any(done[:-2])
    assert progress[-1] == pytest.approx(1.0)
    assert progress[3] > progress[0], "reaching the kitchen is progress"
