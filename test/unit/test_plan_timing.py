"""Time allocation: deadlines from geometry, infeasible requests explained, MH refinement, replanning."""

from __future__ import annotations

import math

import pytest

from cadence.planner.errors import InfeasibleDeadline, PlanRejected
from cadence.planner.planner import Planner
from cadence.planner.scene import load_scene
from cadence.planner.timing import LegTiming, TimingConfig, allocate, earliest, slack_score

CFG = TimingConfig(v_max=1.0, omega_max=2.0)


def legs(*mins: float, holds=None, requested=None) -> list[LegTiming]:
    holds = holds or [0.0] * len(mins)
    requested = requested or [None] * len(mins)
    return [
        LegTiming(f"r{i}", m, m, h, r)
        for i, (m, h, r) in enumerate(zip(mins, holds, requested, strict=False))
    ]


def test_free_deadlines_get_slack_in_proportion() -> None:
    d = allocate(legs(10.0, 20.0), CFG)
    assert d[0] == pytest.approx(1.5 * 10 + 3)
    assert d[1] == pytest.approx(d[0] + 1.5 * 20 + 3)


def test_span_before_a_requested_deadline_is_shared_proportionally() -> None:
    d = allocate(legs(10.0, 30.0, requested=[None, 80.0]), TimingConfig(iterations=0))
    assert d[1] == 80.0
    assert d[0] == pytest.approx(10 + 40 * 10 / 40)  # spare 40 s split 1:3


def test_holds_count_towards_the_next_deadline() -> None:
    d = allocate(legs(10.0, 10.0, holds=[5.0, 0.0], requested=[None, 45.0]), TimingConfig(iterations=0))
    assert d[0] == pytest.approx(10 + 10)  # spare 45 - 20 - 5 = 20 s split 1:1
    assert d[1] == 45.0
    assert earliest(legs(10.0, 10.0, holds=[5.0, 0.0])) == [10.0, 25.0]


def test_mh_follows_a_custom_scorer() -> None:
    """A scorer that wants leg 2 to have more slack pulls the free deadline earlier."""

    def prefer_late_slack(ls, d):
        base = slack_score(ls, d)
        return base + 0.5 * math.log(max(d[1] - d[0], 1e-9))

    spans = legs(10.0, 10.0, requested=[None, 60.0])
    default = allocate(spans, CFG)
    custom = allocate(spans, TimingConfig(iterations=300, temperature=0.01), prefer_late_slack)
    assert default[0] == pytest.approx(30.0, abs=0.2)
    assert custom[0] < default[0] - 3.0
    assert custom[0] >= 10.0 and custom[1] == 60.0
    assert (
        allocate(spans, TimingConfig(iterations=300, temperature=0.01), prefer_late_slack) == custom
    )  # seeded


@pytest.mark.parametrize(
    ("spans", "match"),
    [
        (
            legs(14.0, requested=[5.0]),
            r"r0 is 14\.0 m away; 5 s at 1 m/s is not enough \(it needs at least 14\.0 s",
        ),
        (legs(5.0, 5.0, requested=[20.0, 22.0]), r"r1 cannot be reached by 22 s after r0 at 20 s"),
        (legs(5.0, 5.0, requested=[30.0, 20.0]), r"r1's deadline \(20 s\) is before r0's \(30 s\)"),
        (legs(5.0, 5.0, holds=[10.0, 0.0], requested=[None, 15.0]), r"r1 is 10\.0 m away via r0"),
    ],
)
def test_infeasible_requests_are_explained(spans, match: str) -> None:
    with pytest.raises(InfeasibleDeadline, match=match):
        allocate(spans, CFG)


def test_planner_deadlines_respect_speed_limits() -> None:
    scene = load_scene("apartment")
    slow = Planner(scene).plan("go to the dock slowly")
    fast = Planner(scene).plan("go to the dock")
    assert slow.limits.v_max == 0.5
    assert slow.subgoals[0].deadline > fast.subgoals[0].deadline
    length = sum(
        math.dist(a, b) for a, b in zip([fast.start[:2], *fast.waypoints], fast.waypoints, strict=False)
    )
    assert fast.subgoals[0].deadline >= length / 1.0


@pytest.fixture(scope="module")
def planner() -> Planner:
    return Planner(load_scene("apartment"))


def test_replan_from_current_pose_drops_satisfied_subgoals(planner: Planner) -> None:
    plan = planner.plan("go to the kitchen, then the office, then the dock within 90 s")
    again = planner.replan(plan, (7.5, 5.0, 1.57), satisfied=1, reason="stagnation", elapsed=20.0)
    assert [s.region for s in again.subgoals] == ["office", "dock"]
    assert again.replan_reason == "stagnation"
    assert again.start == (7.5, 5.0, 1.57)
    assert again.subgoals[-1].requested_deadline == pytest.approx(70.0)
    assert again.subgoals[-1].deadline == pytest.approx(70.0)
    assert again.waypoints[0] in {
        (7.5, 4.8),
        (7.5, 6.4),
    }  # joins at the office doorway, not back at the kitchen


def test_replan_after_a_passed_deadline_reallocates_and_says_so(planner: Planner) -> None:
    plan = planner.plan("go to the kitchen within 20 s, then the office")
    again = planner.replan(plan, (4.0, 4.0, 0.0), satisfied=[], reason="deadline", elapsed=25.0)
    assert [s.region for s in again.subgoals] == ["kitchen", "office"]
    assert again.subgoals[0].requested_deadline is None
    assert any("has passed" in n for n in again.notes)


def test_replan_with_a_deadline_now_infeasible_relaxes_it(planner: Planner) -> None:
    plan = planner.plan("go to the dock within 60 s")
    again = planner.replan(plan, (1.0, 6.5, 0.0), satisfied=0, reason="regression", elapsed=55.0)
    assert again.subgoals[0].requested_deadline is None
    assert any("dropped" in n for n in again.notes)


def test_replan_with_nothing_left_is_rejected(planner: Planner) -> None:
    plan = planner.plan("go to the kitchen")
    with pytest.raises(PlanRejected, match="nothing to replan"):
        planner.replan(plan, (2.5, 6.4, 0.0), satisfied=1, reason="done")


def test_mh_with_the_default_scorer_keeps_the_proportional_optimum() -> None:
    spans = legs(10.0, 30.0, requested=[None, 80.0])
    sampled = allocate(spans, TimingConfig(iterations=200), slack_score)
    assert sampled[0] == pytest.approx(20.0, abs=0.05)


@pytest.mark.parametrize("elapsed", [float("nan"), -1.0, float("inf")])
def test_replan_with_bad_elapsed_is_rejected(planner: Planner, elapsed: float) -> None:
    plan = planner.plan("go to the kitchen within 30 s")
    with pytest.raises(PlanRejected, match="elapsed must be a finite number"):
        planner.replan(plan, (4.0, 4.0, 0.0), satisfied=0, reason="deadline", elapsed=elapsed)


def test_replan_keeps_long_critic_reasons_as_a_short_label(planner: Planner) -> None:
    plan = planner.plan("go to the kitchen then the dock")
    reason = (
        "stagnation: progress +0.002 over the last 8 decisions at stage 0 ("
        + "kitchen: 2.31 m to go; " * 12
        + ")"
    )
    again = planner.replan(plan, (4.0, 4.0, 0.0), satisfied=0, reason=reason)
    assert len(again.replan_reason) == 200 and again.replan_reason.startswith("stagnation: progress")
