"""Message conversions: ROS messages <-> cadence's ROS-free core types.

The wire encodings here are a contract with the data engineer (bags) and with RViz/Foxglove users; they
are documented in ``docs/ros.md``:

- ``executor/sequence`` (trajectory_msgs/JointTrajectory): ``joint_names = ["v", "omega"]``; one point
  per primitive action of the decision, in order; ``point.velocities = [v, omega]`` (m/s, rad/s);
  ``point.time_from_start = i * control_dt`` (the time the action *starts*, the first is 0);
  ``header.stamp`` = the time of the decision (the stamp of the observation it was made from).
- ``plan`` (std_msgs/String): the plan JSON of ``cadence.planner`` (``Plan.to_json()``).
- ``plan/path`` (nav_msgs/Path): the plan's waypoints, frame ``odom``, yaw along the segments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from builtin_interfaces.msg import Duration
from geometry_msgs.msg import PoseStamped, Quaternion, Twist
from nav_msgs.msg import Odometry, Path
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from cadence.data.messages import OdomSample  # one planar-odometry type for live topics and bags
from cadence.ros.errors import ConversionError
from cadence.ros.pubsub import s_to_stamp, stamp_to_s
from cadence.ros.wire import odom_fields_to_sample, yaw_from_quaternion

SEQUENCE_JOINTS = ("v", "omega")


def yaw_to_quaternion(yaw: float) -> Quaternion:
    return Quaternion(x=0.0, y=0.0, z=math.sin(yaw / 2.0), w=math.cos(yaw / 2.0))


def quaternion_to_yaw(q: Quaternion) -> float:
    return yaw_from_quaternion(q.x, q.y, q.z, q.w)


def odom_to_sample(msg: Odometry) -> OdomSample:
    """Odometry -> OdomSample (the same function the executor applies to serialized samples).

    Raises:
        ConversionError: if any used field is NaN or infinite (the executor then holds).
    """
    s, p, q, tw = msg.header.stamp, msg.pose.pose.position, msg.pose.pose.orientation, msg.twist.twist
    return odom_fields_to_sample(s.sec, s.nanosec, p.x, p.y, q.x, q.y, q.z, q.w, tw.linear.x, tw.angular.z)


def sample_to_odom(s: OdomSample, frame_id: str = "odom", child_frame_id: str = "base_link") -> Odometry:
    msg = Odometry()
    msg.header.stamp = s_to_stamp(s.t)
    msg.header.frame_id = frame_id
    msg.child_frame_id = child_frame_id
    msg.pose.pose.position.x = float(s.x)
    msg.pose.pose.position.y = float(s.y)
    msg.pose.pose.orientation = yaw_to_quaternion(s.yaw)
    msg.twist.twist.linear.x = float(s.v)
    msg.twist.twist.angular.z = float(s.omega)
    return msg


def twist(v: float, omega: float) -> Twist:
    msg = Twist()
    msg.linear.x = float(v)
    msg.angular.z = float(omega)
    return msg


def twist_to_command(msg: Twist) -> tuple[float, float]:
    """Twist -> (v, omega); non-finite values become 0 (a NaN command must never move a robot)."""
    v, w = float(msg.linear.x), float(msg.angular.z)
    return (v if math.isfinite(v) else 0.0, w if math.isfinite(w) else 0.0)


def _duration(t: float) -> Duration:
    stamp = s_to_stamp(t)
    return Duration(sec=stamp.sec, nanosec=stamp.nanosec)


def sequence_to_trajectory(actions: np.ndarray, control_dt: float, t: float) -> JointTrajectory:
    """A decision's actions ``[K, 2]`` (v, omega) -> JointTrajectory, one point per action."""
    actions = np.asarray(actions, dtype=np.float64)
    if actions.ndim != 2 or actions.shape[1] != 2:
        raise ConversionError(f"sequence must have shape [K, 2], got {list(actions.shape)}")
    msg = JointTrajectory()
    msg.header.stamp = s_to_stamp(t)
    msg.joint_names = list(SEQUENCE_JOINTS)
    msg.points = [
        JointTrajectoryPoint(velocities=[float(v), float(w)], time_from_start=_duration(i * control_dt))
        for i, (v, w) in enumerate(actions)
    ]
    return msg


def trajectory_to_sequence(msg: JointTrajectory) -> tuple[float, np.ndarray, float]:
    """JointTrajectory -> (decision time, actions ``[K, 2]``, control_dt).

    Raises:
        ConversionError: for other joint names, points without two velocities, or uneven timing.
    """
    if tuple(msg.joint_names) != SEQUENCE_JOINTS:
        raise ConversionError(
            f"sequence joint_names must be {list(SEQUENCE_JOINTS)}, got {list(msg.joint_names)}"
        )
    if not msg.points:
        raise ConversionError("sequence has no points")
    rows, times = [], []
    for i, point in enumerate(msg.points):
        if len(point.velocities) != 2:
            raise ConversionError(f"sequence point {i}: expected 2 velocities, got {len(point.velocities)}")
        rows.append(list(point.velocities))
        times.append(stamp_to_s(point.time_from_start))
    dt = times[1] - times[0] if len(times) > 1 else 0.0
    if len(times) > 1 and not np.allclose(np.diff(times), dt, atol=1e-6):
        raise ConversionError(f"sequence points are not evenly spaced: {times}")
    return stamp_to_s(msg.header.stamp), np.asarray(rows, dtype=np.float32), dt


def waypoints_to_path(waypoints: Sequence[Sequence[float]], t: float = 0.0, frame_id: str = "odom") -> Path:
    """Waypoints [(x, y), ...] -> nav_msgs/Path, each pose facing the next waypoint."""
    msg = Path()
    msg.header.stamp = s_to_stamp(t)
    msg.header.frame_id = frame_id
    pts = [(float(p[0]), float(p[1])) for p in waypoints]
    for i, (x, y) in enumerate(pts):
        nx_, ny_ = pts[min(i + 1, len(pts) - 1)]
        px, py = pts[max(i - 1, 0)] if i == len(pts) - 1 else (x, y)
        yaw = math.atan2(ny_ - py, nx_ - px) if (nx_, ny_) != (px, py) else 0.0
        pose = PoseStamped()
        pose.header = msg.header
        pose.pose.position.x, pose.pose.position.y = x, y
        pose.pose.orientation = yaw_to_quaternion(yaw)
        msg.poses.append(pose)
    return msg


def path_to_waypoints(msg: Path) -> list[tuple[float, float]]:
    return [(float(p.pose.position.x), float(p.pose.position.y)) for p in msg.poses]
