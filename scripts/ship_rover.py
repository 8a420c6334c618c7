"""Pick the best checkpoint of a rover training run by the validation gate and ship it.

    .venv/bin/python scripts/ship_rover.py runs/rover_srl-s0 [--out models/rover_srl.onnx]

Every ``checkpoints/*.pt`` of the run is exported and run on the default (smoke) suite; those that
pass run the ``full`` suite (all three scenes) and, when they pass it too, ``dock``. Among the
checkpoints that pass all three, the one with the fewest failed episodes (collision rate plus
failure rate, summed over full and dock), then the shortest mean time to goal on full, is exported
to ``--out`` with the three reports in the manifest's ``metrics``. Exit 1 when no checkpoint passes
all three suites. (RL checkpoints oscillate; the periodic evaluation inside training uses few
episodes, so the gate itself makes the choice.)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cadence.cli import main as cadence

KEYS = ("success_rate", "collision_rate", "mean_time_to_goal")


def validate(policy: Path, suite: str, out: Path) -> dict:
    report = out / f"validate_{suite}.json"
    out.mkdir(parents=True, exist_ok=True)
    with report.open("w") as fh:
        stdout, sys.stdout = sys.stdout, fh
        try:
            cadence(["validate", "--policy", str(policy), "--suite", suite, "--json", "--out", str(out)])
        finally:
            sys.stdout = stdout
    return json.loads(report.read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="a `cadence train` output folder")
    parser.add_argument("--out", type=Path, default=Path("models/rover_srl.onnx"))
    args = parser.parse_args()
    checkpoints = sorted((args.run / "checkpoints").glob("*.pt"))
    if not checkpoints:
        print(f"no checkpoints in {args.run}/checkpoints", file=sys.stderr)
        return 1
    ranked = []
    for ckpt in checkpoints:
        cand = args.run / "candidates" / ckpt.stem
        onnx = cand / "policy.onnx"
        if cadence(["export", str(ckpt), "--out", str(onnx)]) != 0:
            continue
        report = validate(onnx, "smoke", cand)
        m = report.get("metrics", {})
        print(
            f"{ckpt.name}: passed={report['passed']} {json.dumps({k: m.get(k) for k in ('success_rate', 'collision_rate', 'mean_time_to_goal')})}"
        )
        if not report["passed"]:
            continue
        full = validate(onnx, "full", cand)
        f = full.get("metrics", {})
        print(f"  full: passed={full['passed']} {json.dumps({k: f.get(k) for k in KEYS})}")
        if not full["passed"]:
            continue
        dock = validate(onnx, "dock", cand)
        d = dock.get("metrics", {})
        print(f"  dock: passed={dock['passed']} {json.dumps({k: d.get(k) for k in KEYS})}")
        if dock["passed"]:
            bad = sum(r["collision_rate"] + 1.0 - r["success_rate"] for r in (f, d))
            ranked.append((bad, f["mean_time_to_goal"], ckpt, cand))
    if not ranked:
        print("no checkpoint passes the smoke, full and dock suites", file=sys.stderr)
        return 1
    *_, best, cand = min(ranked)
    print(f"best: {best.name}")
    reports = {f"validate_{s}": cand / f"validate_{s}.json" for s in ("smoke", "full", "dock")}
    argv = ["export", str(best), "--out", str(args.out)]
    for name, path in reports.items():
        argv += ["--metrics", f"{name}={path}"]
    if cadence(argv) != 0:
        return 1
    print(f"shipped {best} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
