"""Promotion rule, model registry, and `cadence retrain` bad input (no MuJoCo: checks run first)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cadence.cli import main
from cadence.learn.export import export_policy
from cadence.learn.offline import new_actor
from cadence.learn.promote import (
    ModelEntry,
    RegistryError,
    Tolerance,
    check_current,
    decide,
    load_registry,
    make_entry,
    promote,
)
from cadence.policy.observation import DEFAULT_LAYOUT
from cadence.sim import robot


def _report(passed: bool = True, suite: str = "smoke", **metrics: float) -> dict:
    m = {"success_rate": 1.0, "stl_satisfaction_rate": 1.0, "collision_rate": 0.0, **metrics}
    return {
        "suite": suite,
        "policy": "p",
        "passed": passed,
        "metrics": m,
        "failures": [] if passed else ["x"],
    }


def test_decide_promotes_a_passing_model_without_a_current_one() -> None:
    assert decide(_report(), None).promote


def test_decide_refuses_a_model_failing_the_gate_even_if_better() -> None:
    d = decide(_report(passed=False), _report(success_rate=0.2))
    assert not d.promote and "fails the 'smoke' gate" in d.reasons[0]


@pytest.mark.parametrize(
    ("candidate", "current", "promote", "reason"),
    [
        ({"success_rate": 0.9}, {"success_rate": 1.0}, False, "success_rate 0.900 < current 1.000"),
        ({"success_rate": 0.96}, {"success_rate": 1.0}, True, None),  # within the 0.05 tolerance
        ({"stl_satisfaction_rate": 0.8}, {}, False, "stl_satisfaction_rate"),
        ({"collision_rate": 0.01}, {"collision_rate": 0.0}, False, "collision_rate 0.010 > current"),
        ({"collision_rate": 0.1}, {"collision_rate": 0.2}, True, None),
        ({"success_rate": 0.9}, {"success_rate": 0.8, "collision_rate": 0.1}, True, None),
    ],
)
def test_not_worse_rule(candidate: dict, current: dict, promote: bool, reason: str | None) -> None:
    d = decide(_report(**candidate), _report(**current))
    assert d.promote is promote
    if reason:
        assert any(reason in r for r in d.reasons), d.reasons


def test_tolerance_and_suite_mismatch() -> None:
    assert decide(_report(success_rate=0.8), _report(), Tolerance(success_rate=0.25)).promote
    d = decide(_report(), _report(suite="full"))
    assert not d.promote and "suites differ" in d.reasons[0]


def _model(path: Path, seed: int = 0) -> Path:
    actor = new_actor(DEFAULT_LAYOUT.obs_dim, robot.ACTION_LOW, robot.ACTION_HIGH, robot.DEFAULT_K, 16, seed)
    export_policy(actor, DEFAULT_LAYOUT, robot.DEFAULT_K, path)
    return path


def test_registry_round_trip_history_and_tamper_check(tmp_path: Path) -> None:
    reg = tmp_path / "models" / "registry.json"
    assert load_registry(reg).current is None  # missing file = empty registry
    a = _model(tmp_path / "models" / "a.onnx", 0)
    b = _model(tmp_path / "elsewhere" / "b.onnx", 1)
    promote(reg, make_entry(a, reg, {"smoke": {"success_rate": 1.0}}, {"note": "a"}))
    promote(reg, make_entry(b, reg, {}, {}))
    r = load_registry(reg)
    assert r.current.name == "b" and Path(r.current.path).is_absolute()
    assert [e.name for e in r.history] == ["a"] and r.history[0].path == "a.onnx"
    assert check_current(r, reg) == b.resolve()
    raw = json.loads(reg.read_text())
    assert raw["format"] == "cadence-model-registry" and raw["format_version"] == 1
    b.write_bytes(b.read_bytes() + b"\0")
    with pytest.raises(RegistryError, match="changed since it was registered"):
        check_current(r, reg)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("{", "cannot read"),
        ('{"format": "other"}', "not a cadence model registry"),
        (
            '{"format": "cadence-model-registry", "format_version": 9, "current": null, "history": []}',
            "not supported",
        ),
        (
            '{"format": "cadence-model-registry", "format_version": 1, "current": {"name": "x"}, "history": []}',
            "keys",
        ),
    ],
)
def test_bad_registries_are_refused(tmp_path: Path, content: str, match: str) -> None:
    (tmp_path / "registry.json").write_text(content)
    with pytest.raises(RegistryError, match=match):
        load_registry(tmp_path / "registry.json")


def test_shipped_registry_names_the_shipped_model() -> None:
    from cadence.paths import models_dir

    reg = models_dir() / "registry.json"
    r = load_registry(reg)
    assert isinstance(r.current, ModelEntry) and r.current.name == "rover_srl"
    assert check_current(r, reg) == (models_dir() / "rover_srl.onnx").resolve()


def _cli(tmp_path: Path, *args: str) -> int:
    return main(["retrain", "--registry", str(tmp_path / "registry.json"), "--no-progress", *args])


def _nothing_written(tmp_path: Path) -> None:
    assert not (tmp_path / "out.onnx").exists() and not (tmp_path / "out.json").exists()
    assert not (tmp_path / "registry.json").exists()


def test_cli_bad_input_exits_2_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = str(tmp_path / "out.onnx")
    with pytest.raises(SystemExit) as exc:  # argparse: --bags is required
        _cli(tmp_path, "--out", out)
    assert exc.value.code == 2
    assert _cli(tmp_path, "--bags", str(tmp_path / "nope"), "--out", out) == 2
    assert "bag(s) not found" in capsys.readouterr().err
    empty = tmp_path / "empty_bag"
    empty.mkdir()  # a bag folder without metadata.yaml
    assert _cli(tmp_path, "--bags", str(empty), "--out", out) == 2
    err = capsys.readouterr().err
    assert "no usable episode" in err and "no metadata.yaml" in err
    assert _cli(tmp_path, "--bags", str(empty), "--out", str(tmp_path / "out.pt")) == 2
    assert _cli(tmp_path, "--bags", str(empty), "--out", out, "--set", "nope=1") == 2
    assert "valid:" in capsys.readouterr().err
    assert _cli(tmp_path, "--bags", str(empty), "--out", out, "--suite", "nope") == 2
    _nothing_written(tmp_path)


def test_cli_refuses_a_base_that_does_not_match(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    empty = tmp_path / "bag"
    empty.mkdir()
    out = str(tmp_path / "out.onnx")
    actor = new_actor(DEFAULT_LAYOUT.obs_dim, [-1.0, -1.0], [1.0, 1.0], robot.DEFAULT_K, 16)
    export_policy(actor, DEFAULT_LAYOUT, robot.DEFAULT_K, tmp_path / "other.onnx")
    assert _cli(tmp_path, "--bags", str(empty), "--out", out, "--base", str(tmp_path / "other.onnx")) == 2
    assert "the graph scales actions to [-1.0, -1.0]/[1.0, 1.0]" in capsys.readouterr().err
    export_policy(
        actor, DEFAULT_LAYOUT, robot.DEFAULT_K, tmp_path / "o2.onnx", action_low=(-1, -1), action_high=(1, 1)
    )
    assert _cli(tmp_path, "--bags", str(empty), "--out", out, "--base", str(tmp_path / "o2.onnx")) == 2
    assert "does not match this robot: action bounds" in capsys.readouterr().err
    good = _model(tmp_path / "good.onnx")
    good.write_bytes(good.read_bytes()[:-8])  # truncated: sha256 no longer matches its manifest
    assert _cli(tmp_path, "--bags", str(empty), "--out", out, "--base", str(good)) == 2
    assert "sha256" in capsys.readouterr().err
    _nothing_written(tmp_path)


def test_cli_refuses_to_overwrite_the_current_model(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cur = _model(tmp_path / "cur.onnx")
    promote(tmp_path / "registry.json", make_entry(cur, tmp_path / "registry.json", {}, {}))
    before = (tmp_path / "registry.json").read_bytes()
    bag = tmp_path / "bag"
    bag.mkdir()
    assert _cli(tmp_path, "--bags", str(bag), "--out", str(cur)) == 2
    assert "is the current model" in capsys.readouterr().err
    assert (tmp_path / "registry.json").read_bytes() == before
    np.testing.assert_equal(cur.exists(), True)
