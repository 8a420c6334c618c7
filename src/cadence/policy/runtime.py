"""The policy runtime: ``load_policy(path) -> OnnxPolicy`` (DEVELOPERS.md, "Policy interface").

A policy is anything with ``act(obs: float32[B, obs_dim]) -> float32[B, K, 2]`` in physical units
and a ``.manifest``. ONNX policies are loaded only after the checks of :mod:`cadence.policy.model`
(format, sha256, opset, external data, I/O, golden pair). This module imports onnxruntime, onnx and
numpy — never torch: the robot only needs those.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from cadence.policy.errors import ModelRejected, PolicyError
from cadence.policy.fastpath import NumpyGraph, Unsupported
from cadence.policy.manifest import Manifest
from cadence.policy.model import LoadedModel, golden_feeds, load_model
from cadence.policy.providers import CPU

LOG = logging.getLogger(__name__)


@runtime_checkable
class Policy(Protocol):
    """Anything that acts (DEVELOPERS.md): a batch of observations -> a batch of K-action sequences."""

    manifest: Manifest

    def act(self, obs: np.ndarray) -> np.ndarray:
        """``float32[B, obs_dim] -> float32[B, K, n_actions]`` in physical units."""
        ...


def check_policy_io(manifest: Manifest, name: str) -> None:
    """A policy has one input ``[batch, obs_dim]`` and one output ``[batch, K, n_actions]``, float32."""
    if manifest.kind != "policy" or manifest.action is None:
        raise ModelRejected(f"{name} is a {manifest.kind} model, not a policy")
    if len(manifest.inputs) != 1 or len(manifest.outputs) != 1:
        raise ModelRejected(f"{name}: a policy has exactly one input and one output")
    inp, out = manifest.inputs[0], manifest.outputs[0]
    if inp.dtype != "float32" or out.dtype != "float32":
        raise ModelRejected(f"{name}: policy input/output must be float32, got {inp.dtype}/{out.dtype}")
    if len(inp.shape) != 2 or not isinstance(inp.shape[1], int):
        raise ModelRejected(f"{name}: policy input shape must be [batch, obs_dim], got {list(inp.shape)}")
    want = [manifest.action.k, len(manifest.action.names)]
    if len(out.shape) != 3 or list(out.shape[1:]) != want:
        raise ModelRejected(
            f"{name}: policy output shape must be [batch, {want[0]}, {want[1]}], got {list(out.shape)}"
        )


BACKENDS = ("auto", "onnxruntime", "numpy", "numba")


class OnnxPolicy:
    """A verified ONNX policy on the best available execution provider.

    ``act`` is tuned for batch 1: on the CPU provider, batch-1 calls run through an io binding
    to preallocated buffers (so ``act`` is not reentrant: one instance per thread), the session
    runs with one intra-op thread (see :func:`cadence.policy.providers.session_options`), and a
    compiled numpy executor of the same graph (:mod:`cadence.policy.fastpath`) or, for a chain of
    dense layers, the numba kernel (:mod:`cadence.policy.kernels`) is used instead when it
    reproduces ONNX Runtime's outputs and is measured faster at load (``backend="auto"``).

    Args:
        loaded: The verified model.
        backend: ``"auto"``, ``"onnxruntime"``, ``"numpy"`` or ``"numba"`` (forced ones still verified).
    """

    def __init__(self, loaded: LoadedModel, backend: str = "auto") -> None:
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
        check_policy_io(loaded.manifest, loaded.path.name)
        self._loaded = loaded
        self.manifest = loaded.manifest
        self.provider = loaded.provider
        self.path = loaded.path
        self.obs_dim = loaded.manifest.obs_dim
        self.k = loaded.manifest.action.k  # type: ignore[union-attr]
        self._in = loaded.manifest.inputs[0].name
        self._out = [loaded.manifest.outputs[0].name]
        self.backend = "onnxruntime"
        self.kernel: Any = None  # the compiled MLP when backend == "numba" (cadence.policy.decision)
        self._io: Any = None
        if loaded.provider == CPU:
            self._bind_batch1()
        self._forward = self._ort_forward
        if backend != "onnxruntime" and loaded.provider == CPU:
            self._select_fast(backend)

    def _bind_batch1(self) -> None:
        """Bind preallocated batch-1 input/output buffers once (io binding: no per-call OrtValues)."""
        session = self._loaded.session
        shape = self.manifest.outputs[0].shape
        self._x1 = np.zeros((1, self.obs_dim), np.float32)
        self._y1 = np.zeros((1, *shape[1:]), np.float32)
        self._io = session.io_binding()
        self._io.bind_input(self._in, "cpu", 0, np.float32, list(self._x1.shape), self._x1.ctypes.data)
        self._io.bind_output(self._out[0], "cpu", 0, np.float32, list(self._y1.shape), self._y1.ctypes.data)
        self._run_bound = session.run_with_iobinding

    def _ort_forward(self, obs: np.ndarray) -> np.ndarray:
        if obs.shape[0] == 1 and self._io is not None:
            self._x1[:] = obs
            self._run_bound(self._io)
            return self._y1.copy()
        return self._loaded.session.run(self._out, {self._in: obs})[0]

    def _select_fast(self, backend: str) -> None:
        """Verify the numpy executor and the numba kernel against ONNX Runtime; keep the fastest."""
        try:
            graph = NumpyGraph(self._loaded.proto)
        except Unsupported as err:
            if backend != "auto":
                raise
            LOG.info("numpy fast path not used for %s: %s", self.path.name, err)
            return
        rng = np.random.default_rng(0)
        probes = [golden_feeds(self.manifest)[self._in]]
        probes += [rng.standard_normal((b, self.obs_dim)).astype(np.float32) for b in (1, 1, 3, 64)]
        candidates: dict[str, Any] = {}
        if backend in ("auto", "numpy"):
            candidates["numpy"] = graph.run
        if backend in ("auto", "numba"):
            kernel = self._numba_kernel(graph, forced=backend == "numba")
            if kernel is not None:
                candidates["numba"] = kernel.run
        for name, run in list(candidates.items()):
            if not self._agrees(run, probes):
                message = f"{self.path.name}: the {name} executor disagrees with ONNX Runtime"
                if backend != "auto":
                    raise ModelRejected(message)
                LOG.warning("%s; not used", message)
                del candidates[name]
        if not candidates:
            return
        times = {"onnxruntime": _median_us(self._ort_forward, probes[1])}
        times.update({name: _median_us(run, probes[1]) for name, run in candidates.items()})
        best = backend if backend != "auto" else min(times, key=times.__getitem__)
        if best != "onnxruntime":
            self.backend, self._forward = best, candidates[best]
            if best == "numba":
                self.kernel = candidates[best].__self__
        LOG.info(
            "%s: batch-1 median %s -> %s",
            self.path.name,
            ", ".join(f"{name} {t:.1f} us" for name, t in times.items()),
            self.backend,
        )

    def _numba_kernel(self, graph: NumpyGraph, forced: bool) -> Any:
        """The compiled MLP for this graph, or None (logged; raised when forced) when not possible."""
        from cadence.policy import kernels

        module = kernels.load()
        plan = kernels.mlp_plan(graph) if module is not None else None
        if plan is None:
            why = "numba kernels unavailable" if module is None else "the graph is not a dense-layer chain"
            if forced:
                raise Unsupported(f"{self.path.name}: {why}")
            LOG.info("numba kernel not used for %s: %s", self.path.name, why)
            return None
        return kernels.MlpKernel(module, plan)

    def _agrees(self, run: Any, probes: list[np.ndarray]) -> bool:
        """Same shape, dtype and values (within float32 rounding) as ONNX Runtime on every probe."""
        for obs in probes:
            want, got = self._ort_forward(obs), run(obs)
            if (
                got.shape != want.shape
                or got.dtype != want.dtype
                or not np.allclose(got, want, rtol=1e-5, atol=1e-6)
            ):
                return False
        return True

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Run the policy.

        Args:
            obs: ``float32[B, obs_dim]`` (other float dtypes are converted; a 1-D vector is
                treated as batch 1).

        Returns:
            ``float32[B, K, n_actions]`` in physical units.

        Raises:
            PolicyError: the observation has the wrong width or rank.
        """
        if obs.__class__ is not np.ndarray or obs.dtype != np.float32:
            obs = np.asarray(obs, dtype=np.float32)
        if obs.ndim == 1:
            obs = obs[None, :]
        if obs.ndim != 2 or obs.shape[1] != self.obs_dim:
            raise PolicyError(f"observation must be [B, {self.obs_dim}], got {list(obs.shape)}")
        return self._forward(obs)

    def __repr__(self) -> str:
        return (
            f"OnnxPolicy({self.path.name}, provider={self.provider}, backend={self.backend}, "
            f"obs_dim={self.obs_dim}, k={self.k})"
        )


