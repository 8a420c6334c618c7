"""Stagnation and regression detection on the critic's progress stream -> replan requests.

The planner replans when the critic says the robot is stuck (a robot pinned against a wall makes
no progress decision after decision) or going backwards (issue 5, "Replanning"; issue 6). The
detector looks at a sliding window of per-decision deltas; after a request it waits `cooldown`
decisions so one incident does not flood the planner.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from cadence.critic.errors import CriticError
from cadence.critic.types import Progress

KINDS = ("stagnation", "regression")


@dataclass(frozen=True)
class StagnationConfig:
    """Detector thresholds, in progress units (value is task completion in [0, 1]).

    Attributes:
        window: Decisions looked at (5 decisions = 2 s at the default 2.5 Hz).
        min_progress: Stagnation when the window's summed delta is below this.
        regression: Regression when the window's summed delta is below minus this.
        step_regression: Regression when a single delta is below minus this.
        cooldown: Decisions to stay quiet after a request.
        stage_grace: Decisions to stay quiet after the stage changes. Progress towards the next
            subgoal is measured from the moment the last one was met, while the robot still carries
            its momentum into the region it just reached; turning round (up to 1.6 s at 2 rad/s)
            reads as a regression without this grace.
    """

    window: int = 5
    min_progress: float = 0.01
    regression: float = 0.02
    step_regression: float = 0.05
    cooldown: int = 5
    stage_grace: int = 4

    def __post_init__(self) -> None:
        if self.window < 2:
            raise CriticError(f"StagnationConfig.window must be >= 2, got {self.window}")
        for name in ("min_progress", "regression", "step_regression"):
            if not getattr(self, name) > 0:
                raise CriticError(f"StagnationConfig.{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("cooldown", "stage_grace"):
            if getattr(self, name) < 0:
                raise CriticError(f"StagnationConfig.{name} must be >= 0, got {getattr(self, name)}")


@dataclass(frozen=True)
class ReplanRequest:
    """A request to the planner: what went wrong and where.

    Attributes:
        kind: ``stagnation`` or ``regression``.
        reason: One line for the ``replan`` topic and the log.
        stage: The critic's stage when it fired.
        decisions: How many decisions into the episode it fired.
    """

    kind: str
    reason: str
    stage: int
    decisions: int


class StagnationDetector:
    """Feed it every :class:`Progress`; it returns a :class:`ReplanRequest` when one is due."""

    def __init__(self, config: StagnationConfig | None = None) -> None:
        self.config = config or StagnationConfig()
        self.reset()

    def reset(self) -> None:
        """Forget the stream (new task or new plan)."""
        self._deltas: deque[float] = deque(maxlen=self.config.window)
        self._count = 0
        self._quiet = 0
        self._stage: int | None = None

    def update(self, progress: Progress) -> ReplanRequest | None:
        """Add one decision's progress; return a replan request or None."""
        cfg = self.config
        self._count += 1
        if progress.done:
            self._deltas.clear()
            return None
        if self._stage is not None and progress.stage != self._stage:
            self._deltas.clear()  # a new subgoal: judge progress towards it from here on
            self._quiet = max(self._quiet, cfg.stage_grace)
        self._stage = progress.stage
        self._deltas.append(progress.delta)
        if self._quiet > 0:
            self._quiet -= 1
            return None
        total = sum(self._deltas)
        request = None
        if progress.delta < -cfg.step_regression:
            request = self._request(
                "regression", f"progress fell by {-progress.delta:.3f} in one decision", progress
            )
        elif len(self._deltas) == cfg.window and total < -cfg.regression:
            request = self._request(
                "regression", f"progress fell by {-total:.3f} over the last {cfg.window} decisions", progress
            )
        elif len(self._deltas) == cfg.window and total < cfg.min_progress:
            request = self._request(
                "stagnation", f"progress {total:+.3f} over the last {cfg.window} decisions", progress
            )
        if request is not None:
            self._deltas.clear()
            self._quiet = cfg.cooldown
        return request

    def _request(self, kind: str, what: str, progress: Progress) -> ReplanRequest:
        where = f" ({progress.reason})" if progress.reason else ""
        return ReplanRequest(
            kind, f"{kind}: {what} at stage {progress.stage}{where}", progress.stage, self._count
        )
