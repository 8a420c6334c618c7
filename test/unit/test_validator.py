"""Every validator rejection: a plan that fails one check is never accepted, and the reason says why."""

from __future__ import annotations

import copy
import json
from dataclasses import replace

import pytest

from cadence.planner.errors import PlanFormatError, PlanRejected
from cadence.planner.plan import Plan
from cadence.planner.planner import Planner
from cadence.planner.scene import Scene, load_scene
from cadence.planner.stlgen import spec
from cadence.planner.validator import ValidatorConfig, looks_like_code, validate


@pytest.fixture(scope="module")
def scene() -> Scene:
    return load_scene("apartment")


@pytest.fixture(scope="module")
def good(scene: Scene) -> Plan:
    return Planner(scene).plan(
        "avoid the lab; go to the kitchen and wait there 2 s, then the office within 60 s"
    )


def _edit(plan: Plan, fn) -> dict:
    data = copy.deepcopy(plan.to_dict())
    fn(data)
    return data


def test_good_plan_passes_from_every_form(good: Plan, scene: Scene) -> None:
    assert validate(good, scene) == good
    assert validate(good.to_json(), scene) == good
    assert validate(good.to_dict(), scene) == good


def _set(path, value):
    def fn(d):
        target = d
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return fn


def _respec(d):
    """Regenerate the spec after editing subgoals/invariants, so the later checks are reached."""
    p = Plan.from_dict(d)
    d["spec"] = spec(p.subgoals, p.invariants)


REJECTIONS = [
    ("extra key", _set(["limits", "turbo"], True), PlanFormatError, "unexpected key"),
    ("NaN", None, PlanFormatError, "non-finite"),
    ("wrong type", _set(["horizon"], "60"), PlanFormatError, "expected number"),
    ("other scene", _set(["scene"], "warehouse"), PlanRejected, "not 'apartment'"),
    (
        "code in a note",
        _set(["notes"], ["__import__('os').system('rm -rf /')"]),
        PlanRejected,
        "looks like code",
    ),
    ("topic name", _set(["replan_reason"], "publish on /cmd_vel"), PlanRejected, "topic name"),
    ("url", _set(["backend"], "http://evil"), PlanRejected, "looks like code"),
    (
        "unknown region",
        _set(["subgoals", 0, "options"], ["kitchen", "garage"]),
        PlanRejected,
        "unknown region 'garage'",
    ),
    ("region not an option", _set(["subgoals", 0, "region"], "dock"), PlanRejected, "not among its options"),
    ("goal also avoided", _set(["invariants", 0, "region"], "kitchen"), PlanRejected, "both a goal"),
    ("too fast", _set(["limits", "v_max"], 5.0), PlanRejected, r"speed limit 5 m/s is outside"),
    ("zero speed", _set(["limits", "v_max"], 0.0), PlanRejected, "speed limit 0 m/s"),
    ("turn rate", _set(["limits", "omega_max"], 9.0), PlanRejected, "turn rate limit 9"),
    ("off the map", _set(["waypoints", 0], [12.0, 4.0]), PlanRejected, "outside the map"),
    ("inside an obstacle", _set(["waypoints", 0], [5.0, 4.8]), PlanRejected, "inside an obstacle"),
    ("through a wall", _set(["waypoints", 0], [2.5, 6.4]), PlanRejected, "crosses an obstacle"),
    ("waypoint index", _set(["subgoals", 1, "waypoint"], 99), PlanRejected, "points at waypoint 99"),
    ("waypoint order", _set(["subgoals", 1, "waypoint"], 0), PlanRejected, "comes before|not inside"),
    ("waypoint not in region", _set(["subgoals", 0, "waypoint"], 0), PlanRejected, "not inside kitchen"),
    ("window start", _set(["subgoals", 1, "window"], [0.0, 60.0]), PlanRejected, "expected \\[2"),
    (
        "requested deadline changed",
        _set(["subgoals", 1, "requested_deadline"], 50.0),
        PlanRejected,
        "asked for by 50 s",
    ),
    ("spec swapped", _set(["spec"], "eventually[0:60](office > 0)"), PlanRejected, "does not match"),
    ("horizon", _set(["horizon"], 70.0), PlanRejected, "horizon 70 s does not match"),
]


@pytest.mark.parametrize(("name", "edit", "exc", "match"), REJECTIONS, ids=[r[0] for r in REJECTIONS])
def test_rejections(good: Plan, scene: Scene, name: str, edit, exc, match: str) -> None:
    if edit is None:
        text = good.to_json().replace(f'"horizon": {good.horizon}', '"horizon": NaN')
        assert "NaN" in text
        with pytest.raises(exc, match=match):
            validate(text, scene)
        return
    with pytest.raises(exc, match=match):
        validate(_edit(good, edit), scene)


