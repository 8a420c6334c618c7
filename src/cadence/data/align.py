"""Align one recorded episode onto the control clock and rebuild its SRL transitions (issue 8).

Tick ``n`` is ``t0 + n * control_dt`` where ``t0`` is the receive time of the episode's ``plan``.
Every topic is sampled at the ticks by zero-order hold on its stamps (the latest sample at or before
the tick). The executor's own plan logic, :class:`cadence.policy.mission.PlanFollower` (ROS-free: which
subgoal is current, its route, waypoint switching, time remaining), is fed every odometry sample in
stamp order, as the executor node feeds it, and at each decision (``executor/sequence`` message,
snapped to the nearest tick) the observation comes from THE builder
(:mod:`cadence.policy.observation`) with what the executor had then:

* the held odometry and scan, the follower's targets;
* ``time_remaining`` = the follower's value at the odometry stamp (current subgoal's deadline minus
  the time since ``t0``);
* ``last_command`` = the latest ``cmd_vel`` received strictly before that odometry.

The executed action is the ``cmd_vel`` held at each of the K ticks from the decision on (what the
robot actually did, after clamping and safety filtering), ``next_obs`` the observation at the next
decision. Transitions whose window has stale odometry or no scan are dropped with a reason.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from cadence.data.messages import OdomSample, ScanSample, SequenceSample
from cadence.policy.mission import PlanFollower
from cadence.policy.observation import ObservationBuilder, ObservationError, RobotState, Scan, WaypointTracker

if TYPE_CHECKING:
    from cadence.planner.plan import Plan
    from cadence.planner.scene import Scene


# Stamps are absolute seconds in float64 (resolution ~0.24 us near 2026): compare with 10 us slack.
EPS = 1e-5


@dataclass(frozen=True)
class AlignConfig:
    """How bags are aligned and rewards relabelled.

    Attributes:
        control_dt: Control period (s); ``cadence.sim.robot.CONTROL_DT``.
        k: Actions per sequence.
        max_age: Odometry older than this at a tick (s) is a gap.
        progress_weight: Reward per metre the remaining route shrank.
        critic_weight: Reward per unit of summed ``critic/progress`` (0: stored, not used).
        stl_weight: Reward times the episode's STL robustness (clipped to [-1, 1]) on its last transition.
    """

    control_dt: float = 0.05
    k: int = 8
    max_age: float = 0.25
    progress_weight: float = 1.0
    critic_weight: float = 0.0
    stl_weight: float = 1.0


@dataclass
class EpisodeBuffer:
    """What the converter collected for one episode (stamps already checked, in order)."""

    bag: str
    task: str
    plan: Plan
    t0: float
    start_ns: int
    odom: list[OdomSample] = field(default_factory=list)
    scan: list[ScanSample] = field(default_factory=list)
    cmd: list[tuple[float, float, float]] = field(default_factory=list)
    seq: list[SequenceSample] = field(default_factory=list)
    progress: list[tuple[float, float]] = field(default_factory=list)


@dataclass
class EpisodeResult:
    """Transitions of one episode (feature columns) plus what was dropped and why."""

    columns: dict[str, np.ndarray]
    meta: dict
    dropped: Counter[str]


def _hold(stamps: np.ndarray, t: float, eps: float = EPS) -> int:
    """Index of the latest sample stamped at or before ``t`` (-1: none)."""
    return int(np.searchsorted(stamps, t + eps, side="right")) - 1


def reconstruct(
    ep: EpisodeBuffer, scene: Scene, cfg: AlignConfig, builder: ObservationBuilder
) -> EpisodeResult:
    """Rebuild the SRL transitions of one episode.

    Args:
        ep: The episode's samples.
        scene: The plan's scene (STL signals and success).
        cfg: Alignment and reward settings.
        builder: THE observation builder.

    Returns:
        Feature columns of :data:`cadence.data.dataset.FEATURES` and the dropped-decision reasons.
    """
    dt, k, dropped = cfg.control_dt, cfg.k, Counter()
    if not ep.odom or not ep.seq:
        dropped["episode without odom or executor/sequence"] += max(len(ep.seq), 1)
        return EpisodeResult({}, {}, dropped)
    to = np.array([o.t for o in ep.odom])
    ts = np.array([s.t for s in ep.scan]) if ep.scan else np.zeros(0)
    tc = np.array([c[0] for c in ep.cmd]) if ep.cmd else np.zeros(0)
    n_end = math.floor((to[-1] - ep.t0 + EPS) / dt)
    decisions = sorted({round((s.t - ep.t0) / dt): s for s in ep.seq if s.t >= ep.t0 - dt / 2}.items())
    decisions = [(n, s) for n, s in decisions if 0 <= n < n_end]
    if len(decisions) < len(ep.seq):
        dropped["decision outside the recorded odometry"] += len(ep.seq) - len(decisions)
    if not decisions:
        return EpisodeResult({}, {}, dropped)

    follower = PlanFollower(ep.plan, scene, ep.t0)
    tracker = WaypointTracker(ep.plan.waypoints)  # whole-plan route: the progress reward's measure
    xy = np.empty((n_end + 1, 2))
    stale = np.zeros(n_end + 1, dtype=bool)
    remaining = np.empty(n_end + 1)
    need = {n for n, _ in decisions} | {min(n + k, n_end) for n, _ in decisions}
    obs: dict[int, np.ndarray | None] = {}
    ticks = ep.t0 + np.arange(n_end + 1) * dt
    held = (np.searchsorted(to, ticks + EPS, side="right") - 1).tolist()  # odometry held at each tick
    cmd_at = (np.searchsorted(tc, ticks + dt / 2 + EPS, side="right") - 1).tolist()  # command applied
    fed = 0  # odometry samples given to the follower so far
    for n in range(n_end + 1):
        t = ep.t0 + n * dt
        i = held[n]
        while fed <= i:
            follower.update(ep.odom[fed].x, ep.odom[fed].y, ep.odom[fed].t)
            fed += 1
        o = ep.odom[max(i, 0)]
        stale[n] = i < 0 or t - to[i] > cfg.max_age
        if n > 0:
            tracker.update(o.x, o.y)
        xy[n] = (o.x, o.y)
        remaining[n] = tracker.remaining_length(o.x, o.y)
        if n in need:
            obs[n] = None if i < 0 else _observe(builder, ep, o, ts, tc, t, follower)

    rho = _robustness(ep.plan, scene, xy, dt)
    final = ep.plan.subgoals[-1].region
    success = bool(scene.signed_distance(final, xy[-1]) > 0.0)
    rows: list[dict] = []
    for j, (n, seq) in enumerate(decisions):
        n_next = decisions[j + 1][0] if j + 1 < len(decisions) else n_end
        last = j + 1 == len(decisions)
        n_exec = min(k, n_next - n)
        reason = _drop_reason(seq, n, n_exec, k, last, stale, obs, cfg, dt)
        if reason:
            dropped[reason] += 1
            continue
        commanded = np.zeros((k, 2), np.float32)
        commanded[: min(k, len(seq.actions))] = seq.actions[:k]
        executed = commanded.copy()
        for i in range(n_exec):
            c = cmd_at[n + i]
            if c >= 0:
                executed[i] = ep.cmd[c][1:]
        t_a, t_b = ep.t0 + n * dt, ep.t0 + (n + n_exec) * dt
        crit = [v for t, v in ep.progress if t_a - EPS <= t < t_b - EPS]
        rows.append(
            {
                "t": n * dt,
                "obs": obs[n],
                "action": executed.reshape(-1),
                "commanded": commanded.reshape(-1),
                "n_executed": n_exec,
                "reward_progress": remaining[n] - remaining[n + n_exec],
                "critic_progress": float(np.sum(crit)) if ep.progress else math.nan,
                "robustness": rho[n] if rho is not None else math.nan,
                "next_obs": obs[n + n_exec],
                "done": False,
                "truncated": False,
                "_end": n + n_exec,
            }
        )
    if rows:  # the episode's last transition; if it stops short of the end (a gap), it was cut
        reaches_end = rows[-1]["_end"] == n_end
        rows[-1]["done"] = success and reaches_end
        rows[-1]["truncated"] = not rows[-1]["done"]
    for row in rows:
        del row["_end"]
    episode_rho = float(rho[0]) if rho is not None and math.isfinite(rho[0]) else None
    for row in rows:
        critic = row["critic_progress"] if math.isfinite(row["critic_progress"]) else 0.0
        row["reward"] = cfg.progress_weight * row["reward_progress"] + cfg.critic_weight * critic
    if rows and episode_rho is not None:
        rows[-1]["reward"] += cfg.stl_weight * float(np.clip(episode_rho, -1.0, 1.0))
    columns = {key: np.array([r[key] for r in rows]) for key in rows[0]} if rows else {}
    meta = {
        "bag": ep.bag,
        "task": ep.task,
        "scene": ep.plan.scene,
        "spec": ep.plan.spec,
        "start_ns": ep.start_ns,
        "duration_s": n_end * dt,
        "stl_robustness": episode_rho,
        "success": success,
    }
    return EpisodeResult(columns, meta, dropped)


def _observe(
    builder: ObservationBuilder,
    ep: EpisodeBuffer,
    o: OdomSample,
    ts: np.ndarray,
    tc: np.ndarray,
    t: float,
    follower: PlanFollower,
) -> np.ndarray | None:
    """Observation at tick time ``t`` from odometry ``o`` (None when no scan has arrived yet)."""
    i = _hold(ts, t)
    if i < 0:
        return None
    s = ep.scan[i]
    c = int(np.searchsorted(tc, o.t, side="left")) - 1  # strictly before the odometry
    last = ep.cmd[c][1:] if c >= 0 else (0.0, 0.0)
    try:
        return builder.build(
            RobotState(o.x, o.y, o.yaw, o.v, o.omega),
            Scan(s.ranges, s.angle_min, s.angle_increment, s.range_max),
            follower.targets(),
            follower.time_remaining(o.t),
            last,
        ).copy()
    except ObservationError:
        return None


def _drop_reason(
    seq: SequenceSample,
    n: int,
    n_exec: int,
    k: int,
    last: bool,
    stale: np.ndarray,
    obs: dict[int, np.ndarray | None],
    cfg: AlignConfig,
    dt: float,
) -> str | None:
    if not np.all(np.isfinite(seq.actions)):
        return "non-finite action in executor/sequence"
    if len(seq.actions) != k:
        return f"sequence of {len(seq.actions)} actions, expected K={k}"
    if len(seq.actions) > 1 and abs(seq.step_dt - dt) > 1e-3:
        return f"sequence points {seq.step_dt:.3f} s apart, control period is {dt} s"
    if n_exec < k and not last:
        return "sequence replaced before all K actions ran"
    if n_exec < 1:
        return "no control period executed"
    if stale[n : n + n_exec + 1].any():
        return f"odometry gap (older than {cfg.max_age} s)"
    if obs.get(n) is None or obs.get(n + n_exec) is None:
        return "no laser scan yet"
    return None


def _robustness(plan: Plan, scene: Scene, xy: np.ndarray, dt: float) -> np.ndarray | None:
    """The plan spec's robustness signal over the episode (None when it cannot be evaluated)."""
    from cadence.stl.errors import STLError
    from cadence.stl.robustness import robustness

    try:
        return robustness(plan.spec, scene.region_signals(xy), dt)
    except (STLError, ValueError, KeyError):
        return None
