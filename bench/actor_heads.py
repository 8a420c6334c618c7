"""Batch-1 ``act`` latency of the two SRL actor heads through the policy loader (issue 4).

Exports a GRU actor (``cadence train --actor gru``: K steps unrolled) and an MLP actor of the same
width with random weights, loads both with :func:`cadence.policy.runtime.load_policy` (which picks
the fastest verified backend: numba / numpy / ONNX Runtime), and times ``act`` back to back, then the
shipped policy for reference. Prints one line per head and a final JSON line.

    .venv/bin/python bench/actor_heads.py
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from cadence.learn.export import export_policy
from cadence.learn.networks import make_actor
from cadence.policy.observation import ObservationLayout
from cadence.policy.runtime import load_policy
from cadence.sim import robot

SHIPPED = Path(__file__).resolve().parents[1] / "models" / "rover_srl.onnx"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--k", type=int, default=robot.DEFAULT_K)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--iters", type=int, default=5000)
    args = parser.parse_args()
    torch.manual_seed(0)
    layout = ObservationLayout()
    low, high = np.array(robot.ACTION_LOW), np.array(robot.ACTION_HIGH)
    obs = np.random.default_rng(0).normal(size=(1, layout.obs_dim)).astype(np.float32)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for kind in ("mlp", "gru"):
            actor = make_actor(kind, layout.obs_dim, low, high, args.k, args.hidden).eval()
            paths[kind] = Path(tmp) / f"{kind}.onnx"
            export_policy(actor, layout, args.k, paths[kind])
        if SHIPPED.is_file():
            paths["shipped"] = SHIPPED
        for name, path in paths.items():
            policy = load_policy(path)
            for _ in range(500):
                policy.act(obs)
            times = np.empty(args.iters)
            for i in range(args.iters):
                t0 = time.perf_counter_ns()
                policy.act(obs)
                times[i] = (time.perf_counter_ns() - t0) / 1e3
            results[name] = {
                "backend": policy.backend,
                "p50_us": round(float(np.percentile(times, 50)), 1),
                "p99_us": round(float(np.percentile(times, 99)), 1),
            }
            r = results[name]
            print(
                f"{name:8s} backend {r['backend']:12s} p50 {r['p50_us']:7.1f} us  p99 {r['p99_us']:7.1f} us"
            )
    ratio = results["gru"]["p50_us"] / results["mlp"]["p50_us"]
    print(f"GRU / MLP at p50: {ratio:.1f}x")
    print(
        json.dumps(
            {"bench": "actor_heads", "k": args.k, "hidden": args.hidden, **results, "gru_over_mlp_p50": ratio}
        )
    )


if __name__ == "__main__":
    main()
