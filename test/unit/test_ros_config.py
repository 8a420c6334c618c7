"""ROS parameter profiles and launch files, checked without ROS (cadence.ros.config is ROS-free)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from cadence.ros.config import (
    NODE_CONFIGS,
    ExecutorConfig,
    SimConfig,
    config_from_mapping,
    load_profile,
    profile_configs,
)
from cadence.ros.errors import ParamError

ROOT = Path(__file__).resolve().parents[2]
LAUNCH_ARGS = {"scene", "task", "model", "use_sim_time", "namespace"}


@pytest.mark.parametrize("profile", ["sim.yaml", "robot.yaml"])
def test_shipped_profiles_validate(profile: str) -> None:
    configs = profile_configs(ROOT / "config" / profile)
    assert {"planner_node", "executor_node", "critic_node"} <= set(configs)
    assert all(isinstance(c, NODE_CONFIGS[name]) for name, c in configs.items())


def test_sim_profile_runs_lockstep_and_the_robot_profile_does_not() -> None:
    sim = profile_configs(ROOT / "config" / "sim.yaml")
    robot = profile_configs(ROOT / "config" / "robot.yaml")
    assert sim["sim_node"].mode == "lockstep" and sim["executor_node"].trigger == "observation"
    assert "sim_node" not in robot and robot["executor_node"].trigger == "timer"
    assert robot["executor_node"].fallback_to_backup is False


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ({"stale_timeout_s": 0}, r"executor_node\.stale_timeout_s: must be > 0"),
        ({"trigger": "sometimes"}, r"executor_node\.trigger: must be one of timer, observation"),
        ({"providers": "cuda,gpu"}, r"executor_node\.providers: unknown execution provider 'gpu'"),
        ({"require_scan": 1}, r"executor_node\.require_scan: must be true or false"),
        ({"stale_timeout_s": float("nan")}, r"executor_node\.stale_timeout_s: must be a finite number"),
        ({"autostart": "yes"}, r"executor_node\.autostart: must be true or false"),
        ({"modle": "x"}, r"executor_node\.modle: unknown parameter; valid: model, "),
    ],
)
def test_bad_values_name_the_key(values: dict, match: str) -> None:
    with pytest.raises(ParamError, match=match):
        config_from_mapping(ExecutorConfig, values, where="executor_node")


def test_ints_are_accepted_for_floats_and_ros_params_are_skipped() -> None:
    cfg = config_from_mapping(SimConfig, {"real_time_factor": 4, "use_sim_time": True})
    assert cfg.real_time_factor == 4.0 and isinstance(cfg.real_time_factor, float)


def test_profile_shape_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("executor_node:\n  model: x\n")
    with pytest.raises(ParamError, match="ros__parameters"):
        load_profile(bad)
    bad.write_text("navigator:\n  ros__parameters: {a: 1}\n")
    with pytest.raises(ParamError, match="unknown node 'navigator'"):
        profile_configs(bad)
    with pytest.raises(ParamError, match="cannot read"):
        load_profile(tmp_path / "missing.yaml")
    ok = tmp_path / "ok.yaml"
    ok.write_text(
        "/**:\n  ros__parameters: {scene: warehouse, use_sim_time: true}\n/robot1/critic_node:\n  ros__parameters: {period_s: 1}\n"
    )
    configs = profile_configs(ok)
    assert configs["critic_node"].scene == "warehouse" and configs["critic_node"].period_s == 1.0


@pytest.mark.parametrize("name", ["sim.launch.py", "robot.launch.py"])
def test_launch_files_are_thin_and_read_the_shipped_profile(name: str) -> None:
    """launch/launch_ros are not installable here: parse the files and check what they reference."""
    tree = ast.parse((ROOT / "launch" / name).read_text())
    funcs = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert funcs == {"generate_launch_description"}
    consts = {
        t.id: ast.literal_eval(n.value)
        for n in tree.body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name) and t.id in ("PROFILE", "NODES", "ARGUMENTS", "PACKAGE")
    }
    assert consts["PACKAGE"] == "cadence"
    assert (ROOT / "config" / consts["PROFILE"]).is_file()
    assert set(consts["ARGUMENTS"]) == LAUNCH_ARGS
    profile = load_profile(ROOT / "config" / consts["PROFILE"])
    setup = (ROOT / "setup.py").read_text()
    for executable, _lifecycle, args in consts["NODES"]:
        assert f'"{executable}": "cadence.ros.{executable}"' in setup, f"{executable} is not a console script"
        assert executable in profile, f"{executable} has no block in {consts['PROFILE']}"
        fields = set(NODE_CONFIGS[executable].__dataclass_fields__)
        assert set(args) <= fields, f"{executable}: launch arguments {set(args) - fields} are not parameters"
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert {"launch", "launch_ros.actions"} <= imported


@pytest.mark.parametrize("scene_name", ["apartment", "warehouse", "open"])
def test_demo_default_task_is_understood_in_every_shipped_scene(scene_name: str) -> None:
    from cadence.planner.planner import Planner
    from cadence.planner.scene import load_scene
    from cadence.ros.demo import default_task

    scene = load_scene(scene_name)
    plan = Planner(scene, "rules").plan(default_task(scene))
    assert len(plan.subgoals) >= 1
