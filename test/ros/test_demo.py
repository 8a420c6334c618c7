"""One full sim episode through the ROS 2 graph (sim, planner, executor, critic) that satisfies its task."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.ros, pytest.mark.sim, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def test_demo_episode_satisfies_the_default_task(tmp_path: Path) -> None:
    from cadence.ros.cli import DEFAULT_TASK
    from cadence.ros.demo import run_demo

    summary = run_demo(DEFAULT_TASK, scene="apartment", out=tmp_path, seed=0, video=True, log=lambda _m: None)
    assert summary["satisfied"] is True and summary["robustness"] > 0
    assert summary["success"] is True and summary["critic_done"] is True
    assert summary["decisions"] > 0 and summary["sim_time_s"] > 0
    for name in ("trajectory.csv", "plan.json", "summary.json", "map.png", "progress.png", "episode.mp4"):
        assert (tmp_path / name).stat().st_size > 0, name
    with (tmp_path / "trajectory.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:4] == ["t", "x", "y", "yaw"]
    times = [float(r["t"]) for r in rows]
    assert times == sorted(times) and times[-1] == pytest.approx(summary["sim_time_s"])
    assert json.loads((tmp_path / "summary.json").read_text()) == summary
    assert json.loads((tmp_path / "plan.json").read_text())["task"] == DEFAULT_TASK


def test_demo_cli_refusal_is_one_clear_line(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            str(Path(sys.executable).parent / "cadence"),
            "demo",
            "--task",
            "Go to the moon",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 2
    assert "cadence demo: error: the planner refused the task" in out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "summary.json").exists()
