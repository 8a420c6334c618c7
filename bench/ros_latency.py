"""Observation in -> cmd_vel out through executor_node: p50/p99 in one process and across processes.

A probe node publishes an Odometry, a JointState and a LaserScan with a fresh stamp, in that order
(what sim_node sends each control period) and times how long the executor node takes to answer with a Twist on
``cmd_vel``; the next observation goes out when the answer arrives (ping-pong). The executor runs
with ``trigger: observation``, so every observation is one full control step: conversion, the
observation builder, the safety filter, playback and — every K-th step — a policy decision
(the shipped ONNX policy when present, else the backup controller).

The clock starts before the first message of the observation is published and stops when the
Twist arrives at the probe. The probe serializes its messages (``serialize_message`` of
the stamped messages) before starting the clock and takes ``cmd_vel`` as bytes, decoding it after
stopping the clock, so its own Python message handling is not counted as the executor's latency.
The earlier probe (scan and odometry only, as message objects; clock started after the scan,
stopped after rclpy had built a Twist object) runs too, interleaved in halves with the new one,
and is printed for comparison.

Same run, same node, four set-ups:
- one process, ``EventsExecutor`` (cadence's default; the issue's target: p99 <= 500 us),
- the same with the message-object probe (the earlier methodology),
- one process, ``SingleThreadedExecutor`` (rclpy's default, the alternative; printed as a ratio),
- two processes (executor node in a child process on an EventsExecutor), over DDS.
Final line: JSON with ``inprocess_p99_us`` and ``interprocess_p99_us``.

    .venv/bin/python bench/ros_latency.py [--iters 3000]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

N_BEAMS = 36


def _plan_json() -> str:
    from cadence.planner.planner import Planner
    from cadence.planner.scene import load_scene

    scene = load_scene("apartment")
    return Planner(scene, "rules").plan("go to the office", (4.0, 4.0, 0.0)).to_json()


class Probe:
    """Sends observations and records the latency of each cmd_vel answer.

    Args:
        raw: Publish the observation as serialized bytes (serialized before the clock starts) and
            take ``cmd_vel`` as bytes; False: publish and receive message objects, and start the
            clock after the scan (the earlier methodology).
    """

    def __init__(self, context, n: int, raw: bool = True) -> None:
        import rclpy
        from geometry_msgs.msg import Twist
        from nav_msgs.msg import Odometry
        from sensor_msgs.msg import JointState, LaserScan
        from std_msgs.msg import String

        from cadence.ros import qos

        self.raw = raw
        self.node = rclpy.create_node("latency_probe", context=context)
        self.plan_pub = self.node.create_publisher(String, "plan", qos.LATCHED)
        self.odom_pub = self.node.create_publisher(Odometry, "odom", qos.SENSOR)
        self.scan_pub = self.node.create_publisher(LaserScan, "scan", qos.SENSOR)
        self.joints_pub = self.node.create_publisher(JointState, "joint_states", qos.SENSOR)
        self.node.create_subscription(Twist, "cmd_vel", self._on_cmd, qos.COMMAND, raw=raw)
        self.odom = Odometry()
        self.odom.pose.pose.position.x, self.odom.pose.pose.position.y = 4.0, 4.0
        self.odom.pose.pose.orientation.w = 1.0
        self.scan = LaserScan(angle_min=0.0, angle_increment=2 * math.pi / N_BEAMS, range_max=5.0)
        self.scan.ranges = [5.0] * N_BEAMS
        self.joints = JointState(name=["left_wheel", "right_wheel"], position=[0.0, 0.0], velocity=[0.0, 0.0])
        for msg in (self.odom, self.scan, self.joints):
            msg.header.frame_id = "odom" if msg is self.odom else "base_link"
        self.odom.child_frame_id = "base_link"
        self.n = n
        self.k = 0
        self.sent = 0
        self.samples: list[int] = []
        self.commands: list[tuple[float, float]] = []
        self.t_send = 0

    def send(self) -> None:
        from rclpy.serialization import serialize_message

        self.k += 1
        ns = self.k * 50_000_000  # 20 Hz stamps
        for msg in (self.scan, self.odom, self.joints):
            msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(ns, 1_000_000_000)
        if self.raw:
            odom, joints, scan = (serialize_message(m) for m in (self.odom, self.joints, self.scan))
            self.t_send = time.perf_counter_ns()
            self.odom_pub.publish(odom)  # sim_node's order
            self.joints_pub.publish(joints)
            self.scan_pub.publish(scan)
        else:
            self.scan_pub.publish(self.scan)
            self.t_send = time.perf_counter_ns()
            self.odom_pub.publish(self.odom)
        self.sent = self.k

    def _on_cmd(self, msg) -> None:
        t = time.perf_counter_ns()
        if self.sent == self.k and self.t_send:
            self.samples.append(t - self.t_send)
            self.t_send = 0
            if self.raw:
                from geometry_msgs.msg import Twist
                from rclpy.serialization import deserialize_message

                msg = deserialize_message(msg, Twist)
            self.commands.append((msg.linear.x, msg.angular.z))
            if len(self.samples) < self.n:
                self.send()


def _run(probe: Probe, executor, warmup: int, wall_limit: float = 120.0) -> np.ndarray:
    """Ping-pong until n samples (re-sending when a best-effort sample was lost).

    The executor spins as cadence's nodes spin (``cadence.ros.executors.spin_for``, used by
    ``spin_nodes``): bounded spins that dispatch every event of the interval without returning to
    Python in between.
    """
    from cadence.ros.executors import spin_for

    deadline = time.monotonic() + wall_limit
    last = time.monotonic()
    probe.send()
    count = 0
    while len(probe.samples) < probe.n and time.monotonic() < deadline:
        spin_for(executor, 0.05)
        if len(probe.samples) != count:
            count, last = len(probe.samples), time.monotonic()
        elif time.monotonic() - last > 0.2:  # lost sample: send a new observation
            probe.t_send = 0
            probe.send()
            last = time.monotonic()
    return np.array(probe.samples[warmup:]) / 1e3


def _check_answers(probe: Probe, node=None) -> None:
    """The executor must have answered with real commands (not only holds), or the bench is void."""
    moving = sum(1 for v, w in probe.commands if v != 0.0 or w != 0.0)
    if len(probe.samples) < probe.n or moving < len(probe.commands) // 2:
        state = f"; executor: {node.last_reason!r}" if node is not None else ""
        raise SystemExit(
            f"bench void: {len(probe.samples)}/{probe.n} answers, {moving} of them non-zero commands{state}"
        )


def _stats(us: np.ndarray) -> tuple[float, float, float]:
    p50, p90, p99 = np.percentile(us, [50, 90, 99])
    return float(p50), float(p90), float(p99)


def inprocess(
    kind: str, iters: int, warmup: int, plan: str, model: str, raw: bool = True
) -> tuple[np.ndarray, str]:
    import rclpy
    from std_msgs.msg import String

    from cadence.ros.executor_node import ExecutorNode
    from cadence.ros.executors import make_executor
    from cadence.ros.params import parameter_overrides

    context = rclpy.Context()
    rclpy.init(args=[], context=context, domain_id=_domain())
    try:
        node = ExecutorNode(
            context=context,
            parameter_overrides=parameter_overrides(
                {"model": model, "trigger": "observation", "autostart": True}
            ),
        )
        probe = Probe(context, iters + warmup, raw=raw)
        executor = make_executor(kind, context=context)
        executor.add_node(node)
        executor.add_node(probe.node)
        probe.plan_pub.publish(String(data=plan))
        for _ in range(20):
            executor.spin_once(timeout_sec=0.01)
        us = _run(probe, executor, warmup)
        _check_answers(probe, node)
        what = node.model_name
        executor.shutdown()
        node.destroy_node()
        probe.node.destroy_node()
    finally:
        rclpy.try_shutdown(context=context)
    return us, what


def interprocess(iters: int, warmup: int, plan: str, model: str) -> np.ndarray:
    import rclpy
    from std_msgs.msg import String

    from cadence.ros.executors import make_executor

    domain = _domain()
    env = dict(os.environ, ROS_DOMAIN_ID=str(domain), ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST")
    exe = Path(sys.executable).parent / "executor_node"
    cmd = (
        [str(exe)]
        if exe.exists()
        else [sys.executable, "-c", "from cadence.ros.executor_node import main; main()"]
    )
    cmd += ["--ros-args", "-p", f"model:={model}", "-p", "trigger:=observation", "-p", "autostart:=true"]
    child = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    context = rclpy.Context()
    rclpy.init(args=[], context=context, domain_id=domain)
    try:
        probe = Probe(context, iters + warmup)
        executor = make_executor("events", context=context)
        executor.add_node(probe.node)
        probe.plan_pub.publish(String(data=plan))
        deadline = time.monotonic() + 60
        while probe.node.count_subscribers("odom") == 0 and time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.1)
        for _ in range(20):
            executor.spin_once(timeout_sec=0.05)
        us = _run(probe, executor, warmup)
        _check_answers(probe)
        executor.shutdown()
        probe.node.destroy_node()
    finally:
        rclpy.try_shutdown(context=context)
        child.send_signal(2)
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
    return us


def _domain() -> int:
    return int(os.environ.get("ROS_DOMAIN_ID") or random.SystemRandom().randint(101, 199))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument(
        "--model", default="rover_srl", help="executor model (falls back to backup if missing)"
    )
    args = parser.parse_args()
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    plan = _plan_json()
    results: dict[str, tuple[float, float, float, int]] = {}
    what = ""
    # the two in-process EventsExecutor probes alternate in halves, so the machine's load hits both alike
    runs: dict[str, list[np.ndarray]] = {"in-process events": [], "in-process events, message probe": []}
    half = (args.iters + 1) // 2
    for _ in range(2):
        for label, raw in (("in-process events", True), ("in-process events, message probe", False)):
            us, what = inprocess("events", half, args.warmup, plan, args.model, raw=raw)
            runs[label].append(us)
    for label, parts in runs.items():
        us = np.concatenate(parts)
        results[label] = (*_stats(us), len(us))
    us, _ = inprocess("single", args.iters, args.warmup, plan, args.model)
    results["in-process single"] = (*_stats(us), len(us))
    us = interprocess(args.iters, args.warmup, plan, args.model)
    results["two processes events"] = (*_stats(us), len(us))
    print(f"observation (odom + joint_states + scan) -> cmd_vel through executor_node; controller: {what}")
    print(f"{'set-up':<36}{'p50 us':>9}{'p90 us':>9}{'p99 us':>9}{'samples':>9}")
    for label, (p50, p90, p99, n) in results.items():
        print(f"{label:<36}{p50:9.1f}{p90:9.1f}{p99:9.1f}{n:9d}")
    ev, st, ip = results["in-process events"], results["in-process single"], results["two processes events"]
    mp = results["in-process events, message probe"]
    print(
        f"EventsExecutor vs SingleThreadedExecutor: p50 {st[0] / ev[0]:.2f}x, p99 {st[2] / ev[2]:.2f}x faster"
    )
    print(f"message-object probe vs bytes probe: p50 {mp[0] / ev[0]:.2f}x, p99 {mp[2] / ev[2]:.2f}x")
    out = {
        "inprocess_p50_us": round(ev[0], 1),
        "inprocess_p90_us": round(ev[1], 1),
        "inprocess_p99_us": round(ev[2], 1),
        "interprocess_p50_us": round(ip[0], 1),
        "interprocess_p99_us": round(ip[2], 1),
        "message_probe_p50_us": round(mp[0], 1),
        "message_probe_p99_us": round(mp[2], 1),
        "single_threaded_p50_us": round(st[0], 1),
        "single_threaded_p99_us": round(st[2], 1),
        "events_vs_single_p50": round(st[0] / ev[0], 2),
        "events_vs_single_p99": round(st[2] / ev[2], 2),
        "controller": what,
        "iters": args.iters,
        "loadavg_1min": round(os.getloadavg()[0], 2),  # this machine is shared: p99 tracks the load
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
