"""Geodesic distance-to-region fields on a scene grid: "distance to the subgoal along the path".

``Scene.route`` answers the same question through the topological graph but costs about 14 ms per
call (visibility checks against every obstacle), too slow for a reward term evaluated at every env
step. A distance field is built once per (scene, region) with Dijkstra over an 8-connected grid and
then queried by bilinear interpolation in microseconds. Cells near obstacles cost more to cross (so
the field follows the doorways a planned route would take) but stay finite, so a robot pressed
against a wall still gets a sensible distance.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np

from cadence.critic.errors import TaskError

_NEAR_WALL_COST = 4.0  # multiplier inside the clearance band: prefer the middle of doorways
_INSIDE_COST = 50.0  # multiplier inside an obstacle: finite, so a stuck robot still has a distance
_CACHE_SIZE = 64
_CACHE: dict[tuple, DistanceField] = {}


@dataclass(frozen=True)
class DistanceField:
    """Geodesic distance (m) to a region, sampled on a grid.

    Attributes:
        origin: (x, y) of cell (0, 0)'s centre.
        resolution: Cell size in metres.
        values: Array (ny, nx) of distances, 0 inside the region.
    """

    origin: tuple[float, float]
    resolution: float
    values: np.ndarray

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        """Distance at points (..., 2), bilinear between cell centres, clamped to the grid."""
        xy = np.asarray(xy, dtype=np.float64)
        ny, nx = self.values.shape
        gx = np.clip((xy[..., 0] - self.origin[0]) / self.resolution, 0.0, nx - 1.000001)
        gy = np.clip((xy[..., 1] - self.origin[1]) / self.resolution, 0.0, ny - 1.000001)
        ix, iy = np.floor(gx).astype(int), np.floor(gy).astype(int)
        fx, fy = gx - ix, gy - iy
        v = self.values
        top = v[iy, ix] * (1 - fx) + v[iy, ix + 1] * fx
        bottom = v[iy + 1, ix] * (1 - fx) + v[iy + 1, ix + 1] * fx
        return top * (1 - fy) + bottom * fy

    def at(self, x: float, y: float) -> float:
        return float(self(np.array([x, y])))


def distance_field(
    scene: object, region: str, resolution: float = 0.1, clearance: float = 0.25
) -> DistanceField:
    """The (cached) geodesic distance field to `region` in `scene`.

    Args:
        scene: A ``cadence.planner.scene.Scene``.
        region: Region name (ValueError from the scene lists the valid ones).
        resolution: Grid cell size in metres.
        clearance: Metres from obstacles where crossing costs more (about the rover's radius).

    Raises:
        TaskError: for a non-positive resolution or negative clearance.
    """
    if not (resolution > 0 and clearance >= 0):
        raise TaskError(
            f"distance field needs resolution > 0 and clearance >= 0, got {resolution}, {clearance}"
        )
    box = scene.region(region)  # type: ignore[attr-defined]
    # Keyed by content (boxes are frozen and hashable), not id(): a new Scene object with the same
    # geometry reuses the field, and a recycled id can never return another scene's field.
    key = (scene.bounds, scene.obstacles, box, float(resolution), float(clearance))  # type: ignore[attr-defined]
    cached = _CACHE.pop(key, None)
    if cached is None:
        cached = _build(scene, box, resolution, clearance)
    _CACHE[key] = cached  # most recently used last
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    return cached


def _build(scene: object, box: object, resolution: float, clearance: float) -> DistanceField:
    (x0, y0), (x1, y1) = scene.bounds  # type: ignore[attr-defined]
    xs = np.arange(x0, x1 + resolution / 2, resolution)
    ys = np.arange(y0, y1 + resolution / 2, resolution)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1)  # (ny, nx, 2)
    obstacle = scene.obstacle_distance(grid)  # type: ignore[attr-defined]
    cost = np.where(obstacle <= 0.0, _INSIDE_COST, np.where(obstacle < clearance, _NEAR_WALL_COST, 1.0))
    inside = box.signed_distance(grid) > 0.0  # type: ignore[attr-defined]
    if not inside.any():  # a region smaller than a cell: seed the cell nearest its centre
        cx, cy = box.center  # type: ignore[attr-defined]
        inside[round((cy - y0) / resolution), round((cx - x0) / resolution)] = True
    values = _dijkstra(cost, inside, resolution)
    return DistanceField(origin=(float(x0), float(y0)), resolution=resolution, values=values)


def _dijkstra(cost: np.ndarray, sources: np.ndarray, resolution: float) -> np.ndarray:
    ny, nx = cost.shape
    dist = np.full((ny, nx), math.inf)
    dist[sources] = 0.0
    heap = [(0.0, int(i), int(j)) for i, j in zip(*np.nonzero(sources), strict=True)]
    heapq.heapify(heap)
    steps = [(di, dj, math.hypot(di, dj) * resolution) for di in (-1, 0, 1) for dj in (-1, 0, 1) if di or dj]
    flat_cost = cost.tolist()
    d = dist.tolist()
    while heap:
        here, i, j = heapq.heappop(heap)
        if here > d[i][j]:
            continue
        row_cost = flat_cost[i][j]
        for di, dj, length in steps:
            ni, nj = i + di, j + dj
            if 0 <= ni < ny and 0 <= nj < nx:
                new = here + length * 0.5 * (row_cost + flat_cost[ni][nj])
                if new < d[ni][nj]:
                    d[ni][nj] = new
                    heapq.heappush(heap, (new, ni, nj))
    return np.asarray(d)
