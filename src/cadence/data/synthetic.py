"""Robot-like bags without MuJoCo, for tests and ``bench/bag_bench.py``.

A unicycle drives a scene's route with a proportional law; every tick publishes ``odom``, ``scan``
and ``cmd_vel``, every K ticks ``executor/sequence`` and ``critic/progress``, each episode starts
with ``task`` and ``plan`` (same layout as :mod:`cadence.data.record`). Tests mutate the event
stream (NaN, stamps out of order, gaps, duplicates) before writing it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from cadence.data.messages import MessageFactory
from cadence.data.record import EPISODE_GAP_NS, EPOCH_NS
from cadence.data.writer import BagWriter

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path


class Event(NamedTuple):
    """One message to write: topic, receive time (ns) and the rosbags message object."""

    topic: str
    t_ns: int
    msg: Any


def synthetic_events(
    factory: MessageFactory,
    episodes: int = 1,
    steps: int = 160,
    scene: str = "apartment",
    goal: str = "kitchen",
    k: int = 8,
    beams: int = 36,
) -> Iterator[Event]:
    """Yield the messages of ``episodes`` episodes of ``steps`` control ticks each."""
    from cadence.planner.planner import Planner
    from cadence.planner.scene import load_scene
    from cadence.sim import robot

    sc = load_scene(scene)
    dt = robot.CONTROL_DT
    start = (sc.start.x, sc.start.y, sc.start.yaw)
    plan = Planner(sc).plan(f"go to the {goal}", pose=start)
    route = list(plan.waypoints)
    ranges = np.linspace(0.5, 4.5, beams, dtype=np.float32)
    inc = 2 * math.pi / beams
    t0 = EPOCH_NS
    for _ in range(episodes):
        yield Event("task", t0 - 1_000_000, factory.string(plan.task))
        yield Event("plan", t0, factory.string(plan.to_json()))
        x, y, yaw = start
        wp, cmd = 0, (0.0, 0.0)
        for n in range(steps + 1):
            t = t0 + round(n * dt * 1e9)
            yield Event("odom", t, factory.odometry(t, x, y, yaw, *cmd))
            yield Event("scan", t, factory.scan(t, 0.0, inc, robot.LIDAR_RANGE, ranges))
            if n == steps:
                break
            if n % k == 0:
                seq, wp = _plan_sequence(route, wp, x, y, yaw, k, dt)
                yield Event("executor/sequence", t, factory.sequence(t, seq, dt))
                yield Event("critic/progress", t, factory.float32(0.01))
            cmd = (float(seq[n % k, 0]), float(seq[n % k, 1]))
            yield Event("cmd_vel", t, factory.twist(*cmd))
            x, y, yaw = x + cmd[0] * math.cos(yaw) * dt, y + cmd[0] * math.sin(yaw) * dt, yaw + cmd[1] * dt
        t0 += round(steps * dt * 1e9) + EPISODE_GAP_NS


def _plan_sequence(
    route: list, wp: int, x: float, y: float, yaw: float, k: int, dt: float
) -> tuple[np.ndarray, int]:
    """K commands of a proportional go-to-waypoint law, rolled out on the unicycle."""
    out = np.zeros((k, 2), np.float32)
    for i in range(k):
        while wp < len(route) - 1 and math.dist(route[wp], (x, y)) < 0.4:
            wp += 1
        bearing = math.atan2(route[wp][1] - y, route[wp][0] - x) - yaw
        bearing = math.atan2(math.sin(bearing), math.cos(bearing))
        v = min(0.6, math.dist(route[wp], (x, y))) * max(math.cos(bearing), 0.0)
        w = max(-2.0, min(2.0, 2.0 * bearing))
        out[i] = (v, w)
        x, y, yaw = x + v * math.cos(yaw) * dt, y + v * math.sin(yaw) * dt, yaw + w * dt
    return out, wp


def write_events(path: str | Path, events: Iterable[Event], storage: str = "mcap") -> int:
    """Write events to a new bag (atomically); returns the number of messages."""
    with BagWriter(path, storage=storage) as bag:
        for ev in events:
            bag.write(ev.topic, ev.t_ns, ev.msg)
        return bag.count


def write_synthetic_bag(path: str | Path, storage: str = "mcap", **kwargs: Any) -> int:
    """Write a synthetic robot bag; ``kwargs`` go to :func:`synthetic_events`."""
    from cadence.data.typestore import default_typestore

    return write_events(path, synthetic_events(MessageFactory(default_typestore()), **kwargs), storage)
