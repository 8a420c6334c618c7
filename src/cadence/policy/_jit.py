"""numba kernels of the decision hot path (issue 4: decision p99 <= 50 us).

Imported only by :mod:`cadence.policy.kernels`, which falls back to the numpy path (with a log line)
when numba is missing or this module fails to compile, and which verifies each kernel against the
numpy builder / ONNX Runtime before using it.

Every function has explicit signatures, so it is compiled when this module is imported (at policy
load or node configure, never inside a timed decision), and ``cache=True`` keeps the machine code on
disk: beside this file when it is writable, else in numba's user-wide cache directory, else (see
:func:`cadence.policy.kernels.load`) in a per-process temporary directory.

``build_obs`` repeats :meth:`ObservationBuilder.build` operation for operation in IEEE double (no
fast-math, no fma contraction): the same libm ``cos``/``sin``, CPython's own ``math.hypot``
algorithm (``vector_norm`` in Modules/mathmodule.c - glibc's ``hypot`` may differ in the last bit),
the comparisons Python's ``min``/``max`` make, and one rounding to float32 per value. Its output is
bit-identical (test/unit/test_observation_kernel.py).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types

_DBL_MIN = 2.2250738585072014e-308
_SPLIT = 134217729.0  # Veltkamp's constant, 2**27 + 1
# nogil stays off: the kernels take a few microseconds, and releasing the GIL would let another
# thread of the node (rclpy executors) take it, so the decision could wait a switch interval (5 ms)
_OPTS = {"cache": True, "error_model": "numpy", "boundscheck": False}

# post-operation codes of an MLP layer (cadence.policy.kernels.MlpPlan)
OP_RELU, OP_TANH, OP_SIGMOID, OP_MUL, OP_ADD = 0, 1, 2, 3, 4

f64, f32, i64 = types.float64, types.float32, types.int64


@njit(types.UniTuple(f64, 2)(f64, f64), **_OPTS)
def _two_product(x, y):  # pragma: no cover - compiled
    """(x*y rounded, its exact error): Dekker's algorithm, the same bits as CPython's fma version."""
    t = x * _SPLIT
    xh = t - (t - x)
    xl = x - xh
    t = y * _SPLIT
    yh = t - (t - y)
    yl = y - yh
    z = x * y
    return z, ((xh * yh - z) + xh * yl + xl * yh) + xl * yl


@njit(f64(f64, f64), **_OPTS)
def hypot(x, y):  # pragma: no cover - compiled
    """CPython 3's ``math.hypot(x, y)`` (``vector_norm``: scaled, compensated), to the last bit."""
    ax, ay = abs(x), abs(y)
    mx = 0.0
    if ax > mx:
        mx = ax
    if ay > mx:
        mx = ay
    if math.isinf(mx):
        return mx
    if math.isnan(ax) or math.isnan(ay):
        return math.nan
    if mx == 0.0:
        return mx
    outer = 1.0
    e = math.frexp(mx)[1]
    if e < -1023:  # CPython recurses once: subnormals made normal first
        ax, ay, mx, outer = ax / _DBL_MIN, ay / _DBL_MIN, mx / _DBL_MIN, _DBL_MIN
        e = math.frexp(mx)[1]
    scale = math.ldexp(1.0, -e)
    csum, frac1, frac2 = 1.0, 0.0, 0.0
    v = ax * scale
    hi, lo = _two_product(v, v)
    s = csum + hi
    frac2 += (csum - s) + hi
    csum = s
    frac1 += lo
    v = ay * scale
    hi, lo = _two_product(v, v)
    s = csum + hi
    frac2 += (csum - s) + hi
    csum = s
    frac1 += lo
    h = math.sqrt(csum - 1.0 + (frac1 + frac2))
    hi, lo = _two_product(-h, h)
    s = csum + hi
    frac2 += (csum - s) + hi
    csum = s
    frac1 += lo
    r = csum - 1.0 + (frac1 + frac2)
    h += r / (2.0 * h)
    return outer * (h / scale)


