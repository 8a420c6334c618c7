"""``cadence demo``: one task through the whole stack over the real ROS 2 graph, headless.

sim_node (lockstep), planner_node (rules back end), executor_node (the shipped ONNX policy, or the
backup controller when it is missing — logged) and critic_node run in this process on one
EventsExecutor, configured from the same profile YAML as ``cadence bringup`` / the launch files
(default ``config/sim.yaml``), plus a recorder node. The run stops when the critic reports done or
the horizon passes; :mod:`cadence.ros.demo_outputs` then writes the episode record.

DDS isolation: unless ``ROS_DOMAIN_ID`` is set, the demo picks a random domain so two demos on one
host never hear each other.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

HORIZON_MARGIN_S = 30.0  # sim seconds beyond the plan's horizon before the demo gives up
PLAN_WAIT_HORIZON_S = 300.0  # horizon used until a plan arrives
WALL_LIMIT_S = 900.0
SETTLE_S = 5.0  # sim seconds the demo runs on after the critic's done, until the executor holds


def default_task(scene: Any) -> str:
    """The demo's task when none is given: the headline task in the apartment, else a two-stop tour."""
    from cadence.ros.cli import DEFAULT_TASK

    if scene.name == "apartment":
        return DEFAULT_TASK
    first, last = scene.regions[0].name, scene.regions[-1].name
    return f"Go to {first.replace('_', ' ')}, then {last.replace('_', ' ')}"


def demo_parameters(
    config: str | None, scene: str, task: str, seed: int, model: str | None
) -> dict[str, dict[str, Any]]:
    """The profile's node parameters with the demo's overrides (lockstep sim, autostart executor)."""
    from cadence.ros.bringup import node_parameters, resolve_profile
    from cadence.ros.config import load_profile

    profile = load_profile(resolve_profile(config or "sim"))
    overrides: dict[str, dict[str, Any]] = {
        "sim_node": {"scene": scene, "seed": seed, "mode": "lockstep", "publish_camera": False},
        # plan inside the callbacks: replans then take over at the same sim step in every run
        "planner_node": {"scene": scene, "task": task, "worker_thread": False},
        "executor_node": {"autostart": True, "trigger": "observation"},
        "critic_node": {"scene": scene},
    }
    if model:
        overrides["executor_node"]["model"] = model
    missing = [n for n in overrides if n not in profile]
    if missing:
        from cadence.ros.errors import BringupError

        raise BringupError(f"profile has no block for {', '.join(missing)}; the demo needs all four nodes")
    return node_parameters(profile, overrides)


def run_demo(
    task: str | None,
    scene: str = "apartment",
    out: str | Path = "out/demo",
    seed: int = 0,
    model: str | None = None,
    config: str | None = None,
    horizon: float | None = None,
    video: bool = True,
    log: Any = None,
) -> dict[str, Any]:
    """Run one demo episode and write its record; returns the summary.

    Raises:
        BringupError / ParamError: bad profile or parameters (before anything starts).
        DemoFailed: the planner refused the task, or the graph did not run.
    """
    import rclpy

    from cadence.planner.scene import load_scene
    from cadence.ros.bringup import create_nodes
    from cadence.ros.demo_outputs import write_outputs
    from cadence.ros.executors import make_executor
    from cadence.ros.recorder import EpisodeRecorder

    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    scene_obj = load_scene(scene)  # fail early with the list of scenes
    task = task or default_task(scene_obj)
    params = demo_parameters(config, scene, task, seed, model)
    out = Path(out)
    domain = int(os.environ.get("ROS_DOMAIN_ID") or random.SystemRandom().randint(101, 199))
    context = rclpy.Context()
    rclpy.init(args=[], context=context, domain_id=domain)
    wall0 = time.perf_counter()
    nodes: list[Any] = []
    executor = None
    try:
        recorder = EpisodeRecorder(context=context)
        nodes = [recorder, *create_nodes(params, context=context)]
        executor = make_executor("events", context=context)
        for node in nodes:
            executor.add_node(node)
        log(f"cadence demo: {task!r} in {scene_obj.name!r} (seed {seed}, ROS domain {domain})")
        executor_node = next(n for n in nodes if n.get_name() == "executor_node")
        stop = _spin_until_done(executor, recorder, executor_node, horizon, wall0, context)
        controller = executor_node.model_name
        core = executor_node.core
        counts = {
            "decisions": core.decisions if core is not None else recorder.decisions,
            "backup_switches": core.switch.switches if core is not None else 0,
            "safety_holds": core.safety.counters.holds if core is not None else 0,
        }
        wall = time.perf_counter() - wall0
    finally:
        if executor is not None:
            executor.shutdown()
        for node in nodes:
            node.destroy_node()
        rclpy.try_shutdown(context=context)
    if recorder.refused is not None:
        raise DemoFailed(f"the planner refused the task: {recorder.refused}")
    if not recorder.plans or len(recorder.rows) < 2:
        raise DemoFailed(
            f"the graph did not run (plans: {len(recorder.plans)}, samples: {len(recorder.rows)}); {stop}"
        )
    return write_outputs(
        out,
        scene_obj,
        recorder,
        task=task,
        seed=seed,
        wall_time_s=wall,
        controller=controller,
        counts=counts,
        stop=stop,
        video=video,
    )


