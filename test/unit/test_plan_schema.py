"""Plan JSON: round trip, strict parsing (NaN, extra keys, versions), and agreement with cadence.stl."""

from __future__ import annotations

import json

import pytest

from cadence.planner.errors import PlanFormatError
from cadence.planner.intent import intent_from_json
from cadence.planner.plan import PLAN_SCHEMA_VERSION, Plan
from cadence.planner.planner import Planner
from cadence.planner.scene import load_scene
from cadence.planner.schema import loads_strict
from cadence.stl import parse
from cadence.stl.decompose import decompose

TASK = "avoid the lab; go to the kitchen and stay there for 5 s, then the office or the dock within 60 s"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return Planner(load_scene("apartment")).plan(TASK)


def test_round_trip(plan: Plan) -> None:
    again = Plan.from_json(plan.to_json())
    assert again == plan
    assert json.loads(plan.to_json())["schema_version"] == PLAN_SCHEMA_VERSION


def test_spec_decomposes_into_the_plans_subgoals(plan: Plan) -> None:
    """cadence.stl.decompose reads the planner's STL back into the same windows and options."""
    dec = decompose(parse(plan.spec, signals=load_scene("apartment").region_names))
    assert [set(o.region for o in sg.options) for sg in dec.subgoals] == [
        set(s.options) for s in plan.subgoals
    ]
    for ours, theirs in zip(plan.subgoals, dec.subgoals, strict=True):
        assert theirs.window == pytest.approx(ours.window)
        assert max(o.dwell for o in theirs.options) == ours.hold
    assert [i.window for i in dec.invariants] == [i.window for i in plan.invariants]
    assert parse(plan.spec).horizon == pytest.approx(plan.horizon)


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_rejected(plan: Plan, bad: str) -> None:
    data = plan.to_dict()
    raw = json.dumps(data).replace(f'"horizon": {data["horizon"]}', f'"horizon": {bad}')
    assert bad in raw
    with pytest.raises(PlanFormatError, match="non-finite"):
        Plan.from_json(raw)


def test_extra_key_rejected(plan: Plan) -> None:
    data = plan.to_dict()
    data["subgoals"][0]["speed"] = 5
    with pytest.raises(PlanFormatError, match=r"plan\.subgoals\[0\]: unexpected key\(s\) 'speed'"):
        Plan.from_dict(data)


def test_missing_key_and_wrong_type_rejected(plan: Plan) -> None:
    data = plan.to_dict()
    del data["limits"]
    with pytest.raises(PlanFormatError, match="missing key"):
        Plan.from_dict(data)
    data = plan.to_dict()
    data["waypoints"][0] = ["1", 2]
    with pytest.raises(PlanFormatError, match=r"waypoints\[0\]\[0\]: expected number"):
        Plan.from_dict(data)


def test_other_schema_version_rejected(plan: Plan) -> None:
    data = plan.to_dict()
    data["schema_version"] = 99
    with pytest.raises(PlanFormatError, match="schema_version 99 is not supported"):
        Plan.from_dict(data)


def test_malformed_json_rejected() -> None:
    with pytest.raises(PlanFormatError, match="malformed JSON"):
        loads_strict('{"task": ')


def test_intent_reply_strict() -> None:
    regions = ("kitchen", "lab")
    good = '{"steps": [{"regions": ["kitchen"], "deadline_s": null, "hold_s": 0}], "avoid": [], "max_speed_mps": null, "refusal": null}'
    assert intent_from_json(good, regions).steps[0].regions == ("kitchen",)
    with pytest.raises(PlanFormatError, match="'garage' is not one of"):
        intent_from_json(good.replace('"kitchen"', '"garage"'), regions)
    with pytest.raises(PlanFormatError, match="non-finite"):
        intent_from_json(good.replace('"hold_s": 0', '"hold_s": NaN'), regions)
    with pytest.raises(PlanFormatError, match="no 'refusal'"):
        intent_from_json(
            good.replace('[{"regions": ["kitchen"], "deadline_s": null, "hold_s": 0}]', "[]"), regions
        )