@njit(types.void(f32[::1], i64, f64, f64, f64, f64, f64, f64, f64), **_OPTS)
def _target(out, i, tx, ty, x, y, c, s, clip):  # pragma: no cover - compiled
    dx, dy = tx - x, ty - y
    lx, ly = c * dx + s * dy, c * dy - s * dx
    d = hypot(lx, ly)
    if d > 1e-9:
        out[i] = lx / d
        out[i + 1] = ly / d
        out[i + 2] = (clip if clip < d else d) / clip  # Python's min(d, clip)
    else:
        out[i] = 1.0
        out[i + 1] = 0.0
        out[i + 2] = 0.0


# scal (float64): the 15 per-call values, then the builder's constants (written once)
S_X, S_Y, S_YAW, S_V, S_W, S_CX, S_CY, S_NX, S_NY, S_GX, S_GY, S_T, S_C0, S_C1, S_LIMIT = range(15)
S_CLIP, S_VMAX, S_WMAX, S_TSCALE, S_INV_RANGE, S_LIDAR, S_TIME, S_BEAMS = range(15, 23)
N_SCAL = 23
# net_i (int64) header: n_layers, n_ops, constants' base and scratch base in net_f, scratch half
I_LAYERS, I_OPS, I_CONSTS, I_SCRATCH, I_HALF, N_HEADER = 0, 1, 2, 3, 4, 5

# Few arguments on purpose: numba unboxes each one on every call, and cold (after other work, as
# between two decisions) that costs about as much as the observation itself.
_OBS_SIG = (f32[::1], f64[::1])  # out, scal
_CSR = i64[::1]  # sector j's rays are rays[ptr[j]:ptr[j+1]]: ptr (n_beams + 1), then rays
# scans as LaserScans carry them: float64 or float32, any strides, read-only too (bag buffers)
_RANGES = tuple(types.Array(t, 1, "A", readonly=True) for t in (f64, f32))
_NET = (i64[::1], f32[::1])  # net_i, net_f (cadence.policy.kernels.MlpPlan)


def _build_obs(out, scal, ranges, csr):
    """The observation into ``out`` (float32); see the module docstring and the S_* slots."""
    x, y, clip = scal[S_X], scal[S_Y], scal[S_CLIP]
    yaw = scal[S_YAW]
    c, s = math.cos(yaw), math.sin(yaw)
    _target(out, 0, scal[S_CX], scal[S_CY], x, y, c, s, clip)
    _target(out, 3, scal[S_NX], scal[S_NY], x, y, c, s, clip)
    _target(out, 6, scal[S_GX], scal[S_GY], x, y, c, s, clip)
    out[9] = scal[S_V] / scal[S_VMAX]
    out[10] = scal[S_W] / scal[S_WMAX]
    inv, limit = scal[S_INV_RANGE], scal[S_LIMIT]
    lo, n_beams = np.int64(scal[S_LIDAR]), np.int64(scal[S_BEAMS])
    for j in range(n_beams):
        m = limit  # np.fmin: NaN rays are ignored
        for k in range(csr[j], csr[j + 1]):
            r = np.float64(ranges[csr[n_beams + 1 + k]])
            if r < m:
                m = r
        m32 = np.float32(m)  # rounding is monotone: min-then-round == round-then-min
        if not m32 > 0.0:
            m32 = np.float32(0.0)  # np.maximum(x, 0.0) returns the +0.0 operand on ties
        out[lo + j] = np.float64(m32) * inv  # exact product of two floats, rounded once
    t = scal[S_T] / scal[S_TSCALE]
    if t < -1.0:  # min(max(t, -1.0), 1.0): Python's builtins make these comparisons (NaN stays)
        t = -1.0
    if t > 1.0:
        t = 1.0
    ti = np.int64(scal[S_TIME])
    out[ti] = t
    out[ti + 1] = scal[S_C0] / scal[S_VMAX]
    out[ti + 2] = scal[S_C1] / scal[S_WMAX]


build_obs = njit([types.void(*_OBS_SIG, r, _CSR) for r in _RANGES], **_OPTS)(_build_obs)


