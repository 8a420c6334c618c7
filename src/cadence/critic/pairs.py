"""VLAC-style training pairs from episodes (numpy only; torch is not needed to build them).

Labels are time-normalised (VLAC): in a successful episode that reaches its goal at decision R the
value at decision i is ``min(i, R) / R``, and a pair (i, j) is labelled ``value(j) - value(i)``.
Besides forward pairs, the batch deliberately holds VLAC's negatives:

- reversed pairs (j, i): the same labels negated — regression;
- stalled pairs (i, i + noise): label 0 — stagnation;
- mismatched goals: the pair judged against another region, labelled with the normalised geodesic
  progress towards that region (mostly negative or ~0), so the network has to read the goal.

Anchored pairs (0, j), whose label is the value itself, are included because the runtime reads the
value as the delta from the episode's first snapshot. Scattered pairs are stalled pairs at poses
drawn over the whole map and around every region's boundary, labelled with the exact "inside the
goal" flag: episodes only cover the path one driver takes to a region, and without these the done
head guesses wherever another driver (a trained policy) approaches from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cadence.critic.episodes import Episode
from cadence.critic.errors import TaskError
from cadence.critic.features import encode_goal, encode_poses, pair_rows
from cadence.critic.geodesic import distance_field

KINDS = ("forward", "anchored", "reversed", "stalled", "mismatched", "scattered")


@dataclass(frozen=True)
class PairBatch:
    """Rows (N, D) float32, progress labels (N,), done labels (N,) and the kind index of each row."""

    rows: np.ndarray
    delta: np.ndarray
    done: np.ndarray
    kind: np.ndarray

    def __len__(self) -> int:
        return int(self.rows.shape[0])


def make_pairs(episodes: list[Episode], scenes: dict[str, object], per_episode: int, seed: int) -> PairBatch:
    """Sample `per_episode` pairs of each kind from every successful episode.

    Args:
        episodes: Training episodes (unsuccessful ones are skipped: their time is not progress).
        scenes: Scene name -> Scene for every scene the episodes use (order = the model's one-hot).
        per_episode: Pairs per kind per episode.
        seed: Sampling seed.

    Raises:
        TaskError: when no episode is successful or one names a scene not in `scenes`.
    """
    rng = np.random.default_rng(seed)
    names = tuple(scenes)
    parts: list[PairBatch] = []
    for ep in episodes:
        if ep.scene not in scenes:
            raise TaskError(f"episode in scene {ep.scene!r}, not among {', '.join(names)}")
        scene = scenes[ep.scene]
        reach = ep.reached(scene)
        if not ep.success or reach <= 0:
            continue
        parts.append(_episode_pairs(ep, scene, names, reach, per_episode, rng))
    if not parts:
        raise TaskError("no successful episode to build critic training pairs from")
    for name, scene in scenes.items():
        count = sum(1 for ep in episodes if ep.scene == name) * per_episode
        if count:
            parts.append(_scattered_pairs(scene, names, count, rng))
    return PairBatch(
        *(np.concatenate([getattr(p, f) for p in parts]) for f in ("rows", "delta", "done", "kind"))
    )


def _episode_pairs(
    ep: Episode, scene: object, names: tuple[str, ...], reach: int, n: int, rng: np.random.Generator
) -> PairBatch:
    T = len(ep)
    value = np.minimum(np.arange(T), reach) / reach
    inside = ep.inside(scene).astype(np.float32)
    feats = encode_poses(scene, ep.pose)
    goal = encode_goal(scene, ep.goal, names)
    i = rng.integers(0, T, n)
    j = rng.integers(0, T, n)
    i, j = np.minimum(i, j), np.maximum(i, j)
    rows, delta, done, kind = [], [], [], []

    def add(a: np.ndarray, b: np.ndarray, g: np.ndarray, d: np.ndarray, dn: np.ndarray, k: int) -> None:
        rows.append(pair_rows(a, b, g))
        delta.append(d.astype(np.float32))
        done.append(dn.astype(np.float32))
        kind.append(np.full(len(d), k, dtype=np.int8))

    add(feats[i], feats[j], goal, value[j] - value[i], inside[j], 0)
    anchor = np.zeros(n, dtype=int)
    add(feats[anchor], feats[j], goal, value[j], inside[j], 1)
    add(feats[j], feats[i], goal, value[i] - value[j], inside[i], 2)
    noisy = ep.pose[i] + rng.normal(0.0, [0.01, 0.01, 0.02], (n, 3))
    add(feats[i], encode_poses(scene, noisy), goal, np.zeros(n), inside[i], 3)
    others = [r for r in scene.region_names if r != ep.goal]  # type: ignore[attr-defined]
    if others:
        other = str(rng.choice(others))
        field_ = distance_field(scene, other)
        dist = field_(ep.pose[:, :2])
        scale = max(float(dist[0]), 0.5)
        wrong = np.clip((dist[i] - dist[j]) / scale, -1.0, 1.0)
        in_other = (scene.signed_distance(other, ep.pose[j, :2]) > 0).astype(np.float32)  # type: ignore[attr-defined]
        add(feats[i], feats[j], encode_goal(scene, other, names), wrong, in_other, 4)
    return PairBatch(np.concatenate(rows), np.concatenate(delta), np.concatenate(done), np.concatenate(kind))


def _scattered_pairs(scene: object, names: tuple[str, ...], n: int, rng: np.random.Generator) -> PairBatch:
    """`n` stalled pairs at free poses (half near region boundaries) with exact done labels."""
    (x0, y0), (x1, y1) = scene.bounds  # type: ignore[attr-defined]
    regions = scene.regions  # type: ignore[attr-defined]
    pts = np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])
    near = rng.random(n) < 0.5
    boxes = [regions[k] for k in rng.integers(0, len(regions), int(near.sum()))]
    if boxes:
        lo = np.array([np.array(b.lo) - 0.8 for b in boxes])
        hi = np.array([np.array(b.hi) + 0.8 for b in boxes])
        pts[near] = rng.uniform(lo, hi)
    pts = pts[scene.obstacle_distance(pts) > 0.2]  # type: ignore[attr-defined]
    m = len(pts)
    poses = np.column_stack([pts, rng.uniform(-np.pi, np.pi, m)])
    goals = [regions[k].name for k in rng.integers(0, len(regions), m)]
    inside = np.array([scene.signed_distance(g, p) > 0 for g, p in zip(goals, pts, strict=True)])  # type: ignore[attr-defined]
    goal_rows = (
        np.stack([encode_goal(scene, g, names) for g in goals]) if m else np.zeros((0, 4 + len(names)))
    )
    noisy = poses + rng.normal(0.0, [0.01, 0.01, 0.02], (m, 3))
    rows = pair_rows(encode_poses(scene, poses), encode_poses(scene, noisy), goal_rows)
    return PairBatch(
        rows,
        np.zeros(m, np.float32),
        inside.astype(np.float32),
        np.full(m, KINDS.index("scattered"), dtype=np.int8),
    )
