"""The safety filter between the policy and the robot (issue 4; cf. Nav2's velocity smoother and
collision monitor, ros2_control's command timeouts).

Every control step, the command about to be sent passes through :meth:`SafetyFilter.filter`:

1. **hold** (zero velocity, immediately — not ramped, like a ros2_control command timeout) when
   the newest observation is older than ``obs_timeout``, when it contained NaN/Inf, or when the
   command itself is NaN/Inf. Each cause has its own counter. Because the check runs every control
   step, a stale observation stops the robot within one control period of the timeout;
2. **clamp** to ``[v_min, v_max] x [-omega_max, omega_max]``;
3. **acceleration limits**: ``|dv| <= max_accel * control_dt`` and
   ``|domega| <= max_alpha * control_dt`` relative to the previous output.

It works on Python floats (no numpy temporaries) because it runs at the control rate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from math import isfinite
from typing import Any, NamedTuple

import numpy as np

from cadence.policy.errors import ConfigError


@dataclass(frozen=True)
class SafetyConfig:
    """Safety-filter limits (SI units). Defaults: the rover's limits from ``cadence.sim.robot``.

    Attributes:
        v_min, v_max: Forward speed limits (m/s); ``v_min <= 0 <= v_max``.
        omega_max: Yaw-rate limit (rad/s), symmetric.
        max_accel: Linear acceleration limit (m/s^2).
        max_alpha: Angular acceleration limit (rad/s^2).
        obs_timeout: Seconds after which an observation is stale.
        control_dt: Control period (s).
    """

    v_min: float = -0.5
    v_max: float = 1.0
    omega_max: float = 2.0
    max_accel: float = 2.0
    max_alpha: float = 8.0
    obs_timeout: float = 0.25
    control_dt: float = 0.05

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ConfigError(f"safety.{f.name} must be a finite number, got {value!r}")
        if self.v_min > 0:
            raise ConfigError(f"safety.v_min must be <= 0 (zero must be a valid command), got {self.v_min}")
        for name in ("v_max", "omega_max", "max_accel", "max_alpha", "obs_timeout", "control_dt"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"safety.{name} must be > 0, got {getattr(self, name)}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SafetyConfig:
        """Build from a mapping (YAML parameters); unknown keys are refused, naming them."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"safety config must be a mapping, got {type(data).__name__}")
        valid = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - valid)
        if unknown:
            raise ConfigError(f"safety config: unknown key(s) {unknown}; valid: {sorted(valid)}")
        return cls(**data)

    @classmethod
    def for_robot(cls, **overrides: Any) -> SafetyConfig:
        """Limits from ``cadence.sim.robot`` (the one source of the rover's limits), with overrides."""
        from cadence.sim import robot

        base = {
            "v_min": robot.V_MIN,
            "v_max": robot.V_MAX,
            "omega_max": robot.W_MAX,
            "control_dt": robot.CONTROL_DT,
        }
        return cls.from_dict({**base, **overrides})


class Command(NamedTuple):
    """A filtered command and why it differs from the request (``reason`` empty when it passed)."""

    v: float
    omega: float
    held: bool = False
    reason: str = ""


class SafetyCounters(NamedTuple):
    """Diagnostics snapshot (publish on ``/diagnostics``)."""

    steps: int
    holds: int
    nan_obs: int
    nan_output: int
    stale_obs: int
    clamped: int
    accel_limited: int
    consecutive_holds: int


HOLD_STALE = "stale observation"
HOLD_NAN_OBS = "non-finite observation"
HOLD_NAN_OUTPUT = "non-finite command"
HOLD_NO_OBS = "no observation yet"
# Commands are immutable: one shared instance per hold reason, built once.
_HOLDS = {r: Command(0.0, 0.0, True, r) for r in (HOLD_STALE, HOLD_NAN_OBS, HOLD_NAN_OUTPUT, HOLD_NO_OBS)}
_new_command = tuple.__new__  # Command(...) without the generated __new__'s argument handling


