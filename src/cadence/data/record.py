"""``cadence record``: run sim episodes and record them to rosbag2 as a robot would (issue 8).

The loop plays the executor: it feeds the odometry it publishes to the executor's plan logic
(:class:`cadence.ros.mission.PlanFollower`) and at each decision builds the observation with THE
builder from that odometry and scan, asks the policy for K actions, publishes them on
``executor/sequence``, and plays them out at the control rate (``cmd_vel`` = the clamped command the
env applies). The STL-stage critic publishes ``critic/progress`` at every decision. Topics, types and
the ``executor/sequence`` encoding are those of a robot (:mod:`cadence.data.messages`); the bag is
written with rosbags' writer, atomically.

Per tick the bag holds, in this order and with equal stamps: ``odom``, ``scan``, then on decision
ticks ``executor/sequence`` and ``critic/progress``, then ``cmd_vel``. Each episode starts with
``task`` and ``plan`` one millisecond and zero seconds before its first tick.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cadence.data.messages import MessageFactory
from cadence.data.writer import BagWriter

if TYPE_CHECKING:
    from cadence.planner.plan import Plan
    from cadence.planner.scene import Scene

EPOCH_NS = 1_767_225_600 * 10**9  # 2026-01-01: stamps of recorded sim episodes start here
EPISODE_GAP_NS = 2 * 10**9


@dataclass
class RecordSummary:
    """What ``cadence record`` did (the decision observations are kept for round-trip tests)."""

    out: str
    storage: str
    episodes: int = 0
    steps: int = 0
    successes: int = 0
    messages: int = 0
    observations: list[list[np.ndarray]] = field(default_factory=list, repr=False)

    def __str__(self) -> str:
        return (
            f"recorded {self.episodes} episodes ({self.successes} reached the goal, {self.steps} control steps, "
            f"{self.messages} messages) to {self.out} [{self.storage}]"
        )


def goal_from_task(task: str, scene: Scene) -> str:
    """The scene region a task names (by name or alias, the earliest mention wins).

    Raises:
        ValueError: The task names no region; the message lists them.
    """
    text = task.lower()
    hits = []
    for box in scene.regions:
        for name in (box.name, *box.aliases):
            words = name.lower().replace("_", " ")
            m = re.search(rf"\b{re.escape(words)}\b", text.replace("_", " "))
            if m:
                hits.append((m.start(), box.name))
    if not hits:
        raise ValueError(
            f"task {task!r} names no region of scene {scene.name!r}; regions: {', '.join(scene.region_names)}"
        )
    return min(hits)[1]


def episode_plan(
    task: str, scene: Scene, goal: str, start: tuple[float, float, float], route: list, budget: float
) -> Plan:
    """The plan of one sim episode: reach ``goal`` within ``budget`` seconds along ``route``."""
    from cadence.planner.plan import Limits, Plan, Subgoal
    from cadence.sim import robot

    return Plan(
        task=task,
        scene=scene.name,
        spec=f"eventually[0:{budget:g}]({goal} > 0)",
        subgoals=(Subgoal(goal, (goal,), (0.0, budget), 0.0, None, len(route) - 1),),
        invariants=(),
        limits=Limits(robot.V_MAX, robot.W_MAX),
        start=tuple(float(v) for v in start),  # type: ignore[arg-type]
        waypoints=tuple((float(x), float(y)) for x, y in route),
        horizon=budget,
        backend="cadence-record",
    )


def record_episodes(
    task: str,
    episodes: int,
    out: str | Path,
    storage: str = "mcap",
    scene: str | None = None,
    policy: str | None = None,
    seed: int = 0,
) -> RecordSummary:
    """Record ``episodes`` sim episodes of ``task`` to a new bag at ``out``.

    Args:
        task: Task text; it must name a region of the scene (the goal).
        episodes: Number of episodes.
        out: Bag folder to create.
        storage: ``mcap`` or ``sqlite3``.
        scene: Scene name (default ``apartment``).
        policy: ONNX model path, or ``None`` / ``"backup"`` for the backup controller.
        seed: Seed of the first episode (episode ``i`` uses ``seed + i``).

    Raises:
        RecordError: The bag cannot be written.
        ValueError: Unknown scene, storage, or a task that names no region.
    """
    from cadence.policy.runtime import load_policy
    from cadence.sim.registry import ENVS, make

    scene_name = scene or "apartment"
    env_name = next(
        (n for n, c in ENVS.items() if c.scene == scene_name and not c.randomization.enabled), None
    )
    if env_name is None:
        raise ValueError(
            f"no sim env for scene {scene_name!r}; scenes: {sorted({c.scene for c in ENVS.values()})}"
        )
    env = make(env_name)
    goal = goal_from_task(task, env.scene)
    actor = load_policy(policy or "backup")
    summary = RecordSummary(str(out), storage)
    try:
        with BagWriter(out, storage=storage) as bag:
            t_ns = EPOCH_NS
            for i in range(episodes):
                t_ns = _episode(env, actor, bag, task, goal, seed + i, t_ns, summary) + EPISODE_GAP_NS
            summary.messages = bag.count
    finally:
        env.close()
    return summary


def _episode(
    env: Any, actor: Any, bag: BagWriter, task: str, goal: str, seed: int, t0: int, summary: RecordSummary
) -> int:
    from cadence.critic.stl_critic import StlCritic
    from cadence.critic.types import CriticTask, Snapshot, Stage
    from cadence.ros.mission import PlanFollower
    from cadence.sim import robot

    f, dt = MessageFactory(bag.typestore), robot.CONTROL_DT
    k = getattr(actor, "k", robot.DEFAULT_K)
    _, info = env.reset(seed=seed, options={"goal": goal})
    budget = math.ceil(info["time_budget"])  # whole seconds: STL bounds must be multiples of dt
    s0 = env.robot_state()
    _, info = env.reset(
        seed=seed, options={"goal": goal, "start": (s0.x, s0.y, s0.yaw), "time_budget": budget}
    )
    plan = episode_plan(task, env.scene, goal, (s0.x, s0.y, s0.yaw), info["route"], float(budget))
    bag.write("task", t0 - 1_000_000, f.string(task))
    bag.write("plan", t0, f.string(plan.to_json()))
    follower = PlanFollower(plan, env.scene, t0 * 1e-9)  # the executor's plan logic
    critic = StlCritic()
    critic_task = CriticTask(env.scene, (Stage(goal, (0.0, float(budget))),), spec=plan.spec)
    observations: list[np.ndarray] = []
    n, done = 0, False
    while not done:
        t_n = t0 + round(n * dt * 1e9)
        state, scan = env.robot_state(), env.scan()
        _write_sensors(bag, f, t_n, state, scan)
        follower.update(state.x, state.y, t_n * 1e-9)
        if n % k == 0:
            targets, remaining = follower.targets(), follower.time_remaining(t_n * 1e-9)
            obs = env.builder.build(state, scan, targets, remaining, env.last_command).copy()
            observations.append(obs)
            actions = np.asarray(actor.act(obs[None])[0], dtype=np.float32)
            snap = Snapshot(n * dt, state.x, state.y, state.yaw, obs)
            progress = critic.reset(critic_task, snap) if n == 0 else critic.observe(snap)
            bag.write("executor/sequence", t_n, f.sequence(t_n, actions, dt))
            bag.write("critic/progress", t_n, f.float32(progress.delta))
        v, w = robot.clamp_command(*actions[n % k])
        bag.write("cmd_vel", t_n, f.twist(v, w))
        _, terminated, truncated, step_info = env.advance(actions[n % k])
        n += 1
        done = terminated or truncated
    t_end = t0 + round(n * dt * 1e9)
    _write_sensors(bag, f, t_end, env.robot_state(), env.scan())
    summary.episodes += 1
    summary.steps += n
    summary.successes += bool(step_info["success"])
    summary.observations.append(observations)
    return t_end


def _write_sensors(bag: BagWriter, f: MessageFactory, t_ns: int, state: Any, scan: Any) -> None:
    bag.write("odom", t_ns, f.odometry(t_ns, state.x, state.y, state.yaw, state.v, state.omega))
    bag.write("scan", t_ns, f.scan(t_ns, scan.angle_min, scan.angle_increment, scan.range_max, scan.ranges))
