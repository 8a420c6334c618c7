"""STL robustness: cadence's batched numpy engine vs rtamt, same traces, same run.

1000 traces x 500 steps (dt = 1 s, rtamt's default sampling period), full robustness signals, for
the issue's two-operator spec and a nested spec with ``until``. rtamt evaluates trace by trace in
a loop (its offline API takes one trace); cadence evaluates the whole batch in one call. Values
must be identical. Prints a table and ends with ONE JSON line::

    {"bench": "stl", "speedup_vs_rtamt": ..., "max_abs_diff": ..., ...}

``speedup_vs_rtamt`` is the smallest of the per-spec ratios. Run: ``.venv/bin/python bench/stl_bench.py``
(``--traces N --steps T`` to scale down).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import numpy as np
import rtamt

from cadence.stl import parse, robustness

SPECS = {
    "two-operator": "always[0:100](x < 5) and eventually[0:200](y > 2)",
    "nested": "always[0:100]((eventually[0:20](x > 1)) implies ((y > 0) until[0:5] (x < 0))) "
    "and eventually[0:200](always[0:30](y > 2))",
}


def rtamt_signals(text: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """rtamt's offline discrete-time robustness signal for each trace, one call per trace."""
    spec = rtamt.StlDiscreteTimeOfflineSpecification()
    spec.declare_var("x", "float")
    spec.declare_var("y", "float")
    spec.spec = text
    spec.parse()
    steps = list(range(x.shape[1]))
    out = np.empty_like(x)
    for b in range(x.shape[0]):
        result = spec.evaluate({"time": steps, "x": x[b].tolist(), "y": y[b].tolist()})
        out[b] = [value for _, value in result]
    return out


def median_time(fn: Callable[[], np.ndarray], repeats: int) -> tuple[float, np.ndarray]:
    """Median wall time of ``repeats`` runs (seconds) and the last result.

    The median, not the best: rtamt gets a single run (it takes tens of seconds), and on a
    shared machine a best-of-N for cadence would flatter the ratio.
    """
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=7, help="cadence timing repeats (median)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.normal(0.0, 0.5, (args.traces, args.steps)), axis=1)
    y = np.cumsum(rng.normal(0.0, 0.5, (args.traces, args.steps)), axis=1)
    rows = {}
    for name, text in SPECS.items():
        formula = parse(text)
        t_cadence, ours = median_time(lambda f=formula: robustness(f, {"x": x, "y": y}, dt=1.0), args.repeats)
        t_rtamt, theirs = median_time(lambda t=text: rtamt_signals(t, x, y), 1)
        diff = float(np.max(np.abs(ours - theirs)))
        rows[name] = {
            "spec": text,
            "rtamt_s": round(t_rtamt, 4),
            "cadence_s": round(t_cadence, 5),
            "speedup": round(t_rtamt / t_cadence, 1),
            "max_abs_diff": diff,
        }
        print(
            f"{name:>13}: rtamt {t_rtamt:7.2f} s ({t_rtamt / args.traces * 1e3:.2f} ms/trace)  "
            f"cadence {t_cadence * 1e3:7.2f} ms  speedup {t_rtamt / t_cadence:7.1f}x  max|diff| {diff:g}"
        )
    summary = {
        "bench": "stl",
        "traces": args.traces,
        "steps": args.steps,
        "speedup_vs_rtamt": min(r["speedup"] for r in rows.values()),
        "max_abs_diff": max(r["max_abs_diff"] for r in rows.values()),
        "specs": rows,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
