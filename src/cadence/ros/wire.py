"""The executor's hot topics as CDR bytes: decode ``odom``/``scan``, encode ``cmd_vel``/``executor/sequence``.

rclpy turns every received sample into Python message objects and every published one back into C
structs. For the executor's per-observation path that is most of the cost: measured here, taking an
``Odometry`` as a message costs about 130 µs (nested message objects, two covariance arrays), taking
it as bytes about 20 µs; building a ``JointTrajectory`` of 8 points about 85 µs. So ``executor_node``
subscribes ``odom``/``scan`` with ``raw=True`` and reads the few fields it uses straight from the
serialized sample with :mod:`struct`, and publishes ``cmd_vel``/``executor/sequence`` as serialized
bytes. The bytes on the wire are the same messages (same types, same values); the tests check each
codec against rclpy's own ``serialize_message``/``deserialize_message``.

Encoding: ROS 2 serializes with plain CDR (XCDR1): a 4-byte encapsulation header (``00 01`` little
endian, ``00 00`` big endian, then two option bytes), then the fields in order, each primitive
aligned to its size counted from the end of the header; strings are a uint32 length (with the
terminating NUL) and the bytes; sequences a uint32 count and the elements. A sample in any other
encapsulation (XCDR2, ...) is decoded with rclpy's ``deserialize_message`` instead (slower, same
result).
"""

from __future__ import annotations

import math
import struct
from typing import Any

import numpy as np

from cadence.data.messages import OdomSample
from cadence.policy.observation import Scan
from cadence.ros.errors import ConversionError

_HEADER = 4  # encapsulation: 2 bytes kind + 2 bytes options; alignment counts from its end
_CDR_LE, _CDR_BE = b"\x00\x01", b"\x00\x00"
_ENCAPSULATION_LE = b"\x00\x01\x00\x00"


class _Layout:
    """Precompiled readers for one byte order."""

    def __init__(self, e: str) -> None:
        self.stamp = struct.Struct(e + "iI")
        self.u32 = struct.Struct(e + "I")
        self.pose = struct.Struct(e + "7d")  # position xyz, orientation xyzw
        self.twist = struct.Struct(e + "6d")  # linear xyz, angular xyz
        self.scan = struct.Struct(e + "7fI")  # 7 float32 fields, then the ranges count
        self.f32 = np.dtype(np.float32).newbyteorder(e)


_LAYOUTS = {_CDR_LE: _Layout("<"), _CDR_BE: _Layout(">")}


def _align(offset: int, n: int) -> int:
    """`offset` (from the start of the buffer) rounded up to a multiple of `n` from the CDR origin."""
    rel = offset - _HEADER
    return offset + (-rel % n)


def _skip_string(raw: bytes, offset: int, lay: _Layout) -> int:
    offset = _align(offset, 4)
    (n,) = lay.u32.unpack_from(raw, offset)
    end = offset + 4 + n
    if end > len(raw):
        raise struct.error("string runs past the end of the sample")
    return end


# ---------------------------------------------------------------------------------------- odometry
def yaw_from_quaternion(x: float, y: float, z: float, w: float) -> float:
    """Yaw of a quaternion (the same formula as :func:`cadence.ros.convert.quaternion_to_yaw`)."""
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def odom_fields_to_sample(
    sec: int,
    nanosec: int,
    px: float,
    py: float,
    qx: float,
    qy: float,
    qz: float,
    qw: float,
    vx: float,
    wz: float,
) -> OdomSample:
    """The used fields of an Odometry -> OdomSample; one implementation for messages and bytes.

    Raises:
        ConversionError: if any used value is NaN or infinite (the executor then holds).
    """
    sample = OdomSample(
        t=float(sec) + 1e-9 * float(nanosec),
        x=float(px),
        y=float(py),
        yaw=yaw_from_quaternion(qx, qy, qz, qw),
        v=float(vx),
        omega=float(wz),
    )
    isfinite = math.isfinite
    if not (
        isfinite(sample.t)
        and isfinite(sample.x)
        and isfinite(sample.y)
        and isfinite(sample.yaw)
        and isfinite(sample.v)
        and isfinite(sample.omega)
    ):
        raise ConversionError(f"odom: non-finite value in {sample}")
    return sample


