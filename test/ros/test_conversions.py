"""Message conversions: round trips and the wire encodings other engineers read from bags."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cadence.ros.convert import (
    OdomSample,
    odom_to_sample,
    path_to_waypoints,
    quaternion_to_yaw,
    sample_to_odom,
    sequence_to_trajectory,
    trajectory_to_sequence,
    twist,
    twist_to_command,
    waypoints_to_path,
    yaw_to_quaternion,
)
from cadence.ros.errors import ConversionError

pytestmark = pytest.mark.ros


@pytest.mark.parametrize("yaw", [0.0, 0.5, -2.0, math.pi - 1e-6])
def test_yaw_quaternion_round_trip(yaw: float) -> None:
    assert quaternion_to_yaw(yaw_to_quaternion(yaw)) == pytest.approx(yaw)


def test_odometry_round_trip_and_nan_rejected() -> None:
    s = OdomSample(12.35, 1.0, -2.0, 0.3, 0.4, -0.1)
    msg = sample_to_odom(s)
    assert msg.header.frame_id == "odom" and msg.child_frame_id == "base_link"
    back = odom_to_sample(msg)
    assert back == pytest.approx(s)
    msg.pose.pose.position.x = float("nan")
    with pytest.raises(ConversionError, match="non-finite"):
        odom_to_sample(msg)


def test_sequence_encoding_one_point_per_action() -> None:
    actions = np.array([[0.1, 0.2], [0.3, -0.4], [0.5, 0.0]], dtype=np.float32)
    msg = sequence_to_trajectory(actions, 0.05, 7.5)
    assert list(msg.joint_names) == ["v", "omega"]
    assert len(msg.points) == 3
    np.testing.assert_allclose([list(p.velocities) for p in msg.points], actions, rtol=1e-6)
    times = [p.time_from_start.sec + 1e-9 * p.time_from_start.nanosec for p in msg.points]
    assert times == pytest.approx([0.0, 0.05, 0.10])
    t, back, dt = trajectory_to_sequence(msg)
    assert t == pytest.approx(7.5) and dt == pytest.approx(0.05)
    np.testing.assert_allclose(back, actions, rtol=1e-6)


def test_sequence_decoding_rejects_other_layouts() -> None:
    msg = sequence_to_trajectory(np.zeros((2, 2)), 0.05, 0.0)
    msg.joint_names = ["left", "right"]
    with pytest.raises(ConversionError, match="joint_names"):
        trajectory_to_sequence(msg)
    with pytest.raises(ConversionError, match=r"\[K, 2\]"):
        sequence_to_trajectory(np.zeros((2, 3)), 0.05, 0.0)


def test_path_and_twist() -> None:
    pts = [(0.0, 0.0), (1.0, 0.0), (1.0, 2.0)]
    msg = waypoints_to_path(pts, 1.0)
    assert path_to_waypoints(msg) == pts
    assert quaternion_to_yaw(msg.poses[0].pose.orientation) == pytest.approx(0.0)
    assert quaternion_to_yaw(msg.poses[1].pose.orientation) == pytest.approx(math.pi / 2)
    assert twist_to_command(twist(0.5, -1.0)) == (0.5, -1.0)
    assert twist_to_command(twist(float("nan"), float("inf"))) == (0.0, 0.0)
