"""The critic's score for the planner's time allocation (TGPO's critic-guided Metropolis-Hastings).

``cadence.planner.timing`` perturbs free deadlines and keeps allocations its scorer likes. This
scorer uses the critic's model of a leg (the same nominal speed the analytic critic turns distances
into expected durations with, plus a spread that grows with the leg) and returns the log-probability
that every leg finishes inside its budget: allocations that starve a long leg to pad a short one
score lower. Plug it in with ``Planner(scene, "rules", scorer=CriticAllocationScorer())``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cadence.critic.errors import TaskError


@dataclass(frozen=True)
class CriticAllocationScorer:
    """``scorer(legs, deadlines) -> float`` for ``cadence.planner.timing`` (higher is better).

    Attributes:
        nominal_speed: m/s a leg is expected to be driven at (the STL critic's default).
        spread: Relative standard deviation of a leg's duration.
        floor_s: Seconds of standard deviation every leg has (turning, doorways).
    """

    nominal_speed: float = 0.5
    spread: float = 0.25
    floor_s: float = 1.0

    def __post_init__(self) -> None:
        if not (self.nominal_speed > 0 and self.spread >= 0 and self.floor_s > 0):
            raise TaskError(f"invalid CriticAllocationScorer {self!r}")

    def __call__(self, legs: Sequence[Any], deadlines: Sequence[float]) -> float:
        """Sum over legs of log P(leg done within its budget); -inf for an impossible budget.

        Args:
            legs: ``cadence.planner.timing.LegTiming`` (``length`` m, ``min_time`` s, ``hold`` s).
            deadlines: Absolute deadlines, one per leg, non-decreasing.
        """
        if len(legs) != len(deadlines):
            raise TaskError(f"{len(legs)} legs but {len(deadlines)} deadlines")
        total, previous = 0.0, 0.0
        for leg, deadline in zip(legs, deadlines, strict=True):
            budget = float(deadline) - previous - float(leg.hold)
            previous = float(deadline)
            expected = max(float(leg.length) / self.nominal_speed, float(leg.min_time))
            if budget < float(leg.min_time):
                return -math.inf
            sigma = self.spread * expected + self.floor_s
            p = 0.5 * math.erfc(-(budget - expected) / (sigma * math.sqrt(2.0)))
            total += math.log(max(p, 1e-300))
        return total
