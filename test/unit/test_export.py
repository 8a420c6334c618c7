"""export_policy: single-file ONNX + manifest, atomic, and clear errors on bad modules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from cadence.learn.export import export_policy
from cadence.policy.errors import ExportError
from cadence.policy.manifest import load_manifest, sha256_file
from cadence.policy.observation import DEFAULT_LAYOUT
from cadence.policy.runtime import load_policy
from cadence.sim import robot


class Repeat(torch.nn.Module):
    """Emits the same (v, omega) K times: a minimal valid policy for the real observation layout."""

    def __init__(self, k: int, fill: float = 0.1) -> None:
        super().__init__()
        self.k = k
        self.lin = torch.nn.Linear(DEFAULT_LAYOUT.obs_dim, 2)
        torch.nn.init.constant_(self.lin.weight, fill)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.lin(obs)).unsqueeze(1).expand(-1, self.k, 2)


def test_defaults_come_from_the_layout_and_robot(tmp_path: Path) -> None:
    manifest = export_policy(
        Repeat(robot.DEFAULT_K),
        DEFAULT_LAYOUT,
        robot.DEFAULT_K,
        tmp_path / "r.onnx",
        metrics={"success_rate": 1.0},
        lineage={"seed": 3},
    )
    assert manifest.observation == DEFAULT_LAYOUT.to_dict()
    assert manifest.action is not None
    assert manifest.action.low == robot.ACTION_LOW and manifest.action.high == robot.ACTION_HIGH
    assert manifest.action.control_dt == robot.CONTROL_DT and manifest.action.names == robot.ACTION_NAMES
    assert load_manifest(tmp_path / "r.json") == manifest
    assert manifest.onnx is not None and manifest.onnx.sha256 == sha256_file(tmp_path / "r.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "r.onnx"]
    assert {(tmp_path / n).stat().st_mode & 0o777 for n in ("r.json", "r.onnx")} == {0o644}
    policy = load_policy(tmp_path / "r.onnx")
    assert policy.act(np.zeros((2, DEFAULT_LAYOUT.obs_dim), np.float32)).shape == (2, robot.DEFAULT_K, 2)


def test_module_mode_is_restored(tmp_path: Path) -> None:
    module = Repeat(2).train()
    export_policy(module, DEFAULT_LAYOUT, 2, tmp_path / "r.onnx")
    assert module.training


def test_wrong_output_shape(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"output shape \(4, 3, 2\) != \[B, k, n_actions\] = \(4, 5, 2\)"):
        export_policy(Repeat(3), DEFAULT_LAYOUT, 5, tmp_path / "r.onnx")
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_non_finite_output(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="NaN/Inf"):
        export_policy(Repeat(2, fill=float("nan")), DEFAULT_LAYOUT, 2, tmp_path / "r.onnx")


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"must end in \.onnx"):
        export_policy(Repeat(2), DEFAULT_LAYOUT, 2, tmp_path / "r.pt")
    with pytest.raises(ExportError, match="layout must be"):
        export_policy(Repeat(2), 42, 2, tmp_path / "r.onnx")
    with pytest.raises(ExportError, match="golden_obs must be"):
        export_policy(Repeat(2), DEFAULT_LAYOUT, 2, tmp_path / "r.onnx", golden_obs=np.zeros((1, 3)))


def test_overwrite_replaces_both_files(tmp_path: Path) -> None:
    first = export_policy(Repeat(2, 0.1), DEFAULT_LAYOUT, 2, tmp_path / "r.onnx")
    second = export_policy(Repeat(2, 0.3), DEFAULT_LAYOUT, 2, tmp_path / "r.onnx")
    assert first.onnx != second.onnx
    assert load_policy(tmp_path / "r.onnx").manifest == second
