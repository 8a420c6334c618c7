"""STL abstract syntax: frozen dataclasses for arithmetic terms and formulas.

Arithmetic terms (:class:`Expr`) are real-valued signals; formulas (:class:`Formula`) have a
robustness signal. Time bounds are seconds (rtamt's discrete-time convention); the evaluators turn
them into sample counts with the sampling period ``dt``. ``str(node)`` prints rtamt-style text
with minimal parentheses that :func:`cadence.stl.parse` reads back to an equal tree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def _num(value: float) -> str:
    """Shortest text for a number that reads back to the same float."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


@dataclass(frozen=True)
class Interval:
    """A time window ``[lo, hi]`` in seconds; ``hi = inf`` means unbounded (no ``[a:b]`` given)."""

    lo: float
    hi: float

    @property
    def bounded(self) -> bool:
        """True when the operator was written with ``[a:b]``."""
        return math.isfinite(self.hi)

    def __str__(self) -> str:
        return f"[{_num(self.lo)}:{_num(self.hi)}]" if self.bounded else ""


UNBOUNDED = Interval(0.0, math.inf)


class Expr:
    """Base class of real-valued arithmetic terms."""

    __slots__ = ()

    def __str__(self) -> str:
        return to_text(self)

    @property
    def signals(self) -> frozenset[str]:
        """Names of the signals the term reads."""
        return frozenset()


@dataclass(frozen=True)
class Var(Expr):
    """A named input signal."""

    name: str

    @property
    def signals(self) -> frozenset[str]:
        return frozenset((self.name,))


@dataclass(frozen=True)
class Const(Expr):
    """A numeric literal."""

    value: float


@dataclass(frozen=True)
class Neg(Expr):
    """Unary minus of a term (rtamt itself only accepts it on literals)."""

    arg: Expr

    @property
    def signals(self) -> frozenset[str]:
        return self.arg.signals


@dataclass(frozen=True)
class Abs(Expr):
    """``abs(term)``."""

    arg: Expr

    @property
    def signals(self) -> frozenset[str]:
        return self.arg.signals


@dataclass(frozen=True)
class Arith(Expr):
    """A binary arithmetic operation: ``op`` is one of ``+ - * /``."""

    op: str
    left: Expr
    right: Expr

    @property
    def signals(self) -> frozenset[str]:
        return self.left.signals | self.right.signals


class Formula:
    """Base class of STL formulas.

    Every formula knows the signals it reads (:attr:`signals`) and its horizon in seconds
    (:attr:`horizon`): how far past time t its robustness at t looks. ``inf`` when it contains an
    unbounded temporal operator.
    """

    __slots__ = ()

    def __str__(self) -> str:
        return to_text(self)

    @property
    def children(self) -> tuple[Formula, ...]:
        """Direct sub-formulas."""
        return ()

    @property
    def signals(self) -> frozenset[str]:
        """Names of the signals the formula reads."""
        out: frozenset[str] = frozenset()
        for child in self.children:
            out |= child.signals
        return out

    @property
    def horizon(self) -> float:
        """Look-ahead of the formula in seconds (``inf`` if an operator is unbounded)."""
        return max((c.horizon for c in self.children), default=0.0)


@dataclass(frozen=True)
class Predicate(Formula):
    """``left op right`` with ``op`` in ``< <= > >=``; robustness ``right - left`` or ``left - right``."""

    op: str
    left: Expr
    right: Expr

    @property
    def signals(self) -> frozenset[str]:
        return self.left.signals | self.right.signals


@dataclass(frozen=True)
class Not(Formula):
    """Negation: robustness ``-rho``."""

    arg: Formula

    @property
    def children(self) -> tuple[Formula, ...]:
        return (self.arg,)


