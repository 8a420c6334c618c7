"""``cadence record``: run sim episodes and record them to rosbag2 as a robot would (issue 8).

The loop plays the executor: it feeds the odometry it publishes to the executor's plan logic
(:class:`cadence.policy.mission.PlanFollower`) and at each decision builds the observation with THE
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

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cadence.data.errors import RecordError
from cadence.data.messages import MessageFactory
from cadence.data.writer import BagWriter

if TYPE_CHECKING:
    from cadence.planner.plan import Plan

EPOCH_NS = 1_767_225_600 * 10**9  # 2026-01-01: stamps of recorded sim episodes start here
EPISODE_GAP_NS = 2 * 10**9
OVERRUN_S = 10.0  # seconds the sim runs past the plan's horizon before it gives up (a robot would too)


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

    Each episode starts in a random region of the scene (seeded), the planner's rules back end
    plans the task from there, and the sim runs until every subgoal is met, the robot collides or
    becomes unstable, or the plan's horizon plus :data:`OVERRUN_S` has passed.

    Args:
        task: Task text, as given to ``cadence plan``.
        episodes: Number of episodes.
        out: Bag folder to create.
        storage: ``mcap`` or ``sqlite3``.
        scene: Scene name (default ``apartment``).
        policy: ONNX model path, or ``None`` / ``"backup"`` for the backup controller.
        seed: Seed of the first episode (episode ``i`` uses ``seed + i``).

    Raises:
        RecordError: The task cannot be planned or the bag cannot be written.
        ValueError: Unknown scene or storage.
    """
    from cadence.planner.errors import PlannerError
    from cadence.planner.planner import Planner
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
    env = make(env_name, start="region")
    planner = Planner(env.scene)
    try:
        final = planner.plan(task).subgoals[-1].region  # where the task ends: start elsewhere
    except PlannerError as err:
        env.close()
        raise RecordError(f"cannot plan {task!r} in scene {scene_name!r}: {err}") from err
    actor = load_policy(policy or "backup")
    summary = RecordSummary(str(out), storage)
    try:
        with BagWriter(out, storage=storage) as bag:
            t_ns = EPOCH_NS
            for i in range(episodes):
                _, _ = env.reset(seed=seed + i, options={"goal": final})
                s0 = env.robot_state()
                try:
                    plan = planner.plan(task, pose=(s0.x, s0.y, s0.yaw))
                except PlannerError as err:
                    raise RecordError(f"cannot plan {task!r} from {s0}: {err}") from err
                t_ns = _episode(env, actor, bag, plan, seed + i, t_ns, summary) + EPISODE_GAP_NS
            summary.messages = bag.count
    finally:
        env.close()
    return summary


def _episode(
    env: Any, actor: Any, bag: BagWriter, plan: Plan, seed: int, t0: int, summary: RecordSummary
) -> int:
    from cadence.critic.stl_critic import StlCritic
    from cadence.critic.task import task_from_plan
    from cadence.critic.types import Snapshot
    from cadence.policy.mission import PlanFollower
    from cadence.sim import robot

    f, dt = MessageFactory(bag.typestore), robot.CONTROL_DT
    k = getattr(actor, "k", robot.DEFAULT_K)
    options = {"goal": plan.subgoals[-1].region, "start": plan.start, "time_budget": plan.horizon + OVERRUN_S}
    env.reset(seed=seed, options=options)
    bag.write("task", t0 - 1_000_000, f.string(plan.task))
    bag.write("plan", t0, f.string(plan.to_json()))
    follower = PlanFollower(plan, env.scene, t0 * 1e-9)  # the executor's plan logic
    critic, critic_task = StlCritic(), task_from_plan(plan, env.scene)
    observations: list[np.ndarray] = []
    n, done, success, met = 0, False, False, False
    while not done:
        t_n = t0 + round(n * dt * 1e9)
        state, scan = env.robot_state(), env.scan()
        _write_sensors(bag, f, t_n, state, scan)
        follower.update(state.x, state.y, t_n * 1e-9)
        if follower.done:  # every subgoal met: the executor holds, the episode is over
            met = True
            break
        if n % k == 0:
            targets, remaining = follower.targets(), follower.time_remaining(t_n * 1e-9)
            obs = env.builder.build(state, scan, targets, remaining, env.last_command).copy()
            observations.append(obs)
            actions = np.asarray(actor.act(obs[None])[0], dtype=np.float32)
            snap = Snapshot(n * dt, state.x, state.y, state.yaw, obs)
            progress = critic.reset(critic_task, snap) if n == 0 else critic.observe(snap)
            bag.write("executor/sequence", t_n, f.sequence(t_n, actions, dt))
            bag.write("critic/progress", t_n, f.float32(progress.delta))
            if progress.done:
                bag.write("critic/done", t_n, f.boolean(True))
        v, w = robot.clamp_command(*actions[n % k])
        bag.write("cmd_vel", t_n, f.twist(v, w))
        _, terminated, truncated, info = env.advance(actions[n % k])
        n += 1
        # env "success" is entering the final region; with several subgoals the follower decides
        success = bool(info["success"]) and len(plan.subgoals) == 1
        done = truncated or (terminated and not info["success"]) or success
    if not met:  # the state the last action led to (next_obs of the last transition)
        t_end = t0 + round(n * dt * 1e9)
        _write_sensors(bag, f, t_end, env.robot_state(), env.scan())
    summary.episodes += 1
    summary.steps += n
    summary.successes += success or met
    summary.observations.append(observations)
    return t0 + round(n * dt * 1e9)


def _write_sensors(bag: BagWriter, f: MessageFactory, t_ns: int, state: Any, scan: Any) -> None:
    bag.write("odom", t_ns, f.odometry(t_ns, state.x, state.y, state.yaw, state.v, state.omega))
    bag.write("scan", t_ns, f.scan(t_ns, scan.angle_min, scan.angle_increment, scan.range_max, scan.ranges))
