"""The demo's episode record (DESIGN.md "Formats"): CSV, plan, summary, map, progress plot, video."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from cadence.planner.scene import Scene

CSV_COLUMNS = ("t", "x", "y", "yaw", "v", "omega", "cmd_v", "cmd_omega", "progress")
VIDEO_STRIDE = 2  # every 2nd control step: 10 fps of a 20 Hz episode


def uniform_trace(
    rows: list[dict[str, float]], dt: float, horizon: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """Positions on a uniform time grid from 0, padded with the final pose up to `horizon`.

    Best-effort odometry may drop a sample, so positions are interpolated onto ``k * dt``. When the
    run stopped before the spec's horizon (the critic said done), the robot holds still (the executor
    holds once every subgoal is met), so the final pose is repeated; the padded seconds are returned.

    Returns:
        (t (T,), xy (T, 2), padded seconds).
    """
    t = np.array([r["t"] for r in rows])
    xy = np.array([(r["x"], r["y"]) for r in rows])
    end = max(t[-1], horizon)
    grid = np.arange(round(end / dt) + 1) * dt
    out = np.stack([np.interp(grid, t, xy[:, 0]), np.interp(grid, t, xy[:, 1])], axis=1)
    return grid, out, max(0.0, float(horizon - t[-1]))


OUTPUT_FILES = (
    "trajectory.csv",
    "plan.json",
    "plans.json",
    "summary.json",
    "map.png",
    "progress.png",
    "episode.mp4",
)


def write_outputs(out: Path, scene: Scene, recorder: Any, **kwargs: Any) -> dict[str, Any]:
    """Write the episode record into `out` all-or-nothing.

    Everything is written into a hidden sibling folder first and moved into `out` only when every
    file exists, so an error (or Ctrl-C) never leaves a half-written record; files of an earlier run
    that this run does not produce (an old ``episode.mp4`` after ``--no-video``) are removed.
    """
    import os
    import shutil

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        summary = _write_all(tmp, scene, recorder, out=out, **kwargs)
        out.mkdir(parents=True, exist_ok=True)
        for name in OUTPUT_FILES:
            if (tmp / name).exists():
                os.replace(tmp / name, out / name)
            elif (out / name).exists():
                (out / name).unlink()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary


def _write_all(
    tmp: Path,
    scene: Scene,
    recorder: Any,
    *,
    out: Path,
    task: str,
    seed: int,
    wall_time_s: float,
    controller: str,
    counts: dict[str, int],
    stop: str,
    video: bool = True,
) -> dict[str, Any]:
    """Write trajectory.csv, plan.json (plans.json with replans), summary.json, map.png, progress.png
    and episode.mp4 into `tmp`; return the summary (which names `out`)."""
    from cadence.planner.plan import Plan
    from cadence.sim.robot import CONTROL_DT
    from cadence.stl import OnlineMonitor, parse, robustness_at_zero

    tmp.mkdir(parents=True)
    rows = recorder.rows
    plans = [Plan.from_json(p) for p in recorder.plans]
    plan = plans[0]
    _write_csv(tmp / "trajectory.csv", rows)
    (tmp / "plan.json").write_text(plan.to_json(indent=2) + "\n")
    if len(plans) > 1:
        (tmp / "plans.json").write_text(json.dumps([p.to_dict() for p in plans], indent=2) + "\n")
    formula = parse(plan.spec)
    grid, xy, padded = uniform_trace(rows, CONTROL_DT, plan.horizon)
    signals = {k: v for k, v in scene.region_signals(xy).items() if k in formula.signals}
    rob = float(robustness_at_zero(formula, signals, CONTROL_DT))
    monitor = OnlineMonitor(formula, CONTROL_DT)
    bounds = np.array(
        [monitor.update({k: float(v[i]) for k, v in signals.items()}) for i in range(len(grid))]
    )
    satisfied = bool(rob > 0)
    sim_time = float(rows[-1]["t"])
    files = ["trajectory.csv", "plan.json", "summary.json", "map.png", "progress.png"]
    from cadence.sim.render import save_map

    save_map(
        tmp / "map.png",
        scene,
        paths=[(np.array([(r["x"], r["y"]) for r in rows]), "tab:blue")],
        plan=plan.waypoints,
        title=f"{task}\nrobustness {rob:+.2f} ({'satisfied' if satisfied else 'violated'})",
    )
    _plot_progress(tmp / "progress.png", rows, grid, bounds, rob, recorder.done_t)
    if video:
        _write_video(tmp / "episode.mp4", scene, rows, plan, task)
        files.append("episode.mp4")
    summary = {
        "satisfied": satisfied,
        "robustness": round(rob, 4),
        "success": bool(satisfied and recorder.done_t is not None),
        "sim_time_s": round(sim_time, 3),
        "wall_time_s": round(wall_time_s, 3),
        "real_time_factor": round(sim_time / wall_time_s, 2) if wall_time_s > 0 else None,
        "decisions": int(counts["decisions"]),
        "replans": len(recorder.replans),
        "plans": len(plans),
        "critic_done": recorder.done_t is not None,
        "critic_done_t": recorder.done_t,
        "stop_reason": stop,
        "trace_padded_s": round(padded, 3),
        "task": task,
        "scene": scene.name,
        "seed": seed,
        "spec": plan.spec,
        "controller": controller,
        "backup_switches": int(counts["backup_switches"]),
        "safety_holds": int(counts["safety_holds"]),
        "out": str(out),
        "files": files,
    }
    (tmp / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _write_csv(path: Path, rows: list[dict[str, float]]) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for r in rows:
            writer.writerow([_fmt(r.get(c, 0.0)) for c in CSV_COLUMNS])
    tmp.replace(path)


def _fmt(v: float) -> str:
    return f"{v:.6g}" if math.isfinite(v) else "nan"


def _plot_progress(
    path: Path,
    rows: list[dict[str, float]],
    grid: np.ndarray,
    bounds: np.ndarray,
    rob: float,
    done_t: float | None,
) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    t = [r["t"] for r in rows]
    ax1.plot(t, [r["progress"] for r in rows], color="tab:green")
    ax1.set_ylabel("critic progress (value)")
    ax1.set_ylim(-0.05, 1.05)
    lo, hi = bounds[:, 0], bounds[:, 1]
    finite_hi = np.where(np.isfinite(hi), hi, np.nan)
    if np.isfinite(lo).any():
        ax2.plot(grid, np.where(np.isfinite(lo), lo, np.nan), color="tab:red", label="lower bound")
    ax2.plot(grid, finite_hi, color="tab:blue", label="upper bound")
    ax2.axhline(0.0, color="0.5", lw=0.8)
    ax2.axhline(rob, color="k", ls="--", lw=0.8, label=f"final robustness {rob:+.2f}")
    ax2.set_ylabel("STL robustness (online bounds)")
    ax2.set_xlabel("sim time (s)")
    for ax in (ax1, ax2):
        if done_t is not None:
            ax.axvline(done_t, color="tab:purple", ls=":", lw=1.0)
    ax2.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _write_video(path: Path, scene: Scene, rows: list[dict[str, float]], plan: Any, title: str) -> None:
    """A top-down MP4: the map (regions, obstacles, graph, plan) drawn once by the sim's map renderer,
    then the path so far and the rover (a circle of its body radius with a heading tick) per frame.

    Software-rendered MuJoCo frames cost about 150 ms each on this machine's Mesa EGL, drawing onto
    the pre-rendered map about 1 ms, so the episode video takes seconds instead of a minute.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from PIL import Image, ImageDraw

    from cadence.sim.render import VideoWriter, draw_map
    from cadence.sim.robot import BODY_RADIUS, CONTROL_DT

    (x0, y0), (x1, y1) = scene.bounds
    fig, ax = plt.subplots(figsize=(6.4, 6.4 * max(0.4, min(1.5, (y1 - y0) / (x1 - x0)))), dpi=100)
    draw_map(scene, ax=ax, plan=plan.waypoints, title=title)
    ax.title.set_fontsize(8)
    fig.tight_layout()
    fig.canvas.draw()
    base = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    height = base.shape[0]
    xy = np.array([(r["x"], r["y"]) for r in rows])
    pix = ax.transData.transform(xy)
    pix[:, 1] = height - pix[:, 1]
    scale = abs(ax.transData.transform((BODY_RADIUS, 0.0))[0] - ax.transData.transform((0.0, 0.0))[0])
    plt.close(fig)
    base = base[: base.shape[0] // 2 * 2, : base.shape[1] // 2 * 2]  # H.264 wants even sizes
    with VideoWriter(path, fps=round(1.0 / (CONTROL_DT * VIDEO_STRIDE))) as video:
        for i in range(0, len(rows), VIDEO_STRIDE):
            img = Image.fromarray(base)
            draw = ImageDraw.Draw(img)
            if i > 0:
                draw.line([tuple(p) for p in pix[: i + 1]], fill=(31, 119, 180), width=2)
            cx, cy = pix[i]
            draw.ellipse([cx - scale, cy - scale, cx + scale, cy + scale], outline=(20, 20, 20), width=2)
            yaw = rows[i]["yaw"]
            draw.line(
                [(cx, cy), (cx + scale * np.cos(yaw), cy - scale * np.sin(yaw))], fill=(200, 30, 30), width=2
            )
            draw.text(
                (8, 8), f"t = {rows[i]['t']:5.1f} s   progress {rows[i]['progress']:.2f}", fill=(0, 0, 0)
            )
            video.append(np.asarray(img))