@dataclass(frozen=True)
class And(Formula):
    """Conjunction: pointwise minimum."""

    left: Formula
    right: Formula

    @property
    def children(self) -> tuple[Formula, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class Or(Formula):
    """Disjunction: pointwise maximum."""

    left: Formula
    right: Formula

    @property
    def children(self) -> tuple[Formula, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class Implies(Formula):
    """Implication: ``max(-left, right)``."""

    left: Formula
    right: Formula

    @property
    def children(self) -> tuple[Formula, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class Always(Formula):
    """``always[a:b](arg)``: minimum of ``arg`` over ``[t+a, t+b]``."""

    arg: Formula
    interval: Interval = UNBOUNDED

    @property
    def children(self) -> tuple[Formula, ...]:
        return (self.arg,)

    @property
    def horizon(self) -> float:
        return self.interval.hi + self.arg.horizon


@dataclass(frozen=True)
class Eventually(Formula):
    """``eventually[a:b](arg)``: maximum of ``arg`` over ``[t+a, t+b]``."""

    arg: Formula
    interval: Interval = UNBOUNDED

    @property
    def children(self) -> tuple[Formula, ...]:
        return (self.arg,)

    @property
    def horizon(self) -> float:
        return self.interval.hi + self.arg.horizon


@dataclass(frozen=True)
class Until(Formula):
    """``left until[a:b] right``: some ``t' in [t+a, t+b]`` has ``right``, ``left`` holds on ``[t, t')``."""

    left: Formula
    right: Formula
    interval: Interval = UNBOUNDED

    @property
    def children(self) -> tuple[Formula, ...]:
        return (self.left, self.right)

    @property
    def horizon(self) -> float:
        return self.interval.hi + max(self.left.horizon, self.right.horizon)


TEMPORAL = (Always, Eventually, Until)

# Binding strength of each node kind, the parser's precedences (larger binds tighter).
_BINARY_PREC = {Implies: 7, Or: 8, And: 9, Until: 12, Predicate: 22}
_WORD = {Implies: "implies", Or: "or", And: "and"}
_ARITH_PREC = {"+": 24, "-": 24, "*": 26, "/": 26}


def _prec(node: Formula | Expr) -> int:
    if isinstance(node, Arith):
        return _ARITH_PREC[node.op]
    if isinstance(node, Neg):
        return 27
    return _BINARY_PREC.get(type(node), 100)  # atoms, abs(...) and prefix operators


def to_text(node: Formula | Expr) -> str:
    """rtamt-style text with minimal parentheses; :func:`cadence.stl.parse` reads it back to ``node``."""

    def wrap(child: Formula | Expr, needs: bool) -> str:
        text = to_text(child)
        return f"({text})" if needs else text

    if isinstance(node, Var):
        return node.name
    if isinstance(node, Const):
        return _num(node.value)
    if isinstance(node, Neg):
        return "-" + wrap(node.arg, _prec(node.arg) < 27 or isinstance(node.arg, Const))
    if isinstance(node, Abs):
        return f"abs({to_text(node.arg)})"
    if isinstance(node, (Arith, Predicate, And, Or, Implies, Until)):
        prec = _prec(node)
        if isinstance(node, (Arith, Predicate)):
            op = node.op
        elif isinstance(node, Until):
            op = f"until{node.interval}"
        else:
            op = _WORD[type(node)]
        # Arithmetic inside arithmetic is always parenthesised: rtamt gives + and - (and * and /)
        # different precedences, so "a - b + c" would mean a - (b + c) there.
        nested_arith = isinstance(node, Arith)
        left = wrap(node.left, _prec(node.left) < prec or (nested_arith and isinstance(node.left, Arith)))
        right = wrap(node.right, _prec(node.right) <= prec)
        return f"{left} {op} {right}"
    if isinstance(node, Not):
        return f"not ({to_text(node.arg)})" if _prec(node.arg) < 100 else f"not {to_text(node.arg)}"
    if isinstance(node, (Always, Eventually)):
        word = "always" if isinstance(node, Always) else "eventually"
        return f"{word}{node.interval}({to_text(node.arg)})"
    raise TypeError(f"not an STL node: {node!r}")
