"""THE observation builder: layout, geometry of the waypoint features, lidar resampling, tracker."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cadence.policy.observation import (
    DEFAULT_LAYOUT,
    ObservationBuilder,
    ObservationError,
    ObservationLayout,
    RobotState,
    Scan,
    Targets,
    WaypointTracker,
    obs_dim,
)
from cadence.sim.robot import LIDAR_BEAMS, V_MAX, W_MAX

SL = DEFAULT_LAYOUT.slices
FREE = Scan(np.full(LIDAR_BEAMS, 5.0), 0.0, 2 * math.pi / LIDAR_BEAMS, 5.0)


def _build(state: RobotState, scan: Scan = FREE, targets: Targets | None = None, **kw: float) -> np.ndarray:
    targets = targets or Targets((3.0, 0.0), (3.0, 3.0), (3.0, 3.0))
    return ObservationBuilder().build(
        state, scan, targets, kw.get("t", 30.0), (kw.get("v", 0.0), kw.get("w", 0.0))
    )


def test_layout_is_contiguous_and_round_trips() -> None:
    stops = [s.stop for s in SL.values()]
    starts = [s.start for s in SL.values()]
    assert starts[0] == 0 and stops[-1] == obs_dim == DEFAULT_LAYOUT.obs_dim
    assert starts[1:] == stops[:-1]
    d = DEFAULT_LAYOUT.to_dict()
    assert ObservationLayout.from_dict(d) == DEFAULT_LAYOUT
    assert DEFAULT_LAYOUT.mismatch(d) is None
    other = ObservationLayout(n_beams=24).to_dict()
    assert (DEFAULT_LAYOUT.mismatch(other) or "").startswith("observation.obs_dim: model has 38")
    with pytest.raises(ObservationError, match="missing or bad key"):
        ObservationLayout.from_dict({"version": 1})


def test_waypoint_bearing_is_in_the_robot_frame() -> None:
    # waypoint 3 m ahead of a robot facing +y: straight ahead after rotating into the robot frame
    obs = _build(RobotState(3.0, -3.0, math.pi / 2), targets=Targets((3.0, 0.0), (0.0, -3.0), (3.0, -3.0)))
    np.testing.assert_allclose(obs[SL["waypoint"]], [1.0, 0.0, 3.0 / 5.0], atol=1e-6)
    # next waypoint is to the robot's left (-x when facing +y), clipped distance
    np.testing.assert_allclose(obs[SL["next_waypoint"]], [0.0, 1.0, 3.0 / 5.0], atol=1e-6)
    # goal on the robot itself: defined, not NaN
    np.testing.assert_allclose(obs[SL["goal"]], [1.0, 0.0, 0.0])


def test_velocity_time_and_command_are_normalised() -> None:
    obs = _build(RobotState(0, 0, 0, v=0.5, omega=-1.0), t=120.0, v=1.0, w=2.0)
    np.testing.assert_allclose(obs[SL["velocity"]], [0.5 / V_MAX, -1.0 / W_MAX])
    assert obs[SL["time_remaining"]][0] == 1.0  # clipped
    np.testing.assert_allclose(obs[SL["last_command"]], [1.0, 1.0])
    assert _build(RobotState(0, 0, 0), t=-600.0)[SL["time_remaining"]][0] == -1.0


def test_lidar_matching_scan_is_copied_and_clipped() -> None:
    ranges = np.linspace(0.5, 9.0, LIDAR_BEAMS)
    ranges[3], ranges[4] = np.nan, np.inf
    obs = _build(RobotState(0, 0, 0), Scan(ranges, 0.0, 2 * math.pi / LIDAR_BEAMS, 12.0))
    lidar = obs[SL["lidar"]]
    assert lidar[0] == pytest.approx(0.1)
    assert lidar[3] == 1.0 and lidar[4] == 1.0  # invalid and no-return read as "free to range max"
    assert lidar.max() <= 1.0 and lidar.min() >= 0.0


def test_lidar_fine_scan_is_min_pooled_into_sectors() -> None:
    n = 720  # a LaserScan from -pi, half-degree steps
    angles = -math.pi + np.arange(n) * (2 * math.pi / n)
    ranges = np.full(n, 8.0)
    left = int(np.argmin(np.abs(angles - math.pi / 2)))
    ranges[left + 2] = 1.0  # one close return just left of +90 degrees
    obs = _build(RobotState(0, 0, 0), Scan(ranges, -math.pi, 2 * math.pi / n, 8.0))
    lidar = obs[SL["lidar"]]
    assert lidar[LIDAR_BEAMS // 4] == pytest.approx(0.2)  # sector centred on +90 degrees
    assert np.sum(lidar < 1.0) == 1


def test_partial_fov_scan_leaves_unseen_sectors_free() -> None:
    n = 270
    scan = Scan(np.full(n, 2.0), -math.radians(135), math.radians(1), 10.0)
    lidar = _build(RobotState(0, 0, 0), scan)[SL["lidar"]]
    assert lidar[0] == pytest.approx(0.4) and lidar[LIDAR_BEAMS // 2] == 1.0  # behind: not seen


@pytest.mark.parametrize("bad", [RobotState(float("nan"), 0, 0), RobotState(0, 0, float("inf"))])
def test_non_finite_pose_is_refused(bad: RobotState) -> None:
    with pytest.raises(ObservationError, match="finite"):
        _build(bad)


def test_bad_scan_is_refused() -> None:
    with pytest.raises(ObservationError, match="1-D"):
        _build(RobotState(0, 0, 0), Scan(np.zeros((2, 3)), 0.0, 0.1, 5.0))


def test_tracker_advances_by_radius_and_by_passing() -> None:
    tr = WaypointTracker([(1.0, 0.0), (2.0, 0.0), (2.0, 2.0)], radius=0.3)
    assert tr.update(0.0, 0.0) == 0
    assert tr.update(0.8, 0.0) == 1  # within 0.3 of waypoint 0
    assert tr.update(2.1, 0.5) == 2  # beyond waypoint 1 and closer to the goal than it: passed
    assert tr.done and tr.update(5.0, 5.0) == 2  # never past the goal
    assert tr.targets() == Targets((2.0, 2.0), (2.0, 2.0), (2.0, 2.0))
    tr.reset([(1.0, 0.0), (1.0, 1.0)])
    assert tr.index == 0 and tr.remaining_length(0.0, 0.0) == pytest.approx(2.0)


def test_tracker_does_not_cut_corners_after_a_doorway() -> None:
    # apartment: dock door (7.5, 3.2) -> hallway junction (7.5, 4.0) -> hallway centre (5.0, 4.0)
    tr = WaypointTracker([(7.5, 3.2), (7.5, 4.0), (5.0, 4.0)], radius=0.3, start=(7.5, 1.6))
    assert tr.update(7.3, 3.1) == 1  # reached the door ...
    # ... and is closer to the hallway centre (2.47 m) than the junction is (2.5 m), but still in
    # the doorway: heading straight for the centre would cut through the wall
    assert tr.update(7.3, 3.1) == 1
    assert tr.update(7.4, 4.1) == 2  # past the junction


def test_tracker_refuses_bad_routes() -> None:
    with pytest.raises(ObservationError, match="at least one"):
        WaypointTracker([])
    with pytest.raises(ObservationError, match="finite"):
        WaypointTracker([(0.0, float("nan"))])


def test_build_fills_the_given_buffer() -> None:
    out = np.zeros(obs_dim, np.float32)
    res = ObservationBuilder().build(
        RobotState(0, 0, 0), FREE, Targets((1, 0), (1, 0), (1, 0)), 1.0, (0, 0), out
    )
    assert res is out and out.dtype == np.float32 and np.isfinite(out).all()
