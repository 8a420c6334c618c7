"""The robot topics cadence records, and their conversion to and from ROS-free samples.

Messages are rosbags message objects (built from the typestore, never from ``*_msgs`` packages), so
this works without a ROS install. The ``executor/sequence`` encoding is the contract with the ROS
engineer (DESIGN.md "Interfaces on the wire", issue 8): a ``trajectory_msgs/JointTrajectory`` with
``joint_names = ["v", "omega"]`` and one point per primitive action, ``velocities = [v, omega]``
(m/s, rad/s) and ``time_from_start = i * control_dt`` for point ``i`` (so the first point starts at 0
and the control period is the spacing of the points). ``header.stamp`` is the decision time.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from rosbags.typesys.store import Typestore

# topic (without leading slash) -> ROS type. The same list is in config/record_topics.yaml.
TOPICS: dict[str, str] = {
    "odom": "nav_msgs/msg/Odometry",
    "scan": "sensor_msgs/msg/LaserScan",
    "cmd_vel": "geometry_msgs/msg/Twist",
    "task": "std_msgs/msg/String",
    "plan": "std_msgs/msg/String",
    "executor/sequence": "trajectory_msgs/msg/JointTrajectory",
    "critic/progress": "std_msgs/msg/Float32",
    "critic/done": "std_msgs/msg/Bool",
}
SEQUENCE_JOINTS = ("v", "omega")


def topic_key(name: str) -> str:
    """Normalise a recorded topic name (``/odom`` -> ``odom``)."""
    return name.lstrip("/")


class OdomSample(NamedTuple):
    """Pose and body velocity as ``nav_msgs/Odometry`` gives them (time in seconds)."""

    t: float
    x: float
    y: float
    yaw: float
    v: float
    omega: float


class ScanSample(NamedTuple):
    """A laser scan as ``sensor_msgs/LaserScan`` gives it."""

    t: float
    angle_min: float
    angle_increment: float
    range_min: float
    range_max: float
    ranges: np.ndarray


class SequenceSample(NamedTuple):
    """One decision of the executor: ``actions`` is ``[K, 2]`` (v, omega), points ``step_dt`` apart."""

    t: float
    actions: np.ndarray
    step_dt: float


def _stamp_s(header: Any, log_time_ns: int) -> float:
    """Header stamp in seconds, or the receive time if the publisher left it at zero."""
    sec, nsec = header.stamp.sec, header.stamp.nanosec
    return sec + nsec * 1e-9 if (sec or nsec) else log_time_ns * 1e-9


def odom_sample(msg: Any, log_time_ns: int) -> OdomSample:
    """Convert a decoded ``nav_msgs/Odometry``."""
    p, q = msg.pose.pose.position, msg.pose.pose.orientation
    yaw = math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))
    tw = msg.twist.twist
    return OdomSample(_stamp_s(msg.header, log_time_ns), p.x, p.y, yaw, tw.linear.x, tw.angular.z)


def scan_sample(msg: Any, log_time_ns: int) -> ScanSample:
    """Convert a decoded ``sensor_msgs/LaserScan``."""
    return ScanSample(
        _stamp_s(msg.header, log_time_ns),
        float(msg.angle_min),
        float(msg.angle_increment),
        float(msg.range_min),
        float(msg.range_max),
        np.asarray(msg.ranges, dtype=np.float32),
    )


def sequence_sample(msg: Any, log_time_ns: int) -> SequenceSample:
    """Convert a decoded ``trajectory_msgs/JointTrajectory`` of the ``executor/sequence`` contract.

    Raises:
        ValueError: The message does not follow the encoding (no points, not two velocities).
    """
    if not msg.points:
        raise ValueError("executor/sequence message has no points")
    actions = np.empty((len(msg.points), 2), dtype=np.float32)
    for i, point in enumerate(msg.points):
        if len(point.velocities) != 2:
            raise ValueError(
                f"executor/sequence point {i} has {len(point.velocities)} velocities, expected 2"
            )
        actions[i] = point.velocities
    times = [p.time_from_start.sec + p.time_from_start.nanosec * 1e-9 for p in msg.points]
    step_dt = (times[1] - times[0]) if len(times) > 1 else 0.0
    return SequenceSample(_stamp_s(msg.header, log_time_ns), actions, step_dt)


class MessageFactory:
    """Build rosbags message objects of the robot topics (for ``cadence record`` and tests)."""

    def __init__(self, typestore: Typestore) -> None:
        self.ts = typestore
        t = typestore.types
        self._time, self._header = t["builtin_interfaces/msg/Time"], t["std_msgs/msg/Header"]
        self._dur = t["builtin_interfaces/msg/Duration"]
        self._vec, self._quat = t["geometry_msgs/msg/Vector3"], t["geometry_msgs/msg/Quaternion"]
        self._point, self._pose = t["geometry_msgs/msg/Point"], t["geometry_msgs/msg/Pose"]
        self._twist = t["geometry_msgs/msg/Twist"]

    def header(self, t_ns: int, frame: str) -> Any:
        """``std_msgs/Header`` at ``t_ns``."""
        return self._header(
            stamp=self._time(sec=t_ns // 1_000_000_000, nanosec=t_ns % 1_000_000_000), frame_id=frame
        )

    def twist(self, v: float, omega: float) -> Any:
        """``geometry_msgs/Twist`` with forward speed and yaw rate."""
        return self._twist(
            linear=self._vec(x=float(v), y=0.0, z=0.0), angular=self._vec(x=0.0, y=0.0, z=float(omega))
        )

    def odometry(self, t_ns: int, x: float, y: float, yaw: float, v: float, omega: float) -> Any:
        """``nav_msgs/Odometry`` in ``odom`` -> ``base_link``."""
        t = self.ts.types
        quat = self._quat(x=0.0, y=0.0, z=math.sin(yaw / 2.0), w=math.cos(yaw / 2.0))
        pose = self._pose(position=self._point(x=float(x), y=float(y), z=0.0), orientation=quat)
        cov = np.zeros(36, dtype=np.float64)
        return t["nav_msgs/msg/Odometry"](
            header=self.header(t_ns, "odom"),
            child_frame_id="base_link",
            pose=t["geometry_msgs/msg/PoseWithCovariance"](pose=pose, covariance=cov),
            twist=t["geometry_msgs/msg/TwistWithCovariance"](
                twist=self.twist(v, omega), covariance=cov.copy()
            ),
        )

    def scan(
        self, t_ns: int, angle_min: float, angle_increment: float, range_max: float, ranges: np.ndarray
    ) -> Any:
        """``sensor_msgs/LaserScan`` in ``base_link``."""
        ranges = np.asarray(ranges, dtype=np.float32)
        return self.ts.types["sensor_msgs/msg/LaserScan"](
            header=self.header(t_ns, "base_link"),
            angle_min=float(angle_min),
            angle_max=float(angle_min + angle_increment * (len(ranges) - 1)),
            angle_increment=float(angle_increment),
            time_increment=0.0,
            scan_time=0.0,
            range_min=0.0,
            range_max=float(range_max),
            ranges=ranges,
            intensities=np.zeros(0, dtype=np.float32),
        )

    def sequence(self, t_ns: int, actions: np.ndarray, control_dt: float) -> Any:
        """``trajectory_msgs/JointTrajectory`` following the ``executor/sequence`` contract."""
        t = self.ts.types
        points = []
        for i, (v, omega) in enumerate(np.asarray(actions, dtype=np.float64)):
            ns = round(i * control_dt * 1e9)
            points.append(
                t["trajectory_msgs/msg/JointTrajectoryPoint"](
                    positions=np.zeros(0),
                    velocities=np.array([v, omega]),
                    accelerations=np.zeros(0),
                    effort=np.zeros(0),
                    time_from_start=self._dur(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000),
                )
            )
        return t["trajectory_msgs/msg/JointTrajectory"](
            header=self.header(t_ns, "base_link"), joint_names=list(SEQUENCE_JOINTS), points=points
        )

    def string(self, text: str) -> Any:
        """``std_msgs/String``."""
        return self.ts.types["std_msgs/msg/String"](data=text)

    def float32(self, value: float) -> Any:
        """``std_msgs/Float32``."""
        return self.ts.types["std_msgs/msg/Float32"](data=float(value))

    def boolean(self, value: bool) -> Any:
        """``std_msgs/Bool``."""
        return self.ts.types["std_msgs/msg/Bool"](data=bool(value))
