"""Critic quality on recorded episodes: Value-Order Correlation and done-detection F1 (issue 6).

VOC (VLAC): the Spearman rank correlation between the critic's value and the time step over a
successful episode, from its start to the decision it first reaches the goal. Done F1: per decision,
"the critic says done" against "the robot is inside the goal region", over whole episodes (the
approach frames are the negatives, the frames after arrival the positives).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cadence.critic.episodes import Episode
from cadence.critic.task import reach_task
from cadence.critic.types import Critic, Progress, Snapshot


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation (average ranks for ties); 0 when either side is constant."""
    ra, rb = _rank(np.asarray(a, float)), _rank(np.asarray(b, float))
    if ra.std() == 0 or rb.std() == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


def _rank(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(len(x), dtype=float)
    for v in np.unique(x):  # ties share their mean rank
        tie = x == v
        if tie.sum() > 1:
            ranks[tie] = ranks[tie].mean()
    return ranks


def run_critic(critic: Critic, episode: Episode, scene: object) -> list[Progress]:
    """The critic's verdict at every decision of an episode (task: reach the episode's goal)."""
    task = reach_task(scene, episode.goal)
    snaps = [Snapshot(float(t), *map(float, p)) for t, p in zip(episode.t, episode.pose, strict=True)]
    return [critic.reset(task, snaps[0])] + [critic.observe(s) for s in snaps[1:]]


@dataclass(frozen=True)
class CriticScore:
    """Scores of one critic on one set of episodes.

    Attributes:
        voc: Mean VOC over the successful episodes.
        voc_min: Lowest single-episode VOC.
        done_f1: Per-decision F1 of the done flag.
        done_precision: Its precision.
        done_recall: Its recall.
        episodes: Episodes scored.
        successful: Of which successful (the VOC is over these).
    """

    voc: float
    voc_min: float
    done_f1: float
    done_precision: float
    done_recall: float
    episodes: int
    successful: int = 0


def score_critic(critic: Critic, episodes: list[Episode], scene: object) -> CriticScore:
    """VOC and done F1 of `critic` on `episodes` (all in `scene`)."""
    vocs: list[float] = []
    tp = fp = fn = 0
    for ep in episodes:
        out = run_critic(critic, ep, scene)
        reach = ep.reached(scene)
        if ep.success and reach >= 2:
            vocs.append(spearman(np.array([p.value for p in out[: reach + 1]]), np.arange(reach + 1)))
        said = np.array([p.done for p in out])
        truth = ep.inside(scene)
        tp += int(np.sum(said & truth))
        fp += int(np.sum(said & ~truth))
        fn += int(np.sum(~said & truth))
    precision = tp / max(tp + fp, 1)
    recall = tp / max(tp + fn, 1)
    f1 = 2 * tp / max(2 * tp + fp + fn, 1)
    return CriticScore(
        voc=float(np.mean(vocs)) if vocs else float("nan"),
        voc_min=float(np.min(vocs)) if vocs else float("nan"),
        done_f1=float(f1),
        done_precision=float(precision),
        done_recall=float(recall),
        episodes=len(episodes),
        successful=sum(bool(ep.success) for ep in episodes),
    )
