"""ament_python / pip build script for cadence.

The same file serves `colcon build` on a robot (data files land under share/cadence, executables
under lib/cadence, the layout `ros2 launch` / `ros2 run` expect) and `pip install -e .` in a plain
virtual environment.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import find_packages, setup

PACKAGE = "cadence"
HERE = Path(__file__).resolve().parent

# Nodes: console script name -> module (each module has a main()).
NODES = {
    "planner_node": "cadence.ros.planner_node",
    "executor_node": "cadence.ros.executor_node",
    "critic_node": "cadence.ros.critic_node",
    "sim_node": "cadence.ros.sim_node",
}


def _tree(folder: str) -> list[tuple[str, list[str]]]:
    """Install every file below `folder` under share/cadence/<folder>, keeping sub-folders."""
    entries: dict[str, list[str]] = {}
    for path in sorted((HERE / folder).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            rel = path.relative_to(HERE)
            entries.setdefault(f"share/{PACKAGE}/{rel.parent.as_posix()}", []).append(rel.as_posix())
    return sorted(entries.items())


data_files = [
    ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
    (f"share/{PACKAGE}", ["package.xml"]),
]
for folder in ("launch", "config", "models", "sim"):
    data_files += _tree(folder)

setup(
    name=PACKAGE,
    version="0.1.0",
    package_dir={"": "src"},
    packages=find_packages("src"),
    data_files=data_files,
    install_requires=["setuptools"],
    zip_safe=True,
    maintainer="cadence maintainers",
    maintainer_email="maintainers@cadence.invalid",
    description="ROS 2 control stack: STL planner, sequence-RL executor, progress critic, MuJoCo validation.",
    license="Apache-2.0",
    python_requires=">=3.10",
    entry_points={
        "console_scripts": [f"{PACKAGE}=cadence.cli:main"]
        + [f"{name}={module}:main" for name, module in NODES.items()],
    },
)
