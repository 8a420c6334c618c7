"""``cadence plan TEXT [--scene NAME] [--backend rules|llama|openai] ...``: plan JSON on stdout.

Standard library only at module level (DEVELOPERS.md "CLI"); the planner is imported in the handler.
"""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "plan",
        help="plan a task: STL subgoals and waypoints as JSON",
        description="Turn a task into a validated plan (STL spec, timed subgoals, waypoints); prints JSON.",
    )
    p.add_argument(
        "task", metavar="TEXT", help="the task, e.g. 'go to the kitchen then the dock within 60 s'"
    )
    p.add_argument("--scene", default="apartment", help="scene name or YAML path (default: apartment)")
    p.add_argument(
        "--backend", default="rules", metavar="rules|openai|llama", help="planner back end (default: rules)"
    )
    p.add_argument("--base-url", help="openai: server root incl. /v1, e.g. http://127.0.0.1:11434/v1")
    p.add_argument("--model", help="openai: model name; llama: path to a .gguf file")
    p.add_argument(
        "--api-key-env", help="openai: environment variable with the API key (default OPENAI_API_KEY)"
    )
    p.add_argument("--timeout", type=float, help="openai: seconds per request")
    p.add_argument(
        "--no-fallback", action="store_true", help="do not fall back to rules when the model fails"
    )
    p.add_argument(
        "--pose", type=float, nargs=3, metavar=("X", "Y", "YAW"), help="start pose (default: the scene's)"
    )
    p.add_argument("--image", help="openai: a JPEG camera frame to send with the task")
    p.add_argument("--indent", type=int, default=2, help="JSON indent (0: one line)")
    p.set_defaults(handler=run)


def _config(args: argparse.Namespace) -> dict:
    config: dict = {}
    if args.backend == "openai":
        for key, value in (
            ("base_url", args.base_url),
            ("model", args.model),
            ("api_key_env", args.api_key_env),
        ):
            if value is not None:
                config[key] = value
        if args.timeout is not None:
            config["timeout_s"] = args.timeout
    elif args.backend == "llama" and args.model is not None:
        config["model_path"] = args.model
    if args.no_fallback and args.backend != "rules":
        config["fallback"] = None
    return config


def run(args: argparse.Namespace) -> int:
    from cadence.cli import CLIError
    from cadence.planner.backends import make_backend
    from cadence.planner.errors import PlannerError
    from cadence.planner.planner import Planner
    from cadence.planner.scene import load_scene

    try:
        scene = load_scene(args.scene)
        backend = make_backend(args.backend, **_config(args))
        image = None
        if args.image:
            with open(args.image, "rb") as f:
                image = f.read()
        plan = Planner(scene, backend).plan(args.task, args.pose, image)
    except (ValueError, OSError, PlannerError) as err:
        raise CLIError(str(err)) from err
    sys.stdout.write(json.dumps(plan.to_dict(), indent=args.indent or None, allow_nan=False) + "\n")
    return 0
