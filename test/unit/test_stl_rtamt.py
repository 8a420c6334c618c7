"""The numpy engine equals rtamt 0.4.10 (the oracle) on random specs and traces.

rtamt evaluates one trace per call and is slow (pure Python, O(T * w^2) for a timed until), so
the traces are short; lengths cover windows that run past the end of the trace.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import rtamt
from test_stl_gen import SIGNALS, random_formula, random_trace

from cadence.stl import parse, robustness, robustness_at_zero
from cadence.stl.ast import Formula


def rtamt_robustness(text: str, trace: dict[str, np.ndarray], dt: float = 1.0) -> np.ndarray:
    """rtamt's offline discrete-time robustness signal of one trace (1-D columns)."""
    spec = rtamt.StlDiscreteTimeOfflineSpecification()
    for name in SIGNALS:
        spec.declare_var(name, "float")
    spec.spec = text
    spec.parse()
    if dt != 1.0:
        spec.set_sampling_period(round(dt * 1000), "ms", 0.1)
    length = len(next(iter(trace.values())))
    data = {"time": [i * dt for i in range(length)], **{k: [float(v) for v in trace[k]] for k in SIGNALS}}
    return np.array([value for _, value in spec.evaluate(data)])


def _compare(formula: Formula, trace: dict[str, np.ndarray], dt: float = 1.0) -> None:
    ours = robustness(formula, trace, dt)
    for b in range(ours.shape[0]):
        theirs = rtamt_robustness(str(formula), {k: v[b] for k, v in trace.items()}, dt)
        np.testing.assert_array_equal(ours[b], theirs, err_msg=f"{formula} (trace {b})")


@pytest.mark.parametrize("seed", range(8))
def test_random_specs_equal_rtamt(seed: int) -> None:
    rng, nprng = random.Random(seed), np.random.default_rng(seed)
    for _ in range(12):
        formula = random_formula(rng)
        _compare(formula, random_trace(nprng, batch=2, length=nprng.integers(2, 25)))


@pytest.mark.parametrize(
    "text",
    [
        "always[0:100](x < 5) and eventually[0:200](y > 2)",
        "(x > 0) until[2:5] (y > 0)",
        "(x > 0) until (y > 0 until[1:3] z > 0)",
        "always[0:4](eventually[1:3](x > 0) until[0:2] (y < 0))",
        "not always[0:8](x > 0 implies eventually[0:3](y > 1)) or z >= 0",
        "eventually[3:3](abs(x - y) <= 1)",
        "always(x > -2) and eventually(y > 2)",
    ],
)
def test_named_specs_equal_rtamt(text: str) -> None:
    nprng = np.random.default_rng(3)
    for length in (2, 3, 7, 30):
        _compare(parse(text), random_trace(nprng, batch=2, length=length))


def test_precedence_matches_rtamt() -> None:
    """Texts whose meaning depends on precedence/associativity give rtamt's values."""
    nprng = np.random.default_rng(5)
    for text in [
        "x > 0 and y > 0 or z > 0",
        "x > 0 or y > 0 and z > 0",
        "not x > 0 and y > 0",
        "x > 0 implies y > 0 implies z > 0",
        "x > 0 until y > 0 until z > 0",
        "x > 0 and y > 0 until z > 0",
        "always[0:2] x > 0 until y > 0",
        "eventually[0:2] x > 0 and y > 0",
        "not always[0:2] x > 0",
        "x * y + 1 > z",
    ]:
        _compare(parse(text), random_trace(nprng, batch=1, length=9))


def test_bounds_in_seconds_with_a_sampling_period() -> None:
    nprng = np.random.default_rng(9)
    text = "always[0.5:1.5](x > 0) and (y > 0) until[0:1] (z > 0) and eventually[0:500ms](x < 1)"
    _compare(parse(text), random_trace(nprng, batch=2, length=12), dt=0.5)


def test_robustness_at_zero_is_the_first_sample() -> None:
    trace = random_trace(np.random.default_rng(2), batch=3, length=10)
    formula = parse("eventually[0:3](x > 0) and always[1:4](y < 1)")
    np.testing.assert_array_equal(
        robustness_at_zero(formula, trace, 1.0), robustness(formula, trace, 1.0)[:, 0]
    )
    single = {k: v[0] for k, v in trace.items()}
    assert robustness_at_zero(formula, single, 1.0) == robustness(formula, trace, 1.0)[0, 0]
