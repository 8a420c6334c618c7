"""executor_node with real rclpy: lifecycle transitions, holds on NaN and stale input, bad parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import overrides

pytestmark = pytest.mark.ros

N_BEAMS = 36


class Probe:
    """Publishes plan/odom/scan like the planner and a robot; records cmd_vel and executor/sequence."""

    def __init__(self, graph) -> None:
        from geometry_msgs.msg import Twist
        from nav_msgs.msg import Odometry
        from sensor_msgs.msg import LaserScan
        from std_msgs.msg import String
        from trajectory_msgs.msg import JointTrajectory

        from cadence.ros import qos

        self.node = graph.node("executor_probe")
        self.plan_pub = self.node.create_publisher(String, "plan", qos.LATCHED)
        self.odom_pub = self.node.create_publisher(Odometry, "odom", qos.SENSOR)
        self.scan_pub = self.node.create_publisher(LaserScan, "scan", qos.SENSOR)
        self.cmds: list[tuple[float, float]] = []
        self.sequences: list = []
        self.node.create_subscription(
            Twist, "cmd_vel", lambda m: self.cmds.append((m.linear.x, m.angular.z)), qos.COMMAND
        )
        self.node.create_subscription(
            JointTrajectory, "executor/sequence", self.sequences.append, qos.COMMAND
        )

    def send_plan(self, plan) -> None:
        from std_msgs.msg import String

        self.plan_pub.publish(String(data=plan.to_json()))

    def send_observation(
        self, t: float, x: float = 4.0, y: float = 4.0, yaw: float = 0.0, stamp=None
    ) -> None:
        from sensor_msgs.msg import LaserScan

        from cadence.ros.convert import OdomSample, sample_to_odom
        from cadence.ros.pubsub import s_to_stamp

        stamp = stamp or s_to_stamp(t)
        odom = sample_to_odom(OdomSample(t, x, y, yaw, 0.0, 0.0))
        odom.header.stamp = stamp
        scan = LaserScan(angle_min=0.0, angle_increment=2 * math.pi / N_BEAMS, range_max=5.0)
        scan.header.stamp = stamp
        scan.ranges = [5.0] * N_BEAMS
        self.scan_pub.publish(scan)
        self.odom_pub.publish(odom)


def _executor(graph, **params):
    from cadence.ros.executor_node import ExecutorNode

    return graph.add(ExecutorNode(context=graph.context, parameter_overrides=overrides(**params)))


def _stamp_s(msg) -> float:
    return msg.header.stamp.sec + 1e-9 * msg.header.stamp.nanosec


def test_lifecycle_deactivate_publishes_zero_and_reactivate_does_not_replay(graph, kitchen_plan) -> None:
    from rclpy.lifecycle import TransitionCallbackReturn as R

    node = _executor(graph, model="backup", trigger="observation")
    probe = Probe(graph)
    assert node.trigger_configure() == R.SUCCESS
    assert node.trigger_activate() == R.SUCCESS
    probe.send_plan(kitchen_plan)
    assert graph.spin_until(lambda: node.core.follower is not None or node._pending_plan is not None)
    for k in range(1, 4):
        probe.send_observation(0.05 * k)
        assert graph.spin_until(lambda k=k: len(probe.cmds) >= k), "no cmd_vel for an observation"
    assert any(abs(w) > 0 for _, w in probe.cmds), "the backup should turn towards the first waypoint"
    assert probe.sequences and list(probe.sequences[0].joint_names) == ["v", "omega"]
    assert len(probe.sequences[0].points) == node.core.player.config.decision_period / node.core.control_dt

    before = len(probe.cmds)
    assert node.trigger_deactivate() == R.SUCCESS
    assert graph.spin_until(lambda: len(probe.cmds) > before)
    assert probe.cmds[-1] == (0.0, 0.0), "deactivate must publish a zero command"
    assert node.core.player.current is None, "deactivate drops the sequence"

    inactive = len(probe.cmds)
    probe.send_observation(0.20)
    graph.spin_for(0.3)
    assert len(probe.cmds) == inactive, "an inactive executor must not command"

    seqs = len(probe.sequences)
    assert node.trigger_activate() == R.SUCCESS
    graph.spin_for(0.2)
    assert len(probe.cmds) == inactive, "re-activation alone must not replay the old sequence"
    probe.send_observation(0.25)
    assert graph.spin_until(lambda: len(probe.cmds) > inactive and len(probe.sequences) > seqs)
    assert _stamp_s(probe.sequences[-1]) == pytest.approx(0.25), "a fresh decision on the fresh observation"
    first = probe.sequences[-1].points[0].velocities
    _v, w = probe.cmds[-1]
    assert abs(w) <= abs(first[1]) + 1e-9 and math.copysign(1, w) == math.copysign(1, first[1])
    assert node.trigger_deactivate() == R.SUCCESS
    assert node.trigger_cleanup() == R.SUCCESS
    assert node.core is None


def test_nan_odometry_holds(graph, kitchen_plan) -> None:
    node = _executor(graph, model="backup", trigger="observation", autostart=True)
    probe = Probe(graph)
    probe.send_plan(kitchen_plan)
    probe.send_observation(0.05)
    assert graph.spin_until(lambda: len(probe.cmds) >= 1)
    probe.send_observation(0.10)
    assert graph.spin_until(lambda: len(probe.cmds) >= 2)
    assert probe.cmds[-1] != (0.0, 0.0)
    probe.send_observation(0.15, x=float("nan"))
    assert graph.spin_until(lambda: len(probe.cmds) >= 3)
    assert probe.cmds[-1] == (0.0, 0.0), "NaN odometry must hold the robot"
    assert node.core.safety.counters.nan_obs >= 1


def test_joint_states_are_kept(graph) -> None:
    from sensor_msgs.msg import JointState

    from cadence.ros import qos

    node = _executor(graph, model="backup", autostart=True)
    pub = graph.node("joints_probe").create_publisher(JointState, "joint_states", qos.SENSOR)
    msg = JointState(name=["left_wheel", "right_wheel"], position=[0.5, -1.25], velocity=[2.0, 3.5])
    msg.header.stamp.sec = 7
    assert node.joint_state is None
    assert graph.spin_until(lambda: (pub.publish(msg), node.joint_state)[1] is not None)
    assert node.joint_state == msg


def _drive_until_moving(graph, plan) -> Probe:  # type: ignore[no-untyped-def]
    """Send ``plan``, then fresh observations at about 20 Hz until the executor commands motion."""
    probe = Probe(graph)
    probe.send_plan(plan)
    graph.spin_for(0.1)
    for _ in range(40):
        now = probe.node.get_clock().now()
        probe.send_observation(now.nanoseconds * 1e-9, stamp=now.to_msg())
        graph.spin_for(0.05)
        if probe.cmds and probe.cmds[-1] != (0.0, 0.0):
            return probe
    raise AssertionError("with fresh observations the executor should command motion")


def test_stale_input_holds(graph, kitchen_plan) -> None:
    node = _executor(graph, model="backup", trigger="timer", autostart=True, stale_timeout_s=0.2)
    probe = _drive_until_moving(graph, kitchen_plan)
    graph.spin_for(0.6)  # no more observations: older than stale_timeout_s
    assert probe.cmds[-1] == (0.0, 0.0), "stale observations must hold the robot"
    assert node.core.safety.counters.stale_obs >= 1


def test_unreadable_odometry_holds(graph, kitchen_plan) -> None:
    """A sample that is not an Odometry (truncated bytes) is logged and holds the robot; no crash."""
    node = _executor(graph, model="backup", trigger="timer", autostart=True)
    probe = _drive_until_moving(graph, kitchen_plan)
    probe.odom_pub.publish(b"\x00\x01\x00\x00\x01\x00")  # 6 bytes: header and half a stamp
    before = len(probe.cmds)
    assert graph.spin_until(lambda: len(probe.cmds) > before + 1)
    assert probe.cmds[-1] == (0.0, 0.0), "unreadable odometry must hold the robot"
    assert node.core.safety.counters.nan_obs >= 1


def test_bad_parameters_fail_configure(graph) -> None:
    from rclpy.lifecycle import TransitionCallbackReturn as R

    node = _executor(graph, model="backup", stale_timeout_s=-1.0)
    assert node.trigger_configure() == R.FAILURE
    node2 = _executor(graph, model="/nonexistent/policy.onnx", fallback_to_backup=False)
    assert node2.trigger_configure() == R.FAILURE


def test_configure_failures_name_the_model_and_the_reason(graph, tmp_path, capfd) -> None:
    """A broken model fails configure (no fallback to backup: only a *missing* file falls back) and
    the log line says what is wrong with which file."""
    import json
    import shutil

    from rclpy.lifecycle import TransitionCallbackReturn as R

    from cadence.paths import models_dir

    (tmp_path / "dir.onnx").mkdir()
    cases = {str(tmp_path / "dir.onnx"): "is not a file"}
    src = models_dir() / "rover_srl.onnx"
    if src.exists():
        shutil.copy(src, tmp_path / "corrupt.onnx")
        (tmp_path / "corrupt.onnx").write_bytes(src.read_bytes()[:3000])
        manifest = json.loads((models_dir() / "rover_srl.json").read_text())
        manifest["onnx"]["file"] = "corrupt.onnx"
        (tmp_path / "corrupt.json").write_text(json.dumps(manifest))
        cases[str(tmp_path / "corrupt.onnx")] = "sha256"
        shutil.copy(src, tmp_path / "lonely.onnx")
        cases[str(tmp_path / "lonely.onnx")] = "no manifest"
    capfd.readouterr()
    for model, reason in cases.items():
        node = _executor(graph, model=model, fallback_to_backup=True)
        assert node.trigger_configure() == R.FAILURE, model
        err = capfd.readouterr().err
        assert "configure failed: model:" in err and model in err and reason in err, err
        assert node.core is None


def test_missing_model_falls_back_to_backup_when_allowed(graph) -> None:
    from rclpy.lifecycle import TransitionCallbackReturn as R

    node = _executor(graph, model="/nonexistent/policy.onnx", fallback_to_backup=True)
    assert node.trigger_configure() == R.SUCCESS
    assert "backup" in node.model_name
    assert np.isfinite(node.core.backup.act(np.zeros((1, node.core.builder.obs_dim), np.float32))).all()


def test_lifecycle_services_drive_the_node_like_ros2_lifecycle_set(graph) -> None:
    """What `ros2 lifecycle set /executor_node configure|activate` does on a robot, over DDS services."""
    from lifecycle_msgs.msg import Transition
    from lifecycle_msgs.srv import ChangeState, GetState

    node = _executor(graph, model="backup")
    client_node = graph.node("lifecycle_client")
    change = client_node.create_client(ChangeState, "/executor_node/change_state")
    get = client_node.create_client(GetState, "/executor_node/get_state")
    assert graph.spin_until(lambda: change.service_is_ready() and get.service_is_ready())

    def call(client, request):
        future = client.call_async(request)
        assert graph.spin_until(future.done)
        return future.result()

    assert call(get, GetState.Request()).current_state.label == "unconfigured"
    for transition, label in (
        (Transition.TRANSITION_CONFIGURE, "inactive"),
        (Transition.TRANSITION_ACTIVATE, "active"),
    ):
        assert call(change, ChangeState.Request(transition=Transition(id=transition))).success
        assert call(get, GetState.Request()).current_state.label == label
    assert node.core is not None and node._active


def test_shipped_policy_loads_on_the_requested_provider(graph) -> None:
    from rclpy.lifecycle import TransitionCallbackReturn as R

    from cadence.paths import models_dir

    if not (models_dir() / "rover_srl.onnx").exists():
        pytest.skip("models/rover_srl.onnx is not shipped in this checkout")
    node = _executor(graph, model="rover_srl", providers="cpu", fallback_to_backup=False)
    assert node.trigger_configure() == R.SUCCESS
    assert "rover_srl.onnx" in node.model_name and "CPUExecutionProvider" in node.model_name
