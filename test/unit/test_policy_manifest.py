"""Manifest: JSON round trip and strict parsing (unknown keys / wrong types named)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from cadence.policy.errors import ManifestError
from cadence.policy.manifest import Manifest, load_manifest

BASE: dict[str, Any] = {
    "format_version": 1,
    "kind": "policy",
    "name": "m",
    "onnx": {"file": "m.onnx", "sha256": "ab" * 32, "opset": 17},
    "inputs": [{"name": "obs", "shape": ["batch", 3], "dtype": "float32"}],
    "outputs": [{"name": "actions", "shape": ["batch", 2, 2], "dtype": "float32"}],
    "observation": {"obs_dim": 3, "fields": [{"name": "a", "start": 0, "size": 3}]},
    "action": {"names": ["v", "omega"], "low": [-0.5, -2.0], "high": [1.0, 2.0], "k": 2, "control_dt": 0.05},
    "golden": {
        "inputs": {"obs": [[0.0, 1.0, 2.0]]},
        "outputs": {"actions": [[[0.1, 0.2], [0.3, 0.4]]]},
        "rtol": 1e-4,
        "atol": 1e-5,
    },
    "metrics": {"success_rate": 0.95},
    "lineage": {"command": "cadence train --algo srl", "seed": 0},
}


def test_round_trip(tmp_path: Path) -> None:
    manifest = Manifest.from_dict(copy.deepcopy(BASE))
    assert manifest.obs_dim == 3 and manifest.action is not None and manifest.action.k == 2
    assert manifest.to_dict() == BASE
    path = manifest.write(tmp_path / "m.json")
    assert load_manifest(path) == manifest
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]  # no temporary file left behind
    assert manifest.onnx_path(path) == tmp_path / "m.onnx"


def _broken(edit) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    data = copy.deepcopy(BASE)
    edit(data)
    return data


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda d: d.update(extra=1), r"unknown key\(s\) 'extra'"),
        (lambda d: d.pop("golden"), "missing 'golden'"),
        (lambda d: d.update(format_version=2), "format_version 2 is not supported"),
        (lambda d: d["onnx"].update(sha256="xyz"), "onnx.sha256"),
        (lambda d: d["onnx"].update(file="../evil.onnx"), "bare file name"),
        (lambda d: d["onnx"].update(opset="17"), "onnx.opset must be an integer"),
        (lambda d: d["inputs"][0].update(shape=["batch", 0]), r"inputs\[0\].shape\[1\] must be >= 1"),
        (lambda d: d["inputs"][0].update(dtype="float16"), r"inputs\[0\].dtype must be one of"),
        (lambda d: d["action"].update(k=True), "action.k must be an integer"),
        (lambda d: d["action"].update(control_dt=-0.1), "action.control_dt must be > 0"),
        (lambda d: d["action"].update(low=[2.0, -2.0]), "exceeds action.high"),
        (lambda d: d["action"].update(names=["v"]), "same non-zero length"),
        (lambda d: d.pop("action"), "needs an 'action' section"),
        (lambda d: d.update(kind="planner"), "kind must be one of"),
        (lambda d: d["golden"]["inputs"].update(other=[1]), r"golden.inputs has unknown key\(s\) 'other'"),
        (lambda d: d.update(metrics=[1]), "metrics must be an object"),
    ],
)
def test_strict_parse_names_the_problem(edit, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ManifestError, match=match):
        Manifest.from_dict(_broken(edit))


def test_load_refuses_non_json_and_nan(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text("{not json")
    with pytest.raises(ManifestError, match="not valid JSON"):
        load_manifest(path)
    path.write_text(json.dumps(BASE).replace("0.95", "NaN"))
    with pytest.raises(ManifestError, match="non-finite"):
        load_manifest(path)
    with pytest.raises(ManifestError, match="cannot read manifest"):
        load_manifest(tmp_path / "absent.json")


def test_builtin_manifest_has_no_file() -> None:
    data = _broken(lambda d: d.update(onnx=None))
    manifest = Manifest.from_dict(data)
    with pytest.raises(ManifestError, match="builtin policy"):
        manifest.onnx_path("x.json")
