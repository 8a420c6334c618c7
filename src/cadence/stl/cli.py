"""``cadence stl robustness`` and ``cadence stl decompose`` (DEVELOPERS.md "CLI").

Module level imports are standard library only; numpy and the engine load inside the handlers.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path
from typing import Any

# Relative tolerance on the spacing of the `t` column (CSV round-off, not real jitter).
_UNIFORM_RTOL = 1e-6


def register(subparsers: Any) -> None:
    """Add ``stl`` with its ``robustness`` and ``decompose`` subcommands."""
    stl = subparsers.add_parser("stl", help="STL robustness of a trace, decomposition into subgoals")
    stl_sub = stl.add_subparsers(dest="stl_command", metavar="STL_COMMAND")
    stl.set_defaults(handler=lambda args: _usage(stl))

    rob = stl_sub.add_parser(
        "robustness",
        help="print the robustness at t=0 of a CSV trace (rtamt's discrete-time semantics)",
        description="Robustness at t=0 of SPEC on the trace, as one float. The CSV has a header, a "
        "`t` column (seconds, uniform sampling: the sampling period is its spacing) and one column "
        "per signal. Time bounds in SPEC are seconds and must be multiples of the sampling period.",
    )
    _spec_args(rob)
    rob.add_argument(
        "--trace", required=True, metavar="FILE.csv", help="trace: t column + one column per signal"
    )
    rob.set_defaults(handler=_robustness)

    dec = stl_sub.add_parser(
        "decompose",
        help="print the timed reach subgoals and invariants of a spec as JSON",
        description="Split SPEC into timed reach subgoals (eventually, nested sequences, dwell, "
        "disjunctive options) and invariants (always, until), printed as JSON. See docs/stl.md.",
    )
    _spec_args(dec)
    dec.set_defaults(handler=_decompose)


def _spec_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--spec", help='STL text, e.g. "always[0:10](x < 5) and eventually[0:20](y > 2)"')
    group.add_argument("--spec-file", metavar="FILE", help="read the STL text from a file")


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _load_spec(args: argparse.Namespace) -> Any:
    from cadence.cli import CLIError
    from cadence.stl import STLError, parse

    text = args.spec
    if args.spec_file is not None:
        try:
            text = Path(args.spec_file).read_text()
        except OSError as err:
            raise CLIError(f"cannot read spec file {args.spec_file}: {err.strerror or err}") from err
    try:
        return parse(text)
    except STLError as err:
        raise CLIError(f"bad spec: {err}") from err


def read_trace(path: str) -> tuple[dict[str, list[float]], float]:
    """Read a trace CSV: columns by header name and the sampling period from the ``t`` column.

    Raises:
        CLIError: unreadable file, no ``t`` column, non-numbers, NaN, fewer than two rows, or
            non-uniform / non-increasing ``t``.
    """
    from cadence.cli import CLIError

    try:
        with open(path, newline="") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError) as err:
        raise CLIError(f"cannot read trace {path}: {getattr(err, 'strerror', None) or err}") from err
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise CLIError(f"trace {path} is empty; expected a header line with a `t` column")
    header = [h.strip() for h in rows[0]]
    if "t" not in header:
        raise CLIError(f"trace {path} has no `t` column (columns: {', '.join(header)})")
    columns: dict[str, list[float]] = {name: [] for name in header}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise CLIError(f"trace {path} line {line}: {len(row)} fields, the header has {len(header)}")
        for name, cell in zip(header, row, strict=True):
            try:
                value = float(cell)
            except ValueError:
                raise CLIError(f"trace {path} line {line}, column {name}: {cell!r} is not a number") from None
            if math.isnan(value):
                raise CLIError(f"trace {path} line {line}, column {name}: NaN in the trace")
            columns[name].append(value)
    return columns, _sampling_period(path, columns["t"])


def _sampling_period(path: str, t: list[float]) -> float:
    from cadence.cli import CLIError

    if len(t) < 2:
        raise CLIError(f"trace {path} needs at least two samples to define the sampling period")
    dt = (t[-1] - t[0]) / (len(t) - 1)
    if not dt > 0:
        raise CLIError(f"trace {path}: the `t` column must increase")
    for i in range(1, len(t)):
        step = t[i] - t[i - 1]
        if abs(step - dt) > _UNIFORM_RTOL * dt + 1e-12:
            raise CLIError(
                f"trace {path}: `t` is not uniformly sampled (step {step:g} s between lines {i + 1} and "
                f"{i + 2}, average {dt:g} s); resample the trace to a fixed period"
            )
    return dt


def _robustness(args: argparse.Namespace) -> int:
    from cadence.cli import CLIError
    from cadence.stl import STLError, robustness_at_zero

    formula = _load_spec(args)
    columns, dt = read_trace(args.trace)
    missing = sorted(formula.signals - set(columns))
    if missing:
        available = ", ".join(c for c in columns if c != "t")
        raise CLIError(f"trace {args.trace} lacks column(s) {', '.join(missing)} (it has: {available})")
    duration = columns["t"][-1] - columns["t"][0]
    if math.isfinite(formula.horizon) and formula.horizon > duration + 1e-9 * max(1.0, duration):
        raise CLIError(
            f"the spec looks {formula.horizon:g} s ahead but the trace {args.trace} covers only "
            f"{duration:g} s; record a longer trace or shorten the time bounds"
        )
    try:
        value = robustness_at_zero(formula, {name: columns[name] for name in formula.signals}, dt)
    except STLError as err:
        raise CLIError(str(err)) from err
    print(repr(float(value)))
    return 0


def _decompose(args: argparse.Namespace) -> int:
    from cadence.cli import CLIError
    from cadence.stl import STLError
    from cadence.stl.decompose import decompose

    formula = _load_spec(args)
    try:
        result = decompose(formula)
    except STLError as err:
        raise CLIError(str(err)) from err
    print(json.dumps(result.to_dict(), indent=2))
    return 0
