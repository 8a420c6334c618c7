"""Time allocation: a deadline for every subgoal (TGPO's explicit time variables).

Deadlines are absolute (seconds since the plan started). A task's own deadlines are kept; the others
are allocated in two passes:

1. **From geometry.** Each leg's minimum time is its path length at ``v_max`` plus its heading
   changes at ``omega_max``. Requested deadlines earlier than that are rejected with the reason
   ("kitchen is 14.0 m away; 5 s at 1.0 m/s is not enough"). Between two requested deadlines the
   spare time is shared in proportion to the legs' minimum times; after the last one each leg gets
   ``slack`` times its minimum plus ``margin_s``.
2. **Refined by sampling** (TGPO, critic-guided Metropolis-Hastings): the free deadlines inside a
   span that ends at a requested deadline are perturbed one at a time and accepted with probability
   ``exp((score' - score) / temperature)``; the best allocation seen wins. The scorer is pluggable
   (:class:`AllocationScorer`: the critic engineer's progress model, a policy value ...). The default
   :func:`slack_score` prefers proportional slack, which is exactly what pass 1 produces (its
   maximiser under the span constraint), so without a scorer the sampler is skipped and only its
   feasibility check remains. The sampler is seeded, so plans are reproducible.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from cadence.planner.errors import InfeasibleDeadline

EPS = 1e-6


class LegTiming(NamedTuple):
    """What allocation knows about one subgoal's leg."""

    region: str
    length: float  # metres from the previous subgoal (or the start)
    min_time: float  # seconds at the speed limits
    hold: float  # dwell at the end of the leg
    requested: float | None  # absolute deadline the task asked for


class AllocationScorer(Protocol):
    """Scores absolute deadlines for legs; higher is better, ``-inf`` for impossible."""

    def __call__(self, legs: Sequence[LegTiming], deadlines: Sequence[float]) -> float: ...


@dataclass(frozen=True)
class TimingConfig:
    """Allocation settings (rover limits from :mod:`cadence.sim.robot` when it is installed).

    Attributes:
        v_max: Top speed in m/s used for minimum times.
        omega_max: Top turn rate in rad/s.
        slack: Budget factor on a leg's minimum time when nothing constrains it.
        margin_s: Seconds added to such a budget (acceleration, doorways).
        iterations: Metropolis-Hastings proposals.
        temperature: Acceptance temperature on score differences.
        step_s: Standard deviation of a proposal in seconds.
        seed: Sampler seed (plans are reproducible).
        resolution_s: Every time in a plan is a multiple of this (a multiple of the control period,
            so the STL bounds are whole numbers of samples).
    """

    v_max: float = 1.0
    omega_max: float = 2.0
    slack: float = 1.5
    margin_s: float = 3.0
    iterations: int = 60
    temperature: float = 0.02
    step_s: float = 1.0
    seed: int = 0
    resolution_s: float = 0.1


def rover_limits() -> tuple[float, float]:
    """(V_MAX, W_MAX) from ``cadence.sim.robot``, or the DEVELOPERS.md values (1.0, 2.0) without it."""
    try:
        from cadence.sim.robot import V_MAX, W_MAX  # the single source once the sim lands
    except ImportError:
        return 1.0, 2.0
    return float(V_MAX), float(W_MAX)


def control_dt() -> float:
    """The control period (``cadence.sim.robot.CONTROL_DT``, DEVELOPERS.md: 0.05 s).

    STL bounds must be whole multiples of the sampling period the spec is evaluated at (rtamt's
    rule, enforced by :mod:`cadence.stl`), so every time in a plan is a multiple of it.
    """
    try:
        from cadence.sim.robot import CONTROL_DT
    except ImportError:
        return 0.05
    return float(CONTROL_DT)


def floor_to(x: float, res: float) -> float:
    """Largest multiple of `res` not above `x` (deadlines: never later than asked)."""
    return round(math.floor(x / res + 1e-9) * res, 6)


def ceil_to(x: float, res: float) -> float:
    """Smallest multiple of `res` not below `x` (holds: never shorter than asked)."""
    return round(math.ceil(x / res - 1e-9) * res, 6)


def slack_score(legs: Sequence[LegTiming], deadlines: Sequence[float]) -> float:
    """Default scorer: ``sum(m_i * log(budget_i / m_i)) / sum(m_i)``, maximal for proportional slack."""
    total = 0.0
    weight = 0.0
    prev = 0.0
    for i, (leg, d) in enumerate(zip(legs, deadlines, strict=False)):
        budget = d - prev - (legs[i - 1].hold if i else 0.0)
        if budget < leg.min_time - EPS:
            return -math.inf
        if leg.min_time > EPS:
            total += leg.min_time * math.log(budget / leg.min_time)
            weight += leg.min_time
        prev = d
    return total / weight if weight else 0.0


