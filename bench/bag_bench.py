"""Ingest throughput and peak memory of `cadence bag convert` vs rosbags deserialisation alone (issue 8).

Generates a robot-like bag of at least 200k messages (odom, scan, cmd_vel, executor/sequence,
critic/progress, task, plan) and one 4x its size, then, each in a fresh subprocess:

* ``deserialize``: rosbags ``AnyReader`` reading and deserialising every message (the baseline);
* ``convert``: ``cadence.data.convert.convert_bags`` (read, decode, align, build observations, write
  the parquet dataset).

Throughput is messages in the bag / seconds of work; peak memory is the subprocess's ru_maxrss.
Targets: convert >= 0.5x the deserialise-only rate; peak RSS that does not grow with bag size.

    nice -n 10 .venv/bin/python bench/bag_bench.py [--messages 200000] [--storage mcap]

Last line: one JSON object with ``ingest_vs_deserialize``, ``peak_rss_mb_small``, ``peak_rss_mb_large``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STEPS = 600  # control ticks per synthetic episode (30 s)
MSGS_PER_EPISODE = 2 + (STEPS + 1) * 2 + STEPS + 2 * (STEPS // 8)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def worker(mode: str, bag: str, out: str) -> None:
    """Run one measurement in this (fresh) process and print a JSON line."""
    if mode == "deserialize":
        from rosbags.highlevel import AnyReader

        t0 = time.perf_counter()
        n = 0
        with AnyReader([Path(bag)]) as reader:
            for conn, _, raw in reader.messages():
                reader.deserialize(raw, conn.msgtype)
                n += 1
        seconds = time.perf_counter() - t0
        result = {"messages": n}
    else:
        # Imports outside the timer on both sides (the baseline imports rosbags before its timer);
        # convert_bags imports these lazily, about 1 s here.
        import importlib

        for name in (
            "cadence.planner.plan",
            "cadence.planner.scene",
            "cadence.policy.observation",
            "cadence.policy.mission",
            "cadence.stl.robustness",
            "pyarrow.parquet",
            "tqdm",
        ):
            importlib.import_module(name)
        from cadence.data.convert import convert_bags

        t0 = time.perf_counter()
        report = convert_bags([bag], out)
        seconds = time.perf_counter() - t0
        bag_report = report.bags[0]
        if not bag_report.ok:
            raise SystemExit(f"convert failed: {bag_report.error}")
        result = {
            "messages": bag_report.messages,
            "transitions": report.transitions,
            "episodes": report.episodes,
        }
    print(
        json.dumps(
            {**result, "seconds": seconds, "rate": result["messages"] / seconds, "peak_rss_mb": _rss_mb()}
        )
    )


def _run(mode: str, bag: Path, out: Path) -> dict:
    cmd = [sys.executable, __file__, "--worker", mode, str(bag), str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} worker failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _generate(path: Path, messages: int, storage: str) -> int:
    from cadence.data.synthetic import write_synthetic_bag

    episodes = -(-messages // MSGS_PER_EPISODE)
    return write_synthetic_bag(path, storage=storage, episodes=episodes, steps=STEPS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000, help="messages in the small bag")
    parser.add_argument("--storage", choices=("mcap", "sqlite3"), default="mcap")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (best rate is kept)")
    parser.add_argument("--worker", nargs=3, metavar=("MODE", "BAG", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    with tempfile.TemporaryDirectory(prefix="bag_bench_") as tmp:
        root = Path(tmp)
        sizes = {}
        for name, factor in (("small", 1), ("large", 4)):
            t0 = time.perf_counter()
            sizes[name] = _generate(root / name, args.messages * factor, args.storage)
            print(
                f"generated {name} bag: {sizes[name]} messages in {time.perf_counter() - t0:.1f} s",
                flush=True,
            )
        results: dict[str, dict] = {}
        for name in ("small", "large"):
            runs: dict[str, list[dict]] = {"deserialize": [], "convert": []}
            for i in range(args.repeats):  # interleaved, so load from other processes hits both alike
                for mode in runs:
                    runs[mode].append(_run(mode, root / name, root / f"ds_{name}_{mode}_{i}"))
            for mode, rs in runs.items():
                best = max(rs, key=lambda r: r["rate"])
                best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in rs)
                results[f"{name}_{mode}"] = best
                extra = f"  {best.get('transitions')} transitions" if mode == "convert" else ""
                print(
                    f"{name:5s} {mode:11s} {best['messages']:8d} msgs  {best['rate']:9.0f} msg/s  "
                    f"peak RSS {best['peak_rss_mb']:.0f} MB (best of {len(rs)}){extra}",
                    flush=True,
                )
    ratio = results["small_convert"]["rate"] / results["small_deserialize"]["rate"]
    ratio_large = results["large_convert"]["rate"] / results["large_deserialize"]["rate"]
    print(
        f"convert / deserialize-only rate: {ratio:.2f}x (small), {ratio_large:.2f}x (large); target >= 0.5x"
    )
    print(
        f"peak RSS convert: {results['small_convert']['peak_rss_mb']:.0f} MB small, "
        f"{results['large_convert']['peak_rss_mb']:.0f} MB large (4x the messages)"
    )
    print(
        json.dumps(
            {
                "messages_small": sizes["small"],
                "messages_large": sizes["large"],
                "convert_msg_per_s": round(results["small_convert"]["rate"]),
                "deserialize_msg_per_s": round(results["small_deserialize"]["rate"]),
                "ingest_vs_deserialize": round(ratio, 3),
                "ingest_vs_deserialize_large": round(ratio_large, 3),
                "peak_rss_mb_small": round(results["small_convert"]["peak_rss_mb"], 1),
                "peak_rss_mb_large": round(results["large_convert"]["peak_rss_mb"], 1),
                "peak_rss_mb_deserialize_small": round(results["small_deserialize"]["peak_rss_mb"], 1),
                "peak_rss_mb_deserialize_large": round(results["large_deserialize"]["peak_rss_mb"], 1),
            }
        )
    )


if __name__ == "__main__":
    main()
