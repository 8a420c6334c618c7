"""STL abstract syntax: frozen dataclasses for arithmetic terms and formulas.

Arithmetic terms (:class:`Expr`) are real-valued signals; formulas (:class:`Formula`) have a
robustness signal. Time bounds are seconds (rtamt's discrete-time convention); the evaluators turn
them into sample counts with the sampling period ``dt``. ``str(node)`` prints rtamt-compatible,
fully parenthesised text that :func:`cadence.stl.parse` reads back to an equal tree.
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

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Const(Expr):
    """A numeric literal."""

    value: float

    def __str__(self) -> str:
        return _num(self.value)


@dataclass(frozen=True)
class Neg(Expr):
    """Unary minus of a term (rtamt itself only accepts it on literals)."""

    arg: Expr

    @property
    def signals(self) -> frozenset[str]:
        return self.arg.signals

    def __str__(self) -> str:
        return f"(-{self.arg})"


@dataclass(frozen=True)
class Abs(Expr):
    """``abs(term)``."""

    arg: Expr

    @property
    def signals(self) -> frozenset[str]:
        return self.arg.signals

    def __str__(self) -> str:
        return f"abs({self.arg})"


@dataclass(frozen=True)
class Arith(Expr):
    """A binary arithmetic operation: ``op`` is one of ``+ - * /``."""

    op: str
    left: Expr
    right: Expr

    @property
    def signals(self) -> frozenset[str]:
        return self.left.signals | self.right.signals

    def __str__(self) -> str:
        return f"({self.left} {self.op} {self.right})"


class Formula:
    """Base class of STL formulas.

    Every formula knows the signals it reads (:attr:`signals`) and its horizon in seconds
    (:attr:`horizon`): how far past time t its robustness at t looks. ``inf`` when it contains an
    unbounded temporal operator.
    """

    __slots__ = ()

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

    def __str__(self) -> str:
        return f"({self.left} {self.op} {self.right})"


@dataclass(frozen=True)
class Not(Formula):
    """Negation: robustness ``-rho``."""

    arg: Formula

    @property
    def children(self) -> tuple[Formula, ...]:
        return (self.arg,)

    def __str__(self) -> str:
        return f"(not {self.arg})"


@dataclass(frozen=True)
class And(Formula):
    """Conjunction: pointwise minimum."""

    left: Formula
    right: Formula

    @property
    def children(self) -> tuple[Formula, ...]:
        return (self.left, self.right)

    def __str__(self) -> str:
        return f"({self.left} and {self.right})"


@dataclass(frozen=True)
class Or(Formula):
    """Disjunction: pointwise maximum."""

    left: Formula
    right: Formula

    @property
    def children(self) -> tuple[Formula, ...]:
        return (self.left, self.right)

    def __str__(self) -> str:
        return f"({self.left} or {self.right})"


@dataclass(frozen=True)
class Implies(Formula):
    """Implication: ``max(-left, right)``."""

    left: Formula
    right: Formula

    @property
    def children(self) -> tuple[Formula, ...]:
        return (self.left, self.right)

    def __str__(self) -> str:
        return f"({self.left} implies {self.right})"


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

    def __str__(self) -> str:
        return f"(always{self.interval}({self.arg}))"


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

    def __str__(self) -> str:
        return f"(eventually{self.interval}({self.arg}))"


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

    def __str__(self) -> str:
        return f"({self.left} until{self.interval} {self.right})"


TEMPORAL = (Always, Eventually, Until)
