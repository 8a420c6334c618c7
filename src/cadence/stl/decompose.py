"""TGPO decomposition: an STL spec as timed reach subgoals and invariants (data for planner/critic).

The fragment (after pushing negations to the predicates, :func:`nnf`), as top-level conjuncts:

* ``eventually[a:b](P)`` -- a reach **subgoal**: make the state formula ``P`` true some time in
  ``[a, b]``. Inside the body, ``always[0:d](Q)`` is a **dwell** (once reached, ``Q`` keeps holding
  for ``d`` s) and a nested ``eventually[c:d](...)`` is the **next subgoal** of a sequence, timed
  relative to the moment its parent is reached (``after``).
* ``eventually[a:b](P1 or P2)`` or ``eventually[a:b](P1) or eventually[c:d](P2)`` -- one subgoal
  with several **options**; reaching any one of them achieves it ("the kitchen or the office"). The
  planner picks an option (e.g. the nearest); the critic scores the best one. Options must be
  single steps: a disjunction of sequences is refused.
* ``always[a:b](phi)`` -- an **invariant** over the absolute window ``[a, b]`` (``phi`` may itself be
  temporal, e.g. a response pattern; the critic evaluates its robustness).
* ``phi until[a:b] psi`` -- subgoal ``psi`` in ``[a, b]`` plus the invariant ``phi`` over ``[0, b]``
  that is released once that subgoal is reached (``until_subgoal``).
* a bare state formula -- an invariant at ``t = 0`` only (an initial condition).

Subgoals come out ordered by deadline (earliest-deadline first, parents before children).
Anything else raises :class:`STLDecompositionError` naming the part that does not fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from cadence.stl.ast import (
    Always,
    And,
    Const,
    Eventually,
    Formula,
    Implies,
    Interval,
    Not,
    Or,
    Predicate,
    Until,
    Var,
)
from cadence.stl.errors import STLDecompositionError
from cadence.stl.parser import parse

_FLIP = {">": "<=", ">=": "<", "<": ">=", "<=": ">"}


def nnf(formula: Formula) -> Formula:
    """Negation normal form with the same robustness: negations pushed into the predicates.

    ``not (x > c)`` becomes ``x <= c`` (robustness ``c - x`` either way), ``implies`` becomes
    ``or``, and ``always``/``eventually`` swap under ``not`` (min/max duality). A negated ``until``
    has no dual in this syntax and raises :class:`STLDecompositionError`.
    """
    return _nnf(formula, negate=False)


def _nnf(node: Formula, negate: bool) -> Formula:
    if isinstance(node, Predicate):
        return Predicate(_FLIP[node.op], node.left, node.right) if negate else node
    if isinstance(node, Not):
        return _nnf(node.arg, not negate)
    if isinstance(node, Implies):
        return _nnf(Or(Not(node.left), node.right), negate)
    if isinstance(node, (And, Or)):
        cls = (Or if isinstance(node, And) else And) if negate else type(node)
        return cls(_nnf(node.left, negate), _nnf(node.right, negate))
    if isinstance(node, (Always, Eventually)):
        cls = (Eventually if isinstance(node, Always) else Always) if negate else type(node)
        return cls(_nnf(node.arg, negate), node.interval)
    if isinstance(node, Until):
        if negate:
            raise STLDecompositionError(f"a negated until has no dual in this syntax: not {node}")
        return Until(_nnf(node.left, False), _nnf(node.right, False), node.interval)
    raise TypeError(f"not an STL formula: {node!r}")


def _is_state(node: Formula) -> bool:
    return not isinstance(node, (Always, Eventually, Until)) and all(_is_state(c) for c in node.children)


def _flatten(node: Formula, cls: type) -> list[Formula]:
    if isinstance(node, cls):
        return _flatten(node.left, cls) + _flatten(node.right, cls)  # type: ignore[attr-defined]
    return [node]


def _conj(parts: list[Formula]) -> Formula:
    out = parts[0]
    for part in parts[1:]:
        out = And(out, part)
    return out


def _text(node: Formula) -> str:
    return str(node)


def _jsonable(value: float) -> float | None:
    return None if math.isinf(value) else value


def region_of(formula: Formula) -> str | None:
    """The signal ``s`` when ``formula`` is ``s > c`` / ``s >= c`` (or ``c < s``): a region to enter."""
    if isinstance(formula, Predicate):
        left, right, op = formula.left, formula.right, formula.op
        if isinstance(left, Var) and isinstance(right, Const) and op in (">", ">="):
            return left.name
        if isinstance(left, Const) and isinstance(right, Var) and op in ("<", "<="):
            return right.name
    return None


@dataclass(frozen=True)
class Reach:
    """One way to achieve a subgoal: make ``formula`` true within ``window`` (relative to the anchor)."""

    formula: Formula
    window: tuple[float, float]
    dwell: float = 0.0
    hold: Formula | None = None

    @property
    def region(self) -> str | None:
        """Region/signal name when the formula is ``region > c``; else None."""
        return region_of(self.formula)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (text formulas)."""
        return {
            "predicate": _text(self.formula),
            "signals": sorted(self.formula.signals),
            "region": self.region,
            "window": list(self.window),
            "dwell": self.dwell,
            "hold": None if self.hold is None else _text(self.hold),
        }


