"""The compiled (numba) policy kernel equals ONNX Runtime, and every failure falls back to numpy."""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numba  # noqa: F401  (a pinned requirement: a missing numba fails here, it does not skip)
import numpy as np
import pytest
from tiny_actor import export_tiny_actor

from cadence.policy import kernels
from cadence.policy.errors import ModelRejected
from cadence.policy.fastpath import NumpyGraph
from cadence.policy.runtime import OnnxPolicy, load_policy

OBS_DIM, K = 10, 3


@pytest.fixture(scope="module")
def actor_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SRL actor architecture (Gemm/Relu trunk, Reshape, Gather, Tanh, Mul, Add)."""
    return export_tiny_actor(tmp_path_factory.mktemp("kernel") / "actor.onnx", OBS_DIM, K, hidden=48, seed=4)


@pytest.fixture
def fresh_kernels():  # type: ignore[no-untyped-def]
    kernels.reset_for_tests()
    yield
    kernels.reset_for_tests()


@pytest.mark.parametrize("batch", [1, 2, 65])
@pytest.mark.parametrize("scale", [0.1, 1.0, 30.0])
def test_numba_equals_onnxruntime(actor_path: Path, batch: int, scale: float) -> None:
    ort_policy = load_policy(actor_path, backend="onnxruntime")
    nb_policy = load_policy(actor_path, backend="numba")
    assert isinstance(nb_policy, OnnxPolicy) and nb_policy.backend == "numba"
    obs = np.random.default_rng(batch).standard_normal((batch, OBS_DIM)).astype(np.float32) * scale
    want = ort_policy.act(obs)  # type: ignore[attr-defined]
    got = nb_policy.act(obs)
    assert got.shape == want.shape == (batch, K, 2) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_shipped_policy_numba_equals_onnxruntime() -> None:
    from cadence.paths import models_dir

    path = models_dir() / "rover_srl.onnx"
    assert path.exists(), "models/rover_srl.onnx is shipped with the package"
    ort_policy, nb_policy = load_policy(path, backend="onnxruntime"), load_policy(path, backend="numba")
    obs = np.random.default_rng(0).standard_normal((256, nb_policy.obs_dim)).astype(np.float32)  # type: ignore[attr-defined]
    np.testing.assert_allclose(nb_policy.act(obs), ort_policy.act(obs), rtol=1e-5, atol=1e-6)
    plan = nb_policy.kernel.plan  # type: ignore[attr-defined]
    assert plan.layers.shape[0] == 3 and plan.out_tail == (8, 2)  # mean half selected: 16 outputs


def test_results_are_fresh_arrays(actor_path: Path) -> None:
    policy = load_policy(actor_path, backend="numba")
    a = np.ones((1, OBS_DIM), np.float32)
    first = policy.act(a)
    kept = first.copy()
    policy.act(-a)
    np.testing.assert_array_equal(first, kept)
    strided = np.ones((3, 2 * OBS_DIM), np.float32)[:, ::2]  # not contiguous: copied, same answer
    np.testing.assert_array_equal(policy.act(strided), policy.act(np.ascontiguousarray(strided)))


def test_nan_observation_gives_nan_actions(actor_path: Path) -> None:
    policy = load_policy(actor_path, backend="numba")
    obs = np.zeros((1, OBS_DIM), np.float32)
    obs[0, 3] = np.nan
    assert np.isnan(policy.act(obs)).any()


def test_auto_picks_a_verified_backend(actor_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.INFO, logger="cadence.policy.runtime"):
        policy = load_policy(actor_path)
    assert policy.backend in ("numba", "numpy", "onnxruntime")  # type: ignore[attr-defined]
    assert "numba" in caplog.text and "batch-1 median onnxruntime" in caplog.text


def test_a_disagreeing_kernel_is_not_used(actor_path: Path, monkeypatch: pytest.MonkeyPatch, caplog) -> None:  # type: ignore[no-untyped-def]
    real = kernels.MlpKernel.run

    def wrong(self, x):  # type: ignore[no-untyped-def]
        return real(self, x) + np.float32(1e-3)

    monkeypatch.setattr(kernels.MlpKernel, "run", wrong)
    with caplog.at_level(logging.WARNING, logger="cadence.policy.runtime"):
        policy = load_policy(actor_path)
    assert policy.backend != "numba" and policy.kernel is None  # type: ignore[attr-defined]
    assert "the numba executor disagrees with ONNX Runtime; not used" in caplog.text
    with pytest.raises(ModelRejected, match="numba executor disagrees"):
        load_policy(actor_path, backend="numba")


def test_fallback_when_disabled(
    actor_path: Path, monkeypatch: pytest.MonkeyPatch, caplog, fresh_kernels
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(kernels.ENV_SWITCH, "0")
    with caplog.at_level(logging.INFO):
        policy = load_policy(actor_path)
    assert policy.backend in ("numpy", "onnxruntime")  # type: ignore[attr-defined]
    assert "compiled decision kernels unavailable (CADENCE_JIT=0); using the numpy path" in caplog.text
    assert "numba kernel not used for actor.onnx: numba kernels unavailable" in caplog.text
    with pytest.raises(Exception, match="numba kernels unavailable"):
        load_policy(actor_path, backend="numba")


def test_fallback_without_numba(actor_path: Path) -> None:
    """numba not importable at all (a robot without it): numpy path, a log line, same decisions."""
    code = f"""
