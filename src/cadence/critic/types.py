"""Core critic data: what a critic sees (:class:`Snapshot`), what it is asked (:class:`CriticTask`)
and what it says (:class:`Progress`), plus the :class:`Critic` protocol every model follows.

A critic is VLAC-shaped (issue 6): between two snapshots and for a goal it returns a progress delta
in [-1, 1] and a done flag; like SPA-RL, its per-decision deltas sum to the value (task completion
in [0, 1]); like TGPO it knows the STL stage the robot is in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from cadence.critic.errors import TaskError


@dataclass(frozen=True)
class Progress:
    """One critic verdict, produced at every decision.

    Attributes:
        delta: Progress made since the previous snapshot, in [-1, 1] (negative = regression).
        value: Task completion estimate in [0, 1] at the newest snapshot.
        done: Whether the task is judged complete.
        stage: Index of the current subgoal (== number of subgoals once all are met).
        reason: A short human-readable explanation ("kitchen: 2.4 m to go").
    """

    delta: float
    value: float
    done: bool
    stage: int
    reason: str = ""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.delta) and -1.0 <= self.delta <= 1.0):
            raise ValueError(f"Progress.delta must be finite and in [-1, 1], got {self.delta!r}")
        if not (math.isfinite(self.value) and 0.0 <= self.value <= 1.0):
            raise ValueError(f"Progress.value must be finite and in [0, 1], got {self.value!r}")
        if self.stage < 0:
            raise ValueError(f"Progress.stage must be >= 0, got {self.stage}")


@dataclass(frozen=True)
class Snapshot:
    """What the critic sees at one decision: time, planar pose and optionally the policy observation.

    Attributes:
        t: Seconds since the task started.
        x: World x (m).
        y: World y (m).
        yaw: Heading (rad).
        obs: The observation vector from ``cadence.policy.observation`` (unused by the analytic critic).
    """

    t: float
    x: float
    y: float
    yaw: float = 0.0
    obs: np.ndarray | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        for name in ("t", "x", "y", "yaw"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise ValueError(f"Snapshot.{name} must be finite, got {value!r}")

    @property
    def xy(self) -> tuple[float, float]:
        return (self.x, self.y)


@dataclass(frozen=True)
class Stage:
    """A timed reach subgoal (TGPO): be inside `region` within `window` seconds and stay `hold` s.

    Attributes:
        region: Scene region name.
        window: (earliest, latest) time in seconds by which the region must be reached.
        hold: Seconds the robot must stay inside once there (0 = just reach it).
    """

    region: str
    window: tuple[float, float] = (0.0, math.inf)
    hold: float = 0.0

    def __post_init__(self) -> None:
        lo, hi = self.window
        if not (lo >= 0.0 and hi >= lo) or math.isnan(hi):
            raise TaskError(f"stage {self.region!r}: window must satisfy 0 <= lo <= hi, got {self.window}")
        if not (math.isfinite(self.hold) and self.hold >= 0.0):
            raise TaskError(f"stage {self.region!r}: hold must be finite and >= 0, got {self.hold!r}")


@dataclass(frozen=True)
class Invariant:
    """A constraint that must hold over a window.

    Either a region rule -- keep out of `region` (``avoid``) or stay inside it -- whose robustness
    at a point is minus / plus the region's signed distance (the STL robustness of
    ``not (region > 0)`` / ``region > 0``), or any state formula from the STL decomposition
    (``formula``, a ``cadence.stl`` Formula over region signals; `region` then names its first signal).
    """

    region: str
    avoid: bool = True
    window: tuple[float, float] = (0.0, math.inf)
    formula: object | None = field(default=None, compare=False)

    @property
    def signals(self) -> tuple[str, ...]:
        return tuple(sorted(self.formula.signals)) if self.formula is not None else (self.region,)  # type: ignore[attr-defined]

    def robustness_at(self, scene: object, xy: tuple[float, float]) -> float:
        """STL robustness of the constraint with the robot at `xy` (positive = satisfied)."""
        if self.formula is None:
            sd = float(scene.signed_distance(self.region, xy))  # type: ignore[attr-defined]
            return -sd if self.avoid else sd
        from cadence.stl import robustness_at_zero

        signals = {s: np.array([float(scene.signed_distance(s, xy))]) for s in self.signals}  # type: ignore[attr-defined]
        return float(robustness_at_zero(self.formula, signals, 1.0))  # type: ignore[arg-type]

    def describe(self) -> str:
        if self.formula is not None:
            return str(self.formula)
        return f"{'keep out of' if self.avoid else 'stay in'} {self.region}"


@dataclass(frozen=True)
class CriticTask:
    """What the critic judges progress towards: ordered stages and invariants in one scene.

    Build one with :func:`cadence.critic.task.task_from_spec`, :func:`~cadence.critic.task.task_from_plan`
    or directly.

    Attributes:
        scene: A ``cadence.planner.scene.Scene``.
        stages: Subgoals in the order they must be met (at least one).
        invariants: Constraints over the episode.
        spec: The STL text the stages came from, if any (used for the online monitor).
    """

    scene: object
    stages: tuple[Stage, ...]
    invariants: tuple[Invariant, ...] = ()
    spec: str | None = None

    def __post_init__(self) -> None:
        if not self.stages:
            raise TaskError("a critic task needs at least one subgoal stage")
        names = set(getattr(self.scene, "region_names", ()))
        used = [s.region for s in self.stages] + [r for inv in self.invariants for r in inv.signals]
        for region in used:
            if region not in names:
                raise TaskError(
                    f"region {region!r} is not in scene {getattr(self.scene, 'name', '?')!r}; "
                    f"regions: {', '.join(sorted(names))}"
                )


@runtime_checkable
class Critic(Protocol):
    """A progress critic. Stateful over one episode: ``reset`` then ``observe`` at every decision."""

    name: str

    def reset(self, task: CriticTask, first: Snapshot) -> Progress:
        """Start judging `task` from the first snapshot (delta 0)."""
        ...

    def observe(self, snapshot: Snapshot) -> Progress:
        """Progress since the previous snapshot, the value now and the done flag."""
        ...