def test_infeasible_deadline_rejected(good: Plan, scene: Scene) -> None:
    def fn(d):
        d["subgoals"][0]["window"] = [0.0, 1.0]
        d["subgoals"][1]["requested_deadline"] = None
        _respec(d)

    with pytest.raises(PlanRejected, match=r"kitchen is .* m along the route; 1 s at 1 m/s is not enough"):
        validate(_edit(good, fn), scene)


def test_deadline_before_previous_subgoal_done(good: Plan, scene: Scene) -> None:
    def fn(d):
        d["subgoals"][1]["window"] = [2.0, d["subgoals"][0]["window"][1] + 1.0]
        d["subgoals"][1]["requested_deadline"] = None
        _respec(d)

    with pytest.raises(PlanRejected, match="due before subgoal 1 is done"):
        validate(_edit(good, fn), scene)


def test_route_through_keep_out_region(good: Plan, scene: Scene) -> None:
    def fn(d):
        d["invariants"][0]["region"] = "hallway"
        d["start"] = [2.5, 5.5, 0.0]
        d["waypoints"] = [[2.5, 6.4], [2.5, 4.8], [2.5, 4.0], [5.0, 4.0], [7.5, 4.0], [7.5, 4.8], [7.5, 6.4]]
        d["subgoals"][0]["waypoint"] = 0
        d["subgoals"][1]["waypoint"] = 6
        _respec(d)

    with pytest.raises(PlanRejected, match="passes through hallway"):
        validate(_edit(good, fn), scene)


def test_robot_inside_keep_out_region(good: Plan, scene: Scene) -> None:
    with pytest.raises(PlanRejected, match="robot is inside lab"):
        validate(_edit(good, _set(["start"], [2.5, 1.6, 0.0])), scene)


def test_keep_out_window_outside_horizon(good: Plan, scene: Scene) -> None:
    def fn(d):
        d["invariants"][0]["window"] = [0.0, d["horizon"] + 10]
        _respec(d)

    with pytest.raises(PlanRejected, match="keep-out window"):
        validate(_edit(good, fn), scene)


def test_times_off_the_control_period_grid(good: Plan, scene: Scene) -> None:
    def fn(d):
        d["subgoals"][0]["hold"] = 2.01
        d["subgoals"][1]["window"][0] = 2.01
        d["horizon"] = d["subgoals"][1]["window"][1]
        _respec(d)

    with pytest.raises(PlanRejected, match=r"hold 2.01 s is not a multiple of the 0.05 s control period"):
        validate(_edit(good, fn), scene)


def test_horizon_above_maximum(good: Plan, scene: Scene) -> None:
    with pytest.raises(PlanRejected, match="exceeds the maximum 30 s"):
        validate(good, scene, ValidatorConfig(max_horizon=30.0))


def test_stl_that_does_not_parse(scene: Scene) -> None:
    """A region named like an STL keyword yields a spec the STL engine refuses: rejected, not published."""
    data = json.loads(json.dumps(scene.to_dict()))
    data["regions"][0]["name"] = "always"
    data["graph"]["nodes"][0]["name"] = "always"
    data["graph"]["edges"][0][0] = "always"
    weird = Scene.from_dict(data)
    with pytest.raises(PlanRejected, match="STL spec does not parse"):
        Planner(weird).plan("go to the always")


def test_limits_checked_before_allocation(scene: Scene) -> None:
    from cadence.planner.intent import Intent, Step

    class Fast:
        name = "fast"
        max_attempts = 1

        def propose(self, request, feedback=None):
            return Intent((Step(("office",)),), v_max=3.0)

    with pytest.raises(PlanRejected, match="speed limit 3 m/s is outside"):
        Planner(scene, Fast()).plan("anything")


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("os.system('ls')", True),
        ("import subprocess", True),
        ("$(reboot)", True),
        ("/cmd_vel", True),
        ("see https://example.com", True),
        ("<script>", True),
        ("openai back end failed (HTTP 500); planned with rules", False),
        ("the requested deadline for kitchen (20 s) has passed", False),
        ("stagnation", False),
    ],
)
def test_looks_like_code(text: str, bad: bool) -> None:
    assert looks_like_code(text) is bad


def test_replace_keeps_validation(good: Plan, scene: Scene) -> None:
    with pytest.raises(PlanRejected):
        validate(replace(good, notes=("eval(x)",)), scene)
