"""Playback: a decision's K-action sequence becomes one command per control step (issue 4).

ROS-free and clock-free: every call takes the current time, so the executor node (ROS time), the
sim (sim time) and the tests (made-up times) drive the same code.

A new decision **preempts** the rest of the old one. A new decision is due (:meth:`Player.due`)
when

* ``time``: ``decision_period`` has passed since the last decision (the slow clock of SRL);
* ``exhausted``: the current sequence has no step left at ``now + lookahead`` (so the next one can
  be computed before the robot runs dry);
* ``event``: someone called :meth:`Player.request` (critic stagnation, a new plan, a waypoint
  switch);
* ``initial``: nothing has been played yet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from cadence.policy.errors import ConfigError, PolicyError

TRIGGERS = ("initial", "time", "exhausted", "event")


@dataclass(frozen=True)
class ActionSequence:
    """One decision: K primitive actions starting at ``start_time``, one per ``control_dt``.

    Attributes:
        actions: ``[K, 2]`` (v, omega) in physical units; stored as a read-only float64 copy.
        start_time: Seconds (any clock, the same one passed to :class:`Player`).
        control_dt: Seconds per action.
        decision_id: Increasing per decision; an older id never preempts a newer one.
    """

    actions: np.ndarray
    start_time: float
    control_dt: float
    decision_id: int = 0
    trigger: str = field(default="time")

    def __post_init__(self) -> None:
        arr = np.array(self.actions, dtype=np.float64)  # copy: the caller's buffer may be reused
        if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] != 2:
            raise PolicyError(f"actions must be [K, 2] with K >= 1, got {list(arr.shape)}")
        if not (math.isfinite(self.start_time) and math.isfinite(self.control_dt) and self.control_dt > 0):
            raise PolicyError(f"bad start_time/control_dt {self.start_time}/{self.control_dt}")
        if self.trigger not in TRIGGERS:
            raise PolicyError(f"trigger must be one of {', '.join(TRIGGERS)}, got {self.trigger!r}")
        arr.flags.writeable = False
        object.__setattr__(self, "actions", arr)

    @property
    def k(self) -> int:
        return int(self.actions.shape[0])

    @property
    def end_time(self) -> float:
        """When the last action's period ends."""
        return self.start_time + self.k * self.control_dt

    def index_at(self, now: float) -> int:
        """Step index at ``now`` (may be < 0 before the start or >= K after the end)."""
        # The epsilon keeps exact multiples of control_dt on the step they begin.
        return math.floor((now - self.start_time) / self.control_dt + 1e-6)

    def command_at(self, now: float) -> tuple[float, float] | None:
        """The action for ``now``; the first one before the start, None once exhausted."""
        i = max(self.index_at(now), 0)
        if i >= self.k:
            return None
        row = self.actions[i]
        return float(row[0]), float(row[1])


@dataclass(frozen=True)
class PlaybackConfig:
    """Decision timing.

    Attributes:
        control_dt: Seconds per primitive action.
        decision_period: Seconds between time-triggered decisions (<= K * control_dt to overlap
            sequences; = K * control_dt to decide exactly when a sequence runs out).
        lookahead: Seconds before exhaustion at which a new decision is already due.
    """

    control_dt: float = 0.05
    decision_period: float = 0.4
    lookahead: float = 0.0

    def __post_init__(self) -> None:
        for name in ("control_dt", "decision_period", "lookahead"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ConfigError(f"playback.{name} must be a finite number, got {value!r}")
        if self.control_dt <= 0 or self.decision_period <= 0:
            raise ConfigError("playback.control_dt and playback.decision_period must be > 0")
        if self.lookahead < 0:
            raise ConfigError(f"playback.lookahead must be >= 0, got {self.lookahead}")


class Player:
    """Plays the current :class:`ActionSequence`; says when the next decision is due."""

    def __init__(self, config: PlaybackConfig | None = None) -> None:
        self.config = config or PlaybackConfig()
        self.reset()

    def reset(self) -> None:
        """Drop the current sequence and any pending event (e.g. on deactivation)."""
        self.current: ActionSequence | None = None
        self._last_decision: float | None = None
        self._event: str | None = None
        self.preempted_steps = 0
        self.decisions = 0
        self.ignored = 0

    def request(self, reason: str) -> None:
        """Ask for a decision at the next :meth:`due` (a critic or planner event)."""
        self._event = reason or "event"

    def due(self, now: float) -> str | None:
        """Which trigger makes a decision due at ``now`` (one of :data:`TRIGGERS`), or None."""
        if self.current is None or self._last_decision is None:
            return "initial"
        if self._event is not None:
            return "event"
        if self.current.index_at(now + self.config.lookahead) >= self.current.k:
            return "exhausted"
        if now - self._last_decision >= self.config.decision_period - 1e-9:
            return "time"
        return None

    def start(self, sequence: ActionSequence, now: float) -> bool:
        """Make ``sequence`` current, preempting the rest of the old one.

        Returns:
            False (and ignores it) if its ``decision_id`` is not newer than the current one's.
        """
        old = self.current
        if old is not None and sequence.decision_id <= old.decision_id:
            self.ignored += 1
            return False
        if old is not None:
            self.preempted_steps += max(old.k - max(old.index_at(now), 0), 0)
        self.current, self._last_decision, self._event = sequence, now, None
        self.decisions += 1
        return True

    def command(self, now: float) -> tuple[float, float] | None:
        """The command for this control step, or None (caller holds: zero velocity)."""
        return None if self.current is None else self.current.command_at(now)