class DemoFailed(RuntimeError):
    """The demo could not produce an episode (planner refusal, a graph that did not run)."""


def _spin_until_done(
    executor: Any, recorder: Any, executor_node: Any, horizon: float | None, wall0: float, context: Any
) -> str:
    """Spin until the critic says done, the sim horizon passes, the planner refuses or time runs out.

    After the critic's done, the graph runs on for at most ``SETTLE_S`` sim seconds until the
    executor has met every subgoal with its margin and holds (the robot comes to rest inside the
    last region instead of being frozen on its boundary).
    """
    from rclpy.executors import ExternalShutdownException

    from cadence.planner.plan import Plan

    limit = horizon
    try:
        while context.ok():
            executor.spin_once(timeout_sec=0.1)
            if recorder.done_t is not None:
                core = executor_node.core
                settled = core is not None and core.follower is not None and core.follower.done
                if settled or recorder.sim_time >= recorder.done_t + SETTLE_S:
                    return f"critic reported done at t={recorder.done_t:.2f} s"
            if recorder.refused is not None:
                return "planner refused the task"
            if limit is None:
                limit = (
                    Plan.from_json(recorder.plans[0]).horizon + HORIZON_MARGIN_S if recorder.plans else None
                )
            if recorder.sim_time >= (limit if limit is not None else PLAN_WAIT_HORIZON_S):
                return f"horizon {recorder.sim_time:.1f} s passed"
            if time.perf_counter() - wall0 > WALL_LIMIT_S:
                return f"wall-clock limit {WALL_LIMIT_S:.0f} s reached"
    except (KeyboardInterrupt, ExternalShutdownException):
        return "interrupted"
    return "ROS context shut down"


def run_demo_cli(args: argparse.Namespace) -> int:
    """Handler of ``cadence demo``: run, write, print the summary JSON as the last stdout line."""
    from cadence.cli import CLIError
    from cadence.planner.errors import SceneError
    from cadence.ros.errors import RosError

    try:
        summary = run_demo(
            args.task,
            scene=args.scene,
            out=args.out,
            seed=args.seed,
            model=args.model,
            config=args.config,
            horizon=args.horizon,
            video=not args.no_video,
        )
    except (RosError, SceneError, ValueError, DemoFailed) as err:
        raise CLIError(str(err)) from err
    for key in ("satisfied", "robustness", "success", "sim_time_s", "wall_time_s", "decisions", "replans"):
        print(f"{key:>12}: {summary[key]}", file=sys.stderr)
    print(f"{'files':>12}: {args.out}", file=sys.stderr)
    print(json.dumps(summary), flush=True)
    return 0
