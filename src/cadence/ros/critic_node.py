"""``critic_node``: progress, done and replan requests from odometry and the plan (issue 6).

Subscribes ``odom`` and the latched ``plan``; every ``period_s`` of odometry time it feeds a
:class:`cadence.critic.types.Snapshot` to the critic (``make_critic(name)``) and publishes
``critic/progress`` (std_msgs/Float32: the task-completion value in [0, 1]), ``critic/done``
(std_msgs/Bool) and, when the stagnation detector fires, ``replan`` (std_msgs/String: the reason).
A new plan (e.g. after a replan) restarts the critic on that plan's subgoals.
"""

from __future__ import annotations

import sys
from typing import Any

from nav_msgs.msg import Odometry
from rclpy.node import Node
from std_msgs.msg import Bool, Float32, String

from cadence.ros import diagnostics, qos
from cadence.ros.config import CriticConfig
from cadence.ros.convert import odom_to_sample
from cadence.ros.errors import ConversionError, ParamError
from cadence.ros.params import declare_config, read_config
from cadence.ros.pubsub import safe_publish


class CriticNode(Node):
    """The progress critic as a node (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("critic_node", **kwargs)
        from cadence.critic.registry import make_critic
        from cadence.critic.stagnation import StagnationConfig, StagnationDetector
        from cadence.planner.scene import load_scene

        declare_config(self, CriticConfig)
        self.config: CriticConfig = read_config(self, CriticConfig)
        cfg = self.config
        self.scene = load_scene(cfg.scene)
        from cadence.critic.errors import CriticError

        try:
            self.critic = make_critic(cfg.critic)
        except (CriticError, ValueError) as err:
            raise ParamError(f"critic_node.critic: {err}") from err
        window = max(2, round(cfg.stagnation_window_s / cfg.period_s))
        self.detector = StagnationDetector(StagnationConfig(window=window, cooldown=window))
        self._progress_pub = self.create_publisher(Float32, "critic/progress", qos.COMMAND)
        self._done_pub = self.create_publisher(Bool, "critic/done", qos.EVENTS)
        self._replan_pub = self.create_publisher(String, "replan", qos.EVENTS)
        self.create_subscription(Odometry, "odom", self._on_odom, qos.SENSOR)
        self.create_subscription(String, "plan", self._on_plan, qos.LATCHED)
        self._task: Any = None
        self._last: Any = None  # the newest valid OdomSample
        self._t0: float | None = None
        self._last_eval = -float("inf")
        self.progress: Any = None
        self.evaluations = 0
        self.replans = 0
        self.diagnostics = diagnostics.Diagnostics(self, self._report)

    def _on_plan(self, msg: String) -> None:
        from cadence.critic.errors import CriticError
        from cadence.critic.task import task_from_plan
        from cadence.planner.errors import PlanRejected
        from cadence.planner.plan import Plan

        try:
            self._task = task_from_plan(Plan.from_json(msg.data), self.scene)
        except (PlanRejected, CriticError) as err:
            self.get_logger().error(f"plan ignored: {err}")
            return
        self._t0 = None
        self.detector.reset()
        if self._last is not None:  # start at the newest odometry, as executor_node does
            self._evaluate(self._last)

    def _on_odom(self, msg: Odometry) -> None:
        try:
            s = odom_to_sample(msg)
        except ConversionError as err:
            self.get_logger().warning(f"odometry ignored: {err}", throttle_duration_sec=2.0)
            return
        self._last = s
        if self._task is not None:
            self._evaluate(s)

    def _evaluate(self, s: Any) -> None:
        """Start the critic on the plan at `s` (the first sample), or evaluate `s` when a period is due."""
        from cadence.critic.errors import CriticError
        from cadence.critic.types import Snapshot

        try:
            if self._t0 is None:
                self._t0 = s.t
                self._last_eval = s.t
                progress = self.critic.reset(self._task, Snapshot(0.0, s.x, s.y, s.yaw))
            elif s.t - self._last_eval >= self.config.period_s - 1e-9:
                self._last_eval = s.t
                progress = self.critic.observe(Snapshot(s.t - self._t0, s.x, s.y, s.yaw))
            else:
                return
        except (CriticError, ValueError) as err:
            self.get_logger().warning(f"critic failed: {err}", throttle_duration_sec=2.0)
            return
        self._publish(progress)

    def _publish(self, progress: Any) -> None:
        log = self.get_logger()
        self.progress = progress
        self.evaluations += 1
        safe_publish(self._progress_pub, Float32(data=float(progress.value)), log)
        safe_publish(self._done_pub, Bool(data=bool(progress.done)), log)
        request = self.detector.update(progress)
        if request is not None:
            self.replans += 1
            log.info(f"replan requested: {request.reason}")
            safe_publish(self._replan_pub, String(data=request.reason), log)

    def _report(self) -> diagnostics.Report:
        p = self.progress
        if p is None:
            return diagnostics.STALE, "waiting for a plan and odometry", {}
        return (
            diagnostics.OK,
            p.reason,
            {
                "value": f"{p.value:.3f}",
                "stage": p.stage,
                "done": p.done,
                "evaluations": self.evaluations,
                "replans": self.replans,
            },
        )


def main(args: list[str] | None = None) -> int:
    """Console script ``critic_node``."""
    from cadence.ros.executors import run_node

    return run_node(CriticNode, args=sys.argv if args is None else args)
