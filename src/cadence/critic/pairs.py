"""VLAC-style training pairs from episodes (numpy only; torch is not needed to build them).

Labels are time-normalised (VLAC): in a successful episode that reaches its goal at decision R the
value at decision i is ``min(i, R) / R``, and a pair (i, j) is labelled ``value(j) - value(i)``.
Besides forward pairs, the batch deliberately holds VLAC's negatives:

- reversed pairs (j, i): the same labels negated — regression;
- stalled pairs (i, i + noise): label 0 — stagnation;
- mismatched goals: the pair judged against another region, labelled with the normalised geodesic
  progress towards that region (mostly negative or ~0), so the network has to read the goal.

Anchored pairs (0, j), whose label is the value itself, are included because the runtime reads the
value as the delta from the episode's first snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cadence.critic.episodes import Episode
from cadence.critic.errors import TaskError
from cadence.critic.features import encode_goal, encode_poses, pair_rows
from cadence.critic.geodesic import distance_field

KINDS = ("forward", "anchored", "reversed", "stalled", "mismatched")


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
