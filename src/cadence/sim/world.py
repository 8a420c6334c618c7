"""The MuJoCo world generated from a scene YAML plus a robot MJCF (issue 3: "a scene is one file").

Walls and furniture become static boxes (geom group 0: what the lidar sees and the rover bumps
into); regions become visual-only translucent floor markers (group 2, no collision); a ``top``
camera frames the whole map for rendering. The robot MJCF (``sim/robots/NAME.xml``) brings the floor,
the light and the rover (group 1).

The lidar is cast here with ``mujoco.mj_multiRay`` once per control step instead of a ring of
``rangefinder`` sensors: MuJoCo evaluates sensors at every physics step, and 36 rangefinders halve the
step rate of this model (ENVIRONMENT.md), while the policy only reads the scan at 20 Hz.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mujoco
import numpy as np

from cadence.paths import robots_dir
from cadence.planner.scene import Box, Scene, load_scene
from cadence.sim import robot as rb
from cadence.sim.errors import WorldError

ROBOTS = {rb.ROBOT_NAME: rb.ROBOT_FILE}
OBSTACLE_GROUP, ROBOT_GROUP, REGION_GROUP = 0, 1, 2
OBSTACLE_BIT = 2  # collision bit of walls and furniture (rover.xml: bit 1 = floor)
DEFAULT_OBSTACLE_HEIGHT = 0.5
TOP_CAMERA = "top"
REGION_COLOURS = (
    (0.95, 0.6, 0.1),
    (0.2, 0.7, 0.3),
    (0.6, 0.3, 0.8),
    (0.1, 0.6, 0.9),
    (0.9, 0.3, 0.4),
    (0.5, 0.5, 0.2),
)


@dataclass(frozen=True)
class WorldInfo:
    """Indices into a compiled world that the env, renderer and batched runner need.

    Attributes:
        scene: The scene the world was built from.
        robot: Robot name (key of ``ROBOTS``).
        body: Id of the robot's root body.
        qpos_adr: Address of the free joint in ``qpos`` (x, y, z, qw, qx, qy, qz).
        qvel_adr: Address of the free joint in ``qvel``.
        actuators: Ids of the (left, right) wheel actuators.
        lidar_site: Id of the lidar site.
        vel_adr: ``sensordata`` address of the body-frame velocimeter (3 values).
        gyro_adr: ``sensordata`` address of the gyro (3 values).
        obstacle_geoms: Ids of every wall / furniture geom (sorted).
        obstacle_names: Scene obstacle name per entry of ``obstacle_geoms``.
        ray_dirs: Unit lidar ray directions in the lidar frame, shape (LIDAR_BEAMS, 3).
    """

    scene: Scene
    robot: str
    body: int
    qpos_adr: int
    qvel_adr: int
    actuators: tuple[int, int]
    lidar_site: int
    vel_adr: int
    gyro_adr: int
    obstacle_geoms: np.ndarray
    obstacle_names: tuple[str, ...]
    ray_dirs: np.ndarray


def list_robots() -> list[str]:
    return sorted(ROBOTS)


def _robot_spec(robot: str) -> mujoco.MjSpec:
    if robot not in ROBOTS:
        raise ValueError(f"unknown robot {robot!r}; robots: {', '.join(list_robots())}")
    path = robots_dir() / ROBOTS[robot]
    try:
        return mujoco.MjSpec.from_file(str(path))
    except (ValueError, OSError) as err:  # mujoco raises ValueError on a malformed MJCF
        raise WorldError(f"cannot load robot {robot!r} from {path}: {err}") from err


def _add_box(spec: mujoco.MjSpec, box: Box, *, obstacle: bool, rgba: tuple[float, ...]) -> None:
    geom = spec.worldbody.add_geom()
    geom.name = f"{'obstacle' if obstacle else 'region'}/{box.name}"
    geom.type = mujoco.mjtGeom.mjGEOM_BOX
    hx, hy = box.half_extents
    if obstacle:
        hz = 0.5 * (box.height or DEFAULT_OBSTACLE_HEIGHT)
        geom.group, geom.contype, geom.conaffinity = OBSTACLE_GROUP, OBSTACLE_BIT, OBSTACLE_BIT
    else:  # a thin translucent marker on the floor, invisible to physics and lidar
        hz = 0.002
        geom.group, geom.contype, geom.conaffinity = REGION_GROUP, 0, 0
    geom.size = [hx, hy, hz]
    geom.pos = [box.center[0], box.center[1], hz]
    geom.rgba = list(rgba)


def world_spec(scene: Scene | str, robot: str = rb.ROBOT_NAME) -> mujoco.MjSpec:
    """The world as an editable ``MjSpec`` (``spec.to_xml()`` gives the MJCF text)."""
    scene = scene if isinstance(scene, Scene) else load_scene(scene)
    spec = _robot_spec(robot)
    spec.modelname = f"{robot}_{scene.name}"
    for obstacle in scene.obstacles:
        grey = (0.55, 0.55, 0.6, 1.0) if obstacle.kind == "wall" else (0.6, 0.45, 0.3, 1.0)
        _add_box(spec, obstacle, obstacle=True, rgba=grey)
    for i, region in enumerate(scene.regions):
        _add_box(spec, region, obstacle=False, rgba=(*REGION_COLOURS[i % len(REGION_COLOURS)], 0.35))
    (x0, y0), (x1, y1) = scene.bounds
    cam = spec.worldbody.add_camera()
    cam.name = TOP_CAMERA
    fovy = 45.0
    cam.fovy = fovy
    # frame the whole map for a 4:3 image, 10 % margin
    height = 1.1 * max((x1 - x0) * 0.75, y1 - y0) / 2.0 / math.tan(math.radians(fovy / 2.0))
    cam.pos = [(x0 + x1) / 2.0, (y0 + y1) / 2.0, height]
    cam.quat = [1.0, 0.0, 0.0, 0.0]  # looking straight down, x to the right, y up
    return spec


def build_world(scene: Scene | str, robot: str = rb.ROBOT_NAME) -> tuple[mujoco.MjModel, WorldInfo]:
    """Compile the MuJoCo model for a scene and a robot.

    Args:
        scene: A :class:`Scene` or a shipped scene name / YAML path.
        robot: Robot name (see :func:`list_robots`).

    Returns:
        The compiled model and the indices the rest of ``cadence.sim`` uses.

    Raises:
        ValueError: for an unknown robot or scene name (listing the valid ones).
        WorldError: if the MJCF does not compile or lacks the named parts.
    """
    scene = scene if isinstance(scene, Scene) else load_scene(scene)
    spec = world_spec(scene, robot)
    try:
        model = spec.compile()
    except ValueError as err:
        raise WorldError(f"world {robot}+{scene.name} does not compile: {err}") from err
    if not math.isclose(model.opt.timestep, rb.PHYSICS_DT):
        raise WorldError(
            f"robot {robot!r} has timestep {model.opt.timestep}, cadence expects {rb.PHYSICS_DT}"
        )

    def ident(kind: mujoco.mjtObj, name: str) -> int:
        i = mujoco.mj_name2id(model, kind, name)
        if i < 0:
            raise WorldError(
                f"robot {robot!r} has no {kind.name.removeprefix('mjOBJ_').lower()} named {name!r}"
            )
        return i

    body = ident(mujoco.mjtObj.mjOBJ_BODY, robot)
    joint = ident(mujoco.mjtObj.mjOBJ_JOINT, f"{robot}_root")
    names = tuple(o.name for o in scene.obstacles)
    geoms = np.array([ident(mujoco.mjtObj.mjOBJ_GEOM, f"obstacle/{n}") for n in names], dtype=np.int32)
    angles = 2.0 * np.pi * np.arange(rb.LIDAR_BEAMS) / rb.LIDAR_BEAMS  # beam 0 ahead, CCW
    dirs = np.stack([np.cos(angles), np.sin(angles), np.zeros_like(angles)], axis=1)
    info = WorldInfo(
        scene=scene,
        robot=robot,
        body=body,
        qpos_adr=int(model.jnt_qposadr[joint]),
        qvel_adr=int(model.jnt_dofadr[joint]),
        actuators=(
            ident(mujoco.mjtObj.mjOBJ_ACTUATOR, "left_wheel"),
            ident(mujoco.mjtObj.mjOBJ_ACTUATOR, "right_wheel"),
        ),
        lidar_site=ident(mujoco.mjtObj.mjOBJ_SITE, "lidar"),
        vel_adr=int(model.sensor_adr[ident(mujoco.mjtObj.mjOBJ_SENSOR, "body_vel")]),
        gyro_adr=int(model.sensor_adr[ident(mujoco.mjtObj.mjOBJ_SENSOR, "body_gyro")]),
        obstacle_geoms=geoms,
        obstacle_names=names,
        ray_dirs=dirs,
    )
    return model, info


class Lidar:
    """Casts the lidar rays of one :class:`WorldInfo` with ``mj_multiRay`` (buffers reused)."""

    def __init__(self, info: WorldInfo, max_range: float = rb.LIDAR_RANGE) -> None:
        self.info = info
        self.max_range = max_range
        n = info.ray_dirs.shape[0]
        self.n = n
        self._group = np.zeros(6, dtype=np.uint8)
        self._group[OBSTACLE_GROUP] = 1
        self._dirs = np.empty((n, 3))
        self._vec = self._dirs.reshape(-1)  # a view: mj_multiRay reads the flat layout
        self._geomid = np.empty(n, dtype=np.int32)
        self.ranges = np.empty(n)
        self._views: tuple[mujoco.MjData, np.ndarray, np.ndarray] | None = None

    def cast(self, model: mujoco.MjModel, data: mujoco.MjData) -> np.ndarray:
        """Ranges (metres, ``max_range`` where nothing is hit), beam 0 straight ahead, CCW; reused buffer."""
        if self._views is None or self._views[0] is not data:
            # views into MjData's buffers stay valid for its lifetime; building them costs ~1 us each
            site = self.info.lidar_site
            self._views = (data, data.site_xpos[site], data.site_xmat[site].reshape(3, 3))
        _, pos, rot = self._views
        np.dot(self.info.ray_dirs, rot.T, out=self._dirs)
        mujoco.mj_multiRay(
            model,
            data,
            pos,
            self._vec,
            self._group,
            1,
            self.info.body,
            self._geomid,
            self.ranges,
            None,
            self.n,
            self.max_range,
        )
        r = self.ranges
        np.copyto(r, self.max_range, where=r < 0)  # -1: no geom hit
        np.minimum(r, self.max_range, out=r)  # the cutoff culls by bounding volume, not by distance
        return r
