"""The learned VLAC-style pairwise critic at run time: ONNX Runtime only, no torch (issue 6).

The model maps a pair row ``[pose(a), pose(b), goal]`` (:mod:`cadence.critic.features`) to a
progress delta in [-1, 1] and a done probability for b. At every decision one batched call scores
two pairs: (first snapshot of the stage, now) gives the stage's value, (previous snapshot, now)
gives the delta. For tasks with several subgoals the goal encoding is the current stage's region;
the stage advances when the done head fires.

The model is loaded through :func:`cadence.policy.model.load_model`, so a critic gets the same
checks as a policy (format, sha256, structure, I/O, golden replay).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cadence.critic.errors import CriticModelError, TaskError
from cadence.critic.features import POSE_DIM, encode_goal, encode_poses, feature_dim, pair_rows, pose_encoder
from cadence.critic.types import CriticTask, Progress, Snapshot

DEFAULT_MODEL = "progress_critic.onnx"
DONE_THRESHOLD = 0.5


def default_model_path() -> Path:
    """The shipped critic, ``models/progress_critic.onnx``."""
    from cadence.paths import models_dir

    return models_dir() / DEFAULT_MODEL


class PairModel:
    """A verified critic ONNX session: ``__call__(rows) -> (delta, done_prob)``."""

    def __init__(self, path: str | Path | None = None, providers: list[str] | None = None) -> None:
        from cadence.policy.errors import PolicyError
        from cadence.policy.model import load_model

        path = Path(path) if path is not None else default_model_path()
        try:
            loaded = load_model(path, providers)
        except PolicyError as err:
            raise CriticModelError(f"cannot load critic {path}: {err}") from err
        manifest = loaded.manifest
        obs = manifest.observation
        if manifest.kind != "critic" or obs.get("kind") != "pose_pair":
            raise CriticModelError(f"{path.name} is a {manifest.kind!r} model, not a pose-pair critic")
        self.scenes = tuple(str(s) for s in obs.get("scenes", ()))
        if manifest.obs_dim != feature_dim(len(self.scenes)):
            raise CriticModelError(
                f"{path.name}: input width {manifest.obs_dim} does not fit {len(self.scenes)} scenes"
            )
        self.manifest = manifest
        self.path = path
        self._session = loaded.session
        self._input = manifest.inputs[0].name

    def __call__(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        delta, done = self._session.run(None, {self._input: np.ascontiguousarray(rows, dtype=np.float32)})
        return delta, done

    def pair(self, scene: object, a: Snapshot, b: Snapshot, region: str) -> tuple[float, float]:
        """Progress delta from `a` to `b` towards `region` and the done probability at `b`."""
        poses = encode_poses(scene, np.array([[a.x, a.y, a.yaw], [b.x, b.y, b.yaw]]))
        delta, done = self(pair_rows(poses[:1], poses[1:], encode_goal(scene, region, self.scenes)))
        return float(delta[0]), float(done[0])


class LearnedCritic:
    """Pairwise learned critic (registry name ``learned``)."""

    name = "learned"

    def __init__(
        self, model: PairModel | str | Path | None = None, done_threshold: float = DONE_THRESHOLD
    ) -> None:
        self.model = model if isinstance(model, PairModel) else PairModel(model)
        if not 0.0 < done_threshold < 1.0:
            raise CriticModelError(f"done_threshold must be in (0, 1), got {done_threshold}")
        self.done_threshold = done_threshold
        self._task: CriticTask | None = None

    def reset(self, task: CriticTask, first: Snapshot) -> Progress:
        self._task = task
        self._goals = [encode_goal(task.scene, s.region, self.model.scenes) for s in task.stages]
        self._encode = pose_encoder(task.scene)
        # One preallocated (2, D) batch per decision: [anchor, now, goal] and [previous, now, goal].
        self._rows = np.zeros((2, self.model.manifest.obs_dim), np.float32)
        self._stage = 0
        self._anchor = self._prev = self._encode(first.x, first.y, first.yaw)
        self._value = 0.0
        progress = self._judge(self._anchor)
        return Progress(0.0, progress.value, progress.done, progress.stage, progress.reason)

    def observe(self, snapshot: Snapshot) -> Progress:
        if self._task is None:
            raise TaskError("LearnedCritic.observe called before reset(task, first)")
        return self._judge(self._encode(snapshot.x, snapshot.y, snapshot.yaw))

    def _judge(self, now: tuple[float, float, float, float]) -> Progress:
        task = self._task
        n = len(task.stages)  # type: ignore[union-attr]
        if self._stage >= n:
            delta = 1.0 - self._value
            self._value = 1.0
            return Progress(min(max(delta, -1.0), 1.0), 1.0, True, n, "all subgoals met")
        rows, p = self._rows, POSE_DIM
        rows[0, :p], rows[1, :p] = self._anchor, self._prev
        rows[:, p : 2 * p] = now
        rows[:, 2 * p :] = self._goals[self._stage]
        delta, done = self.model(rows)
        stage_value = min(max(float(delta[0]), 0.0), 1.0)
        region = task.stages[self._stage].region  # type: ignore[union-attr]
        reason = f"{region}: {100 * stage_value:.0f} % (learned)"
        self._prev = now
        finished = float(done[0]) > self.done_threshold
        if finished:
            self._stage += 1
            self._anchor = now
            stage_value = 0.0
            reason = f"{region}: reached (learned)"
        value = (self._stage + stage_value) / n
        # The pairwise delta is per stage; rescale it to task units so deltas track the value.
        step = value - self._value if finished else float(delta[1]) / n
        self._value = value
        return Progress(
            min(max(step, -1.0), 1.0), min(max(value, 0.0), 1.0), self._stage >= n, self._stage, reason
        )
