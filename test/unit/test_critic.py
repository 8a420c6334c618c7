"""Critic core: data types, registry, geodesic field, the analytic STL-stage critic, the detector."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from cadence.critic.episodes import random_episodes
from cadence.critic.errors import CriticError, TaskError
from cadence.critic.geodesic import distance_field
from cadence.critic.registry import critic_names, make_critic
from cadence.critic.stagnation import StagnationConfig, StagnationDetector
from cadence.critic.stl_critic import StlCritic
from cadence.critic.task import reach_task, task_from_plan, task_from_spec
from cadence.critic.types import CriticTask, Invariant, Progress, Snapshot, Stage
from cadence.planner.scene import load_scene


@pytest.fixture(scope="module")
def scene():
    return load_scene("apartment")


def _run(critic, task, poses, dt=0.4):
    snaps = [Snapshot(i * dt, float(x), float(y), float(yaw)) for i, (x, y, yaw) in enumerate(poses)]
    out = [critic.reset(task, snaps[0])]
    out += [critic.observe(s) for s in snaps[1:]]
    return out


def _line(a, b, n):
    pts = np.linspace(a, b, n)
    yaw = math.atan2(b[1] - a[1], b[0] - a[0])
    return [(x, y, yaw) for x, y in pts]


def test_progress_is_validated():
    Progress(0.5, 0.2, False, 0)
    for bad in (dict(delta=1.5), dict(delta=float("nan")), dict(value=-0.1), dict(stage=-1)):
        kw = dict(delta=0.0, value=0.0, done=False, stage=0) | bad
        with pytest.raises(ValueError):
            Progress(**kw)
    with pytest.raises(ValueError, match=r"Snapshot\.x"):
        Snapshot(0.0, float("inf"), 0.0)


def test_task_validation_names_regions(scene):
    with pytest.raises(TaskError, match="kitchen"):
        CriticTask(scene, (Stage("garage"),))
    with pytest.raises(TaskError, match="at least one"):
        CriticTask(scene, ())
    with pytest.raises(TaskError, match="window"):
        Stage("kitchen", (5.0, 1.0))


def test_registry_lists_names():
    assert critic_names() == ("stl", "learned")
    assert make_critic("stl").name == "stl"
    with pytest.raises(ValueError, match="stl, learned"):
        make_critic("oracle")


def test_geodesic_field_goes_through_doorways(scene):
    field = distance_field(scene, "kitchen")
    assert field.at(2.5, 6.4) == 0.0
    # From the hallway under the kitchen/office wall the way in is through the kitchen door (x=2.5),
    # so the field is much larger than the straight-line distance through the wall.
    straight = 5.15 - 4.4
    assert field.at(4.5, 4.4) > straight + 1.5
    assert field.at(2.5, 4.0) < field.at(4.5, 4.0) < field.at(7.5, 1.6)


def test_stl_value_monotone_and_done(scene):
    poses = _line((6.0, 4.0), (2.5, 4.0), 12) + _line((2.5, 4.0), (2.5, 6.0), 8)
    out = _run(StlCritic(), reach_task(scene, "kitchen"), poses)
    values = [p.value for p in out]
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(values))
    assert out[0].value == 0.0 and not out[0].done
    assert out[-1].done and out[-1].value == 1.0 and out[-1].stage == 1
    assert sum(p.delta for p in out) == pytest.approx(out[-1].value, abs=1e-6)  # SPA-RL: deltas sum
    assert all(p.delta > 0 for p in out[1:12])


def test_stl_reversed_path_regresses(scene):
    poses = _line((3.3, 4.0), (4.5, 4.0), 6)  # away from the kitchen door
    out = _run(StlCritic(), reach_task(scene, "kitchen"), poses)
    assert all(p.delta < 0 for p in out[1:])
    assert "m to go" in out[-1].reason


def test_stl_stages_hold_and_invariant(scene):
    task = CriticTask(
        scene,
        (Stage("hallway", (0.0, 60.0), hold=1.0), Stage("kitchen", (0.0, 60.0))),
        (Invariant("lab", avoid=True),),
    )
    critic = StlCritic()
    poses = [(5.0, 4.0, math.pi)] * 4 + _line((5.0, 4.0), (2.5, 4.0), 6) + _line((2.5, 4.0), (2.5, 6.0), 6)
    out = _run(critic, task, poses)
    assert out[0].stage == 0 and "holding" in out[1].reason
    assert out[3].stage == 1  # held 1.2 s in the hallway
    assert out[-1].done and out[-1].stage == 2
    # Entering the lab (an avoided region) costs and forbids done.
    bad = (
        _line((5.0, 4.0), (2.5, 4.0), 6) + _line((2.5, 4.0), (2.5, 2.5), 4) + _line((2.5, 2.5), (2.5, 6.0), 9)
    )
    out = _run(StlCritic(), CriticTask(scene, (Stage("kitchen"),), (Invariant("lab"),)), bad)
    assert any("keep out of lab" in p.reason for p in out)
    assert out[-1].value == 1.0 and not out[-1].done
    assert "violated" in out[-1].reason and "keep out of lab" in out[-1].reason


def test_stl_deadline_penalty(scene):
    poses = _line((8.5, 4.0), (8.5, 4.0), 5)  # standing still, far from the kitchen, 1 s deadline
    out = _run(StlCritic(), reach_task(scene, "kitchen", deadline=1.0), poses)
    assert out[-1].delta < 0 and "behind its deadline" in out[-1].reason


def test_observe_before_reset_is_refused():
    with pytest.raises(TaskError, match="before reset"):
        StlCritic().observe(Snapshot(0.0, 1.0, 1.0))


def test_detector_flags_stagnation_and_regression():
    det = StagnationDetector(StagnationConfig(window=4, cooldown=3))
    fired = [det.update(Progress(0.05, 0.1 * i / 10, False, 0)) for i in range(6)]
    assert fired == [None] * 6
    stalled = [det.update(Progress(0.0005, 0.3, False, 0, "kitchen: 3.0 m to go")) for _ in range(4)]
    assert stalled[:3] == [None] * 3 and stalled[3].kind == "stagnation"
    assert "kitchen" in stalled[3].reason and stalled[3].decisions == 10
    assert [det.update(Progress(0.0, 0.3, False, 0)) for _ in range(3)] == [None] * 3  # cooldown
    req = det.update(Progress(-0.2, 0.1, False, 0))
    assert req is not None and req.kind == "regression"
    det.reset()
    assert det.update(Progress(0.0, 1.0, True, 1)) is None


def test_detector_config_is_validated():
    with pytest.raises(CriticError, match="window"):
        StagnationConfig(window=1)


def test_stl_critic_on_driven_episodes_orders_time(scene):
    critic = StlCritic()
    for ep in random_episodes(scene, 5, seed=3):
        out = _run(critic, reach_task(scene, ep.goal), ep.pose)
        r = ep.reached(scene)
        values = np.array([p.value for p in out[: r + 1]])
        assert np.corrcoef(np.argsort(np.argsort(values)), np.arange(r + 1))[0, 1] > 0.9
        assert out[r].done and not any(p.done for p in out[:r])


SPEC = "eventually[0:60](kitchen > 0 and eventually[0:30](always[0:2](office > 0))) and always[0:90](not (lab > 0))"


def test_task_from_spec_follows_the_decomposition(scene):
    task = task_from_spec(scene, SPEC)
    assert [(s.region, s.hold) for s in task.stages] == [("kitchen", 0.0), ("office", 2.0)]
    assert task.invariants[0].signals == ("lab",) and task.invariants[0].window == (0.0, 90.0)
    assert (
        task.invariants[0].robustness_at(scene, (2.5, 1.6))
        < 0
        < task.invariants[0].robustness_at(scene, (5, 4))
    )
    with pytest.raises(TaskError, match="cannot build"):
        task_from_spec(scene, "eventually[0:10](garage > 0)")


def test_spec_monitor_decides_done(scene):
    # kitchen, back through the hallway, into the office and stay 2.4 s: the monitor's lower bound
    # stays <= 0 until the horizon (the lab invariant runs to 90 s), the upper bound stays > 0.
    path = (
        _line((4.0, 4.0), (2.5, 4.0), 5)
        + _line((2.5, 4.0), (2.5, 5.8), 5)
        + _line((2.5, 5.8), (2.5, 4.0), 5)
        + _line((2.5, 4.0), (7.5, 4.0), 10)
        + _line((7.5, 4.0), (7.5, 5.8), 5)
        + [(7.5, 5.8, 1.57)] * 6
    )
    out = _run(StlCritic(), task_from_spec(scene, SPEC), path)
    assert out[-1].done and out[-1].stage == 2
    assert not any(p.done for p in out[:-3])
    assert "spec robustness in [" in out[-1].reason
    # Reach-only spec: the monitor's lower bound turns positive as soon as the kitchen is entered.
    out = _run(StlCritic(), task_from_spec(scene, "eventually[0:30](kitchen > 0)"), path[:10])
    first = next(i for i, p in enumerate(out) if p.done)
    assert float(scene.signed_distance("kitchen", path[first][:2])) > 0
    assert not any(p.done for p in out[:first])


def test_task_from_plan(scene):
    from cadence.planner.plan import Invariant as PlanInvariant
    from cadence.planner.plan import Limits, Plan, Subgoal

    plan = Plan(
        task="go to the kitchen then the office, avoid the lab",
        scene="apartment",
        spec="eventually[0:40](kitchen > 0 and eventually[0:40](office > 0)) and always[0:80](not (lab > 0))",
        subgoals=(
            Subgoal("kitchen", ("kitchen",), (0.0, 40.0)),
            Subgoal("office", ("office",), (0.0, 80.0), 1.0),
        ),
        invariants=(PlanInvariant("keep_out", "lab", (0.0, 80.0)),),
        limits=Limits(1.0, 2.0),
        start=(4.0, 4.0, 0.0),
        waypoints=((2.5, 4.0), (2.5, 6.4), (7.5, 4.0), (7.5, 6.4)),
        horizon=80.0,
        backend="rules",
    )
    task = task_from_plan(plan, scene)
    assert [s.region for s in task.stages] == ["kitchen", "office"] and task.stages[1].hold == 1.0
    assert task.invariants[0].avoid and task.invariants[0].region == "lab"
    assert task.spec == plan.spec


def test_distance_fields_are_cached_by_geometry(scene):
    again = load_scene("apartment")
    assert distance_field(again, "lab") is distance_field(scene, "lab")
    moved = type(scene).from_dict({**scene.to_dict(), "obstacles": []}, name="apartment")
    assert distance_field(moved, "lab") is not distance_field(scene, "lab")
    assert distance_field(moved, "lab").at(7.5, 6.4) < distance_field(scene, "lab").at(7.5, 6.4) - 1.0


def test_scalar_pose_encoder_matches_the_batched_one(scene):
    from cadence.critic.features import encode_poses, pose_encoder

    poses = np.array([[0.3, 7.1, -2.0], [9.9, 0.2, 3.1], [5.0, 4.0, 0.0]])
    enc = pose_encoder(scene)
    assert np.allclose([enc(*p) for p in poses], encode_poses(scene, poses), atol=1e-6)


def test_allocation_scorer_prefers_feasible_balanced_budgets():
    from cadence.critic.allocation import CriticAllocationScorer
    from cadence.planner.timing import LegTiming

    scorer = CriticAllocationScorer()
    legs = [LegTiming("kitchen", 2.0, 2.0, 0.0, None), LegTiming("dock", 10.0, 10.0, 2.0, 60.0)]
    balanced = scorer(legs, [10.0, 60.0])  # 10 s for 2 m, 48 s for 10 m
    starved = scorer(legs, [35.0, 60.0])  # 35 s for 2 m, 23 s for 10 m (20 s expected + spread)
    assert balanced > starved > -math.inf
    assert scorer(legs, [1.0, 60.0]) == -math.inf  # below the kitchen leg's minimum time
    assert balanced <= 0.0
    with pytest.raises(TaskError, match="deadlines"):
        scorer(legs, [10.0])


def test_turning_round_after_a_subgoal_is_not_a_regression() -> None:
    """Meeting a subgoal and turning towards the next (a brief dip) raises nothing; a real
    regression after the grace period still does."""
    det = StagnationDetector(StagnationConfig())
    assert [det.update(Progress(0.05, 0.05 * i, False, 0)) for i in range(1, 6)] == [None] * 5
    turning = [
        Progress(-0.06, 0.44, False, 1),
        Progress(-0.02, 0.42, False, 1),
        Progress(0.03, 0.45, False, 1),
    ]
    assert [det.update(p) for p in turning] == [None] * 3
    det.update(Progress(0.05, 0.5, False, 1))
    fired = det.update(Progress(-0.08, 0.42, False, 1, "office: 6.2 m to go"))
    assert fired is not None and fired.kind == "regression" and fired.stage == 1


def test_stage_grace_is_validated() -> None:
    with pytest.raises(CriticError, match="stage_grace"):
        StagnationConfig(stage_grace=-1)
