"""``cadence bringup CONFIG.yaml``: start the nodes of a parameter profile in one process.

The same YAML (nav2-style ``node_name: {ros__parameters: ...}``) drives ``launch/*.launch.py`` on a
ROS install; here each node block becomes ``parameter_overrides`` of an in-process node, so a machine
with only the PyPI wheels of ROS 2 runs the same graph.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cadence.ros.config import NODE_CONFIGS, ROS_PARAMS, config_from_mapping, load_profile
from cadence.ros.errors import BringupError, ParamError

# Node name -> (module, class). The console scripts in setup.py use the same modules' main().
NODE_CLASSES: dict[str, tuple[str, str]] = {
    "sim_node": ("cadence.ros.sim_node", "SimNode"),
    "planner_node": ("cadence.ros.planner_node", "PlannerNode"),
    "executor_node": ("cadence.ros.executor_node", "ExecutorNode"),
    "critic_node": ("cadence.ros.critic_node", "CriticNode"),
}
# Start order: the sim first so the others see sensors, the executor last.
START_ORDER = ("sim_node", "planner_node", "critic_node", "executor_node")


def resolve_profile(name_or_path: str | Path) -> Path:
    """A profile path, or a bare name (``sim``) looked up in the shipped ``config/`` folder.

    Raises:
        BringupError: listing the shipped profiles when nothing matches.
    """
    path = Path(name_or_path)
    if path.is_file():
        return path
    from cadence.paths import config_dir

    shipped = config_dir() / (path.name if path.suffix else f"{path.name}.yaml")
    if shipped.is_file():
        return shipped
    names = sorted(p.stem for p in config_dir().glob("*.yaml"))
    raise BringupError(f"no parameter profile {str(name_or_path)!r}; shipped profiles: {', '.join(names)}")


def node_parameters(
    profile: Mapping[str, Mapping[str, Any]], overrides: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, dict[str, Any]]:
    """Per-node parameter values: the profile's ``/**`` block, its node block, then `overrides`.

    Every node's values are validated against its config dataclass here, before any node starts.

    Raises:
        ParamError: naming ``node.key`` for a bad value, or an unknown node.
    """
    shared = dict(profile.get("**", {}))
    out: dict[str, dict[str, Any]] = {}
    for name, params in profile.items():
        if name == "**":
            continue
        if name not in NODE_CONFIGS:
            raise ParamError(f"unknown node {name!r} in profile; nodes: {', '.join(NODE_CONFIGS)}")
        fields = set(NODE_CONFIGS[name].__dataclass_fields__) | ROS_PARAMS
        values = {k: v for k, v in shared.items() if k in fields}
        values.update(params)
        values.update((overrides or {}).get(name, {}))
        config_from_mapping(NODE_CONFIGS[name], values, where=name)
        out[name] = values
    return out


def create_node(name: str, values: Mapping[str, Any], context: Any = None, namespace: str = "") -> Any:
    """Instantiate cadence node `name` with parameter values (in this process)."""
    from cadence.ros.params import parameter_overrides

    if name not in NODE_CLASSES:
        raise BringupError(f"unknown node {name!r}; nodes: {', '.join(NODE_CLASSES)}")
    module, cls = NODE_CLASSES[name]
    node_cls = getattr(importlib.import_module(module), cls)
    return node_cls(context=context, namespace=namespace, parameter_overrides=parameter_overrides(values))


def create_nodes(
    params: Mapping[str, Mapping[str, Any]],
    only: Sequence[str] = (),
    context: Any = None,
    namespace: str = "",
) -> list[Any]:
    """Create the profile's nodes in start order (optionally only some of them)."""
    unknown = [n for n in only if n not in params]
    if unknown:
        raise BringupError(
            f"--only names {unknown[0]!r}, which is not in the profile; nodes: {', '.join(params)}"
        )
    names = [n for n in START_ORDER if n in params and (not only or n in only)]
    return [create_node(n, params[n], context=context, namespace=namespace) for n in names]


def node_command(name: str, profile: Path, values: Mapping[str, Any], namespace: str = "") -> list[str]:
    """The console-script command line that starts node `name` with the profile and `values` on top."""
    exe = Path(sys.executable).parent / name
    cmd = (
        [str(exe)]
        if exe.exists()
        else [sys.executable, "-c", f"from {NODE_CLASSES[name][0]} import main; main()"]
    )
    cmd += ["--ros-args", "--params-file", str(profile)]
    for key, value in values.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        cmd += ["-p", f"{key}:={text}" if text else f"{key}:=''"]
    if namespace:
        cmd += ["-r", f"__ns:=/{namespace.strip('/')}"]
    return cmd


def run_processes(
    profile: Path, params: Mapping[str, Mapping[str, Any]], only: Sequence[str], namespace: str
) -> int:
    """One process per node; SIGINT/SIGTERM are forwarded and every child is waited for."""
    import signal
    import subprocess

    def _terminate(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)  # `kill PID` stops the children too, never orphans them
    names = [n for n in START_ORDER if n in params and (not only or n in only)]
    children = [subprocess.Popen(node_command(n, profile, params[n], namespace)) for n in names]
    print(f"cadence bringup: {', '.join(names)} as processes {[c.pid for c in children]}", file=sys.stderr)
    code = 0
    try:
        for child in children:
            code = max(code, child.wait())
    except KeyboardInterrupt:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
    return code


def run_bringup_cli(args: argparse.Namespace) -> int:
    """Handler of ``cadence bringup``."""
    import rclpy

    from cadence.cli import CLIError
    from cadence.ros.executors import spin_nodes

    try:
        path = resolve_profile(args.config)
        overrides: dict[str, dict[str, Any]] = {}
        if args.task:
            overrides["planner_node"] = {"task": args.task}
        params = node_parameters(load_profile(path), overrides)
        if args.use_sim_time:
            for values in params.values():
                values["use_sim_time"] = True
        only = [n.strip() for n in args.only.split(",") if n.strip()]
    except (BringupError, ParamError) as err:
        raise CLIError(str(err)) from err
    if args.processes:
        return run_processes(path, params, only, args.namespace)
    rclpy.init(args=sys.argv[:1])
    try:
        try:
            nodes = create_nodes(params, only=only, namespace=args.namespace)
        except (BringupError, ParamError) as err:
            raise CLIError(str(err)) from err
        print(f"cadence bringup: {', '.join(n.get_name() for n in nodes)} from {path}", file=sys.stderr)
        spin_nodes(nodes, executor_kind=args.executor)
    finally:
        rclpy.try_shutdown()
    return 0