def earliest(legs: Sequence[LegTiming]) -> list[float]:
    """Earliest possible arrival at each subgoal (minimum times plus earlier holds)."""
    out, t = [], 0.0
    for i, leg in enumerate(legs):
        t += leg.min_time + (legs[i - 1].hold if i else 0.0)
        out.append(t)
    return out


def check_feasible(legs: Sequence[LegTiming], v_max: float) -> None:
    """Reject requested deadlines that cannot be met, saying why.

    Raises:
        InfeasibleDeadline: naming the region, the distance, the deadline and the time needed.
    """
    first = earliest(legs)
    dist = 0.0
    prev_anchor: tuple[int, float] = (-1, 0.0)
    for i, leg in enumerate(legs):
        dist += leg.length
        if leg.requested is None:
            continue
        p, t_p = prev_anchor
        need = sum(legs[j].min_time for j in range(p + 1, i + 1))
        need += sum(legs[j].hold for j in range(max(p, 0), i))
        via = [legs[j].region for j in range(i)]
        where = f" via {', '.join(via)}" if via else ""
        if leg.requested + EPS < first[i]:
            raise InfeasibleDeadline(
                f"{leg.region} is {dist:.1f} m away{where}; {leg.requested:g} s at {v_max:g} m/s is not "
                f"enough (it needs at least {first[i]:.1f} s, turns included)"
            )
        if p >= 0 and leg.requested < t_p:
            raise InfeasibleDeadline(
                f"{leg.region}'s deadline ({leg.requested:g} s) is before {legs[p].region}'s ({t_p:g} s), "
                f"which comes first; deadlines count from the start of the task"
            )
        if p >= 0 and leg.requested - t_p + EPS < need:
            raise InfeasibleDeadline(
                f"{leg.region} cannot be reached by {leg.requested:g} s after {legs[p].region} at "
                f"{t_p:g} s: the {sum(legs[j].length for j in range(p + 1, i + 1)):.1f} m between them "
                f"need at least {need:.1f} s at {v_max:g} m/s"
            )
        prev_anchor = (i, leg.requested)


def _initial(legs: Sequence[LegTiming], cfg: TimingConfig) -> list[float]:
    d = [0.0] * len(legs)
    start, t0 = 0, 0.0
    for i, leg in enumerate(legs):
        if leg.requested is None:
            continue
        span = range(start, i + 1)
        mins = [legs[j].min_time for j in span]
        holds = sum(legs[j - 1].hold for j in span if j > 0)
        spare = max(0.0, leg.requested - t0 - sum(mins) - holds)
        total = sum(mins)
        t = t0
        for j, m in zip(span, mins, strict=False):
            share = spare * (m / total if total > EPS else 1.0 / len(mins))
            t += (legs[j - 1].hold if j > 0 else 0.0) + m + share
            d[j] = t
        d[i] = leg.requested
        start, t0 = i + 1, leg.requested
    t = t0
    for j in range(start, len(legs)):
        t += (legs[j - 1].hold if j > 0 else 0.0) + cfg.slack * legs[j].min_time + cfg.margin_s
        d[j] = t
    return d


def _bounds(legs: Sequence[LegTiming], d: list[float], j: int) -> tuple[float, float]:
    lo = (d[j - 1] + legs[j - 1].hold if j > 0 else 0.0) + legs[j].min_time
    hi = d[j + 1] - legs[j].hold - legs[j + 1].min_time
    return lo, hi


def allocate(
    legs: Sequence[LegTiming], cfg: TimingConfig, scorer: AllocationScorer | None = None
) -> list[float]:
    """Absolute deadline for every leg (see the module docstring).

    Raises:
        InfeasibleDeadline: when a requested deadline cannot be met.
    """
    check_feasible(legs, cfg.v_max)
    score_fn = scorer or slack_score
    d = _initial(legs, cfg)
    last_anchor = max((i for i, leg in enumerate(legs) if leg.requested is not None), default=-1)
    free = [j for j in range(last_anchor) if legs[j].requested is None]
    if free and cfg.iterations > 0 and scorer is not None:
        rng = random.Random(cfg.seed)
        score = score_fn(legs, d)
        best, best_score = list(d), score
        for _ in range(cfg.iterations):
            j = rng.choice(free)
            lo, hi = _bounds(legs, d, j)
            if hi - lo < EPS:
                continue
            cand = list(d)
            cand[j] = min(hi, max(lo, d[j] + rng.gauss(0.0, cfg.step_s)))
            new = score_fn(legs, cand)
            if new >= score or rng.random() < math.exp((new - score) / cfg.temperature):
                d, score = cand, new
                if score > best_score:
                    best, best_score = list(d), score
        d = best
    return [_round(x, cfg.resolution_s) if legs[i].requested is None else x for i, x in enumerate(d)]


def _round(x: float, res: float) -> float:
    return round(round(x / res) * res, 6)
