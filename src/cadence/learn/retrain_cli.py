"""``cadence retrain`` (DEVELOPERS.md, "CLI": standard library only at module level).

Exit status: 0 when the retrained model was promoted, 1 when it was exported and validated but
not promoted (the report says why; the registry is untouched), 2 for bad input (nothing written).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from cadence.cli import positive_int


def register(subparsers: Any) -> None:
    """Add ``retrain``."""
    p = subparsers.add_parser(
        "retrain",
        help="retrain the policy from rosbag2 bags (offline TD3+BC), validate it and promote it if not worse",
        description="Convert the bags to a dataset, train the SRL actor offline with TD3+BC (from --base "
        "when given), export ONNX + manifest with lineage, validate it with the gate, and make it the "
        "current model in the registry only if it passes the gate and is not worse than the current model "
        "on the same suite. Exit 0 promoted, 1 not promoted, 2 bad input.",
    )
    p.add_argument("--bags", nargs="+", type=Path, required=True, metavar="BAG", help="rosbag2 folders")
    p.add_argument("--out", type=Path, required=True, help="destination models/NAME.onnx (+ NAME.json)")
    p.add_argument("--base", type=Path, default=None, help="ONNX policy to start from (default: fresh actor)")
    p.add_argument("--steps", type=positive_int, default=2000, help="TD3+BC gradient steps (default 2000)")
    p.add_argument("--suite", default=None, help="validation suite (default: config/validation.yaml's)")
    p.add_argument("--episodes", type=positive_int, default=None, help="override the suite's episode count")
    p.add_argument(
        "--registry", type=Path, default=None, help="model registry (default: models/registry.json)"
    )
    p.add_argument("--scene", default=None, help="scene for plans naming one this install lacks")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--tolerance",
        type=float,
        default=None,
        help="allowed drop of success and STL satisfaction rates vs the current model (default 0.05)",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override an OfflineConfig field, e.g. --set alpha=1.0 (repeatable)",
    )
    p.add_argument("--gate-out", type=Path, default=None, help="write the gate's picture here")
    p.add_argument(
        "--dataset",
        type=Path,
        default=None,
        help="keep the converted dataset in this new folder (default: temporary)",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(handler=_retrain)


def _retrain(args: argparse.Namespace) -> int:
    from cadence.cli import CLIError
    from cadence.learn.errors import LearnError
    from cadence.learn.retrain import RetrainInputError, RetrainOptions, retrain

    overrides = []
    for item in args.overrides:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CLIError(f"--set expects KEY=VALUE, got {item!r}")
        overrides.append((key.strip(), value.strip()))
    opts = RetrainOptions(
        bags=tuple(args.bags),
        out=args.out,
        base=args.base,
        steps=args.steps,
        suite=args.suite,
        episodes=args.episodes,
        registry=args.registry,
        scene=args.scene,
        seed=args.seed,
        tolerance=args.tolerance,
        overrides=tuple(overrides),
        gate_out=args.gate_out,
        dataset=args.dataset,
        progress=not args.no_progress and sys.stderr.isatty(),
        command=_command_line(),
    )
    try:
        report = retrain(opts)
    except RetrainInputError as err:
        raise CLIError(str(err)) from err
    except LearnError as err:
        print(f"cadence retrain: failed: {err}", file=sys.stderr)
        return 1
    print(json.dumps(report.to_json(), indent=2) if args.json else report.format())
    return 0 if report.promoted else 1


def _command_line() -> str:
    """The command as typed, for the lineage (empty when not run as ``cadence``)."""
    if Path(sys.argv[0]).name not in ("cadence", "cli.py", "__main__.py"):
        return ""
    return "cadence " + " ".join(shlex.quote(a) for a in sys.argv[1:])
