"""`cadence train --algo critic` retrains the learned progress critic (issue 6) end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CADENCE = str(Path(sys.executable).parent / "cadence")


@pytest.mark.slow
def test_train_critic_writes_a_loadable_model(tmp_path: Path) -> None:
    from cadence.policy.model import load_model

    result = subprocess.run(
        [
            CADENCE,
            "train",
            "--algo",
            "critic",
            "--env",
            "rover-apartment",
            "--steps",
            "2400",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    model = load_model(tmp_path / "progress_critic.onnx")  # sha256, I/O, golden pair all checked
    assert model.manifest.kind == "critic"


def test_train_critic_refuses_a_non_rover_env(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            CADENCE,
            "train",
            "--algo",
            "critic",
            "--env",
            "Pendulum-v1",
            "--steps",
            "100",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "rover scenes" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "progress_critic.onnx").exists()
