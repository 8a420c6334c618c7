"""cadence.ros.wire: the executor's byte-level codecs against rclpy's own (de)serialization.

The oracles are rclpy's ``serialize_message``/``deserialize_message`` and the message-object
conversions the executor used before (``convert.odom_to_sample``, ``np.asarray(msg.ranges)``,
``convert.sequence_to_trajectory``, ``convert.twist``); big-endian samples come from ``rosbags``.
Values must be identical (bit for bit), for random values, frame ids of every length (alignment)
and sizes.
"""

from __future__ import annotations

import math
import random
import string

import numpy as np
import pytest

pytestmark = pytest.mark.ros


def _rand_frame(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(0, 13)))


def _random_odometry(rng: random.Random):
    from nav_msgs.msg import Odometry

    msg = Odometry()
    msg.header.stamp.sec = rng.randint(0, 2**31 - 1)
    msg.header.stamp.nanosec = rng.randint(0, 999_999_999)
    msg.header.frame_id = _rand_frame(rng)
    msg.child_frame_id = _rand_frame(rng)
    p, q = msg.pose.pose.position, msg.pose.pose.orientation
    p.x, p.y, p.z = (rng.uniform(-100, 100) for _ in range(3))
    q.x, q.y, q.z, q.w = (rng.uniform(-1, 1) for _ in range(4))
    msg.pose.covariance = np.array([rng.random() for _ in range(36)])
    tw = msg.twist.twist
    tw.linear.x, tw.linear.y, tw.linear.z = (rng.uniform(-2, 2) for _ in range(3))
    tw.angular.x, tw.angular.y, tw.angular.z = (rng.uniform(-3, 3) for _ in range(3))
    msg.twist.covariance = np.array([rng.random() for _ in range(36)])
    return msg


def _random_scan(rng: random.Random):
    from sensor_msgs.msg import LaserScan

    msg = LaserScan()
    msg.header.stamp.sec = rng.randint(0, 2**31 - 1)
    msg.header.stamp.nanosec = rng.randint(0, 999_999_999)
    msg.header.frame_id = _rand_frame(rng)
    msg.angle_min = rng.uniform(-math.pi, 0)
    msg.angle_max = rng.uniform(0, math.pi)
    msg.angle_increment = rng.uniform(0.001, 0.5)
    msg.time_increment, msg.scan_time = rng.random(), rng.random()
    msg.range_min, msg.range_max = rng.random(), rng.uniform(1, 30)
    n = rng.randint(0, 90)
    msg.ranges = [rng.choice([rng.uniform(0, 30), math.inf, math.nan]) for _ in range(n)]
    msg.intensities = [rng.random() for _ in range(rng.choice([0, n]))]
    return msg


def _ns(msg) -> int:
    return msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec


def _reference_sample(msg) -> tuple[float, ...]:
    """The conversion the executor applied to Odometry messages before the byte path (verbatim)."""
    p, q, tw = msg.pose.pose.position, msg.pose.pose.orientation, msg.twist.twist
    stamp = msg.header.stamp
    return (
        float(stamp.sec) + 1e-9 * float(stamp.nanosec),
        float(p.x),
        float(p.y),
        math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z)),
        float(tw.linear.x),
        float(tw.angular.z),
    )


def _same_floats(a, b) -> bool:
    return all((x == y) or (math.isnan(x) and math.isnan(y)) for x, y in zip(a, b, strict=True))


def test_odometry_decoder_matches_the_message_path() -> None:
    from rclpy.serialization import serialize_message

    from cadence.ros.convert import odom_to_sample
    from cadence.ros.wire import decode_odometry

    rng = random.Random(7)
    for _ in range(300):
        msg = _random_odometry(rng)
        stamp_ns, sample = decode_odometry(serialize_message(msg))
        assert stamp_ns == _ns(msg)
        assert tuple(sample) == _reference_sample(msg)  # bit-identical, not approx
        assert tuple(odom_to_sample(msg)) == _reference_sample(msg)


