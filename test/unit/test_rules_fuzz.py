"""Random tasks from the grammar's words: a valid plan or a clear PlannerError, never another exception."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cadence.planner.errors import PlannerError
from cadence.planner.planner import Planner
from cadence.planner.scene import load_scene
from cadence.planner.validator import validate

WORDS = [
    "go to",
    "the",
    "kitchen",
    "office",
    "lab",
    "dock",
    "hallway",
    "charging dock",
    "study",
    "then",
    "and",
    "after that",
    "finally",
    "first",
    "within",
    "60",
    "5",
    "a minute",
    "seconds",
    "s",
    "in under",
    "stay there",
    "wait",
    "for",
    "avoid",
    "keep out of",
    "without entering",
    "either",
    "or",
    "via",
    "slowly",
    "quickly",
    ",",
    ".",
    "please",
    "garage",
    "twenty",
    "half a minute",
    "remain",
    "return to",
    "head to",
]

SCENE = load_scene("apartment")
PLANNER = Planner(SCENE)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=14))
def test_random_tasks_plan_or_fail_cleanly(words: list[str]) -> None:
    task = " ".join(words)
    try:
        plan = PLANNER.plan(task)
    except PlannerError as err:
        assert str(err)  # a message, never empty
        return
    assert validate(plan, SCENE).spec == plan.spec
    assert plan.subgoals and plan.waypoints


@pytest.mark.parametrize("task", ["", "   ", "!!!", "go to", "within 60 s", "stay there for 5 s"])
def test_degenerate_tasks_fail_cleanly(task: str) -> None:
    with pytest.raises(PlannerError):
        PLANNER.plan(task)
