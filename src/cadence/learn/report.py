"""Learning-curve files of a training run: ``curve.csv`` and ``curve.png`` (matplotlib, Agg)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from cadence.learn.trainer import CurvePoint


def write_curve(out_dir: str | Path, curve: Sequence[CurvePoint], title: str) -> tuple[Path, Path]:
    """Write ``curve.csv`` and ``curve.png`` into ``out_dir``; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, png_path = out / "curve.csv", out / "curve.png"
    with csv_path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CurvePoint._fields)
        writer.writerows(curve)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    steps = [p.step for p in curve]
    ax.plot(steps, [p.mean_return for p in curve], marker="o", label="mean return")
    ax.set_xlabel("primitive env steps")
    ax.set_ylabel("evaluation return")
    ax.set_title(title)
    ax2 = ax.twinx()
    ax2.plot(steps, [p.success_rate for p in curve], color="tab:green", linestyle="--", label="success")
    ax2.set_ylim(-0.05, 1.05)
    ax2.set_ylabel("success rate")
    fig.tight_layout()
    fig.savefig(png_path, dpi=100)
    plt.close(fig)
    return csv_path, png_path
