"""The analytic STL-stage critic (issue 6, after TGPO's stage-wise reward).

Value = completed subgoals + the fraction of the current one, each subgoal weighted by the time it
is expected to take (geodesic distance / nominal speed + its hold), so the value grows about
linearly in time on a good run and the per-decision deltas sum to it (SPA-RL). Within a stage the
fraction is the normalised geodesic distance still to go (:mod:`cadence.critic.geodesic`) plus the
share of the hold already done. The delta is then reduced when an invariant's robustness falls
towards zero and when the robot is behind the current subgoal's deadline. Done when every subgoal
has been met in order and no invariant has been violated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cadence.critic.errors import TaskError
from cadence.critic.geodesic import DistanceField, distance_field
from cadence.critic.types import CriticTask, Progress, Snapshot


@dataclass(frozen=True)
class StlCriticConfig:
    """Knobs of the analytic critic.

    Attributes:
        nominal_speed: m/s used to turn distances into expected durations (half the rover's limit).
        invariant_margin: Robustness (m) below which an invariant starts to cost.
        invariant_weight: Largest per-decision penalty from one invariant at zero robustness.
        late_weight: Largest per-decision penalty for being behind a deadline.
        resolution: Distance-field cell size (m).
        clearance: Distance-field obstacle clearance (m).
        monitor: Run ``cadence.stl.OnlineMonitor`` on the task's spec (when it has one) for done.
    """

    nominal_speed: float = 0.5
    invariant_margin: float = 0.5
    invariant_weight: float = 0.05
    late_weight: float = 0.02
    resolution: float = 0.1
    clearance: float = 0.25
    monitor: bool = True

    def __post_init__(self) -> None:
        if not self.nominal_speed > 0 or not self.invariant_margin > 0:
            raise TaskError("StlCriticConfig: nominal_speed and invariant_margin must be > 0")


class StlCritic:
    """Analytic progress from the STL decomposition of the task (registry name ``stl``)."""

    name = "stl"

    def __init__(self, config: StlCriticConfig | None = None) -> None:
        self.config = config or StlCriticConfig()
        self._task: CriticTask | None = None

    # ------------------------------------------------------------------ episode
    def reset(self, task: CriticTask, first: Snapshot) -> Progress:
        cfg = self.config
        self._task = task
        self._fields: list[DistanceField] = [
            distance_field(task.scene, s.region, cfg.resolution, cfg.clearance) for s in task.stages
        ]
        # Expected duration of each stage from where the previous one ends (its region centre).
        starts = [first.xy] + [task.scene.region(s.region).center for s in task.stages[:-1]]  # type: ignore[attr-defined]
        self._weights = [
            f.at(*xy) / cfg.nominal_speed + s.hold
            for f, xy, s in zip(self._fields, starts, task.stages, strict=True)
        ]
        self._weights = [max(w, 1e-3) for w in self._weights]
        self._total = sum(self._weights)
        self._stage = 0
        self._stage_dist = max(self._fields[0].at(*first.xy), 1e-6)
        self._inside_since: float | None = None
        self._violated: str | None = None
        self._value = 0.0
        self._monitor = _make_monitor(task.spec, cfg) if cfg.monitor else None
        self._fed_until = -math.inf
        progress = self._step(first)
        self._value = progress.value
        return Progress(0.0, progress.value, progress.done, progress.stage, progress.reason)

    def observe(self, snapshot: Snapshot) -> Progress:
        if self._task is None:
            raise TaskError("StlCritic.observe called before reset(task, first)")
        return self._step(snapshot)

    # ------------------------------------------------------------------ internals
    @property
    def _current(self) -> CriticTask:
        if self._task is None:
            raise TaskError("StlCritic used before reset(task, first)")
        return self._task

    def _step(self, snap: Snapshot) -> Progress:
        task = self._current
        self._advance(snap)
        n = len(task.stages)
        if self._stage >= n:
            value, reason = 1.0, "all subgoals met"
        else:
            frac, reason = self._stage_fraction(snap)
            value = (sum(self._weights[: self._stage]) + self._weights[self._stage] * frac) / self._total
        penalty, why = self._penalties(snap)
        if why:
            reason = f"{reason}; {why}"
        delta = max(-1.0, min(1.0, value - self._value - penalty))
        self._value = value
        done = self._stage >= n and self._violated is None
        if self._monitor is not None:
            lower, upper = self._feed_monitor(snap)
            # Decided true (lower > 0), or every subgoal met and nothing violated so far (upper > 0:
            # invariants that run to the horizon only decide at its end).
            done = lower > 0 or (done and upper > 0)
            reason = f"{reason}; spec robustness in [{lower:.2f}, {upper:.2f}]"
        return Progress(float(delta), float(min(max(value, 0.0), 1.0)), done, self._stage, reason)

    def _feed_monitor(self, snap: Snapshot) -> tuple[float, float]:
        """Feed the spec's online monitor up to `snap.t`, holding the pose between decisions."""
        monitor = self._monitor
        signals = self._current.scene.region_signals(np.array(snap.xy))  # type: ignore[attr-defined]
        sample = {name: float(v) for name, v in signals.items()}
        due = math.floor(snap.t / monitor.dt + 1e-9) + 1  # samples at 0, dt, ..., <= t
        while monitor.samples < due:
            monitor.update(sample)
        return monitor.interval

    def _advance(self, snap: Snapshot) -> None:
        """Move through every stage the snapshot completes (several if regions overlap)."""
        task = self._current
        while self._stage < len(task.stages):
            stage = task.stages[self._stage]
            inside = float(task.scene.signed_distance(stage.region, snap.xy)) > 0.0  # type: ignore[attr-defined]
            if not inside or snap.t < stage.window[0]:
                self._inside_since = None
                return
            if self._inside_since is None:
                self._inside_since = snap.t
            if snap.t - self._inside_since < stage.hold:
                return
            self._stage += 1
            self._inside_since = None
            if self._stage < len(task.stages):
                self._stage_dist = max(self._fields[self._stage].at(*snap.xy), 1e-6)

    def _stage_fraction(self, snap: Snapshot) -> tuple[float, str]:
        task = self._current
        stage = task.stages[self._stage]
        togo = self._fields[self._stage].at(*snap.xy)
        # Below 0 when the robot moves away from where the stage started: regression must show.
        reach = min(max(1.0 - togo / self._stage_dist, -1.0), 1.0)
        travel = self._stage_dist / self.config.nominal_speed
        held = 0.0
        if self._inside_since is not None and stage.hold > 0:
            held = min((snap.t - self._inside_since) / stage.hold, 1.0)
            reach = 1.0
        frac = (travel * reach + stage.hold * held) / max(travel + stage.hold, 1e-9)
        if held > 0:
            return frac, f"{stage.region}: holding {snap.t - self._inside_since:.1f}/{stage.hold:.1f} s"
        return frac, f"{stage.region}: {togo:.2f} m to go"

    def _penalties(self, snap: Snapshot) -> tuple[float, str]:
        task = self._current
        cfg = self.config
        penalty, notes = 0.0, []
        for inv in task.invariants:
            if not inv.window[0] <= snap.t <= inv.window[1]:
                continue
            rob = inv.robustness_at(task.scene, snap.xy)
            if rob < cfg.invariant_margin:
                penalty += cfg.invariant_weight * min(
                    (cfg.invariant_margin - rob) / cfg.invariant_margin, 1.0
                )
                notes.append(f"{inv.describe()}: margin {rob:.2f} m")
            if rob <= 0.0 and self._violated is None:
                self._violated = inv.describe()
        if self._stage < len(task.stages):
            stage = task.stages[self._stage]
            togo = self._fields[self._stage].at(*snap.xy)
            slack = stage.window[1] - snap.t - togo / cfg.nominal_speed
            if math.isfinite(slack) and slack < 0:
                penalty += cfg.late_weight * min(-slack / max(stage.window[1], 1.0), 1.0)
                notes.append(f"{stage.region}: {-slack:.1f} s behind its deadline")
        if self._violated is not None:
            notes.append(f"invariant {self._violated!r} violated")
        return penalty, "; ".join(notes)


MONITOR_PERIODS = (0.4, 0.2, 0.1, 0.05)  # s: the coarsest period the spec's bounds are multiples of


def _make_monitor(spec: str | None, cfg: StlCriticConfig) -> object | None:
    """An online monitor of `spec` at the coarsest period its time bounds allow (None: no spec)."""
    if not spec:
        return None
    from cadence.stl import OnlineMonitor, STLError

    last: Exception | None = None
    for dt in MONITOR_PERIODS:
        try:
            return OnlineMonitor(spec, dt)
        except STLError as err:  # bounds not a whole number of periods: try a finer one
            last = err
    raise TaskError(f"cannot monitor spec {spec!r}: {last}") from last
