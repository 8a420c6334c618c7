"""Safety filter: holds on NaN/Inf/stale input, clamps, limits acceleration, counts (issue 4)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cadence.policy.errors import ConfigError
from cadence.policy.safety import (
    HOLD_NAN_OBS,
    HOLD_NAN_OUTPUT,
    HOLD_NO_OBS,
    HOLD_STALE,
    SafetyConfig,
    SafetyFilter,
)

OBS = np.zeros(8, np.float32)
# Generous acceleration limits so only the case under test changes the command.
LOOSE = SafetyConfig(max_accel=1e3, max_alpha=1e3)


def _ready(config: SafetyConfig = LOOSE, t: float = 0.0) -> SafetyFilter:
    f = SafetyFilter(config)
    f.observe(OBS, t)
    return f


def test_passes_a_good_command() -> None:
    cmd = _ready().filter(0.3, -0.4, 0.01)
    assert (cmd.v, cmd.omega, cmd.held, cmd.reason) == (0.3, -0.4, False, "")


def test_holds_before_any_observation() -> None:
    cmd = SafetyFilter(LOOSE).filter(0.3, 0.1, 0.0)
    assert cmd.held and (cmd.v, cmd.omega) == (0.0, 0.0) and cmd.reason == HOLD_NO_OBS


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_observation_holds_and_counts(bad: float) -> None:
    f = _ready()
    f.filter(0.5, 0.0, 0.01)
    obs = OBS.copy()
    obs[3] = bad
    assert not f.observe(obs, 0.05)
    cmd = f.filter(0.5, 0.0, 0.06)
    assert cmd.held and (cmd.v, cmd.omega) == (0.0, 0.0) and cmd.reason == HOLD_NAN_OBS
    assert f.counters.nan_obs == 1 and f.counters.holds == 1
    f.observe(OBS, 0.1)  # a good observation resumes normal filtering
    assert not f.filter(0.5, 0.0, 0.11).held


@pytest.mark.parametrize(("v", "w"), [(math.nan, 0.0), (0.2, math.nan), (math.inf, 0.0), (0.0, -math.inf)])
def test_non_finite_output_holds_and_counts(v: float, w: float) -> None:
    f = _ready()
    cmd = f.filter(v, w, 0.01)
    assert cmd.held and (cmd.v, cmd.omega) == (0.0, 0.0) and cmd.reason == HOLD_NAN_OUTPUT
    assert f.counters.nan_output == 1


def test_stale_observation_holds_within_one_control_period() -> None:
    config = SafetyConfig(obs_timeout=0.2, max_accel=1e3, max_alpha=1e3)
    f = _ready(config, t=1.0)
    dt = config.control_dt
    t = 1.0
    # The filter runs every control step; find the first held step after the last observation.
    while not (cmd := f.filter(0.5, 0.5, t)).held:
        assert cmd.v == 0.5
        t += dt
    assert cmd.reason == HOLD_STALE and (cmd.v, cmd.omega) == (0.0, 0.0)
    assert 1.0 + config.obs_timeout < t <= 1.0 + config.obs_timeout + dt + 1e-9
    assert f.counters.stale_obs == 1


def test_clamps_to_limits() -> None:
    f = _ready(SafetyConfig(v_min=-0.5, v_max=1.0, omega_max=2.0, max_accel=1e3, max_alpha=1e3))
    cmd = f.filter(3.0, -9.0, 0.01)
    assert (cmd.v, cmd.omega, cmd.held) == (1.0, -2.0, False) and "clamped" in cmd.reason
    assert f.filter(-3.0, 9.0, 0.02)[:2] == (-0.5, 2.0)
    assert f.counters.clamped == 2


def test_acceleration_limits_ramp_the_command() -> None:
    config = SafetyConfig(max_accel=1.0, max_alpha=4.0, control_dt=0.05)
    f = _ready(config)
    outs = [f.filter(1.0, 2.0, 0.01 * i) for i in range(25)]
    dv = np.diff([0.0] + [c.v for c in outs])
    dw = np.diff([0.0] + [c.omega for c in outs])
    assert np.all(np.abs(dv) <= 1.0 * 0.05 + 1e-12) and np.all(np.abs(dw) <= 4.0 * 0.05 + 1e-12)
    assert outs[-1].v == pytest.approx(1.0) and outs[-1].omega == pytest.approx(2.0)
    assert f.counters.accel_limited > 0 and "accel limited" in outs[0].reason


def test_hold_is_immediate_and_ramp_restarts_from_zero() -> None:
    f = _ready(SafetyConfig(max_accel=1.0, control_dt=0.05, max_alpha=1e3))
    for i in range(30):
        f.filter(1.0, 0.0, 0.001 * i)
    assert f.filter(math.nan, 0.0, 0.05).v == 0.0
    assert f.filter(1.0, 0.0, 0.06).v == pytest.approx(0.05)
    assert f.counters.consecutive_holds == 0


@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True, allow_infinity=True))
def test_output_always_finite_and_within_limits(v: float, w: float) -> None:
    config = SafetyConfig()
    cmd = _ready(config).filter(v, w, 0.01)
    assert math.isfinite(cmd.v) and math.isfinite(cmd.omega)
    assert config.v_min <= cmd.v <= config.v_max and abs(cmd.omega) <= config.omega_max


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"v_max": -1.0}, "v_max"),
        ({"obs_timeout": 0}, "obs_timeout"),
        ({"v_min": 0.2}, "v_min"),
        ({"max_accel": math.nan}, "max_accel"),
        ({"omega_max": "2"}, "omega_max"),
    ],
)
def test_bad_config_names_the_key(kwargs: dict, key: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigError, match=f"safety.{key}"):
        SafetyConfig(**kwargs)


def test_from_dict_refuses_unknown_keys_and_for_robot_uses_robot_limits() -> None:
    with pytest.raises(ConfigError, match=r"unknown key.*vmax"):
        SafetyConfig.from_dict({"vmax": 1.0})
    from cadence.sim import robot

    config = SafetyConfig.for_robot(obs_timeout=0.3)
    assert (config.v_min, config.v_max, config.omega_max) == (robot.V_MIN, robot.V_MAX, robot.W_MAX)
    assert config.obs_timeout == 0.3
