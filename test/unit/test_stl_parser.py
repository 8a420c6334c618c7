"""Parser: rtamt syntax, precedence, printing round trip, horizon/signals, and clear errors."""

from __future__ import annotations

import math
import re

import pytest

from cadence.stl import STLBoundError, STLSignalError, STLSyntaxError, parse
from cadence.stl.ast import (
    Always,
    And,
    Arith,
    Const,
    Eventually,
    Implies,
    Interval,
    Not,
    Or,
    Predicate,
    Until,
    Var,
)


def test_tree_of_the_issue_spec() -> None:
    phi = parse("always[0:100](x < 5) and eventually[0:200](y > 2)")
    assert phi == And(
        Always(Predicate("<", Var("x"), Const(5.0)), Interval(0.0, 100.0)),
        Eventually(Predicate(">", Var("y"), Const(2.0)), Interval(0.0, 200.0)),
    )
    assert phi.horizon == 200.0 and phi.signals == {"x", "y"}


def test_aliases_units_and_precedence() -> None:
    assert parse("G[0:1](x > 0) && F[0:500ms](y > 0)") == parse(
        "always[0:1](x > 0) and eventually[0:0.5](y > 0)"
    )
    assert parse("!(x > 0) || y > 0 -> z > 0") == Implies(
        Or(Not(Predicate(">", Var("x"), Const(0.0))), Predicate(">", Var("y"), Const(0.0))),
        Predicate(">", Var("z"), Const(0.0)),
    )
    assert parse("x > 0 U[0:2] y > 0") == Until(
        Predicate(">", Var("x"), Const(0.0)), Predicate(">", Var("y"), Const(0.0)), Interval(0.0, 2.0)
    )
    assert parse("a - b + c > 0").left == Arith("+", Arith("-", Var("a"), Var("b")), Var("c"))
    assert parse("2 * x + 1 > 0").left == Arith("+", Arith("*", Const(2.0), Var("x")), Const(1.0))


def test_horizon_of_nested_and_unbounded() -> None:
    assert parse("always[0:10](eventually[2:5](x > 0)) until[0:3] (y > 0)").horizon == 18.0
    assert math.isinf(parse("eventually(x > 0)").horizon)


@pytest.mark.parametrize(
    "text",
    [
        "always[0:2](x > 1 implies eventually[1:3](abs(y - x) <= 0.5)) or not z >= -1e-3",
        "(x > 0) until (y > 0)",
        "-(x + 1) * 2 > x - (y - z)",
        "not not x > 0",
    ],
)
def test_print_parse_round_trip(text: str) -> None:
    phi = parse(text)
    assert parse(str(phi)) == phi


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("x > ", "unexpected end of input", 5),
        ("x > 1 and (y < 2", "expected ')'", 17),
        ("x > 1 > 2", "cannot be chained", 7),
        ("x + 1", "expected a formula", 1),
        ("(x > 1) + 1 > 0", "expected an arithmetic term", 1),
        ("x == 1", "'==' is not supported", 3),
        ("x > 0 xor y > 0", "'xor' is not supported", 7),
        ("x > 0 $ y", "unexpected character '$'", 7),
        ("always[0:a](x > 0)", "expected a time bound", 10),
        ("", "empty specification", 1),
    ],
)
def test_syntax_errors_name_the_column_with_a_caret(text: str, message: str, column: int) -> None:
    with pytest.raises(STLSyntaxError, match=re.escape(message)) as info:
        parse(text)
    assert info.value.pos == column - 1
    assert f"(column {column})" in str(info.value)
    assert str(info.value).splitlines()[-1] == "  " + " " * (column - 1) + "^"


def test_bound_errors() -> None:
    with pytest.raises(STLBoundError, match=r"inverted time bound \[5:2\]"):
        parse("eventually[5:2](x > 0)")
    with pytest.raises(STLBoundError, match="negative time bound"):
        parse("always[-1:2](x > 0)")


def test_unknown_signal_lists_the_known_ones() -> None:
    with pytest.raises(
        STLSignalError, match=r"unknown signal 'kitchn' \(column 13; known signals: kitchen, lab\)"
    ):
        parse("lab < 0 and kitchn > 0", signals=["kitchen", "lab"])
    assert parse("lab < 0", signals=("kitchen", "lab")).signals == {"lab"}
