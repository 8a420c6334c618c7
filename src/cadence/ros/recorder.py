"""A node that records what the demo shows: odometry, commands, decisions, critic and planner output."""

from __future__ import annotations

import json
from typing import Any

from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from rclpy.node import Node
from std_msgs.msg import Bool, Float32, String
from trajectory_msgs.msg import JointTrajectory

from cadence.ros import qos
from cadence.ros.convert import odom_to_sample, twist_to_command
from cadence.ros.errors import ConversionError


class EpisodeRecorder(Node):
    """Subscribes to the stack's topics and keeps one episode in memory.

    Attributes:
        rows: One dict per odometry sample: t, x, y, yaw, v, omega, and the command that answered it
            (``cmd_v``, ``cmd_omega``), the critic's latest progress value.
        plans: Every plan JSON received (the first is the task's plan, the rest replans).
        done_t: Odometry time at which the critic first reported done (None until then).
        refused: The planner's refusal reason, if it refused the task.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("cadence_demo_recorder", **kwargs)
        self.rows: list[dict[str, float]] = []
        self.plans: list[str] = []
        self.decisions = 0
        self.replans: list[str] = []
        self.progress = 0.0
        self.done_t: float | None = None
        self.refused: str | None = None
        self.statuses: list[dict[str, Any]] = []
        self.create_subscription(Odometry, "odom", self._on_odom, qos.SENSOR)
        self.create_subscription(Twist, "cmd_vel", self._on_cmd, qos.COMMAND)
        self.create_subscription(String, "plan", self._on_plan, qos.LATCHED)
        self.create_subscription(JointTrajectory, "executor/sequence", self._on_sequence, qos.COMMAND)
        self.create_subscription(Float32, "critic/progress", self._on_progress, qos.COMMAND)
        self.create_subscription(Bool, "critic/done", self._on_done, qos.EVENTS)
        self.create_subscription(String, "replan", self._on_replan, qos.EVENTS)
        self.create_subscription(String, "planner/status", self._on_status, qos.EVENTS)

    @property
    def sim_time(self) -> float:
        return self.rows[-1]["t"] if self.rows else 0.0

    def _on_odom(self, msg: Odometry) -> None:
        try:
            s = odom_to_sample(msg)
        except ConversionError:
            return
        if self.rows and s.t <= self.rows[-1]["t"]:
            return  # a re-sent lockstep observation
        self.rows.append(
            {
                "t": s.t,
                "x": s.x,
                "y": s.y,
                "yaw": s.yaw,
                "v": s.v,
                "omega": s.omega,
                "progress": self.progress,
            }
        )

    def _on_cmd(self, msg: Twist) -> None:
        if self.rows and "cmd_v" not in self.rows[-1]:
            self.rows[-1]["cmd_v"], self.rows[-1]["cmd_omega"] = twist_to_command(msg)

    def _on_plan(self, msg: String) -> None:
        self.plans.append(msg.data)

    def _on_sequence(self, msg: JointTrajectory) -> None:
        self.decisions += 1

    def _on_progress(self, msg: Float32) -> None:
        self.progress = float(msg.data)
        if self.rows:
            self.rows[-1]["progress"] = self.progress

    def _on_done(self, msg: Bool) -> None:
        if msg.data and self.done_t is None:
            self.done_t = self.sim_time

    def _on_replan(self, msg: String) -> None:
        self.replans.append(msg.data)

    def _on_status(self, msg: String) -> None:
        status = json.loads(msg.data)
        self.statuses.append(status)
        if status.get("state") in ("refused", "error") and not self.plans:
            self.refused = str(status.get("reason"))
