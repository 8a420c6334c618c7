"""Episodes the learned critic trains and is evaluated on: a pose per decision towards one goal.

:func:`drive_episode` produces one by steering towards the goal down the geodesic distance field
(:mod:`cadence.critic.geodesic`) with the rover's kinematics and limits. It is the geometry-only
generator the unit tests use to train tiny critics in a second; ``cadence.critic.rollouts`` makes
the same :class:`Episode` records from MuJoCo.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from cadence.critic.errors import TaskError
from cadence.critic.geodesic import DistanceField, distance_field

DECISION_DT = 0.4  # s: K = 8 primitive actions at control_dt = 0.05 s (DEVELOPERS.md)


@dataclass(frozen=True)
class Episode:
    """One recorded run towards a goal region, sampled at decisions.

    Attributes:
        scene: Scene name.
        goal: Goal region name.
        t: Times (s), shape (T,).
        pose: Poses [x, y, yaw], shape (T, 3).
        success: Whether the goal region was reached.
    """

    scene: str
    goal: str
    t: np.ndarray = field(compare=False)
    pose: np.ndarray = field(compare=False)
    success: bool = False

    def __post_init__(self) -> None:
        if self.pose.ndim != 2 or self.pose.shape[1] != 3 or self.t.shape != (self.pose.shape[0],):
            raise TaskError(
                f"episode arrays must be t (T,) and pose (T, 3), got {self.t.shape}, {self.pose.shape}"
            )
        if self.pose.shape[0] < 2:
            raise TaskError("an episode needs at least two decisions")
        if not (np.all(np.isfinite(self.pose)) and np.all(np.isfinite(self.t))):
            raise TaskError("episode contains NaN/Inf")

    def __len__(self) -> int:
        return int(self.pose.shape[0])

    def inside(self, scene: object) -> np.ndarray:
        """Boolean (T,): inside the goal region at each decision."""
        return scene.signed_distance(self.goal, self.pose[:, :2]) > 0.0  # type: ignore[attr-defined]

    def reached(self, scene: object) -> int:
        """Index of the first decision inside the goal region, -1 if never."""
        hits = np.flatnonzero(self.inside(scene))
        return int(hits[0]) if hits.size else -1


def free_point(scene: object, rng: np.random.Generator, clearance: float = 0.4) -> tuple[float, float]:
    """A uniformly random point of the map at least `clearance` from every obstacle."""
    (x0, y0), (x1, y1) = scene.bounds  # type: ignore[attr-defined]
    for _ in range(10_000):
        p = np.array([rng.uniform(x0, x1), rng.uniform(y0, y1)])
        if float(scene.obstacle_distance(p)) > clearance:  # type: ignore[attr-defined]
            return float(p[0]), float(p[1])
    raise TaskError(f"no free point with clearance {clearance} m in scene {scene.name!r}")  # type: ignore[attr-defined]


def drive_episode(
    scene: object,
    goal: str,
    start: tuple[float, float, float],
    rng: np.random.Generator,
    *,
    speed: float = 0.6,
    max_time: float = 60.0,
    hold_decisions: int = 5,
    control_dt: float = 0.05,
) -> Episode:
    """Drive a unicycle down the goal's distance field; record a pose every decision.

    The robot keeps going for `hold_decisions` decisions after it first enters the region (creeping
    further in), so episodes contain "done" frames for the done head.

    Args:
        scene: A ``cadence.planner.scene.Scene``.
        goal: Goal region name.
        start: (x, y, yaw).
        rng: Randomness for per-episode speed and heading noise.
        speed: Mean cruise speed (m/s); each episode draws within +-30 %.
        max_time: Give up after this many seconds (the episode is then unsuccessful).
        hold_decisions: Decisions recorded after reaching the goal.
        control_dt: Integration step (s).
    """
    field_ = distance_field(scene, goal)
    per_decision = max(1, round(DECISION_DT / control_dt))
    v_cruise = speed * rng.uniform(0.7, 1.3)
    x, y, yaw = start
    times, poses = [0.0], [(x, y, yaw)]
    after = -1
    t = 0.0
    while t < max_time and (after < 0 or len(poses) - 1 - after < hold_decisions):
        for _ in range(per_decision):
            v, omega = steer(field_, x, y, yaw, v_cruise * (0.3 if after >= 0 else 1.0), rng.normal(0.0, 0.1))
            x += v * math.cos(yaw) * control_dt
            y += v * math.sin(yaw) * control_dt
            yaw = math.atan2(math.sin(yaw + omega * control_dt), math.cos(yaw + omega * control_dt))
            t += control_dt
        times.append(t)
        poses.append((x, y, yaw))
        if after < 0 and float(scene.signed_distance(goal, np.array([x, y]))) > 0.0:  # type: ignore[attr-defined]
            after = len(poses) - 1
    return Episode(scene.name, goal, np.asarray(times), np.asarray(poses), success=after >= 0)  # type: ignore[attr-defined]


_RING = np.linspace(-math.pi, math.pi, 24, endpoint=False)


def steer(
    field_: DistanceField, x: float, y: float, yaw: float, v_cruise: float, heading_noise: float = 0.0
) -> tuple[float, float]:
    """A go-down-the-distance-field command (v, omega) within the rover's limits.

    Heads for the lowest point of the field on a 0.3 m ring around the robot, turning in place when
    the error is large: a simple, verifiable law that follows doorways because the field does.
    """
    ring = np.stack([x + 0.3 * np.cos(_RING), y + 0.3 * np.sin(_RING)], axis=-1)
    heading = float(_RING[int(np.argmin(field_(ring)))])
    err = math.atan2(math.sin(heading - yaw), math.cos(heading - yaw)) + heading_noise
    omega = max(-2.0, min(2.0, 2.5 * err))
    return v_cruise * max(0.0, math.cos(err)), omega


def random_episodes(
    scene: object, n: int, seed: int, goals: tuple[str, ...] | None = None, **kwargs: object
) -> list[Episode]:
    """`n` kinematic episodes from random free starts to random goal regions (seeded)."""
    rng = np.random.default_rng(seed)
    names = goals or scene.region_names  # type: ignore[attr-defined]
    out = []
    for _ in range(n):
        goal = str(rng.choice(names))
        x, y = free_point(scene, rng)
        while float(scene.signed_distance(goal, np.array([x, y]))) > -0.5:  # type: ignore[attr-defined]
            x, y = free_point(scene, rng)
        out.append(drive_episode(scene, goal, (x, y, rng.uniform(-math.pi, math.pi)), rng, **kwargs))  # type: ignore[arg-type]
    return out