@njit(types.void(f32[::1], f32[::1], *_NET), **_OPTS)
def _mlp_row(src, dst, net_i, net_f):  # pragma: no cover - compiled
    """One row through a chain of dense layers with elementwise post-operations (float32).

    ``net_i``: the header (I_*), then per layer ``(n_in, n_out, w offset, b offset or -1, first op,
    end op)``, then per op ``(code, constant offset)``; ``net_f``: every W (n_in, n_out) row-major
    and its bias, the full-width constants of OP_MUL / OP_ADD, and two scratch rows.
    """
    n_layers = net_i[I_LAYERS]
    ops0 = N_HEADER + 6 * n_layers
    c_base, s_base, half = net_i[I_CONSTS], net_i[I_SCRATCH], net_i[I_HALF]
    for layer in range(n_layers):
        at = N_HEADER + 6 * layer
        n_in, n_out, w_off, b_off = net_i[at], net_i[at + 1], net_i[at + 2], net_i[at + 3]
        if layer == n_layers - 1:
            y = dst
        else:
            base = s_base + (layer % 2) * half
            y = net_f[base : base + n_out]
        for j in range(n_out):
            y[j] = 0.0
        for i in range(n_in):  # y += x_i * W[i, :]: contiguous rows, vectorised, no reassociation
            xi = src[i]
            wrow = net_f[w_off + i * n_out : w_off + (i + 1) * n_out]
            for j in range(n_out):
                y[j] += xi * wrow[j]
        if b_off >= 0:
            for j in range(n_out):
                y[j] += net_f[b_off + j]
        for k in range(net_i[at + 4], net_i[at + 5]):
            code, c_off = net_i[ops0 + 2 * k], c_base + net_i[ops0 + 2 * k + 1]
            for j in range(n_out):
                v = y[j]
                if code == OP_RELU:
                    if v < 0.0:
                        v = np.float32(0.0)
                elif code == OP_TANH:
                    v = np.float32(math.tanh(np.float64(v)))
                elif code == OP_SIGMOID:
                    v = np.float32(1.0 / (1.0 + math.exp(-np.float64(v))))
                elif code == OP_MUL:
                    v = v * net_f[c_off + j]
                else:
                    v = v + net_f[c_off + j]
                y[j] = v
        src = y


@njit(types.void(f32[:, ::1], f32[:, ::1], *_NET), **_OPTS)
def mlp(x, out, net_i, net_f):  # pragma: no cover - compiled
    """``out[b] = net(x[b])`` for every row (see :func:`_mlp_row`)."""
    for row in range(x.shape[0]):
        _mlp_row(x[row], out[row], net_i, net_f)


@njit(types.int64(f32[::1]), **_OPTS)
def verdict(obs):  # pragma: no cover - compiled
    """1: ``obs . obs`` is certainly finite; 0: certainly not (a NaN/inf entry); 2: ask BLAS.

    :meth:`SafetyFilter.observe` tests ``isfinite(obs . obs)``; below 1e18 per entry the float32
    sum of squares of a 4096-vector cannot overflow, so only huge finite entries need the dot.
    """
    out = 1
    for i in range(obs.shape[0]):
        v = obs[i]
        if not math.isfinite(v):
            return 0
        if abs(v) >= 1e18 or obs.shape[0] > 4096:
            out = 2
    return out


def _build_checked(out, scal, ranges, csr):
    """:func:`build_obs`, then its :func:`verdict`."""
    build_obs(out, scal, ranges, csr)
    return verdict(out)


build_checked = njit([i64(*_OBS_SIG, r, _CSR) for r in _RANGES], **_OPTS)(_build_checked)


def _decide(obs, actions, scal, ranges, csr, net_i, net_f):
    """The observation (see :func:`build_obs`), its :func:`verdict`, and the net on it, in one call.

    Returns (verdict, first action's two components as doubles).
    """
    build_obs(obs, scal, ranges, csr)
    row = actions[0].reshape(actions.shape[1] * actions.shape[2])  # [1, K, n_actions], C order
    _mlp_row(obs, row, net_i, net_f)
    return verdict(obs), np.float64(row[0]), np.float64(row[1])


decide = njit(
    [types.Tuple((i64, f64, f64))(f32[::1], f32[:, :, ::1], f64[::1], r, _CSR, *_NET) for r in _RANGES],
    **_OPTS,
)(_decide)
