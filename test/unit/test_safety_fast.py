"""The tuned safety filter behaves exactly like the implementation it replaced.

``_ReferenceFilter`` is a verbatim copy of ``SafetyFilter``'s ``observe``/``filter`` as of commit
507a75e; random sequences of observations (with NaN, inf, huge values, late stamps) and commands
(in and out of the limits, non-finite, ints and numpy scalars) must give the same commands — values,
types, hold flags and reasons — and the same counters.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from cadence.policy.safety import (
    HOLD_NAN_OBS,
    HOLD_NAN_OUTPUT,
    HOLD_NO_OBS,
    HOLD_STALE,
    Command,
    SafetyConfig,
    SafetyCounters,
    SafetyFilter,
)


class _ReferenceFilter:
    def __init__(self, config: SafetyConfig) -> None:
        self.config = c = config
        self._dv, self._dw = c.max_accel * c.control_dt, c.max_alpha * c.control_dt
        self._obs_time: float | None = None
        self._obs_ok = False
        self._v = self._w = 0.0
        self._steps = self._holds = self._nan_obs = self._nan_output = self._stale = 0
        self._clamped = self._accel_limited = self._consecutive = 0

    def observe(self, obs: np.ndarray, stamp: float) -> bool:
        ok = math.isfinite(obs.dot(obs)) if obs.ndim == 1 else bool(np.isfinite(obs).all())
        self._obs_time, self._obs_ok = stamp, ok
        return ok

    def filter(self, v: float, omega: float, now: float) -> Command:
        self._steps += 1
        reason = ""
        if self._obs_time is None:
            reason = HOLD_NO_OBS
        elif now - self._obs_time > self.config.obs_timeout:
            reason = HOLD_STALE
            self._stale += 1
        elif not self._obs_ok:
            reason = HOLD_NAN_OBS
            self._nan_obs += 1
        elif not (math.isfinite(v) and math.isfinite(omega)):
            reason = HOLD_NAN_OUTPUT
            self._nan_output += 1
        if reason:
            self._holds += 1
            self._consecutive += 1
            self._v = self._w = 0.0
            return Command(0.0, 0.0, True, reason)
        self._consecutive = 0
        c = self.config
        cv = min(max(v, c.v_min), c.v_max)
        cw = min(max(omega, -c.omega_max), c.omega_max)
        if cv != v or cw != omega:
            self._clamped += 1
            reason = "clamped"
        lv = min(max(cv, self._v - self._dv), self._v + self._dv)
        lw = min(max(cw, self._w - self._dw), self._w + self._dw)
        if lv != cv or lw != cw:
            self._accel_limited += 1
            reason = "accel limited" if not reason else reason + ", accel limited"
        self._v, self._w = lv, lw
        return Command(lv, lw, False, reason)

    @property
    def counters(self) -> SafetyCounters:
        return SafetyCounters(
            self._steps,
            self._holds,
            self._nan_obs,
            self._nan_output,
            self._stale,
            self._clamped,
            self._accel_limited,
            self._consecutive,
        )


def _command(rng: np.random.Generator) -> float:
    r = rng.random()
    if r < 0.05:
        return float(rng.choice([math.nan, math.inf, -math.inf]))
    if r < 0.1:
        return int(rng.integers(-3, 4))  # type: ignore[return-value]
    if r < 0.2:
        return np.float32(rng.uniform(-3, 3))  # type: ignore[return-value]
    if r < 0.25:
        return float(rng.choice([0.0, -0.0, 1.0, -0.5, 2.0, -2.0]))  # exactly on a limit
    return float(rng.uniform(-3, 3))


def _obs(rng: np.random.Generator) -> np.ndarray:
    obs = rng.standard_normal(int(rng.choice([8, 50]))).astype(rng.choice(["float32", "float64"]))
    r = rng.random()
    if r < 0.05:
        obs[rng.integers(obs.size)] = rng.choice([np.nan, np.inf, -np.inf, 3e19])
    elif r < 0.08:
        obs = obs.reshape(2, -1)  # the batch form
        obs[0, 0] = rng.choice([0.0, np.nan])
    return obs


@pytest.mark.filterwarnings("ignore:overflow encountered in dot:RuntimeWarning")  # 3e19**2, in both
@pytest.mark.parametrize(
    "config", [SafetyConfig(), SafetyConfig.for_robot(), SafetyConfig(max_accel=1e3, max_alpha=1e3)]
)
def test_filter_matches_the_reference_on_random_sequences(config: SafetyConfig) -> None:
    rng = np.random.default_rng(int(config.max_accel))
    for _ in range(20):
        ours, ref = SafetyFilter(config), _ReferenceFilter(config)
        now = 0.0
        for _ in range(400):
            now += float(rng.uniform(0.0, 0.1))
            if rng.random() < 0.3:
                obs = _obs(rng)
                stamp = now - float(rng.choice([0.0, 0.1, config.obs_timeout, 1.0]))
                assert ours.observe(obs, stamp) == ref.observe(obs, stamp)
            v, w = _command(rng), _command(rng)
            got, want = ours.filter(v, w, now), ref.filter(v, w, now)
            assert got == want
            assert [type(a) for a in got] == [type(a) for a in want]
            assert [math.copysign(1.0, a) for a in got[:2]] == [math.copysign(1.0, a) for a in want[:2]]
            assert isinstance(got, Command) and ours.counters == ref.counters
        assert (ours._v, ours._w) == (ref._v, ref._w)
    assert ours.counters.steps == 400 and ours.counters.holds > 0  # the cases were exercised
