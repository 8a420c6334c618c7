"""Export -> load -> act round trip, and every way a model file is refused (issue 4, "Runtime")."""

from __future__ import annotations

import json
import logging
import pickle
import zipfile
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper

from cadence.learn.export import export_policy
from cadence.policy.errors import GoldenMismatch, ManifestError, ModelRejected, PolicyError, ProviderError
from cadence.policy.manifest import load_manifest, sha256_file
from cadence.policy.runtime import OnnxPolicy, load_policy

OBS_DIM, K = 12, 4
LOW, HIGH = (-0.5, -2.0), (1.0, 2.0)


class TinyActor(torch.nn.Module):
    """Same shape contract as the SRL actor: obs -> tanh-squashed [B, K, 2] in physical units."""

    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(OBS_DIM, 16), torch.nn.ReLU(), torch.nn.Linear(16, K * 2)
        )
        self.register_buffer("scale", (torch.tensor(HIGH) - torch.tensor(LOW)) / 2)
        self.register_buffer("bias", (torch.tensor(HIGH) + torch.tensor(LOW)) / 2)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.net(obs).view(-1, K, 2)) * self.scale + self.bias


def _export(path: Path, **kwargs: object) -> tuple[TinyActor, Path]:
    torch.manual_seed(0)
    actor = TinyActor()
    export_policy(
        actor,
        {"obs_dim": OBS_DIM, "fields": [{"name": "x", "start": 0, "size": OBS_DIM}]},
        K,
        path,
        action_names=("v", "omega"),
        action_low=LOW,
        action_high=HIGH,
        control_dt=0.05,
        **kwargs,
    )
    return actor, path


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[TinyActor, Path]:
    return _export(tmp_path_factory.mktemp("model") / "tiny.onnx", metrics={"success": 1.0})


def _copy(exported_path: Path, dst: Path) -> Path:
    for suffix in (".onnx", ".json"):
        dst.joinpath("m" + suffix).write_bytes(exported_path.with_suffix(suffix).read_bytes())
    manifest = json.loads(dst.joinpath("m.json").read_text())
    manifest["onnx"]["file"] = "m.onnx"
    dst.joinpath("m.json").write_text(json.dumps(manifest))
    return dst / "m.onnx"


def _edit_manifest(path: Path, edit) -> None:  # type: ignore[no-untyped-def]
    manifest_path = path.with_suffix(".json")
    data = json.loads(manifest_path.read_text())
    edit(data)
    manifest_path.write_text(json.dumps(data))


def test_export_load_act_equals_torch(exported: tuple[TinyActor, Path]) -> None:
    actor, path = exported
    policy = load_policy(path)
    assert isinstance(policy, OnnxPolicy)
    obs = np.random.default_rng(1).standard_normal((5, OBS_DIM)).astype(np.float32)
    with torch.inference_mode():
        want = actor(torch.from_numpy(obs)).numpy()
    got = policy.act(obs)
    assert got.shape == (5, K, 2) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(policy.act(obs[0]), want[:1], rtol=1e-5, atol=1e-6)  # 1-D = batch 1
    assert policy.manifest.metrics == {"success": 1.0}
    assert policy.manifest.action is not None and policy.manifest.action.k == K


def test_manifest_records_what_the_file_is(exported: tuple[TinyActor, Path]) -> None:
    _, path = exported
    manifest = load_manifest(path.with_suffix(".json"))
    assert manifest.onnx is not None and manifest.onnx.sha256 == sha256_file(path)
    assert [t.name for t in manifest.inputs] == ["obs"] and manifest.inputs[0].shape == ("batch", OBS_DIM)
    assert manifest.outputs[0].shape == ("batch", K, 2)
    model = onnx.load(str(path))
    assert not any(t.data_location == TensorProto.EXTERNAL for t in model.graph.initializer)
    assert (
        list(path.parent.iterdir()) == sorted(path.parent.iterdir()) and len(list(path.parent.iterdir())) == 2
    )


def test_load_by_manifest_path(exported: tuple[TinyActor, Path]) -> None:
    assert load_policy(exported[1].with_suffix(".json")).obs_dim == OBS_DIM


def test_act_refuses_wrong_width(exported: tuple[TinyActor, Path]) -> None:
    with pytest.raises(PolicyError, match=rf"\[B, {OBS_DIM}\]"):
        load_policy(exported[1]).act(np.zeros((1, OBS_DIM + 1), np.float32))


