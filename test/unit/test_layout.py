"""House rules that keep the architecture honest (STYLE.md 1, and the lazy CLI of issue #2)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "cadence"
ROS_MODULES = (
    "rclpy",
    "std_msgs",
    "geometry_msgs",
    "nav_msgs",
    "sensor_msgs",
    "trajectory_msgs",
    "diagnostic_msgs",
    "rosgraph_msgs",
    "lifecycle_msgs",
    "builtin_interfaces",
    "rcl_interfaces",
)


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_only_cadence_ros_imports_ros() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        if "ros" in path.relative_to(SRC).parts[:1]:
            continue
        bad = _imported_roots(path) & set(ROS_MODULES)
        if bad:
            offenders.append(f"{path.relative_to(ROOT)}: {sorted(bad)}")
    assert offenders == [], "ROS imports outside src/cadence/ros/:\n" + "\n".join(offenders)


def test_cli_help_and_stl_are_lazy() -> None:
    """`cadence --help` builds every subcommand parser without importing torch, MuJoCo or rclpy."""
    code = (
        "import sys, json\n"
        "from cadence.cli import build_parser\n"
        "p = build_parser(); p.format_help()\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('torch', 'mujoco', 'rclpy', 'onnxruntime', 'stable_baselines3', 'gymnasium', 'matplotlib'))\n"
        "print(json.dumps(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_cadence_console_script_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "cadence.cli", "--help"], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    assert "usage: cadence" in out.stdout