@dataclass(frozen=True)
class Subgoal:
    """A timed reach subgoal; ``window`` is absolute (seconds from the episode start).

    ``after`` is the index of the subgoal whose achievement time anchors the options' relative
    windows (None: the episode start). ``options`` has more than one entry for a disjunction.
    """

    index: int
    options: tuple[Reach, ...]
    window: tuple[float, float]
    after: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "index": self.index,
            "after": self.after,
            "window": list(self.window),
            "options": [o.to_dict() for o in self.options],
        }


@dataclass(frozen=True)
class Invariant:
    """``formula`` must hold at every time in ``window`` (absolute seconds; ``hi`` may be inf)."""

    formula: Formula
    window: tuple[float, float]
    until_subgoal: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (an unbounded window end is ``null``)."""
        return {
            "formula": _text(self.formula),
            "signals": sorted(self.formula.signals),
            "window": [self.window[0], _jsonable(self.window[1])],
            "until_subgoal": self.until_subgoal,
        }


@dataclass(frozen=True)
class Decomposition:
    """Subgoals (earliest deadline first) and invariants of a specification."""

    subgoals: tuple[Subgoal, ...]
    invariants: tuple[Invariant, ...]
    formula: Formula | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: ``{"spec", "subgoals": [...], "invariants": [...]}``."""
        return {
            "spec": None if self.formula is None else _text(self.formula),
            "subgoals": [s.to_dict() for s in self.subgoals],
            "invariants": [i.to_dict() for i in self.invariants],
        }


