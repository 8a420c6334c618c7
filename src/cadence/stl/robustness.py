"""Batched numpy robustness with rtamt's discrete-time offline semantics.

``robustness(formula, signals, dt)`` returns the full robustness signal (every time step, not only
t = 0) for a batch of traces at once. Values equal rtamt's ``StlDiscreteTimeOfflineSpecification``
with sampling period ``dt`` on the same trace: bounds are converted to samples (they must be whole
multiples of ``dt``, as rtamt requires), and windows that run past the end of the trace are
truncated (missing samples are the neutral element of the operator).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np

from cadence.stl import windows
from cadence.stl.ast import (
    Abs,
    Always,
    And,
    Arith,
    Const,
    Eventually,
    Expr,
    Formula,
    Implies,
    Interval,
    Neg,
    Not,
    Or,
    Predicate,
    Until,
    Var,
)
from cadence.stl.errors import STLBoundError, STLSignalError, STLTraceError

ArrayLike = np.ndarray | list | tuple
Leaf = Callable[[Predicate, bool], np.ndarray]
_CHUNK_SAMPLES = 65536


def to_steps(interval: Interval, dt: float) -> tuple[int, int | None]:
    """Convert a bound in seconds to samples; ``None`` for an unbounded upper end.

    Raises:
        STLBoundError: a bound that is not a whole number of sampling periods (rtamt refuses
            those too).
    """
    out: list[int | None] = []
    for value in (interval.lo, interval.hi):
        if math.isinf(value):
            out.append(None)
            continue
        steps = round(value / dt)
        if abs(steps * dt - value) > 1e-9 * max(1.0, abs(value)):
            raise STLBoundError(
                f"time bound {value:g} s is not a whole number of sampling periods (dt = {dt:g} s); "
                "rtamt requires bounds that are multiples of the sampling period"
            )
        out.append(int(steps))
    return out[0] or 0, out[1]


def term_values(expr: Expr, env: Mapping[str, np.ndarray]) -> np.ndarray | float:
    """Evaluate an arithmetic term over ``env`` (arrays broadcast; constants stay scalars)."""
    if isinstance(expr, Var):
        return env[expr.name]
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Neg):
        return -term_values(expr.arg, env)
    if isinstance(expr, Abs):
        return np.abs(term_values(expr.arg, env))
    if isinstance(expr, Arith):
        left, right = term_values(expr.left, env), term_values(expr.right, env)
        if expr.op == "+":
            return left + right
        if expr.op == "-":
            return left - right
        if expr.op == "*":
            return left * right
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.true_divide(left, right)
    raise TypeError(f"not an STL term: {expr!r}")


def predicate_values(pred: Predicate, env: Mapping[str, np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    """Robustness of one comparison: ``right - left`` for ``<``/``<=``, ``left - right`` for ``>``/``>=``."""
    left, right = term_values(pred.left, env), term_values(pred.right, env)
    value = right - left if pred.op in ("<", "<=") else left - right
    return np.broadcast_to(np.asarray(value, dtype=np.float64), shape)


def evaluate(
    formula: Formula, leaf: Leaf, dt: float, polarity: bool = True, unknown_future: bool = False
) -> np.ndarray:
    """Robustness signal of ``formula`` given the robustness of its predicates.

    ``leaf(pred, polarity)`` returns a time-major ``(T, batch)`` array for a predicate. ``polarity``
    is True where the caller wants a lower bound and flips under negation. Offline evaluation
    ignores it (rtamt's truncated windows). With ``unknown_future`` the samples past the end are
    unknown: ``-inf`` when computing a lower bound, ``+inf`` for an upper bound (online monitor).
    """

    def ev(node: Formula, pol: bool) -> np.ndarray:
        pad = (-np.inf if pol else np.inf) if unknown_future else None
        if isinstance(node, Predicate):
            return leaf(node, pol)
        if isinstance(node, Not):
            return -ev(node.arg, not pol)
        if isinstance(node, And):
            return np.minimum(ev(node.left, pol), ev(node.right, pol))
        if isinstance(node, Or):
            return np.maximum(ev(node.left, pol), ev(node.right, pol))
        if isinstance(node, Implies):
            return np.maximum(-ev(node.left, not pol), ev(node.right, pol))
        if isinstance(node, (Always, Eventually)):
            lo, hi = to_steps(node.interval, dt)
            op = "min" if isinstance(node, Always) else "max"
            return windows.window_reduce(ev(node.arg, pol), lo, hi, op, pad)
        if isinstance(node, Until):
            lo, hi = to_steps(node.interval, dt)
            return windows.until(ev(node.left, pol), ev(node.right, pol), lo, hi, pad)
        raise TypeError(f"not an STL formula: {node!r}")

    return ev(formula, polarity)


def as_batch(formula: Formula, signals: Mapping[str, ArrayLike]) -> tuple[dict[str, np.ndarray], bool]:
    """Validate and convert trace columns to float64 ``(batch, T)`` arrays.

    Returns:
        The arrays (only the signals the formula reads) and whether the input was one trace.

    Raises:
        STLSignalError: a signal the formula reads is missing.
        STLTraceError: NaN, wrong rank, empty, or mismatched shapes.
    """
    missing = sorted(formula.signals - set(signals))
    if missing:
        raise STLSignalError(
            f"missing signal(s) {', '.join(missing)}; given: {', '.join(sorted(signals)) or 'none'}"
        )
    env: dict[str, np.ndarray] = {}
    single = True
    # A formula over constants only still has the trace's length: take it from the given columns.
    names = sorted(formula.signals) or sorted(signals)
    if not names:
        raise STLTraceError("no signals given: the trace length is unknown")
    for name in names:
        arr = np.asarray(signals[name], dtype=np.float64)
        if arr.ndim not in (1, 2) or arr.shape[-1] == 0:
            raise STLTraceError(
                f"signal {name!r} must have shape (T,) or (batch, T) with T >= 1, got {arr.shape}"
            )
        if np.isnan(arr).any():
            raise STLTraceError(f"signal {name!r} contains NaN")
        single &= arr.ndim == 1
        env[name] = arr.reshape(1, -1) if arr.ndim == 1 else arr
    shapes = {a.shape for a in env.values()}
    if len({s[1] for s in shapes}) > 1 or len({s[0] for s in shapes} - {1}) > 1:
        raise STLTraceError(f"signals have incompatible shapes: { {k: v.shape for k, v in env.items()} }")
    return env, single


def robustness(formula: Formula | str, signals: Mapping[str, ArrayLike], dt: float) -> np.ndarray:
    """Full robustness signal of ``formula`` over one trace or a batch of traces.

    Args:
        formula: a parsed :class:`Formula` (or its text).
        signals: signal name -> samples, each ``(T,)`` or ``(batch, T)`` (a ``(T,)`` column is
            shared by every trace of the batch).
        dt: sampling period in seconds (time bounds must be multiples of it).

    Returns:
        float64 array ``(T,)`` if every signal was 1-D, else ``(batch, T)``; entry ``t`` is the
        robustness at time ``t * dt``, equal to rtamt's offline value.
    """
    from cadence.stl.parser import parse

    if isinstance(formula, str):
        formula = parse(formula)
    if not dt > 0 or not math.isfinite(dt):
        raise STLTraceError(f"sampling period dt must be a positive number of seconds, got {dt!r}")
    env, single = as_batch(formula, signals)
    batch = max(a.shape[0] for a in env.values())
    length = next(iter(env.values())).shape[1]
    out = np.empty((batch, length))
    # Chunks of ~64k samples keep every temporary small: on a shared machine fresh multi-MB numpy
    # buffers cost more in page faults than the arithmetic (bench/stl_bench.py).
    chunk = max(1, _CHUNK_SAMPLES // length)
    for start in range(0, batch, chunk):
        stop = min(batch, start + chunk)
        # Time-major (T, batch): every kernel then works on contiguous rows (see windows.py).
        env_t = {k: np.ascontiguousarray((v[start:stop] if v.shape[0] > 1 else v).T) for k, v in env.items()}
        shape = (length, stop - start)
        rho = evaluate(formula, lambda pred, _pol, e=env_t, s=shape: predicate_values(pred, e, s), dt)
        out[start:stop] = np.broadcast_to(rho, shape).T
    return out[0] if single else out


def robustness_at_zero(
    formula: Formula | str, signals: Mapping[str, ArrayLike], dt: float
) -> float | np.ndarray:
    """Robustness at t = 0: a float for one trace, a ``(batch,)`` array for a batch."""
    out = robustness(formula, signals, dt)
    return float(out[0]) if out.ndim == 1 else out[:, 0]