def test_odometry_non_finite_is_an_odom_error_with_its_stamp() -> None:
    from rclpy.serialization import serialize_message

    from cadence.ros.errors import ConversionError
    from cadence.ros.wire import OdomError, decode_odometry

    rng = random.Random(1)
    for field in ("x", "y"):
        msg = _random_odometry(rng)
        setattr(msg.pose.pose.position, field, math.nan)
        with pytest.raises(OdomError, match="non-finite") as info:
            decode_odometry(serialize_message(msg))
        assert info.value.stamp_ns == _ns(msg)
    msg = _random_odometry(rng)
    msg.twist.twist.angular.z = math.inf
    with pytest.raises(OdomError):
        decode_odometry(serialize_message(msg))
    msg = _random_odometry(rng)
    msg.pose.pose.position.z = math.nan  # not used by the executor: not an error (as before)
    decode_odometry(serialize_message(msg))
    raw = serialize_message(_random_odometry(rng))
    for cut in (0, 3, 10, 60, len(raw) // 2):
        with pytest.raises(ConversionError, match=r"malformed|cannot deserialize"):
            decode_odometry(raw[:cut])


def test_scan_decoder_matches_the_message_path() -> None:
    from rclpy.serialization import deserialize_message, serialize_message
    from sensor_msgs.msg import LaserScan

    from cadence.ros.wire import decode_laserscan

    rng = random.Random(3)
    for _ in range(300):
        raw = serialize_message(_random_scan(rng))
        msg = deserialize_message(raw, LaserScan)  # what the executor received before
        stamp_ns, scan = decode_laserscan(raw)
        assert stamp_ns == _ns(msg)
        expected = np.asarray(msg.ranges, dtype=np.float32)  # and how it converted it
        assert scan.ranges.dtype == np.float32 and scan.ranges.flags.writeable
        np.testing.assert_array_equal(scan.ranges, expected)
        assert (scan.angle_min, scan.angle_increment, scan.range_max) == (
            msg.angle_min,
            msg.angle_increment,
            msg.range_max,
        )


def test_scan_truncated_is_a_clear_error() -> None:
    from rclpy.serialization import serialize_message

    from cadence.ros.errors import ConversionError
    from cadence.ros.wire import decode_laserscan

    msg = _random_scan(random.Random(5))
    msg.ranges = [1.0] * 36
    raw = serialize_message(msg)
    for cut in (2, 9, 30, 60):
        with pytest.raises(ConversionError, match="scan: malformed"):
            decode_laserscan(raw[:cut])


def test_big_endian_samples_decode_to_the_same_values() -> None:
    from rosbags.typesys import Stores, get_typestore

    from cadence.ros.convert import odom_to_sample
    from cadence.ros.wire import decode_laserscan, decode_odometry

    ts = get_typestore(Stores.ROS2_JAZZY)
    rng = random.Random(11)
    for _ in range(20):
        msg = _random_odometry(rng)
        h, p, q, tw = msg.header, msg.pose.pose.position, msg.pose.pose.orientation, msg.twist.twist
        T = ts.types
        rb = T["nav_msgs/msg/Odometry"](
            header=T["std_msgs/msg/Header"](
                stamp=T["builtin_interfaces/msg/Time"](sec=h.stamp.sec, nanosec=h.stamp.nanosec),
                frame_id=h.frame_id,
            ),
            child_frame_id=msg.child_frame_id,
            pose=T["geometry_msgs/msg/PoseWithCovariance"](
                pose=T["geometry_msgs/msg/Pose"](
                    position=T["geometry_msgs/msg/Point"](x=p.x, y=p.y, z=p.z),
                    orientation=T["geometry_msgs/msg/Quaternion"](x=q.x, y=q.y, z=q.z, w=q.w),
                ),
                covariance=np.asarray(msg.pose.covariance),
            ),
            twist=T["geometry_msgs/msg/TwistWithCovariance"](
                twist=T["geometry_msgs/msg/Twist"](
                    linear=T["geometry_msgs/msg/Vector3"](x=tw.linear.x, y=tw.linear.y, z=tw.linear.z),
                    angular=T["geometry_msgs/msg/Vector3"](x=tw.angular.x, y=tw.angular.y, z=tw.angular.z),
                ),
                covariance=np.asarray(msg.twist.covariance),
            ),
        )
        raw = bytes(ts.serialize_cdr(rb, "nav_msgs/msg/Odometry", little_endian=False))
        assert raw[:2] == b"\x00\x00"
        stamp_ns, sample = decode_odometry(raw)
        assert stamp_ns == _ns(msg) and tuple(sample) == tuple(odom_to_sample(msg))

        scan = _random_scan(rng)
        rs = T["sensor_msgs/msg/LaserScan"](
            header=T["std_msgs/msg/Header"](
                stamp=T["builtin_interfaces/msg/Time"](
                    sec=scan.header.stamp.sec, nanosec=scan.header.stamp.nanosec
                ),
                frame_id=scan.header.frame_id,
            ),
            angle_min=scan.angle_min,
            angle_max=scan.angle_max,
            angle_increment=scan.angle_increment,
            time_increment=scan.time_increment,
            scan_time=scan.scan_time,
            range_min=scan.range_min,
            range_max=scan.range_max,
            ranges=np.asarray(scan.ranges, dtype=np.float32),
            intensities=np.asarray(scan.intensities, dtype=np.float32),
        )
        stamp_ns, decoded = decode_laserscan(
            bytes(ts.serialize_cdr(rs, "sensor_msgs/msg/LaserScan", little_endian=False))
        )
        assert stamp_ns == _ns(scan)
        assert decoded.ranges.dtype.isnative
        np.testing.assert_array_equal(decoded.ranges, np.asarray(scan.ranges, dtype=np.float32))
        f32 = [float(np.float32(x)) for x in (scan.angle_min, scan.angle_increment, scan.range_max)]
        assert [decoded.angle_min, decoded.angle_increment, decoded.range_max] == f32


def test_other_encapsulations_go_through_rclpy() -> None:
    """A sample this decoder does not read (not plain CDR) is handed to rclpy: same values or a clear error."""
    from rclpy.serialization import serialize_message

    from cadence.ros.errors import ConversionError
    from cadence.ros.wire import decode_odometry

    msg = _random_odometry(random.Random(2))
    raw = b"\x00\x03" + serialize_message(msg)[2:]  # PL_CDR_LE: not plain CDR
    try:
        stamp_ns, sample = decode_odometry(raw)
    except ConversionError as err:
        assert "cannot deserialize" in str(err)
    else:
        from cadence.ros.convert import odom_to_sample

        assert stamp_ns == _ns(msg) and tuple(sample) == tuple(odom_to_sample(msg))


def test_twist_encoder_is_rclpys_serialization() -> None:
    from geometry_msgs.msg import Twist
    from rclpy.serialization import deserialize_message, serialize_message

    from cadence.ros.convert import twist
    from cadence.ros.wire import encode_twist

    rng = random.Random(4)
    for v, w in [(0.0, 0.0), (-0.0, 1.0), (math.nan, math.inf)] + [
        (rng.uniform(-1, 1), rng.uniform(-2, 2)) for _ in range(50)
    ]:
        data = encode_twist(v, w)
        assert data == bytes(serialize_message(twist(v, w)))
        back = deserialize_message(data, Twist)
        assert _same_floats((back.linear.x, back.angular.z), (v, w))


@pytest.mark.parametrize("k", [1, 2, 3, 8, 13])
def test_trajectory_encoder_is_the_sequence_message(k: int) -> None:
    from rclpy.serialization import deserialize_message
    from trajectory_msgs.msg import JointTrajectory

    from cadence.ros.convert import sequence_to_trajectory, trajectory_to_sequence
    from cadence.ros.wire import TrajectoryEncoder

    enc = TrajectoryEncoder()
    rng = np.random.default_rng(k)
    for dt in (0.05, 0.1, 1 / 3):
        for _ in range(10):
            actions = rng.uniform(-2, 2, size=(k, 2)).astype(np.float32)
            t = float(rng.uniform(0, 1e5))
            msg = deserialize_message(enc.encode(actions, dt, t), JointTrajectory)
            assert msg == sequence_to_trajectory(actions, dt, t)  # every field, exactly
            t2, back, dt2 = trajectory_to_sequence(msg)
            assert t2 == pytest.approx(t, abs=2e-9) and (k == 1 or dt2 == pytest.approx(dt, abs=2e-9))
            np.testing.assert_array_equal(back, actions)


def test_trajectory_encoder_rejects_other_shapes() -> None:
    from cadence.ros.errors import ConversionError
    from cadence.ros.wire import TrajectoryEncoder

    with pytest.raises(ConversionError, match=r"\[K, 2\]"):
        TrajectoryEncoder().encode(np.zeros((2, 3)), 0.05, 0.0)


def test_stamp_split_is_s_to_stamp() -> None:
    from cadence.ros.pubsub import s_to_stamp
    from cadence.ros.wire import s_to_sec_nanosec

    rng = random.Random(9)
    for t in [0.0, 0.05, 1 / 3, 2.9999999995, 1e5 + 0.05] + [rng.uniform(0, 2e6) for _ in range(500)]:
        stamp = s_to_stamp(t)
        assert s_to_sec_nanosec(t) == (stamp.sec, stamp.nanosec)
