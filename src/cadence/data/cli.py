"""``cadence bag info|convert`` and ``cadence record`` (issue 8).

Module level imports are standard library only (DEVELOPERS.md, CLI contract); rosbags, pyarrow,
MuJoCo and friends are imported inside the handlers.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``bag`` (``info``, ``convert``) and ``record`` to the ``cadence`` command."""
    bag = subparsers.add_parser("bag", help="inspect rosbag2 bags and convert them to datasets")
    bag_sub = bag.add_subparsers(dest="bag_command", metavar="BAG_COMMAND")
    bag.set_defaults(handler=lambda args: _no_subcommand(bag))

    info = bag_sub.add_parser("info", help="topics, types, counts (read and decoded) and duration of a bag")
    info.add_argument("bag", help="bag folder (holding metadata.yaml)")
    info.add_argument("--json", action="store_true", help="print the JSON object of DESIGN.md 'Formats'")
    info.set_defaults(handler=_info)

    convert = bag_sub.add_parser("convert", help="turn bags into a cadence offline-RL dataset")
    convert.add_argument("bags", nargs="+", help="bag folders")
    convert.add_argument("--out", required=True, help="dataset folder to create (must not exist)")
    convert.add_argument(
        "--scene", default=None, help="scene to use when a plan names one this install does not have"
    )
    convert.add_argument("--k", type=int, default=8, help="actions per executor sequence (default 8)")
    convert.add_argument("--json", action="store_true", help="print the report as JSON")
    convert.add_argument("--no-progress", action="store_true", help="no progress bar")
    convert.set_defaults(handler=_convert)

    record = subparsers.add_parser("record", help="record sim episodes to a rosbag2 bag (robot topics)")
    record.add_argument("--task", required=True, help="task text, as sent on the `task` topic")
    record.add_argument("--episodes", type=int, default=1, help="number of episodes (default 1)")
    record.add_argument("--out", required=True, help="bag folder to create (must not exist)")
    record.add_argument("--storage", choices=("mcap", "sqlite3"), default="mcap", help="storage plugin")
    record.add_argument("--scene", default=None, help="scene name (default: apartment)")
    record.add_argument("--policy", default=None, help="ONNX policy (default: the backup controller)")
    record.add_argument("--seed", type=int, default=0, help="first episode seed")
    record.set_defaults(handler=_record)


def _no_subcommand(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _setup_logging() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s", stream=sys.stderr)


def _info(args: argparse.Namespace) -> int:
    from cadence.cli import CLIError
    from cadence.data.errors import BagError
    from cadence.data.info import bag_info, format_info

    _setup_logging()
    try:
        info = bag_info(args.bag)
    except BagError as err:
        raise CLIError(str(err)) from err
    print(json.dumps(info.to_json(), indent=2) if args.json else format_info(info))
    if info.mismatches:
        names = ", ".join(
            f"{t.name} ({t.count} read, {t.metadata_count} in metadata.yaml)" for t in info.mismatches
        )
        print(
            f"cadence bag info: error: bag {args.bag}: counts do not match metadata.yaml: {names}",
            file=sys.stderr,
        )
        return 1
    return 0


def _convert(args: argparse.Namespace) -> int:
    from cadence.cli import CLIError
    from cadence.data.align import AlignConfig
    from cadence.data.convert import convert_bags
    from cadence.data.errors import DataError

    _setup_logging()
    if args.k < 1:
        raise CLIError(f"--k must be at least 1, got {args.k}")
    try:
        cfg = AlignConfig(k=args.k)
        report = convert_bags(args.bags, args.out, scene=args.scene, progress=not args.no_progress, cfg=cfg)
    except DataError as err:
        raise CLIError(str(err)) from err
    print(json.dumps(report.to_json(), indent=2) if args.json else report.format())
    return 0 if report.episodes else 1


def _record(args: argparse.Namespace) -> int:
    from cadence.cli import CLIError
    from cadence.data.errors import DataError
    from cadence.data.record import record_episodes

    _setup_logging()
    if args.episodes < 1:
        raise CLIError(f"--episodes must be at least 1, got {args.episodes}")
    try:
        summary = record_episodes(
            task=args.task,
            episodes=args.episodes,
            out=args.out,
            storage=args.storage,
            scene=args.scene,
            policy=args.policy,
            seed=args.seed,
        )
    except (DataError, ValueError) as err:
        raise CLIError(str(err)) from err
    print(summary)
    return 0
