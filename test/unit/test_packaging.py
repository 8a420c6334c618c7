"""The package builds with colcon into the layout `ros2 launch` and `ros2 run` expect."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_colcon_build_installs_share_and_lib(tmp_path: Path) -> None:
    colcon = Path(sys.executable).parent / "colcon"
    if not colcon.exists():
        colcon = Path(shutil.which("colcon") or "colcon")
    # Build from a copy so the build leaves nothing in the working tree.
    src = tmp_path / "src" / "cadence"
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(
            ".venv",
            ".git",
            "build",
            "install",
            "log",
            "out",
            "__pycache__",
            "*.egg-info",
            ".pytest_cache",
            ".hypothesis",
            ".ruff_cache",
        ),
    )
    result = subprocess.run(
        [
            str(colcon),
            "build",
            "--paths",
            str(src),
            "--build-base",
            str(tmp_path / "build"),
            "--install-base",
            str(tmp_path / "install"),
            "--event-handlers",
            "console_direct-",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    share = tmp_path / "install" / "cadence" / "share" / "cadence"
    lib = tmp_path / "install" / "cadence" / "lib" / "cadence"
    assert (share / "package.xml").is_file()
    assert (
        tmp_path / "install" / "cadence" / "share" / "ament_index" / "resource_index" / "packages" / "cadence"
    ).is_file()
    for folder in ("launch", "config", "models", "sim"):
        shipped = sorted(p.relative_to(ROOT / folder) for p in (ROOT / folder).rglob("*") if p.is_file())
        installed = sorted(p.relative_to(share / folder) for p in (share / folder).rglob("*") if p.is_file())
        assert installed == shipped, folder
    for exe in ("cadence", "planner_node", "executor_node", "critic_node", "sim_node"):
        assert (lib / exe).is_file(), f"{exe} missing from lib/cadence"
