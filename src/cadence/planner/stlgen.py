"""STL text for a plan's subgoals and invariants (rtamt syntax; signals are region names).

Region predicates are signed distances, positive inside: reach ``kitchen`` is ``(kitchen > 0)``,
keep out of ``lab`` is ``(lab < 0)``. A sequence is nested, as TGPO and
:func:`cadence.stl.decompose` read it: each later subgoal's window is relative to the moment the
previous one was reached, starting after its hold::

    always[0:H](lab < 0) and eventually[0:b1]((always[0:h1](kitchen > 0)) and (eventually[h1:b2](office > 0)))

with ``b1`` the kitchen's deadline, ``b2`` the office's deadline minus the kitchen's (so the office is
reached by its absolute deadline whenever the kitchen is reached by its own) and ``H`` the horizon
(last deadline plus its hold). Either/or options are a disjunction of predicates.
"""

from __future__ import annotations

from collections.abc import Sequence

from cadence.planner.plan import Invariant, Subgoal


def fmt(x: float) -> str:
    """A bound in seconds as STL text (at most three decimals, no exponent)."""
    text = f"{round(float(x), 3):.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def reach_predicate(options: Sequence[str]) -> str:
    """``kitchen > 0``, or ``(kitchen > 0) or (office > 0)`` for either/or options."""
    if len(options) == 1:
        return f"{options[0]} > 0"
    return " or ".join(f"({name} > 0)" for name in options)


def horizon(subgoals: Sequence[Subgoal]) -> float:
    """Seconds the reach part looks ahead: the last deadline plus its hold."""
    return subgoals[-1].window[1] + subgoals[-1].hold if subgoals else 0.0


def windows(deadlines: Sequence[float], holds: Sequence[float]) -> list[tuple[float, float]]:
    """Absolute (earliest, deadline) of each subgoal under the nested semantics."""
    out, lo = [], 0.0
    for i, d in enumerate(deadlines):
        lo += holds[i - 1] if i else 0.0
        out.append((round(lo, 6), d))
    return out


def spec(subgoals: Sequence[Subgoal], invariants: Sequence[Invariant]) -> str:
    """The plan's STL specification (see the module docstring for the form)."""
    inner = ""
    for i in reversed(range(len(subgoals))):
        sg = subgoals[i]
        body = reach_predicate(sg.options)
        if sg.hold > 0:
            body = f"always[0:{fmt(sg.hold)}]({body})"
        if inner:
            body = f"({body}) and ({inner})"
        lo = subgoals[i - 1].hold if i else 0.0
        hi = sg.window[1] - (subgoals[i - 1].window[1] if i else 0.0)
        inner = f"eventually[{fmt(lo)}:{fmt(hi)}]({body})"
    parts = [f"always[{fmt(inv.window[0])}:{fmt(inv.window[1])}]({inv.region} < 0)" for inv in invariants]
    if inner:
        parts.append(inner)
    return " and ".join(parts)
