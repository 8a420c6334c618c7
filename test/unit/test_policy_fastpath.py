"""The numpy executor of small ONNX graphs equals ONNX Runtime; batch-1 buffers never leak."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from tiny_actor import export_tiny_actor

from cadence.policy.fastpath import NumpyGraph, Unsupported
from cadence.policy.runtime import OnnxPolicy, load_policy

OBS_DIM, K = 10, 3


@pytest.fixture(scope="module")
def actor_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SRL actor architecture (Gemm/Relu trunk, Reshape, Gather, Tanh, Mul, Add)."""
    return export_tiny_actor(tmp_path_factory.mktemp("fast") / "actor.onnx", OBS_DIM, K, hidden=32, seed=3)


@pytest.mark.parametrize("batch", [1, 2, 33])
def test_numpy_equals_onnxruntime(actor_path: Path, batch: int) -> None:
    ort_policy = load_policy(actor_path, backend="onnxruntime")
    np_policy = load_policy(actor_path, backend="numpy")
    assert isinstance(np_policy, OnnxPolicy) and np_policy.backend == "numpy"
    assert isinstance(ort_policy, OnnxPolicy) and ort_policy.backend == "onnxruntime"
    obs = np.random.default_rng(batch).standard_normal((batch, OBS_DIM)).astype(np.float32) * 3
    want = ort_policy.act(obs)
    got = np_policy.act(obs)
    assert got.shape == want.shape == (batch, K, 2) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("backend", ["onnxruntime", "numpy", "auto"])
def test_batch1_results_are_not_overwritten_by_the_next_call(actor_path: Path, backend: str) -> None:
    policy = load_policy(actor_path, backend=backend)
    a = np.ones((1, OBS_DIM), np.float32)
    first = policy.act(a)
    kept = first.copy()
    policy.act(-a)
    np.testing.assert_array_equal(first, kept)


def test_unknown_backend(actor_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown backend 'gpu'"):
        load_policy(actor_path, backend="gpu")


def test_unsupported_operator_is_refused_at_compile_time() -> None:
    x = helper.make_tensor_value_info("obs", TensorProto.FLOAT, ["batch", 4])
    y = helper.make_tensor_value_info("actions", TensorProto.FLOAT, ["batch", 4])
    graph = helper.make_graph([helper.make_node("Softplus", ["obs"], ["actions"])], "g", [x], [y])
    with pytest.raises(Unsupported, match="Softplus"):
        NumpyGraph(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))


def test_matmul_add_graph(tmp_path: Path) -> None:
    """A hand-built MatMul + Add + Sigmoid graph, as other exporters emit it."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 3)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    nodes = [
        helper.make_node("MatMul", ["obs", "w"], ["h"]),
        helper.make_node("Add", ["h", "b"], ["z"]),
        helper.make_node("Sigmoid", ["z"], ["out"]),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("obs", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["batch", 3])],
        [onnx.numpy_helper.from_array(w, "w"), onnx.numpy_helper.from_array(b, "b")],
    )
    x = rng.standard_normal((5, 4)).astype(np.float32)
    got = NumpyGraph(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])).run(x)
    np.testing.assert_allclose(got, 1 / (1 + np.exp(-(x @ w + b))), rtol=1e-5)


def test_fused_gemm_chain_equals_onnxruntime() -> None:
    """Gemm -> Sigmoid -> Add(const) -> Reshape -> Gather(axis 2) -> Mul(const): all folded into one step."""
    import onnxruntime as ort

    rng = np.random.default_rng(1)
    w = rng.standard_normal((12, 5)).astype(np.float32)  # transB layout: [out, in]
    b = rng.standard_normal(12).astype(np.float32)
    init = [
        onnx.numpy_helper.from_array(w, "w"),
        onnx.numpy_helper.from_array(b, "b"),
        onnx.numpy_helper.from_array(rng.standard_normal(12).astype(np.float32), "c"),
        onnx.numpy_helper.from_array(np.array([-1, 3, 2, 2], np.int64), "shape"),
        onnx.numpy_helper.from_array(np.array(1, np.int64), "idx"),
        onnx.numpy_helper.from_array(np.array([2.0, -1.0], np.float32), "scale"),
    ]
    nodes = [
        helper.make_node("Gemm", ["obs", "w", "b"], ["g"], transB=1),
        helper.make_node("Sigmoid", ["g"], ["s"]),
        helper.make_node("Add", ["s", "c"], ["a"]),
        helper.make_node("Reshape", ["a", "shape"], ["r"]),
        helper.make_node("Gather", ["r", "idx"], ["q"], axis=2),
        helper.make_node("Mul", ["q", "scale"], ["out"]),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("obs", TensorProto.FLOAT, ["batch", 5])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["batch", 3, 2])],
        init,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    compiled = NumpyGraph(model)
    for batch in (1, 4):
        x = rng.standard_normal((batch, 5)).astype(np.float32)
        want = session.run(None, {"obs": x})[0]
        np.testing.assert_allclose(compiled.run(x), want, rtol=1e-5, atol=1e-6)
