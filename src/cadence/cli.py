"""The `cadence` command.

Every subcommand lives in its concern's ``cli.py`` (``cadence.stl.cli`` ...), which exposes
``register(subparsers)``. Those modules import only the standard library at module level: heavy
imports (torch, MuJoCo, rclpy) happen inside the handler, so ``cadence --help`` and
``cadence stl ...`` start fast.

Handlers return an exit code. A handler raises :class:`CLIError` for bad user input; ``main``
prints it as one paragraph (no traceback) and exits with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence

from cadence import __version__

# Modules that contribute subcommands, in the order `--help` lists them.
COMMAND_MODULES = (
    "cadence.ros.cli",  # demo, bringup
    "cadence.planner.cli",  # plan
    "cadence.stl.cli",  # stl robustness | decompose
    "cadence.sim.cli",  # validate
    "cadence.learn.cli",  # train, export
    "cadence.learn.retrain_cli",  # retrain
    "cadence.data.cli",  # bag info | convert, record
)


class CLIError(Exception):
    """Bad user input: printed without a traceback, exit status 2."""


def positive_int(text: str) -> int:
    """argparse type for counts (steps, episodes): a whole number > 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cadence",
        description="cadence: STL planning, sequence-RL execution and MuJoCo validation for ROS 2 robots.",
    )
    parser.add_argument("--version", action="version", version=f"cadence {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        if importlib.util.find_spec(module_name) is None:
            continue
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args) or 0)
    except CLIError as err:
        print(f"cadence {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"cadence {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `cadence ... | head`: the reader left. Point stdout at /dev/null so the interpreter's
        # final flush does not raise again, and exit like other Unix tools do on SIGPIPE.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy: handlers raise cadence.cli.CLIError,
    # which is a different class from this copy's CLIError.
    from cadence.cli import main as _main

    sys.exit(_main())
