"""Named QoS profiles: every publisher and subscription in cadence uses one of these.

- ``SENSOR``: best effort, keep last 5, volatile — odometry, scans, joint states, images. A late
  sample is worth less than the next one; best-effort subscribers also match reliable publishers.
- ``COMMAND``: reliable, keep last 1, volatile — ``cmd_vel``, ``executor/sequence``, progress. Only
  the newest command matters, and it must not be silently dropped.
- ``LATCHED``: reliable, keep last 1, transient local — ``plan``, ``plan/path``: a node that starts
  late still gets the current plan (the ROS 2 equivalent of a latched topic).
- ``EVENTS``: reliable, keep last 10, volatile — ``task``, ``replan``, ``critic/done``, status:
  discrete events none of which may be lost.
- ``CLOCK``: best effort, keep last 1 (rclpy's own ``/clock`` subscriptions use this profile).
"""

from __future__ import annotations

from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
)

SENSOR = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=5,
    reliability=ReliabilityPolicy.BEST_EFFORT,
    durability=DurabilityPolicy.VOLATILE,
)
COMMAND = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=1,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)
LATCHED = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=1,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)
EVENTS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=10,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)
CLOCK = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=1,
    reliability=ReliabilityPolicy.BEST_EFFORT,
    durability=DurabilityPolicy.VOLATILE,
)

PROFILES: dict[str, QoSProfile] = {
    "sensor": SENSOR,
    "command": COMMAND,
    "latched": LATCHED,
    "events": EVENTS,
    "clock": CLOCK,
}


def profile(name: str) -> QoSProfile:
    """The QoS profile called `name`.

    Raises:
        ValueError: listing the valid names.
    """
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown QoS profile {name!r}; profiles: {', '.join(PROFILES)}") from None
