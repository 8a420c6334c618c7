"""``executor_node``: the lifecycle node that runs the policy, playback and the safety filter.

- configure: validate parameters, load and check the model (``cadence.policy.runtime.load_policy``;
  a missing model falls back to the backup controller when ``fallback_to_backup`` is set, and says so
  loudly), create subscriptions and publishers.
- activate: start the control timer (``trigger: timer``) or answer each complete observation
  (``trigger: observation``, lockstep with ``sim_node``).
- deactivate: publish a zero command and drop the current sequence: a re-activation decides afresh
  from a fresh observation and never replays the old sequence.
- cleanup: free the model session and the entities.

Subscribes ``odom``, ``scan``, ``joint_states``, ``plan`` (latched), ``replan`` (critic events count
towards the backup switch); publishes ``cmd_vel`` and ``executor/sequence``. The maths is in
:class:`cadence.policy.executor.ExecutorCore`; this file converts and publishes.

The per-observation path is latency-critical (``bench/ros_latency.py``): ``odom`` and ``scan`` are
taken as serialized bytes and decoded by :mod:`cadence.ros.wire` (rclpy's message objects cost
about 100 µs per Odometry), and ``cmd_vel``/``executor/sequence`` are published as serialized bytes;
the messages on the wire are the same. ``cmd_vel`` goes out before ``executor/sequence`` (which
is for loggers and bags). Deferring the sequence to an executor task was measured slower here
(rclpy's ``EventsExecutor.create_task`` costs more than encoding and publishing the sequence).
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from sensor_msgs.msg import JointState, LaserScan
from std_msgs.msg import String
from trajectory_msgs.msg import JointTrajectory

from cadence.policy.observation import RobotState, Scan
from cadence.ros import diagnostics, qos
from cadence.ros.config import ExecutorConfig
from cadence.ros.errors import ConversionError, ParamError
from cadence.ros.params import declare_config, read_config
from cadence.ros.policy_loader import load_executor_policy
from cadence.ros.pubsub import safe_publish
from cadence.ros.wire import OdomError, TrajectoryEncoder, decode_laserscan, decode_odometry, encode_twist

SUCCESS, FAILURE = TransitionCallbackReturn.SUCCESS, TransitionCallbackReturn.FAILURE
ZERO_TWIST = encode_twist(0.0, 0.0)


class ExecutorNode(LifecycleNode):
    """Policy decisions + playback + safety as a managed node (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("executor_node", **kwargs)
        declare_config(self, ExecutorConfig)
        self.config: ExecutorConfig | None = None
        self.core: Any = None
        self.model_name = ""
        self._entities: list[Any] = []
        self._timer: Any = None
        self._active = False
        self._reset_inputs()
        self.last_reason = "unconfigured"
        self._logger = self.get_logger()
        self._sequence_encoder = TrajectoryEncoder()
        self.diagnostics = diagnostics.Diagnostics(self, self._report)
        if self.get_parameter("autostart").value is True and self.trigger_configure() == SUCCESS:
            self.trigger_activate()

    def _reset_inputs(self) -> None:
        self._odom: Any = None  # OdomSample, or None when the newest odometry was invalid
        self._odom_ns = -1
        self._scan: Any = None
        self._scan_ns = -1
        self._answered_ns = -1
        self._fed_ns = -1
        self._last_twist = ZERO_TWIST  # serialized Twist
        self._joints_raw: bytes | None = None  # newest joint_states sample, decoded on demand
        self._pending_plan: Any = None

    # ------------------------------------------------------------------ lifecycle
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        try:
            self.config = cfg = read_config(self, ExecutorConfig)
            self.core, self.model_name = load_executor_policy(cfg, self.get_logger())
        except (ParamError, ValueError, OSError) as err:
            self.get_logger().error(f"configure failed: {err}")
            return FAILURE
        self._cmd_pub = self.create_publisher(Twist, "cmd_vel", qos.COMMAND)
        self._seq_pub = self.create_publisher(JointTrajectory, "executor/sequence", qos.COMMAND)
        self._entities = [
            self._cmd_pub,
            self._seq_pub,
            self.create_subscription(Odometry, "odom", self._on_odom, qos.SENSOR, raw=True),
            self.create_subscription(LaserScan, "scan", self._on_scan, qos.SENSOR, raw=True),
            self.create_subscription(JointState, "joint_states", self._on_joints, qos.SENSOR, raw=True),
            self.create_subscription(String, "plan", self._on_plan, qos.LATCHED),
            self.create_subscription(String, "replan", self._on_replan, qos.EVENTS),
        ]
        self.last_reason = "configured"
        self.get_logger().info(f"configured: {self.model_name}, trigger {cfg.trigger}")
        return SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.core.reset_sequence()
        self._answered_ns = -1
        self._active = True
        if self.config.trigger == "timer":
            self._timer = self.create_timer(self.core.control_dt, self._on_timer)
        self.last_reason = "active"
        return SUCCESS

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._active = False
        if self._timer is not None:
            self.destroy_timer(self._timer)
            self._timer = None
        self._publish_cmd(ZERO_TWIST)
        self.core.reset_sequence()
        self.last_reason = "inactive"
        return SUCCESS

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._destroy_entities()
        self.core = None  # frees the ONNX Runtime session
        self._reset_inputs()
        self.last_reason = "unconfigured"
        return SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        if self._active:
            self._publish_cmd(ZERO_TWIST)
        self._active = False
        self._destroy_entities()
        return SUCCESS

    def _destroy_entities(self) -> None:
        if self._timer is not None:
            self.destroy_timer(self._timer)
            self._timer = None
        for entity in self._entities:
            if hasattr(entity, "publish"):
                self.destroy_publisher(entity)
            else:
                self.destroy_subscription(entity)
        self._entities = []

    # ------------------------------------------------------------------ inputs
    def _on_odom(self, raw: bytes) -> None:
        """A serialized Odometry (``raw=True`` subscription; :func:`cadence.ros.wire.decode_odometry`)."""
        try:
            self._odom_ns, self._odom = decode_odometry(raw)
        except OdomError as err:  # NaN/inf pose or velocity: an invalid observation, the robot holds
            self._odom_ns, self._odom = err.stamp_ns, None
            self._logger.warning(f"holding: {err}", throttle_duration_sec=2.0)
        except ConversionError as err:  # unreadable: no stamp to answer; the next step holds
            self._odom, self._fed_ns = None, -1
            self._logger.error(f"holding: {err}", throttle_duration_sec=2.0)
            return
        if self.config.trigger == "observation":
            self._on_observation()

    def _on_scan(self, raw: bytes) -> None:
        """A serialized LaserScan (``raw=True`` subscription; :func:`cadence.ros.wire.decode_laserscan`)."""
        try:
            self._scan_ns, self._scan = decode_laserscan(raw)
        except ConversionError as err:  # unreadable: dropped like a lost sample (stale input holds)
            self._logger.error(f"scan ignored: {err}", throttle_duration_sec=2.0)
            return
        if self.config.trigger == "observation":
            self._on_observation()

    def _on_joints(self, raw: bytes) -> None:
        # kept as bytes: the controller does not use wheel states, and rclpy's JointState object
        # would cost tens of µs per sample on the executor's thread (in lockstep, on the answer path)
        self._joints_raw = raw

    @property
    def joint_state(self) -> JointState | None:
        """The newest ``joint_states`` sample (deserialized when asked for), or None."""
        if self._joints_raw is None:
            return None
        from rclpy.serialization import deserialize_message

        return deserialize_message(self._joints_raw, JointState)

    def _on_plan(self, msg: String) -> None:
        from cadence.planner.errors import PlanRejected
        from cadence.planner.plan import Plan

        try:
            plan = Plan.from_json(msg.data)
        except PlanRejected as err:
            self.get_logger().error(f"plan ignored: {err}")
            return
        self._pending_plan = plan  # started on the clock of the next observation
        self.get_logger().info(f"new plan: {plan.spec}")
        if self.config.trigger == "observation" and self._odom_ns >= 0:
            self._answered_ns = -1
            self._on_observation()

    def _on_replan(self, msg: String) -> None:
        if self.core is not None:
            self.core.switch.on_stagnation(msg.data, self.core.last_time)

    # ------------------------------------------------------------------ control
    def _on_observation(self) -> None:
        """Lockstep: answer each complete observation (odom + scan with the same stamp) once."""
        if not self._active:
            return
        ns = self._odom_ns
        if self.config.require_scan and self._scan_ns != ns:
            return
        if ns == self._answered_ns:  # the sim re-sent an observation: same answer
            self._publish_cmd(self._last_twist)
            return
        if not self._control(ns * 1e-9, ns) and self._odom is not None:
            return  # no plan yet: leave the observation unanswered, the sim waits
        self._answered_ns = ns

    def _on_timer(self) -> None:
        self._control(self.get_clock().now().nanoseconds * 1e-9, self._odom_ns)

    def _control(self, now: float, stamp_ns: int) -> bool:
        """Feed new sensor data, run one control step, publish. Returns False when waiting for a plan."""
        core = self.core
        if self._pending_plan is not None and stamp_ns >= 0:
            from cadence.planner.scene import load_scene

            plan, self._pending_plan = self._pending_plan, None
            core.set_plan(plan, load_scene(plan.scene), stamp_ns * 1e-9)
        if stamp_ns != self._fed_ns and stamp_ns >= 0:
            self._fed_ns = stamp_ns
            scan = self._scan if self._scan is not None else self._empty_scan()
            core.observe(self._state(), scan, stamp_ns * 1e-9)
        if core.follower is None and self._odom is not None:
            self.last_reason = "waiting for a plan"
            if self.config.trigger == "timer":
                self._publish_cmd(ZERO_TWIST)
            return False
        step = core.step(now)
        command = step.command
        self.last_reason = command.reason or step.controller
        self._publish_cmd(encode_twist(command.v, command.omega))
        seq = step.sequence  # the command first: the sequence is for loggers
        if seq is not None and self.config.publish_sequence:
            data = self._sequence_encoder.encode(seq.actions, seq.control_dt, seq.start_time)
            safe_publish(self._seq_pub, data, self._logger)
        return True

    def _state(self) -> Any:
        o = self._odom
        return None if o is None else RobotState(o.x, o.y, o.yaw, o.v, o.omega)

    def _empty_scan(self) -> Any:
        if self.config.require_scan:
            return None
        return Scan(np.full(1, math.inf, np.float32), 0.0, 2 * math.pi, math.inf)

    def _publish_cmd(self, data: bytes) -> None:
        """Publish a serialized Twist (:func:`cadence.ros.wire.encode_twist`) on ``cmd_vel``."""
        self._last_twist = data
        safe_publish(self._cmd_pub, data, self._logger)

    def _report(self) -> diagnostics.Report:
        core = self.core
        if core is None:
            return diagnostics.STALE, self.last_reason, {"model": self.model_name}
        c = core.safety.counters
        level = (
            diagnostics.WARN if c.consecutive_holds > 0 or core.switch.active == "backup" else diagnostics.OK
        )
        return (
            level,
            self.last_reason,
            {
                "model": self.model_name,
                "controller": core.switch.active,
                "decisions": core.decisions,
                "holds": c.holds,
                "stale_obs": c.stale_obs,
                "nan_obs": c.nan_obs,
                "nan_output": c.nan_output,
                "backup_switches": core.switch.switches,
            },
        )


def main(args: list[str] | None = None) -> int:
    """Console script ``executor_node``."""
    from cadence.ros.executors import run_node

    return run_node(ExecutorNode, args=sys.argv if args is None else args)
