"""Frequency-Averaged Score (FAS), SRL paper section 5.

A policy is evaluated at decision intervals ``J in {1, 2, 4, 8, 16}`` primitive steps; each mean
return is normalised to ``[0, 1]`` between a reference low (a random / do-nothing policy) and a
reference high (the best return of the task), and FAS is the area under the normalised
return-versus-decision-frequency curve, divided by the width of the frequency axis so that a policy
that is perfect at every frequency scores 1. Frequencies are ``1 / J`` (decisions per primitive step).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

DEFAULT_INTERVALS: tuple[int, ...] = (1, 2, 4, 8, 16)


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
    returns_by_interval: Mapping[int, float], low: float, high: float, clip: bool = True
) -> float:
    """FAS of one policy.

    Args:
        returns_by_interval: Mean return at each decision interval J (primitive steps); at least two.
        low: Return that normalises to 0.
        high: Return that normalises to 1.
        clip: Clip normalised returns to ``[0, 1]``.

    Returns:
        Trapezoidal area under normalised return over frequency ``1/J``, divided by the frequency span.

    Raises:
        ValueError: for fewer than two intervals, a non-positive interval, or ``high <= low``.
    """
    if len(returns_by_interval) < 2:
        raise ValueError(f"FAS needs returns at two or more intervals, got {dict(returns_by_interval)}")
    intervals = sorted(returns_by_interval)
    if intervals[0] <= 0:
        raise ValueError(f"decision intervals must be positive integers, got {intervals}")
    freq = np.array([1.0 / j for j in intervals])[::-1]  # ascending frequency
    score = normalise([returns_by_interval[j] for j in intervals], low, high, clip)[::-1]
    area = float(np.sum((score[1:] + score[:-1]) * np.diff(freq)) / 2.0)
    return area / float(freq[-1] - freq[0])
