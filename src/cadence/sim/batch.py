"""Batched rollouts: many envs (MjData copies of one model) stepped together, ONE policy call per decision.

Policies emit K-action sequences (``act(obs[B, obs_dim]) -> actions[B, K, 2]``, DEVELOPERS.md), so
the runner observes only at decision points and then plays each env's K primitive actions; the
policy's cost is paid once per K steps for the whole batch and evaluation costs close to the physics
(bench/sim_bench.py measures it against stable-baselines3's ``evaluate_policy``).
"""

from __future__ import annotations

import itertools
import math
import os
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from cadence.sim.config import NavEnvConfig
from cadence.sim.env import NavEnv
from cadence.sim.errors import ValidationError
from cadence.sim.world import build_world


class ActsInBatches(Protocol):
    def act(self, obs: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Scenario:
    """One episode to run: scene, goal region, start pose, time budget (None: from the route)."""

    scene: str
    goal: str
    start: tuple[float, float, float]
    time_budget: float | None = None
    seed: int = 0


@dataclass(frozen=True)
class EpisodeResult:
    """What one episode did. ``path`` is (T+1, 2) positions at every control step, from the start."""

    scenario: Scenario
    success: bool
    timed_out: bool
    steps: int
    time: float
    time_budget: float
    collision_steps: int
    unstable: bool
    nan_obs: int
    nan_actions: int
    raw_out_of_bounds: int
    warnings: dict[str, int]
    ret: float
    path: np.ndarray = field(repr=False)
    route: tuple[tuple[float, float], ...] = ()

    @property
    def collided(self) -> bool:
        return self.collision_steps > 0


@dataclass
class _Slot:
    env: NavEnv
    scenario: Scenario | None = None
    obs: np.ndarray | None = None
    ret: float = 0.0
    nan_obs: int = 0
    done: bool = False
    timed_out: bool = False


def _finish(slot: _Slot) -> EpisodeResult:
    env, c = slot.env, slot.env.counters
    return EpisodeResult(
        scenario=slot.scenario,  # type: ignore[arg-type]
        success=bool(env.succeeded),
        timed_out=slot.timed_out,
        steps=env.steps,
        time=env.t,
        time_budget=env.budget,
        collision_steps=c["collisions"],
        unstable=c["unstable"] > 0,
        nan_obs=slot.nan_obs,
        nan_actions=c["nan_actions"],
        raw_out_of_bounds=c["raw_out_of_bounds"],
        warnings=env.warnings(),
        ret=slot.ret,
        path=np.asarray(env.path),
        route=tuple(env.tracker.waypoints),
    )


def rollout(
    policy: ActsInBatches,
    scenarios: Sequence[Scenario],
    n_envs: int = 16,
    config: NavEnvConfig | None = None,
    k: int | None = None,
    deadline: float | None = None,
    threads: int | None = None,
) -> list[EpisodeResult]:
    """Run every scenario to its end with batched policy calls.

    Args:
        policy: Anything with ``act(obs[B, obs_dim]) -> actions[B, K, 2]`` (physical units).
        scenarios: Episodes to run; scenes may differ (one shared model per scene).
        n_envs: Envs stepped together per scene (MjData copies of one model).
        config: Env settings (goal/start come from each scenario; randomisation must be off because
            the model is shared).
        k: Use only the first ``k`` actions of each sequence (default: all the policy emits).
        deadline: ``time.perf_counter()`` value after which the rollout gives up (ValidationError).
        threads: Threads that play the envs' sequences between two policy calls (default: one per
            CPU this process may use, at most 4). ``mujoco.mj_step`` releases the GIL, so the physics
            of different envs runs in parallel; each env is touched by one thread at a time and its
            episode is the same whatever the thread count (test/sim/test_batch.py).

    Returns:
        One :class:`EpisodeResult` per scenario, in the order given.

    Raises:
        ValidationError: when the policy's output has the wrong shape, randomisation is on, or the
            deadline passes.
    """
    config = config or NavEnvConfig()
    if config.randomization.enabled:
        raise ValidationError("batched rollouts share one model per scene: switch randomization off")
    if threads is None:
        threads = min(
            len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 4
        )
    if threads < 1:
        raise ValidationError(f"threads must be at least 1, got {threads}")
    results: dict[int, EpisodeResult] = {}
    by_scene: dict[str, list[int]] = {}
    for i, s in enumerate(scenarios):
        by_scene.setdefault(s.scene, []).append(i)
    for scene, idx in by_scene.items():
        cfg = config.replace(scene=scene, goals=())
        envs = _checkout(scene, cfg, min(n_envs, len(idx)))
        n_threads = min(threads, len(envs))  # the calling thread plays one group itself
        pool = ThreadPoolExecutor(n_threads - 1, thread_name_prefix="rollout") if n_threads > 1 else None
        try:
            slots = [_Slot(env) for env in envs]
            for i, res in zip(
                idx,
                _run_scene(policy, [scenarios[j] for j in idx], slots, k, deadline, pool, n_threads),
                strict=True,
            ):
                results[i] = res
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
            _checkin(scene, cfg, envs)
    return [results[i] for i in range(len(scenarios))]


_WORLDS: dict[str, tuple[Any, Any]] = {}
_IDLE: dict[str, dict[NavEnvConfig, list[NavEnv]]] = {}  # per scene, per config: envs no rollout holds
_IDLE_CONFIGS = 4  # configs kept per scene (each env holds an MjData of a few MB); the oldest goes first
_LOCK = threading.Lock()


def _shared_world(scene: str) -> tuple[Any, Any]:
    """One compiled world per scene, reused by later rollouts (the gate and the benches call
    :func:`rollout` repeatedly; compiling costs tens of ms). Safe to share: randomisation is off
    here, and envs only ever write their own MjData."""
    with _LOCK:
        if scene not in _WORLDS:
            if len(_WORLDS) >= 8:
                evicted = next(iter(_WORLDS))
                _WORLDS.pop(evicted)
                _IDLE.pop(evicted, None)
            _WORLDS[scene] = build_world(scene)
        return _WORLDS[scene]


def _checkout(scene: str, cfg: NavEnvConfig, n: int) -> list[NavEnv]:
    """``n`` envs of the scene's shared world for one rollout: idle ones left by earlier rollouts
    with the same config first, new ones for the rest. Building an env costs tens of ms (its MjData,
    the observation builder's self-check), more than a short evaluation's stepping; a reused env is
    as good as new because every episode starts with a full ``reset`` (the runner already reuses an
    env for its next scenario). Envs are checked out, so concurrent rollouts never share one."""
    world = _shared_world(scene)
    envs: list[NavEnv] = []
    try:
        hash(cfg)
    except TypeError:  # a config holding lists: no pooling
        pool: list[NavEnv] = []
    else:
        with _LOCK:
            pool = _IDLE.setdefault(scene, {}).setdefault(cfg, [])
            while pool and len(envs) < n:
                env = pool.pop()
                if env.model is world[0]:  # not one of an evicted world
                    envs.append(env)
    return envs + [NavEnv(cfg, world=world) for _ in range(n - len(envs))]


def _checkin(scene: str, cfg: NavEnvConfig, envs: list[NavEnv]) -> None:
    """Return a rollout's envs to the idle pool (also after an error: the next reset rebuilds their state)."""
    try:
        hash(cfg)
    except TypeError:
        return
    with _LOCK:
        if scene in _WORLDS:
            pools = _IDLE.setdefault(scene, {})
            pools[cfg] = pools.pop(cfg, []) + envs  # most recently used last
            while len(pools) > _IDLE_CONFIGS:
                pools.pop(next(iter(pools)))


def _run_scene(
    policy: ActsInBatches,
    scenarios: Sequence[Scenario],
    slots: list[_Slot],
    k: int | None,
    deadline: float | None,
    pool: ThreadPoolExecutor | None = None,
    pool_size: int = 1,
) -> Iterator[EpisodeResult]:
    pending = list(enumerate(scenarios))[::-1]
    done: dict[int, EpisodeResult] = {}
    order: dict[int, int] = {}

    def start(slot: _Slot) -> bool:
        if not pending:
            slot.scenario = None
            return False
        j, sc = pending.pop()
        obs, _ = slot.env.reset(
            seed=sc.seed, options={"goal": sc.goal, "start": sc.start, "time_budget": sc.time_budget}
        )
        slot.scenario, slot.obs, slot.ret, slot.nan_obs = sc, obs, 0.0, 0
        slot.done = slot.timed_out = False
        order[id(slot)] = j
        return True

    active = [s for s in slots if start(s)]
    while active:
        if deadline is not None and time.perf_counter() > deadline:
            raise ValidationError(
                f"rollout ran past its wall-time limit with {len(pending) + len(active)} episodes left"
            )
        obs = np.stack([s.obs for s in active]).astype(np.float32, copy=False)
        finite = np.isfinite(obs).all(axis=1)
        actions = np.asarray(policy.act(obs))
        if actions.ndim != 3 or actions.shape[0] != len(active) or actions.shape[2] != 2:
            raise ValidationError(
                f"policy returned shape {list(actions.shape)}, expected [{len(active)}, K, 2]"
            )
        steps = actions.shape[1] if k is None else min(k, actions.shape[1])
        for row, slot in enumerate(active):
            if not finite[row]:
                slot.nan_obs += 1
        if pool is None or len(active) < 2:
            _play(active, actions, 0, steps)
        else:
            n = min(pool_size, len(active))
            bounds = [round(i * len(active) / n) for i in range(n + 1)]
            futures = [
                pool.submit(_play, active[lo:hi], actions, lo, steps)
                for lo, hi in itertools.pairwise(bounds[1:])
            ]
            try:
                _play(active[: bounds[1]], actions, 0, steps)
            finally:
                wait(futures)  # no env is still being stepped when this block ends, error or not
            for f in futures:
                f.result()  # re-raises a worker's error
        still = []
        for slot in active:
            if slot.done:
                done[order[id(slot)]] = _finish(slot)
                if start(slot):
                    still.append(slot)
            else:
                still.append(slot)
        active = still
    for j in range(len(scenarios)):
        yield done[j]


def _play(slots: list[_Slot], actions: np.ndarray, first_row: int, steps: int) -> None:
    """Play each slot's sequence (row ``first_row + i`` of ``actions``) until it ends or its episode does."""
    for row, slot in enumerate(slots, first_row):
        seq = actions[row]
        env = slot.env
        for step in range(steps):
            terms, terminated, truncated, _ = env.advance(seq[step], full_info=False)
            slot.ret += sum(terms.values())
            if terminated or truncated:
                slot.done, slot.timed_out = True, truncated
                break
        if not slot.done:
            slot.obs = env.observe()


def sample_scenarios(
    scene: str, n: int, seed: int, goals: Sequence[str] = (), start: str = "region", **env_options: Any
) -> list[Scenario]:
    """``n`` reproducible scenarios: goals and starts drawn like :class:`NavEnv` resets draw them."""
    from cadence.sim.registry import ENVS

    base = next((c for c in ENVS.values() if c.scene == scene), NavEnvConfig(scene=scene))
    env = NavEnv(base.replace(scene=scene, goals=tuple(goals), start=start, **env_options))
    out = []
    for i in range(n):
        _, info = env.reset(seed=seed + i)
        a = env.info.qpos_adr
        qw, qz = env.data.qpos[a + 3], env.data.qpos[a + 6]
        x, y = env.path[0]
        out.append(Scenario(scene, info["goal"], (x, y, 2.0 * math.atan2(qz, qw)), None, seed + i))
    return out
