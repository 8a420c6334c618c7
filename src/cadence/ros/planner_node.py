"""``planner_node``: task text -> validated plan, published latched on ``plan`` and ``plan/path``.

Subscribes ``task`` (std_msgs/String), ``odom`` (the pose plans start from), optionally
``camera/image_raw`` (handed to back ends that take images) and ``replan`` (std_msgs/String reason
from the critic). Planning runs on one worker thread — an LLM call can take seconds and must never
block the executor (STYLE.md 8); the result is published from that thread (rclpy publishers are
thread-safe). ``planner/status`` (std_msgs/String, JSON ``{"state", "reason", ...}``) says what
happened, including why a plan was refused. Replans are rate-limited (``replan_min_interval_s``)
and counted (``max_replans``).
"""

from __future__ import annotations

import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from nav_msgs.msg import Odometry, Path
from rclpy.node import Node
from sensor_msgs.msg import Image
from std_msgs.msg import String

from cadence.ros import diagnostics, qos
from cadence.ros.config import PlannerConfig
from cadence.ros.convert import odom_to_sample, waypoints_to_path
from cadence.ros.errors import ConversionError
from cadence.ros.params import declare_config, read_config
from cadence.ros.pubsub import safe_publish


class PlannerNode(Node):
    """The planner as a node (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("planner_node", **kwargs)
        from cadence.planner.scene import load_scene

        declare_config(self, PlannerConfig)
        self.config: PlannerConfig = read_config(self, PlannerConfig)
        self.scene = load_scene(self.config.scene)
        self._plan_pub = self.create_publisher(String, "plan", qos.LATCHED)
        self._path_pub = self.create_publisher(Path, "plan/path", qos.LATCHED)
        self._status_pub = self.create_publisher(String, "planner/status", qos.EVENTS)
        self.create_subscription(String, "task", self._on_task, qos.EVENTS)
        self.create_subscription(String, "replan", self._on_replan, qos.EVENTS)
        self.create_subscription(Odometry, "odom", self._on_odom, qos.SENSOR)
        self.create_subscription(Image, "camera/image_raw", self._on_image, qos.SENSOR)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="planner")
        self._local = threading.local()
        self._lock = threading.Lock()
        self._busy = False
        self._pose: tuple[float, float, float] | None = None
        self._pose_t = 0.0
        self._image: np.ndarray | None = None
        self.plan: Any = None
        self._follower: Any = None
        self._plan_t0 = 0.0
        self._last_replan_t = -float("inf")
        self.replans = 0
        self.plans = 0
        self.last_status: dict[str, Any] = {"state": "idle"}
        self._pending_task = self.config.task or None
        self.diagnostics = diagnostics.Diagnostics(self, self._report)

    # ------------------------------------------------------------------ inputs
    def _on_odom(self, msg: Odometry) -> None:
        try:
            s = odom_to_sample(msg)
        except ConversionError:
            return
        self._pose, self._pose_t = (s.x, s.y, s.yaw), s.t
        with self._lock:
            if self._follower is not None:
                if self._follower.t0 is None:
                    self._follower.t0 = s.t
                self._follower.update(s.x, s.y, s.t)
        if self._pending_task is not None:
            task, self._pending_task = self._pending_task, None
            self._submit(self._plan_task, task)

    def _on_image(self, msg: Image) -> None:
        if msg.encoding in ("rgb8", "bgr8") and msg.height * msg.width > 0:
            img = np.frombuffer(bytes(msg.data), np.uint8).reshape(msg.height, msg.step // 3, 3)[
                :, : msg.width
            ]
            self._image = img[..., ::-1] if msg.encoding == "bgr8" else img

    def _on_task(self, msg: String) -> None:
        task = msg.data.strip()
        if not task:
            self._status("refused", "empty task")
            return
        if self._pose is None:  # plan from the robot's pose: wait for the first odometry
            self._pending_task = task
            self._status("waiting", "task received; waiting for odometry")
            return
        self._submit(self._plan_task, task)

    def _on_replan(self, msg: String) -> None:
        now = self.get_clock().now().nanoseconds * 1e-9
        if self.plan is None or self._busy:
            return
        if self.replans >= self.config.max_replans:
            self._status("ignored", f"replan refused: already replanned {self.replans} times ({msg.data})")
            return
        if now - self._last_replan_t < self.config.replan_min_interval_s:
            return
        self._last_replan_t = now
        self._submit(self._replan, msg.data)

    # ------------------------------------------------------------------ worker
    def _submit(self, fn: Any, arg: str) -> None:
        if self._busy:
            self._status("busy", "still planning; request dropped")
            return
        self._busy = True
        self._status("planning", arg)
        if self.config.worker_thread:
            self._worker.submit(self._guarded, fn, arg)
        else:  # deterministic lockstep runs: plan now, in this callback (see PlannerConfig)
            self._guarded(fn, arg)

    def _planner(self) -> Any:
        planner = getattr(self._local, "planner", None)
        if planner is None:  # one Planner per thread (it keeps caches)
            from cadence.planner.planner import Planner

            planner = self._local.planner = Planner(self.scene, self.config.backend)
        return planner

    def _guarded(self, fn: Any, arg: str) -> None:
        from cadence.planner.errors import PlannerError

        try:
            fn(arg)
        except PlannerError as err:
            reason = getattr(err, "reason", None) or str(err)
            self.get_logger().warning(f"plan refused: {reason}")
            self._status("refused", reason)
        except Exception as err:
            self.get_logger().error(f"planner failed: {type(err).__name__}: {err}")
            self._status("error", f"{type(err).__name__}: {err}")
        finally:
            self._busy = False

    def _plan_task(self, task: str) -> None:
        plan = self._planner().plan(task, self._pose, image=self._image)
        self.replans = 0
        self._publish(plan)

    def _replan(self, reason: str) -> None:
        with self._lock:
            satisfied = self._follower.stage if self._follower is not None else 0
            t0 = self._follower.t0 if self._follower is not None else None
            elapsed = self._pose_t - t0 if t0 is not None else 0.0  # t0 may be 0.0: not "unknown"
        plan = self._planner().replan(self.plan, self._pose, satisfied, reason, elapsed)
        self.replans += 1
        self._publish(plan)

    def _publish(self, plan: Any) -> None:
        from cadence.policy.mission import PlanFollower

        with self._lock:
            self.plan = plan
            # the plan's clock starts at the odometry it was planned from, as in executor_node and
            # critic_node (not at the next sample: in lockstep that depends on re-send timing)
            self._follower = PlanFollower(plan, self.scene, self._pose_t if self._pose is not None else None)
            if self._pose is not None:
                self._follower.update(self._pose[0], self._pose[1], self._pose_t)
        self.plans += 1
        log = self.get_logger()
        safe_publish(self._plan_pub, String(data=plan.to_json()), log)
        safe_publish(self._path_pub, waypoints_to_path(plan.waypoints, self._pose_t), log)
        log.info(f"plan published ({plan.backend}, {plan.latency_ms:.1f} ms): {plan.spec}")
        self._status("published", plan.replan_reason or "", spec=plan.spec, latency_ms=plan.latency_ms)

    def _status(self, state: str, reason: str, **extra: Any) -> None:
        self.last_status = {"state": state, "reason": reason, **extra}
        safe_publish(self._status_pub, String(data=json.dumps(self.last_status)), self.get_logger())

    def _report(self) -> diagnostics.Report:
        level = diagnostics.WARN if self.last_status.get("state") in ("refused", "error") else diagnostics.OK
        return (
            level,
            f"{self.last_status.get('state')}: {self.last_status.get('reason', '')}",
            {
                "backend": self.config.backend,
                "plans": self.plans,
                "replans": self.replans,
            },
        )

    def destroy_node(self) -> None:
        self._worker.shutdown(wait=True, cancel_futures=True)
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    """Console script ``planner_node``."""
    from cadence.ros.executors import run_node

    return run_node(PlannerNode, args=sys.argv if args is None else args)
