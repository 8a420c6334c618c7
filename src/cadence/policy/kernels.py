"""Compiled (numba) kernels for the decision hot path, with a logged fallback to the numpy path.

Issue 4 asks for a whole decision (observation build + policy + safety filter) in p99 <= 50 us. Two
kernels take the numpy/Python interpreter out of it:

* the observation build (:meth:`cadence.policy.observation.ObservationBuilder.build` uses it for
  float inputs): bit-identical to the Python builder, checked on probe inputs when a builder is
  created and on thousands of random inputs in ``test/unit/test_observation_kernel.py``;
* the policy MLP (:class:`cadence.policy.runtime.OnnxPolicy`, backend ``"numba"``): the graph the
  numpy executor compiled (:mod:`cadence.policy.fastpath`), when it is a chain of dense layers with
  elementwise post-operations; verified against ONNX Runtime at load like the numpy executor.

:func:`load` imports :mod:`cadence.policy._jit` once per process. When numba is not installed, fails
to compile, or ``CADENCE_JIT=0`` is set, it logs why and returns None, and every caller keeps its
numpy path. When neither the package directory nor numba's user cache directory is writable (a
read-only install with no home), the kernels are compiled into a per-process temporary cache.
"""

from __future__ import annotations

import itertools
import logging
import os
import sys
import tempfile
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np

LOG = logging.getLogger(__name__)
ENV_SWITCH = "CADENCE_JIT"  # "0": never use the compiled kernels

_state: dict[str, Any] = {}


def load() -> ModuleType | None:
    """The compiled kernels module, or None (logged once) when they cannot be used here."""
    if "module" in _state:
        return _state["module"]
    module, why = None, ""
    if os.environ.get(ENV_SWITCH, "1").strip().lower() in ("0", "false", "no", "off"):
        why = f"{ENV_SWITCH}={os.environ[ENV_SWITCH]}"
    else:
        try:
            module = _import()
        except Exception as err:  # ImportError, numba's compile or cache errors: all mean "fall back"
            why = f"{type(err).__name__}: {err}"
    if module is None:
        LOG.warning("compiled decision kernels unavailable (%s); using the numpy path", why)
    else:
        LOG.info("compiled decision kernels loaded (numba %s)", sys.modules["numba"].__version__)
    _state["module"] = module
    return module


def _import() -> ModuleType:
    try:
        from cadence.policy import _jit
    except RuntimeError as err:
        if "cannot cache" not in str(err):
            raise
        # no writable cache location: compile into a private temporary one instead
        sys.modules.pop("cadence.policy._jit", None)
        import numba

        numba.config.CACHE_DIR = tempfile.mkdtemp(prefix="cadence-numba-")
        LOG.warning("numba cache not writable (%s); caching in %s", err, numba.config.CACHE_DIR)
        from cadence.policy import _jit
    return _jit


def reset_for_tests() -> None:
    """Forget the load decision (tests switch ``CADENCE_JIT``)."""
    _state.clear()


class MlpPlan(NamedTuple):
    """A dense-layer chain, and its two packed arrays for :func:`cadence.policy._jit.mlp`."""

    weights: np.ndarray  # float32: every W (n_in, n_out) row-major, then its bias
    layers: np.ndarray  # int64 (n_layers, 6): n_in, n_out, w offset, b offset or -1, op range
    ops: np.ndarray  # int64 (n_ops, 2): code, constant offset
    consts: np.ndarray  # float32: full-width constants of OP_MUL / OP_ADD
    out_tail: tuple[int, ...]  # output shape after the batch axis
    n_in: int
    n_out: int
    width: int  # widest hidden layer

    def packed(self) -> tuple[np.ndarray, np.ndarray]:
        """``(net_i, net_f)``: header + layers + ops; weights + constants + two scratch rows.

        Two arguments instead of five: each kernel argument costs a conversion on every call.
        The scratch rows are written by every call: one packing per thread.
        """
        half = max(self.width, 1)
        c_base = self.weights.size
        s_base = c_base + self.consts.size
        header = np.array([len(self.layers), len(self.ops), c_base, s_base, half], np.int64)
        net_i = np.concatenate([header, self.layers.ravel(), self.ops.ravel()]).astype(np.int64)
        net_f = np.concatenate([self.weights, self.consts, np.zeros(2 * half, np.float32)])
        return net_i, net_f.astype(np.float32)


