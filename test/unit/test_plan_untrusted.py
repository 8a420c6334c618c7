"""Never trust the model: arbitrary replies give a validated plan or a PlannerError, nothing else."""

from __future__ import annotations

import contextlib
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cadence.planner.errors import PlanFormatError, PlannerError
from cadence.planner.intent import intent_from_json
from cadence.planner.planner import Planner
from cadence.planner.scene import load_scene
from cadence.planner.validator import ValidatorConfig, validate

SCENE = load_scene("apartment")
REGIONS = list(SCENE.region_names)


class Scripted:
    """An in-process back end replying with given JSON text (the HTTP path is tested elsewhere)."""

    name = "scripted"
    max_attempts = 1

    def __init__(self) -> None:
        self.reply = "{}"

    def propose(self, request, feedback=None):
        return intent_from_json(self.reply, request.scene.region_names)


BACKEND = Scripted()
PLANNER = Planner(SCENE, BACKEND)

wild = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 10**6))
deadlines = st.one_of(st.sampled_from([None, None, None, 20, 60, 120, 600, 3599, 1e9]), wild)
holds = st.one_of(st.sampled_from([0, 0, 0, 2, 5, 30]), wild)
speeds = st.one_of(st.sampled_from([None, None, None, 0.5, 1.0, 3.0]), wild)
regions = st.lists(st.sampled_from([*REGIONS, *REGIONS, "garage", "", "__import__"]), min_size=0, max_size=3)
step = st.fixed_dictionaries({"regions": regions, "deadline_s": deadlines, "hold_s": holds})
reply = st.fixed_dictionaries(
    {
        "steps": st.lists(step, max_size=4),
        "avoid": st.lists(st.sampled_from([*REGIONS, "garage"]), max_size=2),
        "max_speed_mps": speeds,
        "refusal": st.sampled_from([None, None, None, "no", ""]),
    }
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reply)
def test_arbitrary_model_replies_are_planned_or_rejected(data: dict) -> None:
    BACKEND.reply = json.dumps(data)  # allow_nan: NaN/Infinity reach the strict parser as text
    try:
        plan = PLANNER.plan("some task")
    except PlannerError as err:
        assert str(err)
        return
    validate(plan, SCENE)
    assert plan.limits.v_max <= ValidatorConfig().v_max
    assert all(r in REGIONS for r in plan.regions)


@settings(max_examples=50, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.text(max_size=5),
        lambda c: st.lists(c) | st.dictionaries(st.text(max_size=8), c),
        max_leaves=20,
    )
)
def test_arbitrary_json_never_crashes_the_reply_parser(value) -> None:
    with contextlib.suppress(PlanFormatError):
        intent_from_json(json.dumps(value), REGIONS)


@given(st.text(max_size=60))
@settings(max_examples=100, deadline=None)
def test_arbitrary_text_never_crashes_the_reply_parser(text: str) -> None:
    with contextlib.suppress(PlanFormatError):
        intent_from_json(text, REGIONS)


def test_some_arbitrary_replies_were_planned() -> None:
    """The property above is not vacuous: the generated replies include plannable ones."""
    ok = 0
    for region in REGIONS:
        BACKEND.reply = json.dumps(
            {
                "steps": [{"regions": [region], "deadline_s": None, "hold_s": 0}],
                "avoid": [],
                "max_speed_mps": None,
                "refusal": None,
            }
        )
        ok += PLANNER.plan("task").subgoals[0].region == region
    assert ok == len(REGIONS)


RULES = Planner(SCENE)
BASE = RULES.plan(
    "go to the kitchen within 40 s, then the office and wait there 2 s, then the dock within 90 s"
)


@settings(max_examples=80, deadline=None)
@given(
    st.floats(-1.0, 11.0),
    st.floats(-1.0, 9.0),
    st.floats(-4.0, 4.0),
    st.one_of(st.integers(-1, 4), st.lists(st.integers(-2, 5), max_size=4)),
    st.floats(0.0, 200.0),
    st.sampled_from(["stagnation", "regression", "deadline", "/cmd_vel", ""]),
)
def test_arbitrary_replans_are_valid_or_rejected(x, y, yaw, satisfied, elapsed, reason) -> None:
    try:
        plan = RULES.replan(BASE, (x, y, yaw), satisfied, reason, elapsed)
    except PlannerError as err:
        assert str(err)
        return
    validate(plan, SCENE)
    assert plan.replan_reason == reason and plan.start == (x, y, yaw)
