"""Round trip: record sim episodes -> convert -> TD3+BC a few steps -> export -> gate -> (no) promotion."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from cadence.cli import main
from cadence.data.record import record_episodes
from cadence.learn.export import export_policy
from cadence.learn.offline import new_actor
from cadence.learn.promote import load_registry, make_entry, promote
from cadence.learn.retrain import RetrainOptions, retrain
from cadence.paths import models_dir
from cadence.policy.manifest import load_manifest, sha256_file
from cadence.policy.observation import DEFAULT_LAYOUT
from cadence.policy.runtime import load_policy
from cadence.sim import robot

pytestmark = pytest.mark.slow
EPISODES = 3  # gate episodes per model (the smoke suite's first three scenarios)


@pytest.fixture(scope="module")
def bag(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bags") / "kitchen"
    rec = record_episodes("go to the kitchen", episodes=2, out=out, seed=5)
    assert rec.episodes == 2
    return out


def _untrained(path: Path) -> Path:
    """A weak current model: the SRL actor before any training (drives nowhere useful)."""
    actor = new_actor(
        DEFAULT_LAYOUT.obs_dim, robot.ACTION_LOW, robot.ACTION_HIGH, robot.DEFAULT_K, 32, seed=7
    )
    export_policy(actor, DEFAULT_LAYOUT, robot.DEFAULT_K, path)
    return path


def test_retrain_from_the_shipped_model_is_promoted_over_a_weak_one(bag: Path, tmp_path: Path) -> None:
    reg = tmp_path / "models" / "registry.json"
    weak = _untrained(tmp_path / "models" / "weak.onnx")
    promote(reg, make_entry(weak, reg, {}, {"note": "weak"}))
    base = models_dir() / "rover_srl.onnx"
    out = tmp_path / "models" / "retrained.onnx"
    broken = tmp_path / "broken_bag"  # no metadata.yaml: reported, skipped, the good bag is used
    broken.mkdir()
    opts = RetrainOptions(
        bags=(bag, broken),
        out=out,
        base=base,
        steps=40,
        episodes=EPISODES,
        registry=reg,
        overrides=(("batch_size", "32"),),
    )
    report = retrain(opts)

    assert report.conversion["episodes"] == 2 and report.conversion["transitions"] > 10
    assert "broken_bag: FAILED" in report.conversion["text"]
    assert report.training["steps"] == 40 and report.training["algorithm"] == "td3+bc"
    assert report.candidate["passed"], report.candidate["failures"]
    assert report.current is not None and not report.current["passed"]
    assert report.promoted and report.reasons == ()
    # The registry now names the new model (with its sha256 and metrics); the weak one is history.
    r = load_registry(reg)
    assert r.current.name == "retrained" and r.current.path == "retrained.onnx"
    assert r.current.sha256 == sha256_file(out)
    assert r.current.metrics["smoke"]["episodes"] == EPISODES
    assert [e.name for e in r.history] == ["weak"]
    # The exported model loads (sha256, golden pair) and carries its lineage and gate report.
    policy = load_policy(out)
    lineage = policy.manifest.lineage
    assert [b["path"] for b in lineage["bags"]] == [str(bag)]
    assert [b["path"] for b in lineage["bags_failed"]] == [str(broken)]
    assert re.fullmatch(r"[0-9a-f]{64}", lineage["bags"][0]["sha256"]) and lineage["bags"][0]["bytes"] > 0
    assert lineage["base"]["sha256"] == sha256_file(base) and lineage["base"]["name"] == "rover_srl"
    assert lineage["git_commit"] == "unknown" or re.fullmatch(r"[0-9a-f]{40}", lineage["git_commit"])
    assert lineage["dataset"]["episodes"] == 2
    assert policy.manifest.metrics["validate_smoke"]["passed"] is True


def test_a_model_failing_the_gate_is_refused_and_the_registry_untouched(
    bag: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    reg = tmp_path / "registry.json"
    current = tmp_path / "rover_srl.onnx"
    shutil.copy(models_dir() / "rover_srl.onnx", current)
    shutil.copy(models_dir() / "rover_srl.json", tmp_path / "rover_srl.json")
    promote(reg, make_entry(current, reg, {}, {}))
    before = reg.read_bytes()
    out = tmp_path / "fresh.onnx"
    args = ["retrain", "--bags", str(bag), "--out", str(out), "--steps", "20", "--episodes", str(EPISODES)]
    code = main([*args, "--registry", str(reg), "--no-progress", "--json", "--set", "hidden=16"])
    report = json.loads(capsys.readouterr().out)

    assert code == 1
    assert not report["promoted"] and report["current"]["passed"]
    assert any("fails the 'smoke' gate" in r for r in report["reasons"])
    assert reg.read_bytes() == before  # nothing replaced
    assert sha256_file(current) == load_registry(reg).current.sha256
    # The candidate is kept for inspection, with the failed gate report in its manifest.
    assert load_manifest(out.with_suffix(".json")).metrics["validate_smoke"]["passed"] is False
    assert load_manifest(out.with_suffix(".json")).lineage["base"] is None
