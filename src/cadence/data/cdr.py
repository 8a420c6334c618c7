"""Direct CDR parsers for the high-rate robot topics (odom, scan, cmd_vel, critic/progress).

``cadence bag convert`` needs a handful of fields of every odometry, scan and command message; a full
rosbags deserialisation builds every nested object and both 36-entry covariance arrays first. These
parsers read the fields straight from little-endian CDR (XCDR1, what rosbag2 records) at the offsets
the Kilted definitions give, and check the message length the way rosbags does (at most 3 bytes of
trailing padding). :class:`cadence.data.bag.BagReader` uses them only when the bag's definition of
the type hashes to the Kilted one, and falls back to rosbags when a parser rejects the bytes.
"""

from __future__ import annotations

import math
import struct

import numpy as np

from cadence.data.messages import OdomSample, ScanSample

_U32 = struct.Struct("<I")
_STAMP = struct.Struct("<iI")
_POSE = struct.Struct("<7d")  # position xyz, orientation xyzw
_TWIST = struct.Struct("<6d")  # linear xyz, angular xyz
_SCAN = struct.Struct(
    "<7f"
)  # angle_min, angle_max, angle_increment, time_increment, scan_time, range_min, range_max
_F32 = struct.Struct("<f")
_COV = 36 * 8
_LE = (0x00, 0x01)  # CDR_LE encapsulation


def _check_header(raw: bytes) -> None:
    if (raw[0], raw[1]) != _LE:
        raise ValueError("not little-endian CDR")


def _after_string(raw: bytes, pos: int) -> int:
    """Position after a CDR string starting at ``pos`` (positions relative to the payload)."""
    pos = (pos + 3) & ~3
    (n,) = _U32.unpack_from(raw, 4 + pos)
    return pos + 4 + n


def _check_end(raw: bytes, pos: int) -> None:
    if not 0 <= len(raw) - 4 - pos <= 3:
        raise ValueError(f"CDR size mismatch: parsed {pos + 4} of {len(raw)} bytes")


def _stamp_s(sec: int, nsec: int, log_time_ns: int) -> float:
    return sec + nsec * 1e-9 if (sec or nsec) else log_time_ns * 1e-9


def odom(raw: bytes, log_time_ns: int) -> OdomSample:
    """``nav_msgs/msg/Odometry`` -> :class:`OdomSample` (same values as :func:`messages.odom_sample`)."""
    _check_header(raw)
    sec, nsec = _STAMP.unpack_from(raw, 4)
    pos = _after_string(raw, 8)  # header.frame_id
    pos = _after_string(raw, pos)  # child_frame_id
    pos = (pos + 7) & ~7
    px, py, _, qx, qy, qz, qw = _POSE.unpack_from(raw, 4 + pos)
    pos += _POSE.size + _COV
    vx, _, _, _, _, wz = _TWIST.unpack_from(raw, 4 + pos)
    _check_end(raw, pos + _TWIST.size + _COV)
    yaw = math.atan2(2.0 * (qw * qz + qx * qy), 1.0 - 2.0 * (qy * qy + qz * qz))
    return OdomSample(_stamp_s(sec, nsec, log_time_ns), px, py, yaw, vx, wz)


def scan(raw: bytes, log_time_ns: int) -> ScanSample:
    """``sensor_msgs/msg/LaserScan`` -> :class:`ScanSample`."""
    _check_header(raw)
    sec, nsec = _STAMP.unpack_from(raw, 4)
    pos = _after_string(raw, 8)
    pos = (pos + 3) & ~3
    angle_min, _, inc, _, _, range_min, range_max = _SCAN.unpack_from(raw, 4 + pos)
    pos += _SCAN.size
    (n,) = _U32.unpack_from(raw, 4 + pos)
    ranges = np.frombuffer(raw, dtype="<f4", count=n, offset=8 + pos)
    pos += 4 + 4 * n
    (m,) = _U32.unpack_from(raw, 4 + pos)
    _check_end(raw, pos + 4 + 4 * m)
    return ScanSample(_stamp_s(sec, nsec, log_time_ns), angle_min, inc, range_min, range_max, ranges)


def twist(raw: bytes, log_time_ns: int) -> tuple[float, float, float]:
    """``geometry_msgs/msg/Twist`` -> ``(receive time s, v, omega)``."""
    _check_header(raw)
    vx, _, _, _, _, wz = _TWIST.unpack_from(raw, 4)
    _check_end(raw, _TWIST.size)
    return (log_time_ns * 1e-9, vx, wz)


def float32(raw: bytes, log_time_ns: int) -> tuple[float, float]:
    """``std_msgs/msg/Float32`` -> ``(receive time s, value)``."""
    _check_header(raw)
    (value,) = _F32.unpack_from(raw, 4)
    _check_end(raw, 4)
    return (log_time_ns * 1e-9, value)
