"""``cadence validate``: run a validation suite; exit 0 only if the policy passes (DESIGN.md, CLI).

Standard library only at module level (``cadence --help`` must stay light).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``validate`` to the ``cadence`` command."""
    p = subparsers.add_parser(
        "validate",
        help="run a MuJoCo validation suite; exit 0 iff the policy passes the gate",
        description=(
            "Run a suite from config/validation.yaml with a policy and check every threshold and the "
            "health of the simulation. Exit 0: passed; 1: failed; 2: bad input."
        ),
    )
    p.add_argument(
        "--policy", required=True, help="models/NAME.onnx or .json, or 'backup' (analytic controller)"
    )
    p.add_argument("--suite", default=None, help="suite name (default: the file's default_suite)")
    p.add_argument("--episodes", type=int, default=None, help="override the suite's episode count")
    p.add_argument(
        "--config", type=Path, default=None, help="validation YAML (default: config/validation.yaml)"
    )
    p.add_argument("--out", type=Path, default=Path("validation"), help="folder for the picture and report")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(handler=_validate)


def _validate(args: argparse.Namespace) -> int:
    from cadence.cli import CLIError
    from cadence.policy.errors import PolicyError
    from cadence.policy.runtime import load_policy
    from cadence.sim.errors import ValidationError
    from cadence.sim.gate import run_gate
    from cadence.sim.suites import load_suite

    if args.episodes is not None and args.episodes < 1:
        raise CLIError(f"--episodes must be at least 1, got {args.episodes}")
    try:
        suite = load_suite(args.suite, args.config)
    except (ValueError, ValidationError) as err:
        raise CLIError(str(err)) from err
    try:
        policy = load_policy(args.policy)
    except (PolicyError, OSError, ValueError) as err:
        report = {
            "suite": suite.name,
            "policy": args.policy,
            "passed": False,
            "failures": [f"cannot load: {err}"],
        }
        _print(report, args.json)
        return 1
    try:
        report = run_gate(policy, suite, episodes=args.episodes, out_dir=args.out, name=str(args.policy))
    except ValidationError as err:
        raise CLIError(str(err)) from err
    data = report.to_dict()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{suite.name}.json").write_text(json.dumps(data, indent=1) + "\n")
    _print(data, args.json)
    return 0 if report.passed else 1


def _print(report: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report))
        return
    verdict = "PASSED" if report["passed"] else "FAILED"
    print(f"validation suite {report['suite']!r}, policy {report['policy']}: {verdict}")
    for c in report.get("checks", []):
        sign = ">=" if c["op"] == "min" else "<="
        mark = "ok  " if c["passed"] else "FAIL"
        value = "n/a" if c["value"] is None else f"{c['value']:.4g}"
        print(f"  {mark} {c['name']:<24} {value:>10}  ({sign} {c['limit']:g})")
    m = report.get("metrics", {})
    if m:
        print(
            f"  health: nan_obs={m['nan_observations']} nan_actions={m['nan_actions']} "
            f"unstable={m['unstable_episodes']} mujoco_warnings={m['mujoco_warnings'] or 0} "
            f"steps={m['steps']} wall={m['wall_time_s']:.1f}s"
        )
    for f in report.get("failures", []):
        print(f"  failure: {f}", file=sys.stderr)
    if report.get("picture"):
        print(f"  picture: {report['picture']}")
