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


def _build_obs(out, x, y, yaw, v, w, cx, cy, nx, ny, gx, gy, t_rem, c0, c1, limit, params, ranges, ptr, rays):
    """The observation into ``out`` (float32); see the module docstring.

    ``params``: dist_clip, V_MAX, W_MAX, time_scale, float32(1/lidar_range), first lidar index,
    first time index. Sector j pools ``ranges[rays[ptr[j]:ptr[j+1]]]`` (empty: nothing seen).
    """
    clip = params[0]
    c, s = math.cos(yaw), math.sin(yaw)
    _target(out, 0, cx, cy, x, y, c, s, clip)
    _target(out, 3, nx, ny, x, y, c, s, clip)
    _target(out, 6, gx, gy, x, y, c, s, clip)
    out[9] = v / params[1]
    out[10] = w / params[2]
    inv = params[4]
    lo = np.int64(params[5])
    for j in range(ptr.shape[0] - 1):
        m = limit  # np.fmin: NaN rays are ignored
        for k in range(ptr[j], ptr[j + 1]):
            r = np.float64(ranges[rays[k]])
            if r < m:
                m = r
        m32 = np.float32(m)  # rounding is monotone: min-then-round == round-then-min
        if not m32 > 0.0:
            m32 = np.float32(0.0)  # np.maximum(x, 0.0) returns the +0.0 operand on ties
        out[lo + j] = np.float64(m32) * inv  # exact product of two floats, rounded once
    t = t_rem / params[3]
    if t < -1.0:  # min(max(t, -1.0), 1.0): Python's builtins make these comparisons (NaN stays)
        t = -1.0
    if t > 1.0:
        t = 1.0
    ti = np.int64(params[6])
    out[ti] = t
    out[ti + 1] = c0 / params[1]
    out[ti + 2] = c1 / params[2]


_OBS_ARGS = (f32[::1], *([f64] * 15), f64[::1])
# scans as LaserScans carry them: float64 or float32, any strides, read-only too (bag buffers)
_RANGES = tuple(types.Array(t, 1, "A", readonly=True) for t in (f64, f32))
build_obs = njit(
    [types.void(*_OBS_ARGS, ranges, i64[::1], i64[::1]) for ranges in _RANGES],
    **_OPTS,
)(_build_obs)


_NET_ARGS = (f32[::1], i64[:, ::1], i64[:, ::1], f32[::1])  # weights, layers, ops, consts


@njit(types.void(f32[::1], f32[::1], *_NET_ARGS, f32[::1]), **_OPTS)
def _mlp_row(src, dst, weights, layers, ops, consts, scratch):  # pragma: no cover - compiled
    """One row through a chain of dense layers with elementwise post-operations (float32).

    ``layers[l] = (n_in, n_out, w_offset, b_offset or -1, first op, end op)``, W stored (n_in, n_out)
    row-major in ``weights``; ``ops[k] = (code, const offset)`` with a full-width constant vector
    for OP_MUL / OP_ADD. ``scratch`` holds two rows of the widest hidden layer.
    """
    half = scratch.shape[0] // 2
    last = layers.shape[0] - 1
    for layer in range(last + 1):
        n_in, n_out, w_off, b_off = layers[layer, 0], layers[layer, 1], layers[layer, 2], layers[layer, 3]
        if layer == last:
            y = dst
        else:
            base = (layer % 2) * half
            y = scratch[base : base + n_out]
        for j in range(n_out):
            y[j] = 0.0
        for i in range(n_in):  # y += x_i * W[i, :]: contiguous rows, vectorised, no reassociation
            xi = src[i]
            wrow = weights[w_off + i * n_out : w_off + (i + 1) * n_out]
            for j in range(n_out):
                y[j] += xi * wrow[j]
        if b_off >= 0:
            for j in range(n_out):
                y[j] += weights[b_off + j]
        for k in range(layers[layer, 4], layers[layer, 5]):
            code, c_off = ops[k, 0], ops[k, 1]
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
                    v = v * consts[c_off + j]
                else:
                    v = v + consts[c_off + j]
                y[j] = v
        src = y


@njit(types.void(f32[:, ::1], *_NET_ARGS, f32[:, ::1], f32[::1]), **_OPTS)
def mlp(x, weights, layers, ops, consts, out, scratch):  # pragma: no cover - compiled
    """``out[b] = net(x[b])`` for every row (see :func:`_mlp_row`)."""
    for row in range(x.shape[0]):
        _mlp_row(x[row], out[row], weights, layers, ops, consts, scratch)


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


def _build_checked(
    out, x, y, yaw, v, w, cx, cy, nx, ny, gx, gy, t_rem, c0, c1, limit, params, ranges, ptr, rays
):
    """:func:`build_obs`, then its :func:`verdict`."""
    build_obs(out, x, y, yaw, v, w, cx, cy, nx, ny, gx, gy, t_rem, c0, c1, limit, params, ranges, ptr, rays)
    return verdict(out)


build_checked = njit(
    [i64(*_OBS_ARGS, ranges, i64[::1], i64[::1]) for ranges in _RANGES],
    **_OPTS,
)(_build_checked)


def _decide(
    obs, actions, x, y, yaw, v, w, cx, cy, nx, ny, gx, gy, t_rem, c0, c1, limit, params, ranges, ptr, rays,
    weights, layers, ops, consts, scratch,
):  # fmt: skip
    """The observation (see :func:`build_obs`), its :func:`verdict`, and the net on it, in one call.

    Returns (verdict, first action's two components as doubles).
    """
    build_obs(obs, x, y, yaw, v, w, cx, cy, nx, ny, gx, gy, t_rem, c0, c1, limit, params, ranges, ptr, rays)
    row = actions[0].reshape(actions.shape[1] * actions.shape[2])  # [1, K, n_actions], C order
    _mlp_row(obs, row, weights, layers, ops, consts, scratch)
    return verdict(obs), np.float64(row[0]), np.float64(row[1])


_DECIDE_RET = types.Tuple((i64, f64, f64))
decide = njit(
    [
        _DECIDE_RET(
            f32[::1], f32[:, :, ::1], *_OBS_ARGS[1:], ranges, i64[::1], i64[::1], *_NET_ARGS, f32[::1]
        )
        for ranges in _RANGES
    ],
    **_OPTS,
)(_decide)
