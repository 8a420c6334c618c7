"""Typed, validated configuration of the navigation env: reward scales, domain randomisation, episodes."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from cadence.sim.errors import EnvError

START_MODES = ("scene", "region", "anywhere")


@dataclass(frozen=True)
class RewardConfig:
    """Scales of the named reward terms (mujoco_playground style: reward = sum of scaled terms).

    Attributes:
        progress: Per metre the remaining route length shrinks (negative when it grows).
        success: Once, on entering the goal region.
        collision: Per control step in contact with a wall or furniture.
        time: Per control step (a small negative value: hurry).
        timeout: Once, when the time budget runs out without success.
    """

    progress: float = 1.0
    success: float = 10.0
    collision: float = -0.5
    time: float = -0.01
    timeout: float = -1.0


@dataclass(frozen=True)
class RandomizationConfig:
    """Domain randomisation hooks, applied at every reset when ``enabled``.

    Attributes:
        enabled: Off by default; the ``-dr`` env variants switch it on.
        friction: (low, high) scale of the wheels' sliding friction.
        mass: (low, high) scale of the chassis mass.
        lidar_noise: Standard deviation (m) of Gaussian noise on each lidar range.
        velocity_noise: Standard deviation of noise on measured v (m/s) and omega (rad/s).
        start_xy: Uniform jitter (m) of the start position (when the jittered pose is free).
        start_yaw: Uniform jitter (rad) of the start heading.
    """

    enabled: bool = False
    friction: tuple[float, float] = (0.7, 1.3)
    mass: tuple[float, float] = (0.8, 1.25)
    lidar_noise: float = 0.02
    velocity_noise: float = 0.02
    start_xy: float = 0.2
    start_yaw: float = 0.5


@dataclass(frozen=True)
class NavEnvConfig:
    """Everything that shapes a navigation episode.

    Attributes:
        scene: Scene name or YAML path.
        goals: Region names a reset may pick as the goal (empty: every region).
        start: ``scene`` (the scene's start pose), ``region`` (a free point in a random region other
            than the goal, random heading) or ``anywhere`` (a free point anywhere in the map).
        budget_speed: The time budget allows the route length at this speed (m/s) ...
        budget_slack: ... plus this many seconds.
        success_margin: Metres the robot centre must be inside the goal region.
        start_clearance: Minimum distance (m) of a sampled start from every obstacle.
        terminate_on_collision: End the episode at the first contact (off: bumping only costs reward).
        waypoint_radius: Radius of the :class:`~cadence.policy.observation.WaypointTracker`.
        route_clearance: Metres the straight start-to-route segment keeps from obstacles (falls back
            to the scene's default 0.2 m when no graph node is visible with it).
        reward: Reward scales.
        randomization: Domain randomisation.
    """

    scene: str = "apartment"
    goals: tuple[str, ...] = ()
    start: str = "region"
    budget_speed: float = 0.35
    budget_slack: float = 8.0
    success_margin: float = 0.15
    start_clearance: float = 0.35
    terminate_on_collision: bool = False
    waypoint_radius: float = 0.4
    route_clearance: float = 0.35
    reward: RewardConfig = field(default_factory=RewardConfig)
    randomization: RandomizationConfig = field(default_factory=RandomizationConfig)

    def __post_init__(self) -> None:
        if self.start not in START_MODES:
            raise EnvError(f"start must be one of {', '.join(START_MODES)}, got {self.start!r}")
        for key in ("budget_speed", "waypoint_radius", "start_clearance", "route_clearance"):
            if not getattr(self, key) > 0:
                raise EnvError(f"{key} must be positive, got {getattr(self, key)!r}")
        if isinstance(self.goals, str):
            object.__setattr__(self, "goals", (self.goals,))

    def replace(self, **changes: Any) -> NavEnvConfig:
        """A copy with fields changed; nested ``reward`` / ``randomization`` may be given as dicts.

        Raises:
            EnvError: naming an unknown field (and listing the valid ones).
        """
        valid = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - valid)
        if unknown:
            raise EnvError(f"unknown env option(s) {', '.join(unknown)}; options: {', '.join(sorted(valid))}")
        for key, cls in (("reward", RewardConfig), ("randomization", RandomizationConfig)):
            if isinstance(changes.get(key), dict):
                base = getattr(self, key)
                sub_valid = {f.name for f in dataclasses.fields(cls)}
                bad = sorted(set(changes[key]) - sub_valid)
                if bad:
                    raise EnvError(
                        f"unknown {key} option(s) {', '.join(bad)}; options: {', '.join(sorted(sub_valid))}"
                    )
                changes[key] = dataclasses.replace(base, **changes[key])
        return dataclasses.replace(self, **changes)