def mlp_plan(graph: Any) -> MlpPlan | None:
    """Pack a :class:`cadence.policy.fastpath.NumpyGraph` that is a dense chain; None otherwise."""
    from cadence.policy import _jit
    from cadence.policy.fastpath import _ACTIVATIONS, _GemmStep

    steps = graph._steps
    if not steps or not all(isinstance(s, _GemmStep) for s in steps):
        return None
    if steps[0].src != graph._input or graph._output != steps[-1].out:
        return None
    if any(b.src != a.out for a, b in itertools.pairwise(steps)):
        return None
    codes = {
        id(_ACTIVATIONS["Relu"]): _jit.OP_RELU,
        id(_ACTIVATIONS["Tanh"]): _jit.OP_TANH,
        id(_ACTIVATIONS["Sigmoid"]): _jit.OP_SIGMOID,
        id(np.multiply): _jit.OP_MUL,
        id(np.add): _jit.OP_ADD,
    }
    chunks: list[np.ndarray] = []
    consts: list[np.ndarray] = []
    layers, ops = [], []
    offset = c_offset = 0
    n_in = int(steps[0].w.shape[0])
    for step in steps:
        w = np.ascontiguousarray(step.w, np.float32)
        if w.ndim != 2 or w.shape[0] != n_in:
            return None
        width = int(w.shape[1])
        chunks.append(w.ravel())
        w_off, offset = offset, offset + w.size
        b_off = -1
        if step.b is not None:
            chunks.append(np.ascontiguousarray(step.b, np.float32).ravel())
            b_off, offset = offset, offset + width
        first = len(ops)
        for fn, c in step.post:
            code = codes.get(id(fn))
            if code is None:
                return None
            if c is None:
                if code in (_jit.OP_MUL, _jit.OP_ADD):
                    return None
                ops.append((code, 0))
                continue
            full = np.broadcast_to(np.asarray(c, np.float32), (1, *step.tail)).ravel()
            if full.size != width:
                return None
            consts.append(np.ascontiguousarray(full))
            ops.append((code, c_offset))
            c_offset += width
        layers.append((n_in, width, w_off, b_off, first, len(ops)))
        n_in = width
    return MlpPlan(
        np.concatenate(chunks).astype(np.float32),
        np.array(layers, np.int64).reshape(-1, 6),
        np.array(ops, np.int64).reshape(-1, 2),
        np.concatenate(consts).astype(np.float32) if consts else np.zeros(1, np.float32),
        tuple(steps[-1].tail),
        int(steps[0].w.shape[0]),
        int(steps[-1].w.shape[1]),
        max([int(s.w.shape[1]) for s in steps[:-1]] or [1]),
    )


class MlpKernel:
    """``run(x: float32[B, n_in]) -> float32[B, *tail]`` through the compiled MLP (a fresh array)."""

    def __init__(self, module: ModuleType, plan: MlpPlan) -> None:
        self.plan = plan
        self._mlp = module.mlp
        self.net_i, self.net_f = plan.packed()  # net_f holds scratch rows: one kernel per thread
        self._shape1 = (1, *plan.out_tail)

    def run(self, x: np.ndarray) -> np.ndarray:
        if not x.flags.c_contiguous:
            x = np.ascontiguousarray(x)
        n = x.shape[0]
        out = np.empty((n, self.plan.n_out), np.float32)
        self._mlp(x, out, self.net_i, self.net_f)
        return out.reshape(self._shape1 if n == 1 else (n, *self.plan.out_tail))


def observation_probes(n_beams: int, count: int = 48, seed: int = 0) -> list[tuple[Any, ...]]:
    """Varied float inputs for :meth:`ObservationBuilder.build`: poses, targets on and near the
    robot, the layout's scan and 360-ray / partial-FOV scans (float32 and float64) with NaN, +-inf,
    signed zeros and out-of-range values, huge and non-finite velocities, budgets and commands."""
    from cadence.policy.observation import RobotState, Scan, Targets

    rng = np.random.default_rng(seed)
    special = (np.nan, np.inf, -np.inf, 0.0, -0.0, 1e300, -1e300)

    def scalar(lo: float, hi: float) -> float:
        return float(rng.choice(special)) if rng.random() < 0.1 else float(rng.uniform(lo, hi))

    cases = []
    for i in range(count):
        n, start, inc = [
            (n_beams, 0.0, 2 * np.pi / n_beams),
            (360, -np.pi, 2 * np.pi / 360),
            (int(rng.integers(1, 200)), float(rng.uniform(-4, 0)), float(rng.uniform(-0.03, 0.03))),
        ][i % 3]
        ranges = rng.uniform(-1.0, 12.0, n)
        for value in special:
            ranges[rng.random(n) < 0.03] = value
        with np.errstate(over="ignore"):
            ranges = ranges.astype(np.float32 if i % 2 else np.float64)
        x, y = (float(v) for v in rng.uniform(-8, 8, 2))
        pts = [(float(a), float(b)) for a, b in rng.uniform(-8, 8, (3, 2))]
        if i % 5 == 0:
            pts[i % 3] = (x, y)
        if i % 7 == 0:
            pts[0] = (x + float(rng.choice([1e-10, 2e-9])), y)
        cases.append(
            (
                RobotState(x, y, float(rng.uniform(-10, 10)), scalar(-1, 1.5), scalar(-3, 3)),
                Scan(ranges, start, inc, float(rng.choice([5.0, 3.7, 0.0, -1.0, np.inf, np.nan]))),
                Targets(*pts),
                scalar(-200, 200),
                (scalar(-1, 1.5), scalar(-3, 3)),
            )
        )
    return cases


def check_builder(builder: Any, count: int = 48) -> str | None:
    """Why ``builder.build`` (compiled) is not bit-identical to ``builder.build_python``; None if it is."""
    n = builder.obs_dim
    got, want = np.empty(n, np.float32), np.empty(n, np.float32)
    with np.errstate(all="ignore"):
        for i, case in enumerate(observation_probes(builder.layout.n_beams, count)):
            builder.build(*case, out=got)
            builder.build_python(*case, out=want)
            if not np.array_equal(got.view(np.uint32), want.view(np.uint32)):
                bad = np.flatnonzero(got.view(np.uint32) != want.view(np.uint32))
                return f"probe {i} differs from the Python builder at {bad.tolist()}"
    return None
