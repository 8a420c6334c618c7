"""Differentiable robustness in torch (for training), same semantics as the numpy engine.

``robustness_torch(formula, signals, dt)`` mirrors :func:`cadence.stl.robustness`: full signal,
``(T,)`` or ``(batch, T)``, rtamt's truncated windows. With ``temperature=None`` min/max are exact
(``torch.minimum``/``maximum``; subgradients flow to the extreme sample) and, in float64, the values
equal the numpy engine's. With a temperature ``tau > 0`` every min/max (``and``, ``or``, windows,
``until``) becomes the smooth ``-tau*logsumexp(-x/tau)`` / ``tau*logsumexp(x/tau)``: a smooth
under-approximation of max and over-approximation of min that tends to the exact value as
``tau -> 0`` and gives gradient to every sample in a window.

Windows use the same non-overlapping binary composition as :mod:`cadence.stl.windows`
(``O(log w)`` tensor ops), which is exact for logsumexp too. Only this module imports torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import torch

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
    Neg,
    Not,
    Or,
    Predicate,
    Until,
    Var,
)
from cadence.stl.errors import STLSignalError, STLTraceError
from cadence.stl.parser import parse
from cadence.stl.robustness import to_steps

Binary = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _ops(temperature: float | None) -> tuple[Binary, Binary]:
    if temperature is None:
        return torch.minimum, torch.maximum
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0 or None, got {temperature!r}")
    tau = float(temperature)

    def smin(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return -tau * torch.logaddexp(-a / tau, -b / tau)

    def smax(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return tau * torch.logaddexp(a / tau, b / tau)

    return smin, smax


def _extend(acc: torch.Tensor, seg: torch.Tensor, offset: int, comb: Binary) -> torch.Tensor:
    """``acc[i] = comb(acc[i], seg[i + offset])`` where ``i + offset`` is inside; unchanged past the end."""
    n = acc.shape[-1] - offset
    if n <= 0:
        return acc
    return torch.cat([comb(acc[..., :n], seg[..., offset:]), acc[..., n:]], dim=-1)


def _window(x: torch.Tensor, lo: int, hi: int | None, comb: Binary, neutral: float) -> torch.Tensor:
    """``comb`` over ``x[..., i+lo .. i+hi]`` (truncated at the end; ``neutral`` if empty)."""
    length = x.shape[-1]
    if lo >= length:
        return torch.full_like(x, neutral)
    width = length - lo if hi is None else min(hi - lo + 1, length - lo)
    seg, acc, acc_len, seg_len = x[..., lo:], None, 0, 1
    while True:
        if width & seg_len:
            acc = seg if acc is None else _extend(acc, seg, acc_len, comb)
            acc_len += seg_len
        if seg_len * 2 > width:
            break
        seg = _extend(seg, seg, seg_len, comb)
        seg_len *= 2
    if lo == 0:
        return acc
    return torch.cat([acc, torch.full_like(x[..., :lo], neutral)], dim=-1)


def _until(
    left: torch.Tensor, right: torch.Tensor, lo: int, hi: int | None, smin: Binary, smax: Binary
) -> torch.Tensor:
    """``left until[lo:hi] right`` by composing (until value, left min) pairs; see windows.until."""
    length = left.shape[-1]
    if lo >= length:
        return torch.full_like(left, -math.inf)
    total = length - lo if hi is None else min(hi - lo + 1, length - lo)
    r_seg, l_seg = right[..., lo:], left[..., lo:]
    r_acc = l_acc = None
    acc_len, seg_len = 0, 1
    while True:
        if total & seg_len:
            if r_acc is None:
                r_acc, l_acc = r_seg, l_seg
            else:
                r_acc = _pair(r_acc, l_acc, r_seg, acc_len, smin, smax)
                l_acc = _extend(l_acc, l_seg, acc_len, smin)
            acc_len += seg_len
        if seg_len * 2 > total:
            break
        r_seg, l_seg = _pair(r_seg, l_seg, r_seg, seg_len, smin, smax), _extend(l_seg, l_seg, seg_len, smin)
        seg_len *= 2
    if lo == 0:
        return r_acc
    head = _window(left, 0, lo - 1, smin, math.inf)
    return torch.cat(
        [smin(head[..., : length - lo], r_acc), torch.full_like(left[..., :lo], -math.inf)], dim=-1
    )


def _pair(
    r_a: torch.Tensor, l_a: torch.Tensor, r_b: torch.Tensor, offset: int, smin: Binary, smax: Binary
) -> torch.Tensor:
    """Until value of segment A followed by segment B starting ``offset`` later: ``max(r_A, min(l_A, r_B))``."""
    n = r_a.shape[-1] - offset
    if n <= 0:
        return r_a
    return torch.cat([smax(r_a[..., :n], smin(l_a[..., :n], r_b[..., offset:])), r_a[..., n:]], dim=-1)


def _term(expr: Expr, env: Mapping[str, torch.Tensor]) -> torch.Tensor | float:
    if isinstance(expr, Var):
        return env[expr.name]
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Neg):
        return -_term(expr.arg, env)
    if isinstance(expr, Abs):
        arg = _term(expr.arg, env)
        return torch.abs(arg) if isinstance(arg, torch.Tensor) else abs(arg)
    if isinstance(expr, Arith):
        a, b = _term(expr.left, env), _term(expr.right, env)
        return {"+": a + b, "-": a - b, "*": a * b}[expr.op] if expr.op != "/" else a / b
    raise TypeError(f"not an STL term: {expr!r}")


def robustness_torch(
    formula: Formula | str,
    signals: Mapping[str, Any],
    dt: float,
    temperature: float | None = None,
) -> torch.Tensor:
    """Differentiable robustness signal of ``formula``.

    Args:
        formula: parsed formula or its text.
        signals: name -> tensor (or array) ``(T,)`` or ``(batch, T)``; tensors keep their dtype and
            device (arrays become float64), gradients flow back to them.
        dt: sampling period in seconds.
        temperature: ``None`` for exact min/max, else the soft-min/max temperature (> 0).

    Returns:
        ``(T,)`` if every signal is 1-D, else ``(batch, T)``.
    """
    formula = parse(formula) if isinstance(formula, str) else formula
    missing = sorted(formula.signals - set(signals))
    if missing:
        raise STLSignalError(
            f"missing signal(s) {', '.join(missing)}; given: {', '.join(sorted(signals)) or 'none'}"
        )
    env: dict[str, torch.Tensor] = {}
    # A formula over constants only still has the trace's shape: take it from the given columns.
    for name in formula.signals or signals:
        value = signals[name]
        tensor = value if isinstance(value, torch.Tensor) else torch.as_tensor(value, dtype=torch.float64)
        if tensor.ndim not in (1, 2) or tensor.shape[-1] == 0:
            raise STLTraceError(
                f"signal {name!r} must have shape (T,) or (batch, T), got {tuple(tensor.shape)}"
            )
        env[name] = tensor
    try:
        shape = torch.broadcast_shapes(*(t.shape for t in env.values()))
    except RuntimeError as err:
        raise STLTraceError(f"signals have incompatible shapes: {err}") from err
    if not env:
        raise STLTraceError("no signals given: the trace length is unknown")
    smin, smax = _ops(temperature)
    ref = next(iter(env.values()))  # dtype and device for constants

    def ev(node: Formula) -> torch.Tensor:
        if isinstance(node, Predicate):
            a, b = _term(node.left, env), _term(node.right, env)
            value = b - a if node.op in ("<", "<=") else a - b
            return torch.as_tensor(value, dtype=ref.dtype, device=ref.device).expand(shape)
        if isinstance(node, Not):
            return -ev(node.arg)
        if isinstance(node, And):
            return smin(ev(node.left), ev(node.right))
        if isinstance(node, Or):
            return smax(ev(node.left), ev(node.right))
        if isinstance(node, Implies):
            return smax(-ev(node.left), ev(node.right))
        if isinstance(node, Always):
            return _window(ev(node.arg), *to_steps(node.interval, dt), smin, math.inf)
        if isinstance(node, Eventually):
            return _window(ev(node.arg), *to_steps(node.interval, dt), smax, -math.inf)
        if isinstance(node, Until):
            return _until(ev(node.left), ev(node.right), *to_steps(node.interval, dt), smin, smax)
        raise TypeError(f"not an STL formula: {node!r}")

    return ev(formula)