def test_tampered_file_refused_by_sha256(exported: tuple[TinyActor, Path], tmp_path: Path) -> None:
    path = _copy(exported[1], tmp_path)
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelRejected, match="sha256"):
        load_policy(path)


def test_truncated_file_refused(exported: tuple[TinyActor, Path], tmp_path: Path) -> None:
    path = _copy(exported[1], tmp_path)
    path.write_bytes(path.read_bytes()[:300])
    sha = sha256_file(path)  # even with a matching sha256 the truncated protobuf is refused
    _edit_manifest(path, lambda d: d["onnx"].update(sha256=sha))
    with pytest.raises(ModelRejected, match=r"truncated|not a valid ONNX"):
        load_policy(path)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda d: _rename_input(d, "observation"), "input names"),
        (lambda d: d["inputs"][0].update(dtype="float64"), "dtype float32, manifest says float64"),
        (
            lambda d: d["outputs"][0].update(shape=["batch", K + 1, 2]),
            r"shape \[.batch., 4, 2\], manifest says",
        ),
        (lambda d: d["onnx"].update(opset=13), "opset 17, manifest says 13"),
        (lambda d: d["golden"]["outputs"]["actions"][0][0].__setitem__(0, 0.9), "golden output"),
    ],
    ids=["input-name", "wrong-dtype", "output-shape", "opset", "golden"],
)
def test_manifest_mismatch_refused(exported, tmp_path: Path, edit, match: str) -> None:  # type: ignore[no-untyped-def]
    path = _copy(exported[1], tmp_path)
    _edit_manifest(path, edit)
    with pytest.raises(ModelRejected, match=match):
        load_policy(path)


def _rename_input(data: dict, name: str) -> None:  # type: ignore[type-arg]
    data["golden"]["inputs"][name] = data["golden"]["inputs"].pop(data["inputs"][0]["name"])
    data["inputs"][0]["name"] = name


def test_golden_mismatch_is_its_own_error(exported: tuple[TinyActor, Path], tmp_path: Path) -> None:
    path = _copy(exported[1], tmp_path)
    _edit_manifest(path, lambda d: d["golden"]["outputs"]["actions"][1][2].__setitem__(1, 1.5))
    with pytest.raises(GoldenMismatch, match="differs from the recorded one"):
        load_policy(path)


def test_missing_manifest_and_unknown_key(exported: tuple[TinyActor, Path], tmp_path: Path) -> None:
    path = _copy(exported[1], tmp_path)
    _edit_manifest(path, lambda d: d.update(extra=1))
    with pytest.raises(ManifestError, match=r"unknown key.*'extra'"):
        load_policy(path)
    path.with_suffix(".json").unlink()
    with pytest.raises(ManifestError, match="no manifest"):
        load_policy(path)


def test_wrong_dtype_model_refused(tmp_path: Path) -> None:
    """A graph whose input really is float64 does not pass as a float32 policy."""
    x = helper.make_tensor_value_info("obs", TensorProto.DOUBLE, ["batch", 2])
    y = helper.make_tensor_value_info("actions", TensorProto.DOUBLE, ["batch", 1, 2])
    shape = helper.make_tensor("shape", TensorProto.INT64, [3], [-1, 1, 2])
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["obs", "shape"], ["actions"])], "g", [x], [y], [shape]
    )
    path = tmp_path / "d.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    manifest = _manifest_for(path, dtype="float32", golden_in=[[0.1, 0.2]], golden_out=[[[0.1, 0.2]]])
    path.with_suffix(".json").write_text(json.dumps(manifest))
    with pytest.raises(ModelRejected, match="dtype float64, manifest says float32"):
        load_policy(path)


def _manifest_for(path: Path, dtype: str, golden_in: list, golden_out: list) -> dict:  # type: ignore[type-arg]
    return {
        "format_version": 1,
        "name": path.stem,
        "onnx": {"file": path.name, "sha256": sha256_file(path), "opset": 17},
        "inputs": [{"name": "obs", "shape": ["batch", 2], "dtype": dtype}],
        "outputs": [{"name": "actions", "shape": ["batch", 1, 2], "dtype": dtype}],
        "observation": {"obs_dim": 2},
        "action": {"names": ["v", "omega"], "low": [-1, -1], "high": [1, 1], "k": 1, "control_dt": 0.05},
        "golden": {"inputs": {"obs": golden_in}, "outputs": {"actions": golden_out}},
    }


