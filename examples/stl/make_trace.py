"""Regenerate ``visit_two_rooms.csv``: a rover in the ``apartment`` scene visits the kitchen, waits
there 4 s, then drives to the office, never entering the lab.

The path follows the scene's topological graph (``Scene.route``) at 0.5 m/s, sampled every 0.5 s;
the region columns are the scene's STL signals (``Scene.region_signals``: signed distance to each
room, positive inside). Run: ``.venv/bin/python examples/stl/make_trace.py``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from cadence.planner.scene import load_scene

DT, SPEED, DWELL, DURATION = 0.5, 0.5, 4.0, 70.0


def drive(points: list[tuple[float, float]], start: tuple[float, float]) -> list[tuple[float, float]]:
    """Positions every DT seconds along the polyline start -> points at SPEED."""
    out, here = [], np.asarray(start, float)
    for target in points:
        target = np.asarray(target, float)
        while np.linalg.norm(target - here) > SPEED * DT:
            here = here + (target - here) / np.linalg.norm(target - here) * SPEED * DT
            out.append(tuple(here))
        here = target
        out.append(tuple(here))
    return out


def main() -> None:
    scene = load_scene("apartment")
    start = (scene.start.x, scene.start.y)
    path = [start, *drive(scene.route(start, "kitchen"), start)]
    path += [path[-1]] * int(DWELL / DT)
    path += drive(scene.route(path[-1], "office"), path[-1])
    steps = int(DURATION / DT) + 1
    path += [path[-1]] * max(0, steps - len(path))
    xy = np.asarray(path[:steps])
    signals = scene.region_signals(xy)
    out = Path(__file__).with_name("visit_two_rooms.csv")
    with out.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["t", "x", "y", "kitchen", "office", "lab"])
        for i, (x, y) in enumerate(xy):
            row = [i * DT, x, y] + [signals[name][i] for name in ("kitchen", "office", "lab")]
            writer.writerow([f"{v:.4f}" if j else f"{v:g}" for j, v in enumerate(row)])
    print(f"wrote {out} ({steps} samples, dt {DT} s)")


if __name__ == "__main__":
    main()
