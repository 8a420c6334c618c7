"""Offscreen rendering (MUJOCO_GL=egl), a top-down map view and an episode video writer."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import mujoco
import numpy as np

from cadence.planner.scene import Scene
from cadence.sim.errors import SimError
from cadence.sim.world import REGION_COLOURS, TOP_CAMERA


class FrameRenderer:
    """RGB frames of a model from a named camera (``top`` frames the whole map, ``front`` is the rover's).

    Args:
        model: The compiled world.
        width: Image width in pixels (at most the model's offscreen buffer, 640).
        height: Image height in pixels (at most 480).
    """

    def __init__(self, model: mujoco.MjModel, width: int = 640, height: int = 480) -> None:
        os.environ.setdefault("MUJOCO_GL", "egl")
        try:
            self._renderer = mujoco.Renderer(model, height=height, width=width)
        except Exception as err:  # GL back ends raise many types; translate them all
            raise SimError(
                f"offscreen rendering is unavailable (MUJOCO_GL={os.environ['MUJOCO_GL']}): {err}"
            ) from err
        self.model = model

    def render(self, data: mujoco.MjData, camera: str = TOP_CAMERA) -> np.ndarray:
        """One frame, uint8 (height, width, 3)."""
        if mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA, camera) < 0:
            names = [self.model.camera(i).name for i in range(self.model.ncam)]
            raise ValueError(f"unknown camera {camera!r}; cameras: {', '.join(names)}")
        self._renderer.update_scene(data, camera=camera)
        return self._renderer.render().copy()

    def close(self) -> None:
        self._renderer.close()


def draw_map(
    scene: Scene,
    ax: Any = None,
    paths: Sequence[tuple[np.ndarray, str]] = (),
    plan: Sequence[tuple[float, float]] = (),
    title: str = "",
) -> Any:
    """Top-down map (matplotlib): regions (labelled), obstacles, the graph, paths and a plan.

    Args:
        scene: The scene to draw.
        ax: A matplotlib Axes to draw on (a new figure when None).
        paths: (xy array (T, 2), colour) per path.
        plan: Waypoints of a plan, drawn as a dashed line with markers.
        title: Axes title.

    Returns:
        The Axes.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 8 * _aspect(scene)))
    for i, r in enumerate(scene.regions):
        colour = REGION_COLOURS[i % len(REGION_COLOURS)]
        ax.add_patch(
            Rectangle(r.lo, 2 * r.half_extents[0], 2 * r.half_extents[1], color=colour, alpha=0.25, lw=0)
        )
        ax.annotate(r.name, r.center, ha="center", va="center", fontsize=8, color="0.2")
    for o in scene.obstacles:
        colour = "0.35" if o.kind == "wall" else "#8c6d46"
        ax.add_patch(Rectangle(o.lo, 2 * o.half_extents[0], 2 * o.half_extents[1], color=colour, lw=0))
    for u, v in scene.edges:
        (x0, y0), (x1, y1) = scene.nodes[u], scene.nodes[v]
        ax.plot([x0, x1], [y0, y1], color="0.75", lw=0.6, zorder=1)
    for xy, colour in paths:
        xy = np.asarray(xy)
        ax.plot(xy[:, 0], xy[:, 1], color=colour, lw=1.2, alpha=0.85, zorder=3)
        ax.plot(xy[0, 0], xy[0, 1], "o", color=colour, ms=3, zorder=3)
    if len(plan):
        p = np.asarray(plan)
        ax.plot(p[:, 0], p[:, 1], "--", marker="x", color="tab:purple", lw=1.0, zorder=4)
    (x0, y0), (x1, y1) = scene.bounds
    ax.set_xlim(x0 - 0.2, x1 + 0.2)
    ax.set_ylim(y0 - 0.2, y1 + 0.2)
    ax.set_aspect("equal")
    ax.set_title(title or scene.name)
    return ax


def save_map(path: str | Path, scene: Scene, **kwargs: Any) -> Path:
    """Draw :func:`draw_map` into a PNG file (written atomically) and return its path."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(8, 8 * _aspect(scene)))
    draw_map(scene, ax=ax, **kwargs)
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path


def _aspect(scene: Scene) -> float:
    (x0, y0), (x1, y1) = scene.bounds
    return max(0.4, min(1.5, (y1 - y0) / (x1 - x0)))


class VideoWriter:
    """Episode video (imageio + ffmpeg): a context manager that appends RGB frames.

    Example:
        >>> with VideoWriter("episode.mp4", fps=20) as video:  # doctest: +SKIP
        ...     video.append(env.render())
    """

    def __init__(self, path: str | Path, fps: int = 20) -> None:
        self.path = Path(path)
        self.fps = fps
        self._writer: Any = None
        self.frames = 0

    def __enter__(self) -> VideoWriter:
        import imageio.v2 as imageio

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = imageio.get_writer(self.path, fps=self.fps, macro_block_size=1)
        return self

    def append(self, frame: np.ndarray) -> None:
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"frames must be uint8 (H, W, 3), got {frame.dtype} {frame.shape}")
        self._writer.append_data(frame)
        self.frames += 1

    def __exit__(self, *exc: object) -> None:
        self._writer.close()


def record_episode(
    env: Any, policy: Any, path: str | Path, reset_options: dict | None = None, seed: int = 0
) -> dict:
    """Run one episode of ``env`` with ``policy`` (K-action sequences) and write its video.

    Returns:
        The final step's ``info`` plus ``frames``.
    """
    obs, _ = env.reset(seed=seed, options=reset_options)
    info: dict = {}
    with VideoWriter(path, fps=env.metadata["render_fps"]) as video:
        video.append(env.render())
        done = False
        while not done:
            for action in np.asarray(policy.act(obs[None, :]))[0]:
                obs, _, terminated, truncated, info = env.step(action)
                video.append(env.render())
                done = terminated or truncated
                if done:
                    break
    return {**info, "frames": video.frames}