def decode_odometry(raw: bytes) -> tuple[int, OdomSample]:
    """A serialized nav_msgs/Odometry -> (stamp in ns, OdomSample).

    Layout: header (stamp int32 sec, uint32 nanosec; frame_id), child_frame_id, pose.pose (position 3
    doubles, orientation 4 doubles), pose.covariance (36 doubles), twist.twist (linear 3, angular 3).

    Raises:
        OdomError: a readable sample with a NaN or infinite used value (``err.stamp_ns`` is its stamp).
        ConversionError: a truncated or otherwise unreadable sample.
    """
    lay = _LAYOUTS.get(raw[:2])
    if lay is None:
        return _decode_odometry_slow(raw)
    try:
        sec, nanosec = lay.stamp.unpack_from(raw, _HEADER)
        offset = _skip_string(raw, _HEADER + 8, lay)  # header.frame_id
        offset = _skip_string(raw, offset, lay)  # child_frame_id
        offset = _align(offset, 8)
        px, py, _pz, qx, qy, qz, qw = lay.pose.unpack_from(raw, offset)
        offset += 8 * (7 + 36)  # pose.pose, pose.covariance
        vx, _vy, _vz, _wx, _wy, wz = lay.twist.unpack_from(raw, offset)
    except struct.error as err:
        raise ConversionError(f"odom: malformed sample ({len(raw)} bytes): {err}") from None
    stamp_ns = sec * 1_000_000_000 + nanosec
    try:
        return stamp_ns, odom_fields_to_sample(sec, nanosec, px, py, qx, qy, qz, qw, vx, wz)
    except ConversionError as err:
        raise OdomError(stamp_ns, str(err)) from None


def _decode_odometry_slow(raw: bytes) -> tuple[int, OdomSample]:
    from nav_msgs.msg import Odometry

    msg = _deserialize(raw, Odometry, "odom")
    s, p, q, tw = msg.header.stamp, msg.pose.pose.position, msg.pose.pose.orientation, msg.twist.twist
    stamp_ns = s.sec * 1_000_000_000 + s.nanosec
    try:
        sample = odom_fields_to_sample(
            s.sec, s.nanosec, p.x, p.y, q.x, q.y, q.z, q.w, tw.linear.x, tw.angular.z
        )
    except ConversionError as err:
        raise OdomError(stamp_ns, str(err)) from None
    return stamp_ns, sample


class OdomError(ConversionError):
    """A readable odometry sample with a non-finite value; ``stamp_ns`` is its stamp."""

    def __init__(self, stamp_ns: int, message: str) -> None:
        super().__init__(message)
        self.stamp_ns = stamp_ns


# ------------------------------------------------------------------------------------- laser scan
def decode_laserscan(raw: bytes) -> tuple[int, Scan]:
    """A serialized sensor_msgs/LaserScan -> (stamp in ns, Scan with float32 ranges).

    Layout: header, then 7 float32 (angle_min, angle_max, angle_increment, time_increment, scan_time,
    range_min, range_max), ranges (float32 sequence), intensities.

    Raises:
        ConversionError: for a truncated sample.
    """
    lay = _LAYOUTS.get(raw[:2])
    if lay is None:
        return _decode_laserscan_slow(raw)
    try:
        sec, nanosec = lay.stamp.unpack_from(raw, _HEADER)
        offset = _align(_skip_string(raw, _HEADER + 8, lay), 4)
        angle_min, _amax, angle_inc, _ti, _st, _rmin, range_max, n = lay.scan.unpack_from(raw, offset)
        offset += 32
        if offset + 4 * n > len(raw):
            raise struct.error(f"{n} ranges run past the end of the sample")
        ranges = np.frombuffer(raw, dtype=lay.f32, count=n, offset=offset)
    except struct.error as err:
        raise ConversionError(f"scan: malformed sample ({len(raw)} bytes): {err}") from None
    # astype copies (and swaps bytes for a big-endian sample): the Scan owns writable ranges.
    return sec * 1_000_000_000 + nanosec, Scan(ranges.astype(np.float32), angle_min, angle_inc, range_max)


def _decode_laserscan_slow(raw: bytes) -> tuple[int, Scan]:
    from sensor_msgs.msg import LaserScan

    msg = _deserialize(raw, LaserScan, "scan")
    s = msg.header.stamp
    scan = Scan(np.asarray(msg.ranges, dtype=np.float32), msg.angle_min, msg.angle_increment, msg.range_max)
    return s.sec * 1_000_000_000 + s.nanosec, scan


