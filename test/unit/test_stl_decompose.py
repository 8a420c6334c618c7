"""Decomposition of specs into timed reach subgoals and invariants (TGPO)."""

from __future__ import annotations

import json
import math

import pytest

from cadence.stl import STLDecompositionError, parse
from cadence.stl.decompose import decompose, nnf


def test_sequence_with_dwell_and_invariants() -> None:
    spec = (
        "eventually[0:30](kitchen > 0 and always[0:3](kitchen > 0) and eventually[0:30](office > 0)) "
        "and always[0:60](not (lab > 0))"
    )
    d = decompose(spec)
    kitchen, office = d.subgoals
    assert (kitchen.index, kitchen.after, kitchen.window) == (0, None, (0.0, 30.0))
    (reach,) = kitchen.options
    assert (reach.region, reach.dwell, str(reach.hold)) == ("kitchen", 3.0, "kitchen > 0")
    assert (office.after, office.window, office.options[0].window) == (0, (0.0, 60.0), (0.0, 30.0))
    (inv,) = d.invariants
    assert (str(inv.formula), inv.window, inv.until_subgoal) == ("lab <= 0", (0.0, 60.0), None)
    json.dumps(d.to_dict())  # JSON-ready


def test_planner_style_sequence() -> None:
    """The planner's form: the next step starts after the hold (cadence.planner.stlgen)."""
    d = decompose(
        "always[0:50](lab < 0) and eventually[0:20]((always[0:2](kitchen > 0)) and (eventually[2:30](office > 0)))"
    )
    kitchen, office = d.subgoals
    assert (kitchen.options[0].region, kitchen.options[0].dwell) == ("kitchen", 2.0)
    assert office.after == 0 and office.window == (2.0, 50.0)


@pytest.mark.parametrize(
    "spec",
    [
        "eventually[0:30](kitchen > 0 or office > 0)",
        "eventually[0:30](kitchen > 0) or eventually[0:30](office > 0)",
    ],
)
def test_disjunction_is_one_subgoal_with_options(spec: str) -> None:
    (goal,) = decompose(spec).subgoals
    assert [o.region for o in goal.options] == ["kitchen", "office"]
    assert goal.window == (0.0, 30.0)


def test_until_gives_subgoal_and_released_invariant() -> None:
    d = decompose("(speed < 0.5) until[0:20] (dock > 0)")
    assert d.subgoals[0].options[0].region == "dock"
    assert (str(d.invariants[0].formula), d.invariants[0].window, d.invariants[0].until_subgoal) == (
        "speed < 0.5",
        (0.0, 20.0),
        0,
    )


def test_subgoals_are_earliest_deadline_first() -> None:
    d = decompose("eventually[0:50](b > 0) and eventually[0:10](a > 0 and eventually[0:5](c > 0))")
    assert [g.options[0].region for g in d.subgoals] == ["a", "c", "b"]
    assert d.subgoals[1].after == 0


def test_unbounded_invariant_and_initial_condition() -> None:
    d = decompose("x > 0 and always(y < 1) and eventually[0:5](eventually[1:2](z > 0))")
    assert [inv.window for inv in d.invariants] == [(0.0, 0.0), (0.0, math.inf)]
    assert d.to_dict()["invariants"][1]["window"] == [0.0, None]
    assert d.subgoals[0].window == (1.0, 7.0)  # nested eventually collapses


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "eventually[0:5](a > 0 and eventually[0:3](b > 0)) or eventually[0:3](c > 0)",
            "disjunction of sequences",
        ),
        ("not ((a > 0) until[0:3] (b > 0))", "negated until"),
        ("eventually[0:5](always[1:3](a > 0))", "always\\[1:3\\]"),
        ("always[0:3](a > 0) or eventually[0:2](b > 0)", "top-level 'or'"),
    ],
)
def test_outside_the_fragment_is_refused_clearly(spec: str, message: str) -> None:
    with pytest.raises(STLDecompositionError, match=message):
        decompose(spec)


def test_nnf_pushes_negation_to_predicates() -> None:
    assert str(nnf(parse("not (always[0:2](x > 1) implies y < 0)"))) == "always[0:2](x > 1) and y >= 0"