class SafetyFilter:
    """Stateful filter; one per robot. See the module docstring for the order of the checks."""

    def __init__(self, config: SafetyConfig | None = None) -> None:
        self.config = config or SafetyConfig()
        c = self.config
        self._dv, self._dw = c.max_accel * c.control_dt, c.max_alpha * c.control_dt
        # the limits as plain attributes: read every control step
        self._timeout, self._v_min, self._v_max = c.obs_timeout, c.v_min, c.v_max
        self._w_min, self._w_max = -c.omega_max, c.omega_max
        self.reset()

    def reset(self) -> None:
        """Forget the last observation and output (the robot is at rest); counters to zero."""
        self._obs_time: float | None = None
        self._obs_ok = False
        self._v = self._w = 0.0
        # Plain int attributes, not a dict: this runs at the control rate.
        self._steps = self._holds = self._nan_obs = self._nan_output = self._stale = 0
        self._clamped = self._accel_limited = self._consecutive = 0

    def observe(self, obs: np.ndarray, stamp: float) -> bool:
        """Record a new observation's time stamp and whether it is finite. Returns finiteness.

        ``obs . obs`` is finite iff every entry is finite and below ~1e19 in magnitude — a value that
        large in a normalised observation is as broken as NaN. One BLAS call (about 1 us) instead of
        ``np.isfinite(obs).all()`` (two ufuncs, several times slower).
        """
        ok = math.isfinite(obs.dot(obs)) if obs.ndim == 1 else bool(np.isfinite(obs).all())
        self._obs_time, self._obs_ok = stamp, ok
        return ok

    def observe_checked(self, finite: bool, stamp: float) -> bool:
        """:meth:`observe` for an observation whose finiteness the caller has already established
        (the compiled decision kernel does, with the same criterion). Returns ``finite``."""
        self._obs_time, self._obs_ok = stamp, finite
        return finite

    def filter(self, v: float, omega: float, now: float) -> Command:
        """Filter one command at time ``now`` (same clock as the observation stamps)."""
        self._steps += 1
        obs_time = self._obs_time
        if obs_time is None:
            hold = _HOLDS[HOLD_NO_OBS]
        elif now - obs_time > self._timeout:
            hold = _HOLDS[HOLD_STALE]
            self._stale += 1
        elif not self._obs_ok:
            hold = _HOLDS[HOLD_NAN_OBS]
            self._nan_obs += 1
        elif not (isfinite(v) and isfinite(omega)):
            hold = _HOLDS[HOLD_NAN_OUTPUT]
            self._nan_output += 1
        else:
            hold = None
        if hold is not None:
            self._holds += 1
            self._consecutive += 1
            self._v = self._w = 0.0
            return hold
        self._consecutive = 0
        # min(max(x, lo), hi) spelled out: the same comparisons (and returned objects) as the builtins
        lo, hi = self._v_min, self._v_max
        cv = lo if lo > v else v
        cv = hi if hi < cv else cv
        lo, hi = self._w_min, self._w_max
        cw = lo if lo > omega else omega
        cw = hi if hi < cw else cw
        reason = ""
        if cv != v or cw != omega:
            self._clamped += 1
            reason = "clamped"
        pv, pw = self._v, self._w
        lo, hi = pv - self._dv, pv + self._dv
        lv = lo if lo > cv else cv
        lv = hi if hi < lv else lv
        lo, hi = pw - self._dw, pw + self._dw
        lw = lo if lo > cw else cw
        lw = hi if hi < lw else lw
        if lv != cv or lw != cw:
            self._accel_limited += 1
            reason = "accel limited" if not reason else reason + ", accel limited"
        self._v, self._w = lv, lw
        return _new_command(Command, (lv, lw, False, reason))

    @property
    def counters(self) -> SafetyCounters:
        """A snapshot of the counters (for ``/diagnostics``)."""
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
