"""Inputs of the learned pairwise critic, shared by training and the ONNX runtime (numpy only).

A pair row is ``[pose(a), pose(b), goal]``: each pose is (x, y) scaled into [-1, 1] by the scene
bounds plus (cos yaw, sin yaw); the goal encoding is the goal region's centre and half extents in
the same scaling plus a one-hot of the scene (the critic learns each scene's walls, so it is only
valid in the scenes it was trained on; the manifest lists them).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from cadence.critic.errors import CriticModelError

POSE_DIM = 4


def feature_dim(n_scenes: int) -> int:
    """Width of one pair row for a model trained on `n_scenes` scenes."""
    return 2 * POSE_DIM + 4 + n_scenes


def _scale(scene: object) -> tuple[np.ndarray, np.ndarray]:
    (x0, y0), (x1, y1) = scene.bounds  # type: ignore[attr-defined]
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    half = np.array([(x1 - x0) / 2, (y1 - y0) / 2])
    return centre, half


def encode_poses(scene: object, poses: np.ndarray) -> np.ndarray:
    """Poses (..., 3) [x, y, yaw] -> (..., 4) float32 features."""
    poses = np.asarray(poses, dtype=np.float64)
    centre, half = _scale(scene)
    xy = (poses[..., :2] - centre) / half
    return np.concatenate([xy, np.cos(poses[..., 2:3]), np.sin(poses[..., 2:3])], axis=-1).astype(np.float32)


def pose_encoder(scene: object) -> Callable[[float, float, float], tuple[float, float, float, float]]:
    """Scalar twin of :func:`encode_poses` for the per-decision hot path (plain floats, no arrays)."""
    centre, half = _scale(scene)
    cx, cy, hx, hy = float(centre[0]), float(centre[1]), float(half[0]), float(half[1])

    def encode(x: float, y: float, yaw: float) -> tuple[float, float, float, float]:
        return ((x - cx) / hx, (y - cy) / hy, math.cos(yaw), math.sin(yaw))

    return encode


def encode_goal(scene: object, region: str, scenes: tuple[str, ...]) -> np.ndarray:
    """Goal region + scene one-hot -> (4 + len(scenes),) float32.

    Raises:
        CriticModelError: when the scene is not one the model was trained on.
        ValueError: for an unknown region (listing the scene's regions).
    """
    name = scene.name  # type: ignore[attr-defined]
    if name not in scenes:
        raise CriticModelError(
            f"the learned critic was trained on scenes {', '.join(scenes)}, not {name!r}; "
            "retrain it with `cadence train --algo critic` or use the `stl` critic"
        )
    box = scene.region(region)  # type: ignore[attr-defined]
    centre, half = _scale(scene)
    one_hot = np.zeros(len(scenes), dtype=np.float64)
    one_hot[scenes.index(name)] = 1.0
    return np.concatenate(
        [(np.asarray(box.center) - centre) / half, np.asarray(box.half_extents) / half, one_hot]
    ).astype(np.float32)


def pair_rows(pose_a: np.ndarray, pose_b: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """Encoded poses (N, 4), (N, 4) and a goal (G,) or (N, G) -> rows (N, 8 + G) float32."""
    pose_a = np.atleast_2d(pose_a)
    pose_b = np.atleast_2d(pose_b)
    goal = np.broadcast_to(goal, (pose_a.shape[0], goal.shape[-1]))
    return np.concatenate([pose_a, pose_b, goal], axis=-1).astype(np.float32)
