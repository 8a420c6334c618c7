"""The MuJoCo rover the sim node drives: world, lidar and stepping from :mod:`cadence.sim` (ROS-free).

Kept apart from the node so the node stays a converter and this can be tested without rclpy.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np

from cadence.planner.scene import Scene, load_scene
from cadence.sim import robot as rb
from cadence.sim.world import Lidar, build_world

START_NOISE_XY = 0.05  # metres: seeded start-pose jitter, so seeds give different (repeatable) runs
START_NOISE_YAW = 0.05  # radians
WHEEL_JOINTS = ("left_wheel", "right_wheel")


class SimDriver:
    """One rover in one scene, advanced one control period at a time.

    Args:
        scene: Scene name, path or :class:`Scene`.
        seed: Seeds the start-pose jitter; the same seed and commands give the same trajectory.
        camera: Create an offscreen renderer for the robot's ``front`` camera.
    """

    def __init__(self, scene: str | Scene, seed: int = 0, camera: bool = False) -> None:
        self.scene = scene if isinstance(scene, Scene) else load_scene(scene)
        self.model, self.info = build_world(self.scene)
        self.data = mujoco.MjData(self.model)
        self.lidar = Lidar(self.info)
        self.control_dt = rb.CONTROL_DT
        self.n_beams = self.lidar.n
        self.lidar_range = self.lidar.max_range
        self._joint_adr = [
            (
                int(self.model.jnt_qposadr[j]),
                int(self.model.jnt_dofadr[j]),
            )
            for j in (mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_JOINT, n) for n in WHEEL_JOINTS)
        ]
        self._renderer = mujoco.Renderer(self.model, 240, 320) if camera else None
        self.reset(seed)

    def reset(self, seed: int = 0) -> None:
        """Put the rover at the scene's start pose plus a seeded jitter, at rest, time 0."""
        rng = np.random.default_rng(seed)
        mujoco.mj_resetData(self.model, self.data)
        start = self.scene.start
        x = start.x + rng.uniform(-START_NOISE_XY, START_NOISE_XY)
        y = start.y + rng.uniform(-START_NOISE_XY, START_NOISE_XY)
        yaw = start.yaw + rng.uniform(-START_NOISE_YAW, START_NOISE_YAW)
        a = self.info.qpos_adr
        self.data.qpos[a : a + 2] = (x, y)
        self.data.qpos[a + 3 : a + 7] = (math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2))
        mujoco.mj_forward(self.model, self.data)
        self.steps = 0

    @property
    def time(self) -> float:
        """Sim seconds since reset (an exact multiple of the control period)."""
        return self.steps * self.control_dt

    def step(self, v: float, omega: float) -> None:
        """Apply (v, omega) — clamped, NaN -> 0 by :func:`cadence.sim.robot.clamp_command` — for one period."""
        left, right = rb.wheel_speeds(*rb.clamp_command(float(v), float(omega)))
        self.data.ctrl[list(self.info.actuators)] = (left, right)
        mujoco.mj_step(self.model, self.data, nstep=rb.N_SUBSTEPS)
        self.steps += 1

    def state(self) -> tuple[float, float, float, float, float]:
        """(x, y, yaw, v, omega): pose in the map frame, body-frame forward speed and yaw rate."""
        a, d = self.info.qpos_adr, self.data
        qw, qx, qy, qz = d.qpos[a + 3 : a + 7]
        yaw = math.atan2(2.0 * (qw * qz + qx * qy), 1.0 - 2.0 * (qy * qy + qz * qz))
        v = float(d.sensordata[self.info.vel_adr])
        omega = float(d.sensordata[self.info.gyro_adr + 2])
        return float(d.qpos[a]), float(d.qpos[a + 1]), yaw, v, omega

    def scan(self) -> np.ndarray:
        """Lidar ranges (m), beam 0 straight ahead, counter-clockwise (a copy)."""
        return self.lidar.cast(self.model, self.data).copy()

    def joints(self) -> tuple[tuple[str, ...], list[float], list[float]]:
        pos = [float(self.data.qpos[q]) for q, _ in self._joint_adr]
        vel = [float(self.data.qvel[v]) for _, v in self._joint_adr]
        return WHEEL_JOINTS, pos, vel

    def camera(self) -> np.ndarray:
        """An RGB frame (H, W, 3) uint8 from the rover's ``front`` camera."""
        if self._renderer is None:
            raise RuntimeError("SimDriver was created without camera=True")
        self._renderer.update_scene(self.data, camera="front")
        return self._renderer.render()

    def warnings(self) -> int:
        """Total count of MuJoCo warnings (BADQACC, BADCTRL, ...) since reset."""
        return int(sum(w.number for w in self.data.warning))

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
