"""Seeded random STL formulas and traces shared by the STL tests (plus checks of the generator).

Formulas are built as trees and printed with ``str()``, which parenthesises arithmetic so rtamt
reads the same text the same way (``to_text``).
"""

from __future__ import annotations

import random

import numpy as np

from cadence.stl import parse
from cadence.stl.ast import (
    Abs,
    Always,
    And,
    Arith,
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

SIGNALS = ("x", "y", "z")


def random_term(rng: random.Random, depth: int = 0):
    roll = rng.random()
    if depth >= 2 or roll < 0.45:
        return Var(rng.choice(SIGNALS))
    if roll < 0.6:
        return Const(float(rng.randint(-3, 3)))
    if roll < 0.7:
        return Abs(random_term(rng, depth + 1))
    return Arith(rng.choice("+-*"), random_term(rng, depth + 1), random_term(rng, depth + 1))


def random_predicate(rng: random.Random) -> Predicate:
    right = Const(round(rng.uniform(-2, 2), 1)) if rng.random() < 0.7 else random_term(rng, 1)
    return Predicate(rng.choice(("<", "<=", ">", ">=")), random_term(rng, 1), right)


def random_interval(rng: random.Random, max_bound: int) -> Interval:
    if rng.random() < 0.1:
        return Interval(0.0, float("inf"))
    lo = rng.randint(0, max_bound)
    return Interval(float(lo), float(rng.randint(lo, max_bound + 2)))


def random_formula(rng: random.Random, depth: int = 3, max_bound: int = 6) -> Formula:
    """A random formula over x, y, z with integer bounds up to ``max_bound`` (+2) samples."""
    if depth == 0 or rng.random() < 0.2:
        return random_predicate(rng)
    kind = rng.choice(("not", "and", "or", "implies", "always", "eventually", "until", "until"))
    sub = lambda: random_formula(rng, depth - 1, max_bound)  # noqa: E731
    if kind == "not":
        return Not(sub())
    if kind in ("and", "or", "implies"):
        return {"and": And, "or": Or, "implies": Implies}[kind](sub(), sub())
    if kind == "until":
        return Until(sub(), sub(), random_interval(rng, max_bound))
    return (Always if kind == "always" else Eventually)(sub(), random_interval(rng, max_bound))


def random_trace(rng: np.random.Generator, batch: int, length: int) -> dict[str, np.ndarray]:
    """Rounded values so ties (equal samples) occur, as they do in real traces."""
    return {name: np.round(rng.normal(0.0, 1.5, (batch, length)), 1) for name in SIGNALS}


def test_generated_formulas_print_and_parse_back() -> None:
    rng = random.Random(7)
    for _ in range(300):
        formula = random_formula(rng)
        assert parse(str(formula)) == formula, str(formula)


def test_generator_covers_every_operator() -> None:
    rng = random.Random(1)
    seen: set[str] = set()

    def walk(node: Formula) -> None:
        seen.add(type(node).__name__)
        for child in node.children:
            walk(child)

    for _ in range(100):
        walk(random_formula(rng))
    assert {"Not", "And", "Or", "Implies", "Always", "Eventually", "Until", "Predicate"} <= seen