class _Builder:
    """Collects subgoals (creation order) and invariants, then orders them by deadline."""

    def __init__(self) -> None:
        self.goals: list[tuple[tuple[Reach, ...], tuple[float, float], int | None]] = []
        self.invariants: list[tuple[Formula, tuple[float, float], int | None]] = []

    def top(self, node: Formula) -> None:
        if _is_state(node):
            self.invariants.append((node, (0.0, 0.0), None))
        elif isinstance(node, Always):
            self.invariants.append((node.arg, (node.interval.lo, node.interval.hi), None))
        elif isinstance(node, Eventually):
            self.chain(node.arg, node.interval, None)
        elif isinstance(node, Until):
            goal = self.chain(node.right, node.interval, None)
            self.invariants.append((node.left, (0.0, node.interval.hi), goal))
        elif isinstance(node, Or):
            options: list[Reach] = []
            for part in _flatten(node, Or):
                if not isinstance(part, Eventually):
                    raise STLDecompositionError(
                        f"cannot decompose the disjunct '{_text(part)}': a top-level 'or' must join "
                        "eventually[a:b](...) reach goals"
                    )
                reaches, nested = self.reaches(part.arg, part.interval)
                if nested:
                    raise STLDecompositionError(
                        f"a disjunction of sequences is not supported: '{_text(part)}' has a nested eventually"
                    )
                options.extend(reaches)
            self.add(tuple(options), None)
        else:
            raise STLDecompositionError(f"cannot decompose '{_text(node)}'")

    def reaches(self, body: Formula, interval: Interval) -> tuple[tuple[Reach, ...], list[Eventually]]:
        """The options of one reach step and the nested eventually parts that follow it."""
        window = (interval.lo, interval.hi)
        parts = _flatten(body, And)
        state = [p for p in parts if _is_state(p)]
        dwell = [
            p
            for p in parts
            if isinstance(p, Always) and p.interval.lo == 0 and p.interval.bounded and _is_state(p.arg)
        ]
        nested = [p for p in parts if isinstance(p, Eventually)]
        other = [p for p in parts if p not in state and p not in dwell and p not in nested]
        if other:
            raise STLDecompositionError(
                f"cannot decompose '{_text(other[0])}' inside eventually: a reach step may contain state "
                "formulas, always[0:d](state) (a dwell) and nested eventually[c:d](...) (the next step)"
            )
        if not state and not dwell:
            return (), nested
        if len(state) == 1 and not dwell and isinstance(state[0], Or):
            return tuple(Reach(p, window) for p in _flatten(state[0], Or)), nested
        hold = _conj([p.arg for p in dwell]) if dwell else None
        dwell_s = max((p.interval.hi for p in dwell), default=0.0)
        target = _conj(state) if state else hold
        return (Reach(target, window, dwell_s, hold),), nested  # type: ignore[arg-type]

    def chain(self, body: Formula, interval: Interval, after: int | None) -> int:
        """Add the subgoal of ``eventually[interval](body)`` and its nested successors; return its index."""
        reaches, nested = self.reaches(body, interval)
        if not reaches:
            if len(nested) != 1:
                raise STLDecompositionError(
                    f"eventually{interval}({_text(body)}) names no state to reach before its nested steps"
                )
            inner = nested[0]  # eventually[a:b](eventually[c:d](phi)) == eventually[a+c:b+d](phi)
            shifted = Interval(interval.lo + inner.interval.lo, interval.hi + inner.interval.hi)
            return self.chain(inner.arg, shifted, after)
        index = self.add(reaches, after)
        for step in nested:
            self.chain(step.arg, step.interval, index)
        return index

    def add(self, options: tuple[Reach, ...], after: int | None) -> int:
        offset = (0.0, 0.0) if after is None else self.goals[after][1]
        lo = offset[0] + min(o.window[0] for o in options)
        hi = offset[1] + max(o.window[1] for o in options)
        self.goals.append((options, (lo, hi), after))
        return len(self.goals) - 1

    def finish(self, formula: Formula) -> Decomposition:
        # Earliest deadline first; a child's window is its parent's shifted by >= 0, so parents stay first.
        order = sorted(range(len(self.goals)), key=lambda i: (self.goals[i][1][1], self.goals[i][1][0], i))
        new = {old: pos for pos, old in enumerate(order)}
        subgoals = tuple(
            Subgoal(
                new[old],
                self.goals[old][0],
                self.goals[old][1],
                None if self.goals[old][2] is None else new[self.goals[old][2]],
            )
            for old in order
        )
        invariants = tuple(
            Invariant(f, w, None if goal is None else new[goal]) for f, w, goal in self.invariants
        )
        return Decomposition(subgoals, invariants, formula)


def decompose(formula: Formula | str) -> Decomposition:
    """Split a specification into timed reach subgoals and invariants (see the module docstring).

    Args:
        formula: parsed formula or its text.

    Returns:
        :class:`Decomposition` with ``subgoals`` (earliest deadline first) and ``invariants``.

    Raises:
        STLDecompositionError: the spec is outside the supported fragment (the message names the part).
    """
    formula = parse(formula) if isinstance(formula, str) else formula
    builder = _Builder()
    for part in _flatten(nnf(formula), And):
        builder.top(part)
    return builder.finish(formula)