import json, logging, sys
sys.modules["numba"] = None  # import numba -> ImportError
logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
import numpy as np
from cadence.policy.decision import Decider
from cadence.policy.observation import ObservationBuilder
from cadence.policy.runtime import load_policy
policy = load_policy({str(actor_path)!r})
assert policy.backend in ("numpy", "onnxruntime"), policy.backend
builder = ObservationBuilder()
assert not builder.compiled
print(json.dumps(policy.act(np.ones((1, {OBS_DIM}), np.float32)).tolist()))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert out.returncode == 0, out.stderr
    assert "compiled decision kernels unavailable (ModuleNotFoundError" in out.stderr
    assert out.stderr.count("compiled decision kernels unavailable") == 1  # logged once, not per builder
    got = np.array(json.loads(out.stdout), np.float32)
    want = load_policy(actor_path, backend="onnxruntime").act(np.ones((1, OBS_DIM), np.float32))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_kernels_compile_into_a_given_cache_dir(tmp_path: Path) -> None:
    """Where the machine code goes: NUMBA_CACHE_DIR when set (what a read-only install without a
    writable home sets; otherwise numba's user cache); a second process loads it, compiling nothing."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    code = (
        "from cadence.policy import kernels\n"
        "jit = kernels.load()\n"
        "stats = [f.stats for f in (jit.build_obs, jit.build_checked, jit.mlp, jit.decide)]\n"
        "print(sum(len(s.cache_hits) for s in stats), sum(len(s.cache_misses) for s in stats))\n"
    )
    first = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600, check=True
    )
    assert list(tmp_path.rglob("*.nbi")), first.stderr
    hits, misses = (int(v) for v in first.stdout.split())
    assert hits == 0 and misses > 0
    second = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600, check=True
    )
    hits, misses = (int(v) for v in second.stdout.split())
    assert hits > 0 and misses == 0


@pytest.mark.slow
def test_no_writable_cache_compiles_into_a_temporary_one() -> None:
    """A read-only install and no writable home: numba finds no cache location; the loader compiles
    into a per-process temporary cache instead of failing (and says so)."""
    code = """
import logging
logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
import numba.core.caching as caching
for name in ("InTreeCacheLocator", "UserWideCacheLocator", "IPythonCacheLocator", "ZipCacheLocator"):
    setattr(getattr(caching, name), "from_function", classmethod(lambda cls, f, p: None))
import numba
assert not numba.config.CACHE_DIR
from cadence.policy import kernels
assert kernels.load() is not None
print(numba.config.CACHE_DIR)
"""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert out.returncode == 0, out.stderr
    assert "numba cache not writable" in out.stderr and "cadence-numba-" in out.stdout
    cache = Path(out.stdout.strip())
    try:
        assert list(cache.rglob("*.nbi"))
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def test_hypot_is_cpythons() -> None:
    from cadence.policy import _jit

    rng = np.random.default_rng(0)
    xs = np.concatenate([rng.standard_normal(20000) * 10, rng.standard_normal(2000) * 1e300,
                         rng.uniform(-1e-305, 1e-305, 2000), rng.standard_normal(2000) * 1e-160])  # fmt: skip
    ys = np.concatenate([rng.standard_normal(20000) * 10, rng.standard_normal(2000) * 1e-300,
                         rng.uniform(-1e-310, 1e-310, 2000), rng.standard_normal(2000)])  # fmt: skip
    special = [0.0, -0.0, math.inf, -math.inf, math.nan, 5e-324, 1e308, 1.7e308]
    pairs = list(zip(xs.tolist(), ys.tolist(), strict=True)) + [(a, b) for a in special for b in special]
    for a, b in pairs:
        want, got = math.hypot(a, b), _jit.hypot(a, b)
        assert (want == got and math.copysign(1, want) == math.copysign(1, got)) or (
            math.isnan(want) and math.isnan(got)
        ), (a, b, want, got)


def test_mlp_plan_refuses_graphs_it_cannot_run() -> None:
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((4, 3), np.float32), "w")
    nodes = [helper.make_node("MatMul", ["obs", "w"], ["h"]), helper.make_node("Exp", ["h"], ["out"])]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("obs", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["batch", 3])],
        [w],
    )
    compiled = NumpyGraph(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    assert kernels.mlp_plan(compiled) is None  # MatMul is not a Gemm step, Exp is not foldable
