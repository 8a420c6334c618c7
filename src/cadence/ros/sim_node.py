"""``sim_node``: MuJoCo as a robot — the same topics a real rover speaks.

Publishes ``odom``, ``scan``, ``joint_states``, ``/clock`` and (opt-in) ``camera/image_raw``; subscribes
``cmd_vel``. The world, lidar and robot constants are :mod:`cadence.sim` (issue 3); this node only
steps them and converts. Modes (``SimConfig.mode``):

- ``lockstep``: publish the observation of step k, wait for the ``cmd_vel`` that answers it, then
  advance exactly one control period. Deterministic for a seed and as fast as the nodes allow. A
  best-effort sample can be lost, so an unanswered observation is re-sent after
  ``lockstep_resend_s`` wall seconds (the executor answers a repeated stamp with the same command).
- ``wallclock`` / ``rtf``: a wall-clock timer advances one control period per tick (``rtf`` divides
  the period by ``real_time_factor``) with the latest command, zeroed after 0.5 s of silence as a
  base controller's watchdog would.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from rclpy.node import Node
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import Image, JointState, LaserScan

from cadence.ros import diagnostics, qos
from cadence.ros.config import SimConfig
from cadence.ros.convert import OdomSample, sample_to_odom, twist_to_command
from cadence.ros.params import declare_config, read_config
from cadence.ros.pubsub import s_to_stamp, safe_publish
from cadence.sim.driver import SimDriver

CMD_TIMEOUT_S = 0.5  # wallclock/rtf: a base controller zeroes a command this old (ros2_control style)


class SimNode(Node):
    """MuJoCo rover in a cadence scene, as a ROS 2 node (see the module docstring)."""

    def __init__(self, **kwargs) -> None:
        super().__init__("sim_node", **kwargs)
        declare_config(self, SimConfig)
        self.config: SimConfig = read_config(self, SimConfig)
        cfg = self.config
        self.driver = SimDriver(cfg.scene, seed=cfg.seed, camera=cfg.publish_camera)
        self._odom_pub = self.create_publisher(Odometry, "odom", qos.SENSOR)
        self._scan_pub = self.create_publisher(LaserScan, "scan", qos.SENSOR)
        self._joint_pub = self.create_publisher(JointState, "joint_states", qos.SENSOR)
        self._clock_pub = self.create_publisher(Clock, "/clock", qos.CLOCK) if cfg.publish_clock else None
        self._image_pub = (
            self.create_publisher(Image, "camera/image_raw", qos.SENSOR) if cfg.publish_camera else None
        )
        self.create_subscription(Twist, "cmd_vel", self._on_cmd, qos.COMMAND)
        self._cmd = (0.0, 0.0)
        self._cmd_wall = -math.inf
        self._waiting = False  # lockstep: an observation is out, its command has not arrived
        self._last_sent_wall = -math.inf
        self._last_camera_t = -math.inf
        self.steps = 0
        self.commands = 0
        self.resends = 0
        self.finished = False
        if cfg.mode == "lockstep":
            self.create_timer(min(cfg.lockstep_resend_s, 0.1), self._resend_if_unanswered)
            self._publish_observation()
            self._waiting = True
        else:
            period = self.driver.control_dt / (cfg.real_time_factor if cfg.mode == "rtf" else 1.0)
            self.create_timer(period, self._tick)
            self._publish_observation()
        self.diagnostics = diagnostics.Diagnostics(self, self._report)
        self.get_logger().info(
            f"scene {self.driver.scene.name!r}, mode {cfg.mode}, seed {cfg.seed}, control_dt {self.driver.control_dt}s"
        )

    # ------------------------------------------------------------------ stepping
    @staticmethod
    def _wall() -> float:
        return time.monotonic()

    def _on_cmd(self, msg: Twist) -> None:
        self._cmd = twist_to_command(msg)
        self._cmd_wall = self._wall()
        self.commands += 1
        if self.config.mode == "lockstep" and self._waiting and not self.finished:
            self._advance(self._cmd)

    def _tick(self) -> None:
        if self.finished:
            return
        fresh = self._wall() - self._cmd_wall <= CMD_TIMEOUT_S * (
            self.config.real_time_factor if self.config.mode == "rtf" else 1.0
        )
        self._advance(self._cmd if fresh else (0.0, 0.0))

    def _advance(self, command: tuple[float, float]) -> None:
        self.driver.step(*command)
        self.steps += 1
        limit = self.config.max_sim_time_s
        if limit and self.driver.time >= limit - 1e-9:
            self.finished = True
        self._publish_observation()
        self._waiting = not self.finished

    def _resend_if_unanswered(self) -> None:
        if self._waiting and self._wall() - self._last_sent_wall >= self.config.lockstep_resend_s:
            self.resends += 1
            self._publish_observation()

    # ------------------------------------------------------------------ publishing
    def _publish_observation(self) -> None:
        if not self.context.ok():  # shutting down (SIGINT inside a callback): nothing to publish to
            return
        d, cfg, log = self.driver, self.config, self.get_logger()
        t = d.time
        stamp = s_to_stamp(t)
        if self._clock_pub is not None:
            safe_publish(self._clock_pub, Clock(clock=stamp), log)
        x, y, yaw, v, omega = d.state()
        safe_publish(
            self._odom_pub,
            sample_to_odom(OdomSample(t, x, y, yaw, v, omega), cfg.odom_frame, cfg.base_frame),
            log,
        )
        safe_publish(self._joint_pub, self._joint_msg(stamp), log)
        safe_publish(self._scan_pub, self._scan_msg(stamp), log)
        # A re-sent observation re-sends its frame too (the first one may have had no subscriber yet).
        due = t - self._last_camera_t >= cfg.camera_period_s - 1e-9 or t == self._last_camera_t
        if self._image_pub is not None and due:
            self._last_camera_t = t
            safe_publish(self._image_pub, self._image_msg(stamp), log)
        self._last_sent_wall = self._wall()

    def _scan_msg(self, stamp) -> LaserScan:
        d = self.driver
        msg = LaserScan()
        msg.header.stamp = stamp
        msg.header.frame_id = self.config.base_frame
        msg.angle_min = 0.0
        msg.angle_increment = 2.0 * math.pi / d.n_beams
        msg.angle_max = msg.angle_increment * (d.n_beams - 1)
        msg.time_increment = 0.0
        msg.scan_time = d.control_dt
        msg.range_min = 0.0
        msg.range_max = float(d.lidar_range)
        msg.ranges = d.scan().astype(np.float32).tolist()
        return msg

    def _joint_msg(self, stamp) -> JointState:
        names, pos, vel = self.driver.joints()
        msg = JointState(name=list(names), position=list(pos), velocity=list(vel))
        msg.header.stamp = stamp
        msg.header.frame_id = self.config.base_frame
        return msg

    def _image_msg(self, stamp) -> Image:
        rgb = self.driver.camera()
        msg = Image(
            height=rgb.shape[0], width=rgb.shape[1], encoding="rgb8", is_bigendian=0, step=3 * rgb.shape[1]
        )
        msg.header.stamp = stamp
        msg.header.frame_id = "camera"
        msg.data = rgb.tobytes()
        return msg

    def _report(self) -> diagnostics.Report:
        level = diagnostics.WARN if self.driver.warnings() else diagnostics.OK
        msg = (
            "MuJoCo warnings raised"
            if level == diagnostics.WARN
            else ("finished" if self.finished else "running")
        )
        return (
            level,
            msg,
            {
                "sim_time_s": f"{self.driver.time:.3f}",
                "steps": self.steps,
                "commands": self.commands,
                "resends": self.resends,
                "mode": self.config.mode,
            },
        )

    def destroy_node(self) -> None:
        self.driver.close()
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    """Console script ``sim_node``."""
    from cadence.ros.executors import run_node

    return run_node(SimNode, args=sys.argv if args is None else args)
