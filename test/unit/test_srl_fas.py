"""Frequency-Averaged Score on known numbers, and the evaluation at a decision interval."""

from __future__ import annotations

import numpy as np
import pytest

from cadence.learn.evaluation import evaluate
from cadence.learn.fas import DEFAULT_INTERVALS, frequency_averaged_score, normalise
from cadence.learn.toy import PointReach


def test_perfect_and_useless_policies_score_one_and_zero() -> None:
    assert frequency_averaged_score(dict.fromkeys(DEFAULT_INTERVALS, 10.0), 0.0, 10.0) == pytest.approx(1.0)
    assert frequency_averaged_score(dict.fromkeys(DEFAULT_INTERVALS, -5.0), 0.0, 10.0) == pytest.approx(0.0)


def test_known_curve_trapezoid_over_interval() -> None:
    # the paper's axis: normalised score 1 at J=1 and 0 at J=2, a straight line, mean 0.5
    assert frequency_averaged_score({1: 1.0, 2: 0.0}, 0.0, 1.0) == pytest.approx(0.5)
    # J = 1, 2, 4 with scores 1, 1, 0: area = (1+1)/2*1 + (1+0)/2*2 = 2 over span 3
    assert frequency_averaged_score({1: 3.0, 2: 3.0, 4: 1.0}, 1.0, 3.0) == pytest.approx(2.0 / 3.0)
    # the default intervals: only J=16 fails -> the last segment (8 of 15 units) is a triangle
    curve = dict.fromkeys(DEFAULT_INTERVALS, 1.0) | {16: 0.0}
    assert frequency_averaged_score(curve, 0.0, 1.0) == pytest.approx((7.0 + 4.0) / 15.0)
    # unclipped, as in the paper's code: worse than the floor counts against the policy
    assert frequency_averaged_score({1: -1.0, 2: -1.0}, 0.0, 1.0, clip=False) == pytest.approx(-1.0)


def test_known_curve_trapezoid_over_frequency() -> None:
    # normalised scores 1 at J=1 (f=1) and 0 at J=2 (f=0.5): a straight line, mean 0.5
    assert frequency_averaged_score({1: 1.0, 2: 0.0}, 0.0, 1.0, axis="frequency") == pytest.approx(0.5)
    # J = 1, 2, 4 -> f = 1, 0.5, 0.25 with scores 1, 1, 0:
    # area = (1+1)/2*0.5 + (1+0)/2*0.25 = 0.625 over span 0.75
    fas = frequency_averaged_score({1: 3.0, 2: 3.0, 4: 1.0}, 1.0, 3.0, axis="frequency")
    assert fas == pytest.approx(0.625 / 0.75)
    # the same curve weighs slow decisions far more on the interval axis
    curve = dict.fromkeys(DEFAULT_INTERVALS, 1.0) | {16: 0.0}
    assert frequency_averaged_score(curve, 0.0, 1.0, axis="frequency") > frequency_averaged_score(
        curve, 0.0, 1.0
    )


def test_normalise_clips_unless_asked() -> None:
    assert np.allclose(normalise([-1.0, 0.5, 2.0], 0.0, 1.0), [0.0, 0.5, 1.0])
    assert np.allclose(normalise([2.0], 0.0, 1.0, clip=False), [2.0])


def test_bad_inputs_are_refused_with_reasons() -> None:
    with pytest.raises(ValueError, match="two or more"):
        frequency_averaged_score({1: 1.0}, 0.0, 1.0)
    with pytest.raises(ValueError, match="high > low"):
        frequency_averaged_score({1: 1.0, 2: 1.0}, 1.0, 1.0)
    with pytest.raises(ValueError, match="positive"):
        frequency_averaged_score({0: 1.0, 2: 1.0}, 0.0, 1.0)
    with pytest.raises(ValueError, match="axis"):
        frequency_averaged_score({1: 1.0, 2: 1.0}, 0.0, 1.0, axis="time")


def test_evaluate_at_interval_counts_decisions() -> None:
    calls = []

    def policy(obs: np.ndarray) -> np.ndarray:
        calls.append(obs)
        return np.sign(obs).reshape(1, 1)  # a one-action policy: held for the whole interval

    env = PointReach(horizon=16)
    r1 = evaluate(env, policy, interval=1, episodes=1, seed=5)
    n1, calls[:] = len(calls), []
    r4 = evaluate(env, policy, interval=4, episodes=1, seed=5)
    assert n1 == 16 and len(calls) == 4
    # holding the action four steps overshoots: deciding every step does at least as well
    assert r1.mean >= r4.mean
    with pytest.raises(ValueError):
        evaluate(env, policy, interval=0, episodes=1)
