"""`cadence train` / `cadence export`: help, a tiny real run, the files it writes, bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from cadence.cli import main


def test_train_help_lists_the_contract_options() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "cadence.cli", "train", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for option in (
        "--algo",
        "--env",
        "--steps",
        "--seed",
        "--k",
        "--repeat",
        "--out",
        "{srl,sac,ppo,critic}",
    ):
        assert option in out


@pytest.mark.slow
def test_tiny_srl_run_writes_everything_and_exports_a_loadable_policy(tmp_path) -> None:
    out = tmp_path / "run"
    argv = ["train", "--algo", "srl", "--env", "point-reach", "--steps", "600", "--k", "4", "--hidden", "16"]
    argv += ["--eval-every", "300", "--eval-episodes", "2", "--out", str(out), "--no-progress"]
    argv += ["--set", "batch_size=32", "--set", "model_warmup_updates=5"]
    assert main(argv) == 0
    for name in (
        "curve.png",
        "curve.csv",
        "train.json",
        "policy.onnx",
        "policy.json",
        "checkpoints/final.pt",
    ):
        assert (out / name).is_file(), name
    summary = json.loads((out / "train.json").read_text())
    assert summary["algo"] == "srl" and summary["k"] == 4 and summary["srl_config"]["batch_size"] == 32
    assert len((out / "curve.csv").read_text().splitlines()) == 1 + 3  # header, 2 evaluations, final

    from cadence.policy.runtime import load_policy

    policy = load_policy(out / "policy.onnx")
    actions = policy.act(np.zeros((3, 1), dtype=np.float32))
    assert actions.shape == (3, 4, 1) and np.all(np.abs(actions) <= 1.0 + 1e-6)

    # re-export the checkpoint; the same actor gives the same actions
    again = tmp_path / "again.onnx"
    assert main(["export", str(out / "checkpoints" / "final.pt"), "--out", str(again)]) == 0
    obs = np.linspace(-1, 1, 5, dtype=np.float32).reshape(5, 1)
    assert np.allclose(load_policy(again).act(obs), policy.act(obs), atol=1e-5)


def test_bad_input_exits_2_with_a_reason(tmp_path, capsys) -> None:
    assert main(["train", "--env", "no-such-env", "--steps", "10", "--out", str(tmp_path / "x")]) == 2
    assert "unknown env 'no-such-env'" in capsys.readouterr().err
    assert main(["train", "--env", "point-reach", "--set", "gamma", "--out", str(tmp_path / "y")]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err
    assert main(["train", "--env", "point-reach", "--set", "nope=1", "--out", str(tmp_path / "z")]) == 2
    assert "unknown SRLConfig field" in capsys.readouterr().err
    assert not (tmp_path / "z").exists()
    assert main(["export", str(tmp_path / "missing.pt"), "--out", str(tmp_path / "m.onnx")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    assert main(["export", str(tmp_path / "junk.pt"), "--out", str(tmp_path / "j.onnx")]) == 2
    assert "junk.pt" in capsys.readouterr().err
