"""Goal-conditioned rover navigation as a gymnasium env (issue 3, "Environments").

A reset picks a goal region (or takes one from ``options``), a start pose, the route from
:meth:`Scene.route` and a time budget. An action is ONE primitive command ``(v, omega)`` in physical
units, held for ``CONTROL_DT`` (25 physics steps). The observation comes from THE builder
(:mod:`cadence.policy.observation`); the reward is a dict of named, config-scaled terms.
``info`` carries the terms, ``success``, ``collision``, the region signed distances (the STL signals),
MuJoCo's warning counters and how many raw actions were out of bounds or NaN before clamping.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import gymnasium as gym
import mujoco
import numpy as np

from cadence.planner.errors import SceneError
from cadence.policy.observation import ObservationBuilder, RobotState, Scan, WaypointTracker
from cadence.sim import robot as rb
from cadence.sim.config import NavEnvConfig
from cadence.sim.errors import EnvError
from cadence.sim.world import Lidar, WorldInfo, build_world

_WARN = {int(w): w.name for w in mujoco.mjtWarning.__members__.values() if w.name != "mjNWARNING"}
WARNING_NAMES = tuple(_WARN[i].removeprefix("mjWARN_") for i in sorted(_WARN))
_SCAN_INCREMENT = 2.0 * math.pi / rb.LIDAR_BEAMS


class NavEnv(gym.Env):
    """Rover navigation towards a goal region of a scene.

    Args:
        config: Episode, reward and randomisation settings.
        world: A prebuilt ``(model, info)`` to share (the batched runner does); built from
            ``config.scene`` when omitted. With randomisation on, the env mutates its model.
        render_mode: ``None`` or ``"rgb_array"`` (offscreen, MUJOCO_GL=egl).
    """

    metadata: ClassVar[dict[str, Any]] = {
        "render_modes": ["rgb_array"],
        "render_fps": round(1.0 / rb.CONTROL_DT),
    }

    def __init__(
        self,
        config: NavEnvConfig | None = None,
        world: tuple[mujoco.MjModel, WorldInfo] | None = None,
        render_mode: str | None = None,
    ) -> None:
        self.config = config or NavEnvConfig()
        if render_mode not in (None, "rgb_array"):
            raise EnvError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.render_mode = render_mode
        self.model, self.info = world if world is not None else build_world(self.config.scene)
        self.data = mujoco.MjData(self.model)
        a = self.info.qpos_adr
        self._pose = self.data.qpos[a : a + 7]  # views: MjData keeps its buffers for its lifetime
        self._sensors = self.data.sensordata
        self._warn_number = self.data.warning.number  # a view too: read every control step
        self.scene = self.info.scene
        self.goals = self.config.goals or self.scene.region_names
        for g in self.goals:
            self.scene.region(g)  # ValueError listing the regions
        self.builder = ObservationBuilder()
        self.lidar = Lidar(self.info)
        self.action_space = gym.spaces.Box(
            low=np.array(rb.ACTION_LOW, np.float32),
            high=np.array(rb.ACTION_HIGH, np.float32),
            dtype=np.float32,
        )
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (self.builder.obs_dim,), np.float32)
        self._region_names = self.scene.region_names
        self._regions = [(r.name, (*r.center, *r.half_extents)) for r in self.scene.regions]
        self._obstacle_ids = frozenset(int(g) for g in self.info.obstacle_geoms)
        a = self.info.qpos_adr
        self._z0 = float(self.model.qpos0[a + 2])
        self._base_friction = self.model.geom_friction.copy()
        self._base_mass = self.model.body_mass.copy()
        self._wheel_geoms = [
            g
            for g in range(self.model.ngeom)
            if self.model.geom_bodyid[g] != self.info.body
            and self.model.body_rootid[self.model.geom_bodyid[g]] == self.info.body
            and self.model.geom_contype[g]
        ]
        self._renderer: Any = None
        self.tracker = WaypointTracker([(0.0, 0.0)], radius=self.config.waypoint_radius)
        self._obs = np.zeros(self.builder.obs_dim, np.float32)
        self.goal = self.goals[0]
        self.budget = 0.0

    # ------------------------------------------------------------------ episode
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict]:
        """Start an episode. ``options``: ``goal`` (region name), ``start`` ((x, y, yaw)), ``time_budget`` (s)."""
        super().reset(seed=seed)
        options = dict(options or {})
        unknown = set(options) - {"goal", "start", "time_budget"}
        if unknown:
            raise EnvError(f"unknown reset option(s) {sorted(unknown)}; options: goal, start, time_budget")
        rng = self.np_random
        self.goal = options.get("goal") or self.goals[int(rng.integers(len(self.goals)))]
        goal_box = self.scene.region(self.goal)
        self._goal_box = (*goal_box.center, *goal_box.half_extents)
        self._randomize(rng)
        for _ in range(200):
            start = options.get("start") or self._sample_start(rng, goal_box)
            try:
                route = self._route(start)
                break
            except SceneError:
                if options.get("start"):
                    raise
        else:
            raise EnvError(f"scene {self.scene.name!r}: no start pose with a route to {self.goal!r}")
        x, y, yaw = (float(v) for v in start)
        self.tracker.reset(route)
        length = self.tracker.remaining_length(x, y)
        self.budget = float(
            options.get("time_budget") or length / self.config.budget_speed + self.config.budget_slack
        )
        d, a = self.data, self.info.qpos_adr
        mujoco.mj_resetData(self.model, d)
        d.qpos[a : a + 7] = (x, y, self._z0, math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2))
        mujoco.mj_forward(self.model, d)
        self.t = 0.0
        self.steps = 0
        self.last_command = (0.0, 0.0)
        self._remaining = length
        self.succeeded = False
        self.counters = {"raw_out_of_bounds": 0, "nan_actions": 0, "collisions": 0, "unstable": 0}
        self.path = [(x, y)]
        self._warn0 = self._warning_counts()
        self._warn0_sum = int(self._warn0.sum())
        self._warn_total = 0
        obs = self._observe()
        return obs, {"goal": self.goal, "route": list(self.tracker.waypoints), "time_budget": self.budget}

    def _route(self, start: Any) -> list[tuple[float, float]]:
        """Scene.route leaving room for the rover's body, or the default clearance when that finds no node."""
        try:
            return self.scene.route((start[0], start[1]), self.goal, clearance=self.config.route_clearance)
        except SceneError:
            return self.scene.route((start[0], start[1]), self.goal)

    def _sample_start(self, rng: np.random.Generator, goal_box: Any) -> tuple[float, float, float]:
        cfg, scene = self.config, self.scene
        if cfg.start == "scene":
            s = scene.start
            if cfg.randomization.enabled:
                j, jy = cfg.randomization.start_xy, cfg.randomization.start_yaw
                x, y = s.x + rng.uniform(-j, j), s.y + rng.uniform(-j, j)
                if float(scene.obstacle_distance(np.array([x, y]))) > cfg.start_clearance:
                    return x, y, s.yaw + rng.uniform(-jy, jy)
            return s.x, s.y, s.yaw
        others = [r for r in scene.regions if r.name != goal_box.name]
        for _ in range(500):
            if cfg.start == "region" and others:
                box = others[int(rng.integers(len(others)))]
                lo, hi = np.array(box.lo), np.array(box.hi)
            else:
                lo, hi = np.array(scene.bounds[0]), np.array(scene.bounds[1])
            x, y = rng.uniform(lo, hi)
            free = float(scene.obstacle_distance(np.array([x, y]))) > cfg.start_clearance
            if free and float(goal_box.signed_distance(np.array([x, y]))) < 0.0:
                return float(x), float(y), float(rng.uniform(-math.pi, math.pi))
        raise EnvError(f"scene {scene.name!r}: could not sample a free start pose (start={cfg.start!r})")

    def _randomize(self, rng: np.random.Generator) -> None:
        dr, m = self.config.randomization, self.model
        m.geom_friction[:] = self._base_friction
        m.body_mass[:] = self._base_mass
        if dr.enabled:
            m.geom_friction[self._wheel_geoms, 0] *= rng.uniform(*dr.friction)
            m.body_mass[self.info.body] *= rng.uniform(*dr.mass)

    # ------------------------------------------------------------------ stepping
    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Apply one (v, omega) command for CONTROL_DT and observe."""
        terms, terminated, truncated, info = self.advance(action)
        obs = self._observe()
        return obs, sum(terms.values()), terminated, truncated, info

    def advance(
        self, action: Any, full_info: bool = True
    ) -> tuple[dict[str, float], bool, bool, dict[str, Any]]:
        """Everything of :meth:`step` except building the observation (the batched runner observes
        only at decision points). With ``full_info=False`` the returned info is empty and only the
        goal's signed distance is computed (the counters are kept either way)."""
        v_raw, w_raw = float(action[0]), float(action[1])
        if math.isnan(v_raw) or math.isnan(w_raw):
            self.counters["nan_actions"] += 1
        elif not rb.command_in_bounds(v_raw, w_raw):
            self.counters["raw_out_of_bounds"] += 1
        v, w = rb.clamp_command(v_raw, w_raw)
        m, d, info = self.model, self.data, self.info
        d.ctrl[info.actuators[0]], d.ctrl[info.actuators[1]] = rb.wheel_speeds(v, w)
        mujoco.mj_step(m, d, rb.N_SUBSTEPS)
        self.t += rb.CONTROL_DT
        self.steps += 1
        self.last_command = (v, w)
        x, y = self._pose[:2].tolist()
        unstable = not (math.isfinite(x) and math.isfinite(y)) or self._new_warnings() > 0
        if unstable:
            self.counters["unstable"] += 1
        self.path.append((x, y))
        self.tracker.update(x, y)
        remaining = self.tracker.remaining_length(x, y) if not unstable else self._remaining
        # a handful of contacts (wheels on the floor): a set test beats numpy fancy indexing here
        contact = d.ncon > 0 and not self._obstacle_ids.isdisjoint(d.contact.geom.ravel().tolist())
        self.counters["collisions"] += contact
        sd = self._region_distances(x, y) if full_info else None
        goal_sd = sd[self.goal] if sd is not None else self._goal_distance(x, y)
        success = goal_sd > self.config.success_margin and not unstable
        truncated = self.t >= self.budget - 1e-9 and not success
        rc = self.config.reward
        terms = {
            "progress": rc.progress * (self._remaining - remaining),
            "success": rc.success if success else 0.0,
            "collision": rc.collision if contact else 0.0,
            "time": rc.time,
            "timeout": rc.timeout if truncated else 0.0,
        }
        self._remaining = remaining
        self.succeeded = success
        terminated = success or unstable or (contact and self.config.terminate_on_collision)
        if not full_info:
            return terms, terminated, truncated, {}
        return (
            terms,
            terminated,
            truncated,
            {
                "terms": terms,
                "success": success,
                "collision": contact,
                "unstable": unstable,
                "regions": sd,
                "goal": self.goal,
                "goal_distance": goal_sd,
                "time_remaining": self.budget - self.t,
                "waypoint_index": self.tracker.index,
                "counters": dict(self.counters),
                "warnings": self.warnings(),
            },
        )

    def _goal_distance(self, x: float, y: float) -> float:
        cx, cy, hx, hy = self._goal_box
        dx, dy = abs(x - cx) - hx, abs(y - cy) - hy
        return -(math.hypot(max(dx, 0.0), max(dy, 0.0)) + min(max(dx, dy), 0.0))

    def _region_distances(self, x: float, y: float) -> dict[str, float]:
        """Signed distance to every region (Box.signed_distance, vectorised over the regions)."""
        out = {}
        for name, (cx, cy, hx, hy) in self._regions:  # plain floats: ~10x faster than numpy here
            dx, dy = abs(x - cx) - hx, abs(y - cy) - hy
            out[name] = -(math.hypot(max(dx, 0.0), max(dy, 0.0)) + min(max(dx, dy), 0.0))
        return out

    def _warning_counts(self) -> np.ndarray:
        return self._warn_number.copy()

    def _new_warnings(self) -> int:
        self._warn_total = int(self._warn_number.sum()) - self._warn0_sum
        return self._warn_total

    def warnings(self) -> dict[str, int]:
        """MuJoCo warnings raised since the reset, by name (BADQACC, BADCTRL, ...); zeros omitted."""
        if not self._warn_total:
            return {}
        counts = self._warning_counts() - self._warn0
        return {n: int(c) for n, c in zip(WARNING_NAMES, counts, strict=True) if c}

    # ------------------------------------------------------------------ sensing
    def robot_state(self) -> RobotState:
        """Pose from the free joint, (v, omega) from the velocimeter and gyro (+ noise when randomised)."""
        x, y, _, qw, qx, qy, qz = self._pose.tolist()  # Python floats: cheaper maths below
        yaw = math.atan2(2.0 * (qw * qz + qx * qy), 1.0 - 2.0 * (qy * qy + qz * qz))
        sensors = self._sensors
        v, w = float(sensors[self.info.vel_adr]), float(sensors[self.info.gyro_adr + 2])
        dr = self.config.randomization
        if dr.enabled and dr.velocity_noise > 0:
            v += float(self.np_random.normal(0.0, dr.velocity_noise))
            w += float(self.np_random.normal(0.0, dr.velocity_noise))
        return RobotState(x, y, yaw, v, w)

    def scan(self) -> Scan:
        """The lidar as a LaserScan would carry it (beam 0 ahead, counter-clockwise)."""
        ranges = self.lidar.cast(self.model, self.data)
        dr = self.config.randomization
        if dr.enabled and dr.lidar_noise > 0:
            ranges = np.clip(
                ranges + self.np_random.normal(0.0, dr.lidar_noise, ranges.shape), 0.0, rb.LIDAR_RANGE
            )
        return Scan(ranges, 0.0, _SCAN_INCREMENT, rb.LIDAR_RANGE)

    def _observe(self) -> np.ndarray:
        obs = self.builder.build(
            self.robot_state(),
            self.scan(),
            self.tracker.targets(),
            self.budget - self.t,
            self.last_command,
            self._obs,
        )
        return obs.copy()

    def observe(self) -> np.ndarray:
        """The current observation (what :meth:`step` would return now)."""
        return self._observe()

    # ------------------------------------------------------------------ rendering
    def render(self) -> np.ndarray | None:
        """An RGB frame from the top camera (``render_mode="rgb_array"``)."""
        if self.render_mode is None:
            return None
        from cadence.sim.render import FrameRenderer

        if self._renderer is None:
            self._renderer = FrameRenderer(self.model)
        return self._renderer.render(self.data)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