def _deserialize(raw: bytes, msg_type: Any, what: str) -> Any:
    from rclpy.serialization import deserialize_message

    try:
        return deserialize_message(raw, msg_type)
    except RuntimeError as err:  # rclpy's RMWError ("failed to deserialize ROS message")
        raise ConversionError(f"{what}: cannot deserialize a {len(raw)}-byte sample: {err}") from None


# --------------------------------------------------------------------------------------- encoders
_TWIST = struct.Struct("<6d")
_STAMP = struct.Struct("<iI")
_VELOCITIES = struct.Struct("<2d")


def s_to_sec_nanosec(t: float) -> tuple[int, int]:
    """Seconds -> (sec, nanosec) rounded to the nanosecond (as :func:`cadence.ros.pubsub.s_to_stamp`)."""
    return divmod(round(t * 1e9), 1_000_000_000)


def encode_twist(v: float, omega: float) -> bytes:
    """geometry_msgs/Twist with ``linear.x = v``, ``angular.z = omega`` (the others 0), serialized."""
    return _ENCAPSULATION_LE + _TWIST.pack(float(v), 0.0, 0.0, 0.0, 0.0, float(omega))


class TrajectoryEncoder:
    """``executor/sequence`` (trajectory_msgs/JointTrajectory) as serialized bytes, fast.

    The layout for a given K is fixed except the stamp and the velocities, so it is laid out once
    (:meth:`_template`) and each decision only packs ``2 + 2K`` numbers into a copy. The message is
    the one :func:`cadence.ros.convert.sequence_to_trajectory` builds: empty ``frame_id``,
    ``joint_names = ["v", "omega"]``, one point per action with ``velocities = [v, omega]``, no
    positions/accelerations/effort, ``time_from_start = i * control_dt``.
    """

    def __init__(self, joint_names: tuple[str, ...] = ("v", "omega")) -> None:
        self._joint_names = joint_names
        self._templates: dict[tuple[int, float], tuple[bytes, list[int]]] = {}

    def encode(self, actions: np.ndarray, control_dt: float, t: float) -> bytes:
        """A decision's actions ``[K, 2]`` decided at `t` (s) -> serialized JointTrajectory.

        Raises:
            ConversionError: if `actions` is not ``[K, 2]``.
        """
        actions = np.asarray(actions, dtype=np.float64)
        if actions.ndim != 2 or actions.shape[1] != 2:
            raise ConversionError(f"sequence must have shape [K, 2], got {list(actions.shape)}")
        key = (actions.shape[0], control_dt)
        entry = self._templates.get(key)
        if entry is None:
            entry = self._templates[key] = self._template(*key)
        template, offsets = entry
        buf = bytearray(template)
        _STAMP.pack_into(buf, _HEADER, *s_to_sec_nanosec(t))
        pack = _VELOCITIES.pack_into
        for offset, (v, w) in zip(offsets, actions.tolist(), strict=True):
            pack(buf, offset, v, w)
        return bytes(buf)

    def _template(self, k: int, control_dt: float) -> tuple[bytes, list[int]]:
        out = bytearray(_ENCAPSULATION_LE)

        def pad(n: int) -> None:
            out.extend(b"\x00" * (-(len(out) - _HEADER) % n))

        def u32(value: int) -> None:
            pad(4)
            out.extend(struct.pack("<I", value))

        def string(s: str) -> None:
            data = s.encode() + b"\x00"
            u32(len(data))
            out.extend(data)

        out.extend(struct.pack("<iI", 0, 0))  # header.stamp (packed per decision)
        string("")  # header.frame_id
        u32(len(self._joint_names))
        for name in self._joint_names:
            string(name)
        u32(k)  # points
        offsets = []
        for i in range(k):
            u32(0)  # positions
            u32(2)  # velocities
            pad(8)
            offsets.append(len(out))
            out.extend(b"\x00" * 16)
            u32(0)  # accelerations
            u32(0)  # effort
            # time_from_start, rounded to the nanosecond as sequence_to_trajectory does
            out.extend(_STAMP.pack(*s_to_sec_nanosec(i * control_dt)))
        return bytes(out), offsets
