"""Algebraic properties of the numpy engine (hypothesis), independent of rtamt."""

from __future__ import annotations

import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_stl_gen import random_formula

from cadence.stl import parse, robustness
from cadence.stl.ast import Always, And, Eventually, Interval, Not, Or, Until
from cadence.stl.decompose import nnf

values = st.floats(min_value=-10, max_value=10, allow_nan=False).map(lambda v: round(v, 2))
traces = st.integers(min_value=1, max_value=30).flatmap(
    lambda n: st.fixed_dictionaries({k: st.lists(values, min_size=n, max_size=n) for k in "xyz"})
)
formulas = st.integers(min_value=0, max_value=10**6).map(lambda seed: random_formula(random.Random(seed)))
bounds = st.tuples(st.integers(0, 8), st.integers(0, 8), st.integers(0, 8)).map(sorted)


def rho(formula, trace):
    return robustness(formula, {k: np.asarray(v) for k, v in trace.items()}, dt=1.0)


@settings(max_examples=150, deadline=None)
@given(formulas, traces)
def test_double_negation(phi, trace) -> None:
    np.testing.assert_array_equal(rho(Not(Not(phi)), trace), rho(phi, trace))


@settings(max_examples=150, deadline=None)
@given(formulas, formulas, traces)
def test_de_morgan(phi, psi, trace) -> None:
    np.testing.assert_array_equal(rho(Not(And(phi, psi)), trace), rho(Or(Not(phi), Not(psi)), trace))
    np.testing.assert_array_equal(rho(Not(Or(phi, psi)), trace), rho(And(Not(phi), Not(psi)), trace))


@settings(max_examples=150, deadline=None)
@given(formulas, traces, bounds)
def test_temporal_duality(phi, trace, b) -> None:
    interval = Interval(float(b[0]), float(b[2]))
    np.testing.assert_array_equal(
        rho(Not(Always(phi, interval)), trace), rho(Eventually(Not(phi), interval), trace)
    )


@settings(max_examples=100, deadline=None)
@given(formulas, formulas, traces, bounds)
def test_wider_windows_are_monotone(phi, psi, trace, b) -> None:
    """eventually over a wider window >= narrower (always <=; until >= for a later deadline)."""
    lo, mid, hi = (float(v) for v in b)
    narrow, wide = Interval(mid, mid), Interval(lo, hi)
    assert np.all(rho(Eventually(phi, wide), trace) >= rho(Eventually(phi, narrow), trace))
    assert np.all(rho(Always(phi, wide), trace) <= rho(Always(phi, narrow), trace))
    assert np.all(
        rho(Until(phi, psi, Interval(lo, hi)), trace) >= rho(Until(phi, psi, Interval(lo, mid)), trace)
    )


@settings(max_examples=150, deadline=None)
@given(formulas, traces)
def test_negation_normal_form_keeps_robustness(phi, trace) -> None:
    if "until" in str(phi):  # a negated until has no NNF in this syntax
        return
    np.testing.assert_array_equal(rho(nnf(phi), trace), rho(phi, trace))


@settings(max_examples=100, deadline=None)
@given(formulas, traces)
def test_batch_equals_one_by_one(phi, trace) -> None:
    shifted = {k: [v + 1.0 for v in col] for k, col in trace.items()}
    batch = robustness(phi, {k: np.stack([trace[k], shifted[k]]) for k in trace}, dt=1.0)
    np.testing.assert_array_equal(batch[0], rho(phi, trace))
    np.testing.assert_array_equal(batch[1], rho(phi, shifted))


def test_long_batch_uses_chunks_consistently() -> None:
    """More traces than one evaluation chunk: chunked result equals per-trace results."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 400))
    phi = parse("always[0:50](x < 1) or eventually[10:20](x > 2)")
    out = robustness(phi, {"x": x}, dt=1.0)
    for b in (0, 150, 299):
        np.testing.assert_array_equal(out[b], robustness(phi, {"x": x[b]}, dt=1.0))
