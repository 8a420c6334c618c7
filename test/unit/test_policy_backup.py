"""Backup controller: reaches waypoints in a kinematic rollout, respects its bounds; switching rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cadence.policy.backup import BackupConfig, BackupPolicy, BackupSwitch, SwitchConfig
from cadence.policy.errors import ConfigError
from cadence.policy.observation import ObservationBuilder, RobotState, Scan, WaypointTracker
from cadence.policy.runtime import load_policy

FREE_SCAN = Scan(np.full(36, 5.0), 0.0, 2 * math.pi / 36, 5.0)


def _rollout(policy: BackupPolicy, waypoints, pose, scan=FREE_SCAN, decisions=120):  # type: ignore[no-untyped-def]
    """Pure-numpy unicycle driven through THE observation builder, one decision per K steps."""
    builder, tracker = ObservationBuilder(policy.layout), WaypointTracker(waypoints)
    x, y, yaw = pose
    dt = policy.config.control_dt
    path = [(x, y)]
    for _ in range(decisions):
        tracker.update(x, y)
        obs = builder.build(RobotState(x, y, yaw), scan, tracker.targets(), 30.0, (0.0, 0.0))
        for v, w in policy.act(obs[None])[0]:
            x, y, yaw = x + v * math.cos(yaw) * dt, y + v * math.sin(yaw) * dt, yaw + w * dt
            path.append((x, y))
    return np.array(path), tracker


@pytest.mark.parametrize("start_yaw", [0.0, math.pi, -2.0])
def test_reaches_the_goal_through_waypoints(start_yaw: float) -> None:
    policy = BackupPolicy()
    waypoints = [(2.0, 1.0), (2.0, 3.0), (-1.0, 3.5)]
    path, tracker = _rollout(policy, waypoints, (0.0, 0.0, start_yaw))
    assert tracker.index == len(waypoints) - 1
    assert math.dist(path[-1], waypoints[-1]) < policy.config.goal_radius + 0.05
    # passes near every intermediate waypoint (turn-then-go stays on the route)
    for wp in waypoints[:-1]:
        assert np.min(np.linalg.norm(path - wp, axis=1)) < 0.45


def test_actions_stay_within_bounds_and_never_reverse() -> None:
    policy = BackupPolicy()
    obs = np.random.default_rng(0).uniform(-1, 1, (256, policy.obs_dim)).astype(np.float32)
    actions = policy.act(obs)
    assert actions.shape == (256, policy.k, 2) and actions.dtype == np.float32
    assert np.all(actions[..., 0] >= 0) and np.all(actions[..., 0] <= policy.config.v_max + 1e-6)
    assert np.all(np.abs(actions[..., 1]) <= policy.config.omega_max + 1e-6)


def test_turns_in_place_before_driving() -> None:
    policy = BackupPolicy()
    builder = ObservationBuilder(policy.layout)
    obs = builder.build(
        RobotState(0, 0, 0), FREE_SCAN, WaypointTracker([(-2.0, 0.1)]).targets(), 30.0, (0, 0)
    )
    first = policy.act(obs)[0, 0]
    assert first[0] == 0.0 and abs(first[1]) == pytest.approx(policy.config.omega_max)


def test_stops_for_an_obstacle_ahead() -> None:
    policy = BackupPolicy()
    ranges = np.full(36, 5.0)
    ranges[0] = 0.2  # something 20 cm in front
    blocked = Scan(ranges, 0.0, 2 * math.pi / 36, 5.0)
    path, _ = _rollout(policy, [(3.0, 0.0)], (0.0, 0.0, 0.0), scan=blocked, decisions=5)
    assert np.allclose(path[-1], (0.0, 0.0))


def test_non_finite_observation_gives_zero_actions() -> None:
    policy = BackupPolicy()
    obs = np.zeros((2, policy.obs_dim), np.float32)
    obs[0, 0] = 1.0
    obs[0, 2] = 0.5
    obs[1, 5] = np.nan
    out = policy.act(obs)
    assert np.all(out[1] == 0.0) and np.all(np.isfinite(out))


def test_available_by_name_with_a_manifest() -> None:
    policy = load_policy("backup")
    assert isinstance(policy, BackupPolicy)
    m = policy.manifest
    assert m.onnx is None and m.action is not None and m.action.k == policy.k
    assert m.observation == policy.layout.to_dict()
    golden = np.asarray(m.golden.inputs["obs"], np.float32)
    np.testing.assert_allclose(policy.act(golden), m.golden.outputs["actions"])


def test_bad_config() -> None:
    with pytest.raises(ConfigError, match=r"backup\.k_omega"):
        BackupConfig(k_omega=-1.0)
    with pytest.raises(ConfigError, match="exceed the robot"):
        BackupPolicy(config=BackupConfig(v_max=3.0))
    with pytest.raises(ConfigError, match=r"switch\.min_backup_time"):
        SwitchConfig(min_backup_time=0)


def test_switch_on_consecutive_policy_holds_and_hand_back() -> None:
    switch = BackupSwitch(SwitchConfig(max_consecutive_holds=3, min_backup_time=1.0, max_switches=2))
    assert switch.on_step(True, 0.0) == "policy"
    assert switch.on_step(False, 0.05) == "policy"  # a good step resets the count
    for t in (0.1, 0.15):
        assert switch.on_step(True, t) == "policy"
    assert switch.on_step(True, 0.2) == "backup" and "consecutive safety holds" in switch.reason
    assert switch.on_step(False, 0.9) == "backup"  # hysteresis
    assert switch.on_step(False, 1.2) == "policy"
    for t in (1.3, 1.35, 1.4):
        switch.on_step(True, t)
    assert switch.active == "backup" and switch.latched
    assert switch.on_step(False, 100.0) == "backup"  # latched after max_switches


def test_switch_on_nan_decisions_and_stagnation() -> None:
    switch = BackupSwitch(SwitchConfig(max_bad_decisions=2, max_stagnation_events=2))
    bad = np.full((8, 2), np.nan)
    assert switch.on_decision(bad, 0.0) == "policy"
    assert switch.on_decision(bad, 0.4) == "backup" and "NaN" in switch.reason
    other = BackupSwitch(SwitchConfig(max_stagnation_events=2))
    other.on_stagnation("no progress", 0.0)
    assert other.on_stagnation("no progress", 1.0) == "backup" and "stagnation" in other.reason
