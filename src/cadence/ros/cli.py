"""``cadence demo`` and ``cadence bringup`` (DEVELOPERS.md CLI contract: stdlib imports only here).

rclpy, MuJoCo and the nodes are imported inside the handlers, so ``cadence --help`` stays fast.
"""

from __future__ import annotations

import argparse

DEFAULT_TASK = "Visit the kitchen, then the office within 90 seconds, and keep out of the lab"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` and ``bringup`` subcommands."""
    demo = subparsers.add_parser(
        "demo",
        help="run the whole stack (sim, planner, executor, critic) through ROS 2 on one task",
        description=(
            "Run sim_node (lockstep), planner_node (rules back end), executor_node and critic_node "
            "through the real ROS 2 graph, headless and faster than real time, until the critic reports "
            "done or the horizon passes. Writes trajectory.csv, plan.json, summary.json, a map picture, a "
            "progress plot and an MP4 to --out; the last stdout line is the summary as JSON."
        ),
    )
    demo.add_argument(
        "--task",
        default=None,
        help=f"task in plain English (default in apartment: {DEFAULT_TASK!r}; in other scenes: go to the "
        "scene's first region, then its last)",
    )
    demo.add_argument(
        "--scene", default="apartment", help="shipped scene name or scene YAML (default: apartment)"
    )
    demo.add_argument("--out", default="out/demo", help="output folder (default: out/demo)")
    demo.add_argument("--seed", type=int, default=0, help="episode seed (default: 0)")
    demo.add_argument(
        "--model", default=None, help="policy model name or .onnx path (default: config/sim.yaml)"
    )
    demo.add_argument("--config", default=None, help="parameter profile YAML (default: config/sim.yaml)")
    demo.add_argument(
        "--horizon", type=float, default=None, help="max sim seconds (default: plan horizon + 30 s)"
    )
    demo.add_argument("--no-video", action="store_true", help="skip the MP4 (faster)")
    demo.set_defaults(handler=_demo)

    bringup = subparsers.add_parser(
        "bringup",
        help="start the nodes of a parameter profile (config/*.yaml) in one process with real rclpy",
        description=(
            "Start every cadence node that has a block in CONFIG (nav2-style node_name: ros__parameters:) "
            "in one process, the same YAML the launch files read; Ctrl-C shuts down cleanly."
        ),
    )
    bringup.add_argument(
        "config", help="parameter profile, e.g. config/sim.yaml (a bare name looks in config/)"
    )
    bringup.add_argument(
        "--executor",
        default="events",
        choices=("events", "single", "multi"),
        help="rclpy executor (default: events)",
    )
    bringup.add_argument("--namespace", default="", help="ROS namespace for every node")
    bringup.add_argument(
        "--only", default="", help="comma-separated node names to start (default: all in CONFIG)"
    )
    bringup.add_argument("--task", default="", help="task for planner_node (overrides the profile)")
    bringup.add_argument("--use-sim-time", action="store_true", help="set use_sim_time on every node")
    bringup.add_argument(
        "--processes",
        action="store_true",
        help="one process per node (their console scripts) instead of one process",
    )
    bringup.set_defaults(handler=_bringup)


def _demo(args: argparse.Namespace) -> int:
    from cadence.ros.demo import run_demo_cli

    return run_demo_cli(args)


def _bringup(args: argparse.Namespace) -> int:
    from cadence.ros.bringup import run_bringup_cli

    return run_bringup_cli(args)
