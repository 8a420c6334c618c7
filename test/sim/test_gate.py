"""The validation gate: a good controller passes, broken ONNX policies and mismatched manifests fail."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from cadence.cli import main
from cadence.learn.export import export_policy
from cadence.policy.observation import DEFAULT_LAYOUT, ObservationLayout
from cadence.policy.runtime import load_policy
from cadence.sim.gate import run_gate
from cadence.sim.suites import load_suite

K = 4
LIDAR0 = DEFAULT_LAYOUT.slices["lidar"].start


class NaNInSim(torch.nn.Module):
    """Finite on the golden input (lidar column 3.0) but NaN on every real observation (lidar <= 1)."""

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        bad = torch.sqrt(obs[:, LIDAR0 : LIDAR0 + 1] - 2.0)  # NaN when the reading is below 2
        return torch.zeros(obs.shape[0], K, 2) + bad.unsqueeze(-1) * 0.0


class TooFast(torch.nn.Module):
    """Always asks for 2 m/s: twice the rover's limit."""

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(obs.shape[0], K, 2) + obs[:, :1].unsqueeze(-1) * 0.0
        out[..., 0] = 2.0
        return out


def _export(module: torch.nn.Module, path: Path, layout: ObservationLayout = DEFAULT_LAYOUT) -> Path:
    golden = np.full((2, layout.obs_dim), 3.0, np.float32)
    export_policy(module, layout, K, path, golden_obs=golden)
    return path


@pytest.fixture(scope="module")
def smoke():  # type: ignore[no-untyped-def]
    return load_suite("smoke")


@pytest.mark.slow
def test_good_controller_passes_a_small_suite(smoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    report = run_gate(load_policy("backup"), smoke, episodes=4, out_dir=tmp_path, name="backup")
    assert report.passed, report.failures
    assert report.metrics["success_rate"] == 1.0 and report.metrics["nan_actions"] == 0
    assert Path(report.picture).stat().st_size > 10_000
    assert len(report.episodes) == 4 and all(ep.path.shape[1] == 2 for ep in report.episodes)


def test_nan_policy_fails_closed(smoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    policy = load_policy(_export(NaNInSim(), tmp_path / "nan.onnx"))
    report = run_gate(policy, smoke, episodes=2)
    assert not report.passed
    assert report.metrics["nan_actions"] > 0
    assert any("NaN actions" in f for f in report.failures)


def test_out_of_range_policy_fails(smoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    policy = load_policy(_export(TooFast(), tmp_path / "fast.onnx"))
    report = run_gate(policy, smoke, episodes=2)
    assert not report.passed
    assert report.metrics["raw_out_of_bounds_rate"] > 0.5
    assert any(c.name == "raw_out_of_bounds_rate" and not c.passed for c in report.checks)


def test_manifest_that_does_not_match_the_env_fails(smoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    layout = ObservationLayout(n_beams=24)
    policy = load_policy(_export(TooFast(), tmp_path / "other.onnx", layout))
    report = run_gate(policy, smoke, episodes=2)
    assert not report.passed and report.metrics == {}
    assert any("manifest: observation.obs_dim" in f for f in report.failures)
    json.dumps(report.to_dict(), allow_nan=False)  # unmeasured values are null, not NaN
    assert main(["validate", "--policy", str(tmp_path / "other.onnx"), "--out", str(tmp_path)]) == 1


def test_cli_exit_codes_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", "--policy", "backup", "--episodes", "2", "--json", "--out", str(tmp_path)])
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0 and report["passed"] and (tmp_path / "smoke.png").exists()
    assert json.loads((tmp_path / "smoke.json").read_text())["passed"]
    assert main(["validate", "--policy", "backup", "--suite", "nope"]) == 2
    assert "smoke" in capsys.readouterr().err  # lists the suites
    assert main(["validate", "--policy", str(tmp_path / "missing.onnx"), "--out", str(tmp_path)]) == 1


def test_unstable_episodes_and_warnings_fail_closed(smoke) -> None:  # type: ignore[no-untyped-def]
    from cadence.sim.batch import EpisodeResult, Scenario
    from cadence.sim.gate import _measure, _verdict
    from cadence.stl import parse

    path = np.array([[4.0, 4.0], [5.0, 4.0], [5.0, 4.0]])
    good = EpisodeResult(
        Scenario("apartment", "hallway", (4.0, 4.0, 0.0)),
        True,
        False,
        2,
        0.1,
        30.0,
        0,
        False,
        0,
        0,
        0,
        {},
        1.0,
        path,
    )
    metrics, failures = _measure([good], parse(smoke.spec), 0.1)
    assert _verdict(smoke, "p", metrics, failures, (), None).passed
    bad = EpisodeResult(**{**good.__dict__, "unstable": True, "warnings": {"BADQACC": 3}})
    metrics, failures = _measure([good, bad], parse(smoke.spec), 0.1)
    report = _verdict(smoke, "p", metrics, failures, (), None)
    assert not report.passed
    assert any("unstable" in f for f in report.failures) and any("BADQACC" in f for f in report.failures)