def _median_us(fn: Any, obs: np.ndarray, n: int = 300) -> float:
    for _ in range(20):
        fn(obs)
    times = []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        fn(obs)
        times.append(time.perf_counter_ns() - t0)
    return float(np.median(times)) / 1e3


def load_policy(
    path: str | Path, providers: Sequence[str] | None = None, backend: str = "auto", **kwargs: Any
) -> Policy:
    """Load a policy by path or registered name.

    Args:
        path: ``models/NAME.onnx`` / ``models/NAME.json``, or ``"backup"`` for the analytic
            go-to-waypoint controller (:class:`cadence.policy.backup.BackupPolicy`).
        providers: Execution providers in order of preference (``"tensorrt"``, ``"cuda"``, ``"cpu"``
            or full onnxruntime names); default TensorRT, CUDA, CPU — whichever is available.
        backend: ``"auto"`` (numpy fast path on CPU when verified equal and faster), ``"onnxruntime"``
            or ``"numpy"``.
        **kwargs: Passed to the registered builtin (e.g. ``layout=`` for ``"backup"``).

    Raises:
        ModelRejected, ManifestError, ProviderError: see :func:`cadence.policy.model.load_model`.
    """
    if str(path) in BUILTIN_POLICIES:
        return BUILTIN_POLICIES[str(path)](**kwargs)
    if kwargs:
        raise TypeError(f"unexpected arguments for an ONNX policy: {sorted(kwargs)}")
    policy = OnnxPolicy(load_model(path, providers), backend=backend)
    LOG.info("loaded %r", policy)
    return policy


def _backup(**kwargs: Any) -> Policy:
    from cadence.policy.backup import BackupPolicy

    return BackupPolicy(**kwargs)


BUILTIN_POLICIES = {"backup": _backup}