def test_external_data_refused(exported: tuple[TinyActor, Path], tmp_path: Path) -> None:
    model = onnx.load(str(exported[1]))
    path = tmp_path / "ext.onnx"
    onnx.save(
        model,
        str(path),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="ext.weights",
        size_threshold=0,
    )
    assert (tmp_path / "ext.weights").exists()
    manifest = json.loads(exported[1].with_suffix(".json").read_text())
    manifest["onnx"].update(file="ext.onnx", sha256=sha256_file(path))
    path.with_suffix(".json").write_text(json.dumps(manifest))
    with pytest.raises(ModelRejected, match=r"external data.*not self-contained"):
        load_policy(path)


@pytest.mark.parametrize("suffix", [".pkl", ".pt", ".pth", ".zip"])
def test_unsafe_suffix_refused(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"policy{suffix}"
    if suffix == ".pkl":
        path.write_bytes(pickle.dumps({"w": [1.0]}))
    else:
        torch.save({"w": torch.zeros(2)}, path)
    with pytest.raises(ModelRejected, match="execute arbitrary code"):
        load_policy(path)


def test_pickle_and_zip_bytes_refused_whatever_the_suffix(tmp_path: Path) -> None:
    disguised = tmp_path / "p.onnx"
    disguised.write_bytes(pickle.dumps([1, 2, 3], protocol=4))
    with pytest.raises(ModelRejected, match="Python pickle"):
        load_policy(disguised)
    with zipfile.ZipFile(disguised, "w") as zf:
        zf.writestr("data.pkl", pickle.dumps(1))
    with pytest.raises(ModelRejected, match="zip archive"):
        load_policy(disguised)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelRejected, match="cannot read model"):
        load_policy(tmp_path / "nope.onnx")


def test_provider_fallback_logs_and_runs_on_cpu(exported, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.WARNING, logger="cadence.policy.providers"):
        policy = load_policy(exported[1], providers=["tensorrt", "cuda"])
    assert policy.provider == "CPUExecutionProvider"
    assert "not available" in caplog.text and "fallback" in caplog.text
    np.testing.assert_allclose(policy.act(np.zeros((1, OBS_DIM), np.float32)).shape, (1, K, 2))


def test_provider_that_fails_to_create_a_session_falls_back(exported, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    """As on a robot whose onnxruntime-gpu lists CUDA but cannot load libcudart."""
    import onnxruntime as ort

    real = ort.InferenceSession

    def session(model, sess_options=None, providers=None):  # type: ignore[no-untyped-def]
        if providers and providers[0] == "CUDAExecutionProvider":
            raise RuntimeError("libcudart.so.12: cannot open shared object file")
        return real(model, sess_options=sess_options, providers=providers)

    monkeypatch.setattr(
        ort, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"]
    )
    monkeypatch.setattr(ort, "InferenceSession", session)
    with caplog.at_level(logging.WARNING, logger="cadence.policy.providers"):
        policy = load_policy(exported[1], providers=["cuda"])
    assert policy.provider == "CPUExecutionProvider"
    assert "CUDAExecutionProvider failed to create a session (libcudart" in caplog.text


def test_unknown_provider_name() -> None:
    from cadence.policy.providers import choose

    with pytest.raises(ValueError, match=r"unknown execution provider 'gpu'.*cuda"):
        choose(["gpu"])


def test_no_provider_can_load_an_invalid_graph() -> None:
    from cadence.policy.providers import create_session

    with pytest.raises(ProviderError, match="no execution provider"):
        create_session(b"\x08\x07garbage")


def test_runtime_does_not_import_torch(exported: tuple[TinyActor, Path]) -> None:
    """The robot runtime needs onnxruntime + onnx + numpy only (issue 4)."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from cadence.policy.runtime import load_policy\n"
        "import cadence.policy.safety, cadence.policy.playback, cadence.policy.backup\n"
        f"p = load_policy({str(exported[1])!r}); p.act(np.zeros((1, {OBS_DIM}), np.float32))\n"
        "load_policy('backup')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'stable_baselines3', 'mujoco')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def _shipped() -> list[Path]:
    from cadence.paths import models_dir

    return sorted(models_dir().glob("*.onnx"))


@pytest.mark.parametrize("path", _shipped(), ids=lambda p: p.name)
def test_shipped_models_pass_every_check(path: Path) -> None:
    """Every model in models/ has a manifest and passes sha256, structure, I/O and golden checks."""
    from cadence.policy.model import load_model

    loaded = load_model(path)
    if loaded.manifest.kind == "policy":
        policy = load_policy(path)
        assert policy.act(np.zeros((2, policy.obs_dim), np.float32)).shape[:2] == (2, policy.k)
