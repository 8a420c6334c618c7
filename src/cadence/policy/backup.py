"""The backup controller: a verifiable turn-then-go waypoint law, and the rule that switches to it.

STL-NPC pairs its learned controller with a backup policy that takes over when the learned one
cannot be trusted. Here the backup is a closed-form law on the observation's current-waypoint
slice (bearing cos/sin, clipped distance) with properties that can be read off the code:

* ``|omega| <= omega_max`` and ``0 <= v <= v_max`` (both inside the rover's limits) — it never
  reverses into what it cannot see;
* it turns in place while the waypoint is more than ``heading_tolerance`` off the nose, so it
  never drives with a large heading error (the route's segments are collision-free, so staying
  near them keeps the invariants the planner checked);
* it stops when the lidar reads anything closer than ``stop_distance`` within
  ``front_half_angle`` of the nose, and when the goal is within ``goal_radius``.

:class:`BackupPolicy` exposes it with the Policy interface (``act(obs[B, obs_dim]) -> [B, K, 2]``):
within one decision it predicts the waypoint's relative position with unicycle kinematics, so the
K actions turn and then go instead of repeating the first one. :class:`BackupSwitch` is the
switching rule (see its docstring).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from cadence.policy.errors import ConfigError
from cadence.policy.manifest import ActionSpec, Golden, Manifest, TensorSpec
from cadence.policy.observation import DEFAULT_LAYOUT, ObservationLayout


@dataclass(frozen=True)
class BackupConfig:
    """Gains and limits of the backup law (SI units)."""

    v_max: float = 0.5
    omega_max: float = 1.5
    k_omega: float = 2.0  # rad/s per rad of bearing error
    k_v: float = 0.8  # m/s per metre of distance (slows down near the waypoint)
    heading_tolerance: float = 0.5  # rad: turn in place above this bearing error
    stop_distance: float = 0.35  # m: lidar reading ahead below which v = 0
    front_half_angle: float = 0.5  # rad: the "ahead" sector
    goal_radius: float = 0.25  # m: stop when the goal is this close
    k: int = 8
    control_dt: float = 0.05

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ConfigError(f"backup.{f.name} must be a finite number, got {value!r}")
            if value <= 0:
                raise ConfigError(f"backup.{f.name} must be > 0, got {value!r}")
        if not isinstance(self.k, int):
            raise ConfigError(f"backup.k must be an integer, got {self.k!r}")
        if self.heading_tolerance >= math.pi / 2:
            raise ConfigError("backup.heading_tolerance must be < pi/2 (it would drive sideways)")


def _robot_limits() -> tuple[tuple[float, float], tuple[float, float]]:
    from cadence.sim import robot

    return tuple(robot.ACTION_LOW), tuple(robot.ACTION_HIGH)  # type: ignore[return-value]


class BackupPolicy:
    """The backup law with the Policy interface.

    Args:
        layout: Observation layout (default: the builder's). Reads the ``waypoint``, ``goal`` and
            ``lidar`` slices.
        config: Gains and limits; must lie inside the rover's command limits.
    """

    def __init__(
        self, layout: ObservationLayout = DEFAULT_LAYOUT, config: BackupConfig | None = None
    ) -> None:
        self.config = config = config or BackupConfig()
        low, high = _robot_limits()
        if config.v_max > high[0] or config.omega_max > high[1]:
            raise ConfigError(
                f"backup v_max/omega_max {config.v_max}/{config.omega_max} exceed the robot's {high}"
            )
        self.layout = layout
        sl = layout.slices
        self._wp, self._goal, self._lidar = sl["waypoint"], sl["goal"], sl["lidar"]
        n = layout.n_beams
        angles = 2.0 * math.pi * np.arange(n) / n
        self._front = np.flatnonzero(np.abs(np.angle(np.exp(1j * angles))) <= config.front_half_angle)
        self.k = config.k
        self.obs_dim = layout.obs_dim
        self.manifest = self._manifest(low, high)

    def act(self, obs: np.ndarray) -> np.ndarray:
        """``float32[B, obs_dim] -> float32[B, K, 2]`` (v, omega), physical units.

        Non-finite observations give zero actions for that row (the safety filter holds anyway).
        """
        obs = np.asarray(obs, dtype=np.float64)
        if obs.ndim == 1:
            obs = obs[None, :]
        if obs.ndim != 2 or obs.shape[1] != self.obs_dim:
            raise ValueError(f"observation must be [B, {self.obs_dim}], got {list(obs.shape)}")
        cfg, clip = self.config, self.layout.dist_clip
        bad = ~np.all(np.isfinite(obs), axis=1)
        obs = np.where(bad[:, None], 0.0, obs)
        wp = obs[:, self._wp]
        dist = wp[:, 2] * clip
        # Waypoint in the robot frame; propagated through the K steps (the robot moves, it does not).
        px, py = wp[:, 0] * dist, wp[:, 1] * dist
        goal_d = obs[:, self._goal][:, 2] * clip
        blocked = (
            np.min(obs[:, self._lidar][:, self._front], axis=1) * self.layout.lidar_range < cfg.stop_distance
        )
        out = np.zeros((obs.shape[0], cfg.k, 2), dtype=np.float32)
        for i in range(cfg.k):
            v, w = self._law(px, py, goal_d, blocked)
            out[:, i, 0], out[:, i, 1] = v, w
            # Unicycle step (exact for constant v, omega), expressed as the waypoint moving in the robot frame.
            th = w * cfg.control_dt
            fwd = np.where(np.abs(th) > 1e-9, v * np.sin(th) / np.where(th == 0, 1, w), v * cfg.control_dt)
            side = np.where(np.abs(th) > 1e-9, v * (1 - np.cos(th)) / np.where(th == 0, 1, w), 0.0)
            dx, dy = px - fwd, py - side
            c, s = np.cos(th), np.sin(th)
            px, py = c * dx + s * dy, -s * dx + c * dy
            goal_d = np.maximum(goal_d - np.abs(v) * cfg.control_dt, 0.0)
        out[bad] = 0.0
        return out

    def _law(
        self, px: np.ndarray, py: np.ndarray, goal_d: np.ndarray, blocked: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        cfg = self.config
        bearing = np.arctan2(py, px)
        dist = np.hypot(px, py)
        w = np.clip(cfg.k_omega * bearing, -cfg.omega_max, cfg.omega_max)
        v = np.minimum(cfg.v_max, cfg.k_v * dist) * np.maximum(np.cos(bearing), 0.0)
        v = np.where((np.abs(bearing) > cfg.heading_tolerance) | blocked, 0.0, v)
        done = goal_d < cfg.goal_radius
        return np.where(done, 0.0, v), np.where(done | (dist < 1e-6), 0.0, w)

    def _manifest(self, low: tuple[float, float], high: tuple[float, float]) -> Manifest:
        rng = np.random.default_rng(0)
        golden = rng.uniform(0.0, 1.0, (2, self.obs_dim)).astype(np.float32)
        return Manifest(
            name="backup",
            onnx=None,
            inputs=(TensorSpec("obs", ("batch", self.obs_dim)),),
            outputs=(TensorSpec("actions", ("batch", self.k, 2)),),
            observation=self.layout.to_dict(),
            golden=Golden({"obs": golden.tolist()}, {"actions": self.act(golden).tolist()}),
            action=ActionSpec(("v", "omega"), low, high, self.k, self.config.control_dt),
            lineage={"builtin": "cadence.policy.backup.BackupPolicy", "config": _config_dict(self.config)},
        )

    def __repr__(self) -> str:
        return f"BackupPolicy(obs_dim={self.obs_dim}, k={self.k})"


def _config_dict(config: Any) -> dict[str, Any]:
    return {f.name: getattr(config, f.name) for f in fields(config)}


@dataclass(frozen=True)
class SwitchConfig:
    """When the backup takes over from the learned policy, and when it hands back.

    Attributes:
        max_consecutive_holds: Control steps in a row that the safety filter held because of the
            *policy* (non-finite output) before switching. Stale or non-finite observations do
            not count: the backup would see the same bad input.
        max_bad_decisions: Decisions in a row whose action sequence contained NaN/Inf.
        max_stagnation_events: Critic stagnation/regression reports while on the policy.
        min_backup_time: Seconds the backup stays in charge before the policy may take over again
            (hysteresis: no chattering between the two).
        max_switches: After this many switches to the backup, it stays in charge for good.
    """

    max_consecutive_holds: int = 10
    max_bad_decisions: int = 2
    max_stagnation_events: int = 2
    min_backup_time: float = 4.0
    max_switches: int = 3

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ConfigError(f"switch.{f.name} must be a finite number, got {value!r}")
            if value <= 0:
                raise ConfigError(f"switch.{f.name} must be > 0, got {value!r}")


class BackupSwitch:
    """The switching rule between the learned policy and the backup (STL-NPC's backup policy).

    Feed it every decision (:meth:`on_decision`), every safety-filter outcome (:meth:`on_step`)
    and every critic report (:meth:`on_stagnation`); read :attr:`active` ("policy" or "backup")
    before each decision. Any one of the three failure counters reaching its limit switches to the
    backup; after ``min_backup_time`` the policy is trusted again with all counters reset, unless
    ``max_switches`` has been reached, in which case the backup stays (latched).
    """

    def __init__(self, config: SwitchConfig | None = None) -> None:
        self.config = config or SwitchConfig()
        self.active = "policy"
        self.switches = 0
        self.reason = ""
        self._since = 0.0
        self._holds = self._bad = self._stagnation = 0

    def on_decision(self, actions: np.ndarray, now: float) -> str:
        """Record a policy decision's sequence (NaN/Inf counts as bad); returns :attr:`active`."""
        if self.active == "policy":
            self._bad = 0 if np.all(np.isfinite(actions)) else self._bad + 1
            if self._bad >= self.config.max_bad_decisions:
                self._switch(now, f"{self._bad} decisions in a row with NaN/Inf actions")
        return self._maybe_return(now)

    def on_step(self, held_by_policy: bool, now: float) -> str:
        """Record one control step: whether the safety filter held because of the policy's output."""
        if self.active == "policy":
            self._holds = self._holds + 1 if held_by_policy else 0
            if self._holds >= self.config.max_consecutive_holds:
                self._switch(now, f"{self._holds} consecutive safety holds caused by the policy")
        return self._maybe_return(now)

    def on_stagnation(self, reason: str, now: float) -> str:
        """Record a critic stagnation/regression report."""
        if self.active == "policy":
            self._stagnation += 1
            if self._stagnation >= self.config.max_stagnation_events:
                self._switch(now, f"critic reported stagnation {self._stagnation} times ({reason})")
        return self._maybe_return(now)

    @property
    def latched(self) -> bool:
        return self.switches >= self.config.max_switches

    def _switch(self, now: float, reason: str) -> None:
        self.active, self.reason, self._since = "backup", reason, now
        self.switches += 1

    def _maybe_return(self, now: float) -> str:
        if self.active == "backup" and not self.latched and now - self._since >= self.config.min_backup_time:
            self.active, self.reason = "policy", ""
            self._holds = self._bad = self._stagnation = 0
        return self.active
