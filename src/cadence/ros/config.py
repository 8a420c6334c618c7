"""Node parameters as validated frozen dataclasses, and the nav2-style YAML they come from.

Each node declares its ROS parameters from exactly one dataclass here (STYLE.md 6); the YAML files in
``config/`` (``node_name: {ros__parameters: {...}}``) are the single source that ``ros2 launch`` and
``cadence bringup`` both read. This module is ROS-free so the CLI, the demo and unit tests can check a
profile without rclpy.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from cadence.ros.errors import ParamError

C = TypeVar("C")

SIM_MODES = ("lockstep", "wallclock", "rtf")
EXECUTOR_TRIGGERS = ("timer", "observation")


def _check(cond: bool, key: str, msg: str) -> None:
    if not cond:
        raise ParamError(f"{key}: {msg}")


@dataclass(frozen=True)
class SimConfig:
    """Parameters of ``sim_node`` (MuJoCo as a robot).

    Attributes:
        scene: Shipped scene name or path to a scene YAML.
        seed: Episode seed (start-pose noise, sensor noise): a lockstep run is a function of it.
        mode: ``lockstep`` (advance one control period per command), ``wallclock`` or ``rtf``.
        real_time_factor: Speed-up over the wall clock in ``rtf`` mode.
        publish_clock: Publish ``/clock`` (sim time) for nodes running with ``use_sim_time``.
        publish_camera: Also render ``camera/image_raw`` (costly; off by default).
        camera_period_s: Sim seconds between camera frames.
        lockstep_resend_s: Wall seconds without a command before the observation is sent again
            (a best-effort sample can be lost; the executor answers a repeat with the same command).
        max_sim_time_s: Stop publishing after this much sim time (0: run until shut down).
        odom_frame: Frame of ``odom``.
        base_frame: Robot body frame (child frame of ``odom``, frame of ``scan``).
    """

    scene: str = "apartment"
    seed: int = 0
    mode: str = "lockstep"
    real_time_factor: float = 1.0
    publish_clock: bool = True
    publish_camera: bool = False
    camera_period_s: float = 0.2
    lockstep_resend_s: float = 0.5
    max_sim_time_s: float = 0.0
    odom_frame: str = "odom"
    base_frame: str = "base_link"

    def __post_init__(self) -> None:
        _check(bool(self.scene), "scene", "must name a scene")
        _check(self.mode in SIM_MODES, "mode", f"must be one of {', '.join(SIM_MODES)}, got {self.mode!r}")
        _check(self.real_time_factor > 0, "real_time_factor", f"must be > 0, got {self.real_time_factor}")
        _check(self.camera_period_s > 0, "camera_period_s", f"must be > 0, got {self.camera_period_s}")
        _check(self.lockstep_resend_s > 0, "lockstep_resend_s", f"must be > 0, got {self.lockstep_resend_s}")
        _check(self.max_sim_time_s >= 0, "max_sim_time_s", f"must be >= 0, got {self.max_sim_time_s}")
        _check(self.seed >= 0, "seed", f"must be >= 0, got {self.seed}")


@dataclass(frozen=True)
class ExecutorConfig:
    """Parameters of ``executor_node`` (lifecycle node: policy decisions + playback + safety).

    Attributes:
        model: Shipped model name (``models/NAME.onnx``), a path to an ``.onnx`` file, or ``backup``
            for the backup controller alone.
        fallback_to_backup: When the model file is missing, run the backup controller (logged loudly)
            instead of failing ``configure``.
        autostart: Configure and activate on start (sim profiles; on a robot a lifecycle manager or
            ``ros2 lifecycle set`` drives the transitions).
        trigger: ``timer`` (control-rate timer on the node clock; robots) or ``observation`` (one
            control step per complete observation: odom and scan with the same stamp; lockstep sim).
        require_scan: Hold until a laser scan has arrived (the policy observes ranges).
        stale_timeout_s: Hold (zero command) when odom or scan is older than this.
        providers: Comma-separated ONNX Runtime execution providers in order of preference
            (``tensorrt,cuda,cpu`` or full names); "" = TensorRT, CUDA, CPU, whichever is available.
        publish_sequence: Publish each decision on ``executor/sequence``.
    """

    model: str = "rover_srl"
    fallback_to_backup: bool = True
    autostart: bool = False
    trigger: str = "timer"
    require_scan: bool = True
    stale_timeout_s: float = 0.5
    providers: str = ""
    publish_sequence: bool = True

    def __post_init__(self) -> None:
        _check(bool(self.model), "model", "must name a model, a .onnx path or 'backup'")
        _check(
            self.trigger in EXECUTOR_TRIGGERS,
            "trigger",
            f"must be one of {', '.join(EXECUTOR_TRIGGERS)}, got {self.trigger!r}",
        )
        _check(self.stale_timeout_s > 0, "stale_timeout_s", f"must be > 0, got {self.stale_timeout_s}")
        for name in self.provider_list:
            ok = name.endswith("ExecutionProvider") or name.lower() in ("tensorrt", "trt", "cuda", "cpu")
            _check(
                ok,
                "providers",
                f"unknown execution provider {name!r}; valid: tensorrt, cuda, cpu or *ExecutionProvider",
            )

    @property
    def provider_list(self) -> list[str]:
        """:attr:`providers` as a list (empty: the runtime's default preference)."""
        return [p.strip() for p in self.providers.split(",") if p.strip()]


@dataclass(frozen=True)
class PlannerConfig:
    """Parameters of ``planner_node``.

    Attributes:
        scene: Scene the plans are grounded on.
        backend: Planner back end name (``rules``, ``llama``, ``openai``).
        task: A task to plan as soon as odometry has arrived ("" waits for the ``task`` topic).
        replan_min_interval_s: Ignore ``replan`` requests closer together than this (node clock).
        max_replans: Refuse further replans for the same task after this many.
        worker_thread: Plan on a worker thread, so a slow (LLM) back end never blocks the executor.
            False plans inside the callback that asked: the plan is then published at a fixed point
            of the message flow, which makes lockstep sim runs with replans deterministic (the demo
            sets it; in lockstep the sim waits for the graph anyway).
    """

    scene: str = "apartment"
    backend: str = "rules"
    task: str = ""
    replan_min_interval_s: float = 2.0
    max_replans: int = 5
    worker_thread: bool = True

    def __post_init__(self) -> None:
        _check(bool(self.scene), "scene", "must name a scene")
        _check(bool(self.backend), "backend", "must name a planner back end")
        _check(
            self.replan_min_interval_s >= 0,
            "replan_min_interval_s",
            f"must be >= 0, got {self.replan_min_interval_s}",
        )
        _check(self.max_replans >= 0, "max_replans", f"must be >= 0, got {self.max_replans}")


@dataclass(frozen=True)
class CriticConfig:
    """Parameters of ``critic_node``.

    Attributes:
        scene: Scene whose regions are the STL signals.
        critic: Progress critic name (registry in ``cadence.critic``).
        period_s: Evaluate progress every this many seconds of odometry time (a decision period).
        stagnation_window_s: Ask for a replan when progress has not improved for this long.
    """

    scene: str = "apartment"
    critic: str = "stl"
    period_s: float = 0.4
    stagnation_window_s: float = 4.0

    def __post_init__(self) -> None:
        _check(bool(self.scene), "scene", "must name a scene")
        _check(self.period_s > 0, "period_s", f"must be > 0, got {self.period_s}")
        _check(
            self.stagnation_window_s > 0,
            "stagnation_window_s",
            f"must be > 0, got {self.stagnation_window_s}",
        )


# Parameters every rclpy node has already; a profile may set them, they are not part of a config.
ROS_PARAMS = frozenset({"use_sim_time", "start_type_description_service"})

# Node name -> its parameter dataclass (the node names used in config/*.yaml).
NODE_CONFIGS: dict[str, type] = {
    "sim_node": SimConfig,
    "executor_node": ExecutorConfig,
    "planner_node": PlannerConfig,
    "critic_node": CriticConfig,
}


def _coerce(value: Any, kind: Any, key: str) -> Any:
    if kind is bool:
        _check(isinstance(value, bool), key, f"must be true or false, got {value!r}")
        return value
    if kind is int:
        _check(
            isinstance(value, int) and not isinstance(value, bool), key, f"must be an integer, got {value!r}"
        )
        return value
    if kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        _check(ok and math.isfinite(float(value)), key, f"must be a finite number, got {value!r}")
        return float(value)
    if kind is str:
        _check(isinstance(value, str), key, f"must be a string, got {value!r}")
        return value
    raise ParamError(f"{key}: unsupported parameter type {kind!r}")


def config_from_mapping(cls: type[C], values: Mapping[str, Any], where: str = "") -> C:
    """Build and validate a config dataclass from a mapping of parameter values.

    Args:
        cls: One of the config dataclasses (``SimConfig`` ...).
        values: Parameter name -> value; missing names keep their defaults.
        where: Prefix for error messages (the node name).

    Raises:
        ParamError: naming the key that is unknown, mistyped or out of range.
    """
    prefix = f"{where}." if where else ""
    values = {k: v for k, v in values.items() if k not in ROS_PARAMS}
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ParamError(f"{prefix}{unknown[0]}: unknown parameter; valid: {', '.join(names)}")
    kwargs = {k: _coerce(v, hints[k], f"{prefix}{k}") for k, v in values.items()}
    try:
        return cls(**kwargs)
    except ParamError as err:
        raise ParamError(f"{prefix}{err}") from err


def load_profile(path: str | Path) -> dict[str, dict[str, Any]]:
    """Read a nav2-style parameter YAML: ``{node_name: {ros__parameters: {...}}}``.

    Node names may carry a namespace (``/robot1/executor_node``) or the ``/**`` wildcard; the returned
    keys are the plain node names. Values are returned as written (validated per node by
    :func:`config_from_mapping`).

    Raises:
        ParamError: if the file is missing, not YAML, or not in that shape.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as err:
        raise ParamError(f"cannot read parameter file {path}: {err}") from err
    except yaml.YAMLError as err:
        raise ParamError(f"parameter file {path} is not valid YAML: {err}") from err
    if not isinstance(data, Mapping):
        raise ParamError(
            f"parameter file {path}: expected a mapping of node names, got {type(data).__name__}"
        )
    out: dict[str, dict[str, Any]] = {}
    for raw_name, block in data.items():
        name = str(raw_name).rstrip("/").rsplit("/", 1)[-1]
        params = block.get("ros__parameters") if isinstance(block, Mapping) else None
        if not isinstance(params, Mapping):
            raise ParamError(f"parameter file {path}: {raw_name}: expected a 'ros__parameters' mapping")
        out.setdefault(name, {}).update(params)
    return out


def profile_configs(path: str | Path) -> dict[str, Any]:
    """Load a profile and validate every node block that has a config dataclass.

    Returns:
        Node name -> validated config, for the node names in :data:`NODE_CONFIGS` present in the file.

    Raises:
        ParamError: for a bad key (named) or a node name that is not a cadence node.
    """
    profile = load_profile(path)
    shared = profile.pop("**", {})
    out: dict[str, Any] = {}
    for name, params in profile.items():
        if name not in NODE_CONFIGS:
            raise ParamError(f"{path}: unknown node {name!r}; nodes: {', '.join(NODE_CONFIGS)}")
        merged = {k: v for k, v in shared.items() if k in ROS_PARAMS or k in _field_names(name)}
        out[name] = config_from_mapping(NODE_CONFIGS[name], {**merged, **params}, where=name)
    return out


def _field_names(node: str) -> set[str]:
    return {f.name for f in dataclasses.fields(NODE_CONFIGS[node])}
