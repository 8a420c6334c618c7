"""Frequency-Averaged Score (FAS), SRL paper section 5.

A policy is evaluated at decision intervals ``J in {1, 2, 4, 8, 16}`` primitive steps; each mean
return is normalised between a reference low (0: a random policy) and a reference high (1: a good
return of the task), and FAS is the area under the normalised return-versus-interval curve divided by
the width of the interval axis, so that a policy that scores 1 at every interval scores 1.

The axis is the decision interval ``J`` (the issue: "the area under the return-vs-interval curve").
That is also what the paper's published evaluation code does: ``np.trapz(returns, steps) /
(max_reward * span)`` over the action-sequence lengths ``steps``, with a fixed per-task reference
return and an offset for tasks whose returns are negative, and no clipping
(github.com/dee0512/Sequence-Reinforcement-Learning, ``notebooks/table2.ipynb``). Integrating over
the frequency ``1 / J`` instead (``axis="frequency"``, what this module did before) puts more than half
of the weight on ``J = 1..2``, where every policy decides often and slow-decision skill hardly shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

DEFAULT_INTERVALS: tuple[int, ...] = (1, 2, 4, 8, 16)
AXES = ("interval", "frequency")


def normalise(returns: Sequence[float], low: float, high: float, clip: bool = True) -> np.ndarray:
    """``(R - low) / (high - low)``, clipped to ``[0, 1]`` by default.

    Raises:
        ValueError: if ``high <= low``.
    """
    if not high > low:
        raise ValueError(f"normalisation needs high > low, got low={low}, high={high}")
    out = (np.asarray(returns, dtype=np.float64) - low) / (high - low)
    return np.clip(out, 0.0, 1.0) if clip else out


def frequency_averaged_score(
    returns_by_interval: Mapping[int, float],
    low: float,
    high: float,
    clip: bool = True,
    axis: str = "interval",
) -> float:
    """FAS of one policy.

    Args:
        returns_by_interval: Mean return at each decision interval J (primitive steps); at least two.
        low: Return that normalises to 0.
        high: Return that normalises to 1.
        clip: Clip normalised returns to ``[0, 1]`` (the paper does not clip).
        axis: ``"interval"`` (the paper's and the issue's: area over ``J``) or ``"frequency"``
            (area over ``1 / J``).

    Returns:
        Trapezoidal area under the normalised return over the axis, divided by the axis span.

    Raises:
        ValueError: for fewer than two intervals, a non-positive interval, ``high <= low`` or an
            unknown axis.
    """
    if axis not in AXES:
        raise ValueError(f"unknown FAS axis {axis!r}; valid: {', '.join(AXES)}")
    if len(returns_by_interval) < 2:
        raise ValueError(f"FAS needs returns at two or more intervals, got {dict(returns_by_interval)}")
    intervals = sorted(returns_by_interval)
    if intervals[0] <= 0:
        raise ValueError(f"decision intervals must be positive integers, got {intervals}")
    score = normalise([returns_by_interval[j] for j in intervals], low, high, clip)
    x = np.array(intervals, dtype=np.float64)
    if axis == "frequency":
        x, score = (1.0 / x)[::-1], score[::-1]  # ascending frequency
    area = float(np.sum((score[1:] + score[:-1]) * np.diff(x)) / 2.0)
    return area / float(x[-1] - x[0])
