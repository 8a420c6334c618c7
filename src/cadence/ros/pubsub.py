"""Publishing that survives a full queue, and stamps/time helpers shared by the nodes."""

from __future__ import annotations

from typing import Any

from builtin_interfaces.msg import Time
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy

# rclpy raises this when a reliable publisher's queue is full under a flood (ENVIRONMENT.md).
RCLError = _rclpy.RCLError


def safe_publish(publisher: Any, msg: Any, logger: Any) -> bool:
    """Publish, logging (throttled) instead of raising when DDS refuses the sample.

    Returns:
        Whether the message was handed to DDS.
    """
    try:
        publisher.publish(msg)
    except RCLError as err:
        logger.warning(f"{publisher.topic_name}: not published: {err}", throttle_duration_sec=2.0)
        return False
    return True


def stamp_to_s(stamp: Time) -> float:
    """A ``builtin_interfaces/Time`` in seconds."""
    return float(stamp.sec) + 1e-9 * float(stamp.nanosec)


def s_to_stamp(t: float) -> Time:
    """Seconds (>= 0) as a ``builtin_interfaces/Time``, rounded to the nanosecond."""
    ns = round(t * 1e9)
    return Time(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)
