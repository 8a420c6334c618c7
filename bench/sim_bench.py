"""Simulation throughput: raw physics vs env.step, and the batched evaluator vs SB3 evaluate_policy (issue 3).

One run, one scene (apartment), interleaved repeats (the machine is shared: compare ratios):

* ``raw``: ``mujoco.mj_step(model, data, 25)`` on a copy of the env's state with the same wheel
  commands, interleaved with the env's steps — the physics alone for the same control periods;
* ``env``: ``NavEnv.step`` (the same 25 substeps + lidar rays + observation + reward + info),
  random actions; the time of ``reset`` (route planning, start sampling) is reported apart.
  Every step is timed on its own: ``env_vs_physics`` is the ratio of the MEDIAN step times (a step
  that the shared machine pre-empts costs milliseconds and would otherwise dominate the mean); the
  ratio of total wall times and of thread CPU times are printed alongside;
* ``sb3``: ``stable_baselines3.common.evaluation.evaluate_policy`` with an SB3 PPO MlpPolicy on the
  env (Monitor-wrapped, as SB3 expects), replaying THE SAME scenarios (goal, start, seed, budget) as
  the batched runner;
* ``batched``: :func:`cadence.sim.batch.rollout` with THE SAME torch network (its actor layers called
  directly, checked to give SB3's deterministic ``predict`` actions), wrapped as a batched
  ``act(obs[B, obs_dim]) -> [B, K, 2]``: K=1 (a decision every control step, the same semantics as
  evaluate_policy) and K=8 (the executor's sequence length, what the gate runs). The runner plays
  the envs' sequences on one thread per usable CPU (``mj_step`` releases the GIL; ``--threads``);
  every configuration also runs on 1 thread in the same repeat, the episodes of both are checked to
  be identical, and both ratios are printed.

Both harnesses compute the same per-episode metrics (success, collision steps, and the STL signals
of :func:`cadence.sim.gate.episode_signals`), inside their timed region. Set-up is outside it on
both sides: SB3's env and PPO model are built before timing, and so are the batched runner's envs
(one untimed warm-up rollout; the runner keeps its envs between rollouts) and the scene the metrics
read. Evaluation speed is env steps per second of wall time; with K=1 both harnesses play the same
episodes (the bench prints how many agree on length and success). Targets: env_vs_physics >= 0.6,
eval_speedup_vs_sb3 >= 5. ``physics_ceiling_vs_sb3`` is what a harness with zero overhead beyond
``mj_step`` would reach. Every ratio is the median of the per-repeat ratios: within a repeat the
runs are back to back, so a change of the machine's load between repeats cancels (until 2026-11-25
the speed-ups were ratios of per-harness medians, which one slow SB3 repeat inflated — e.g. 6.5x
for a run whose per-repeat ratios had a median of 3.0x; ``*_of_medians`` keeps that figure).

    nice -n 10 .venv/bin/python bench/sim_bench.py [--episodes 8] [--repeats 3]

Last line: one JSON object with ``env_vs_physics`` and ``eval_speedup_vs_sb3`` (K=1; K=8 alongside).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from types import SimpleNamespace

import gymnasium as gym
import mujoco
import numpy as np
import torch

from cadence.sim.gate import episode_signals

ENV_OPTIONS = {"budget_speed": 0.8, "budget_slack": 4.0}  # short episodes: the bench measures rates


def bench_pair(env, n: int, seed: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """env.step vs raw mj_step on the SAME trajectory, interleaved step by step.

    A second MjData of the same model follows the env: before each step it is set to the env's
    state (``mj_copyData``, untimed), then the env steps (timed) and the copy steps the same
    wheel commands with bare ``mj_step(model, data, 25)`` (timed). Both pay for the same contacts,
    and alternating them keeps the machine's load out of the ratio. Resets are timed apart.

    Returns:
        Substeps/s of ``raw`` and ``env`` from the median step time, ``*_mean`` from the total wall
        time, ``*_cpu`` from the thread's CPU time, and ``reset_s`` (mean seconds per env.reset).
    """
    from cadence.sim import robot as rb

    rng = np.random.default_rng(seed)
    actions = rng.uniform(rb.ACTION_LOW, rb.ACTION_HIGH, (n, 2)).astype(np.float32)
    m, act = env.model, list(env.info.actuators)
    shadow = mujoco.MjData(m)
    env.reset(seed=seed)
    wall = np.empty((n, 2))
    cpu = np.empty((n, 2))
    resetting = 0.0
    resets = 0
    clock, cpu_clock = time.perf_counter, time.thread_time
    for i, a in enumerate(actions):
        mujoco.mj_copyData(shadow, m, env.data)
        c0, t0 = cpu_clock(), clock()
        _, _, terminated, truncated, _ = env.step(a)
        t1, c1 = clock(), cpu_clock()
        shadow.ctrl[act] = rb.wheel_speeds(*rb.clamp_command(float(a[0]), float(a[1])))
        c2, t2 = cpu_clock(), clock()
        mujoco.mj_step(m, shadow, rb.N_SUBSTEPS)
        t3, c3 = clock(), cpu_clock()
        wall[i] = t1 - t0, t3 - t2
        cpu[i] = c1 - c0, c3 - c2
        if terminated or truncated:
            env.reset()
            resetting += clock() - t3
            resets += 1
    sub = rb.N_SUBSTEPS
    med, tot, cpu_tot = np.median(wall, axis=0), wall.sum(axis=0), cpu.sum(axis=0)
    return {
        "env": sub / med[0],
        "raw": sub / med[1],
        "env_mean": n * sub / tot[0],
        "raw_mean": n * sub / tot[1],
        "env_cpu": n * sub / cpu_tot[0],
        "raw_cpu": n * sub / cpu_tot[1],
        "reset_s": resetting / max(resets, 1),
    }


def bench_observation(n: int = 20000) -> float:
    """Median microseconds of one ObservationBuilder.build (720-beam scan resampled, and 36-beam)."""
    import math

    from cadence.policy.observation import ObservationBuilder, RobotState, Scan, Targets, obs_dim

    builder = ObservationBuilder()
    state, targets = RobotState(1.0, 2.0, 0.3, 0.5, 0.1), Targets((3.0, 2.0), (3.0, 5.0), (6.0, 5.0))
    scan = Scan(np.full(36, 4.0), 0.0, 2 * math.pi / 36, 5.0)
    out = np.empty(obs_dim, np.float32)
    times = np.empty(n)
    for i in range(n):
        t0 = time.perf_counter_ns()
        builder.build(state, scan, targets, 30.0, (0.5, 0.1), out)
        times[i] = time.perf_counter_ns() - t0
    return float(np.median(times)) / 1e3


class SB3Batched:
    """The SB3 policy network as a batched cadence policy: deterministic action, clipped like predict().

    Calls the actor layers directly (features -> mlp_extractor.forward_actor -> action_net: the
    mean, which is what the deterministic ``predict`` returns), without building a distribution
    object per call. :meth:`check` asserts that the actions equal ``model.predict``'s.
    """

    def __init__(self, model, k: int) -> None:  # type: ignore[no-untyped-def]
        from cadence.sim import robot as rb

        self.model, self.policy, self.k = model, model.policy, k
        self.low, self.high = np.array(rb.ACTION_LOW, np.float32), np.array(rb.ACTION_HIGH, np.float32)

    def actions(self, obs: np.ndarray) -> np.ndarray:
        p = self.policy
        with torch.inference_mode():
            features = p.pi_features_extractor(torch.as_tensor(obs))
            a = p.action_net(p.mlp_extractor.forward_actor(features)).numpy()
        return np.clip(a, self.low, self.high)

    def act(self, obs: np.ndarray) -> np.ndarray:
        return np.repeat(self.actions(obs)[:, None, :], self.k, axis=1)

    def check(self, obs: np.ndarray) -> None:
        want = np.stack([self.model.predict(o, deterministic=True)[0] for o in obs])
        np.testing.assert_allclose(self.actions(obs), want, rtol=1e-5, atol=1e-5)


class ScenarioReplay(gym.Wrapper):
    """Makes ``evaluate_policy``'s resets replay the batched runner's scenarios, and records the
    same per-episode metrics :func:`rollout` + the gate compute (success, collision steps, STL signals)."""

    def __init__(self, env, scenarios) -> None:  # type: ignore[no-untyped-def]
        super().__init__(env)
        self.scenarios = list(scenarios)
        self.rewind()

    def rewind(self) -> None:
        self.next = 0
        self.episodes: list[tuple[int, bool, int, dict]] = []

    def reset(self, *, seed=None, options=None):  # type: ignore[no-untyped-def]
        sc = self.scenarios[self.next % len(self.scenarios)]  # DummyVecEnv resets once more at the end
        self.next += 1
        self.current = sc
        return self.env.reset(
            seed=sc.seed, options={"goal": sc.goal, "start": sc.start, "time_budget": sc.time_budget}
        )

    def step(self, action):  # type: ignore[no-untyped-def]
        obs, reward, terminated, truncated, info = self.env.step(action)
        if terminated or truncated:
            env = self.env.unwrapped
            ep = SimpleNamespace(path=np.asarray(env.path), scenario=self.current)
            signals = episode_signals(ep, env.scene)
            self.episodes.append((env.steps, bool(env.succeeded), env.counters["collisions"], signals))
        return obs, reward, terminated, truncated, info


def bench_sb3(model, env, episodes: int) -> float:  # type: ignore[no-untyped-def]
    from stable_baselines3.common.evaluation import evaluate_policy

    env.env.rewind()
    _, lengths = evaluate_policy(
        model, env, n_eval_episodes=episodes, deterministic=True, return_episode_rewards=True
    )
    return float(sum(lengths))


def run_batched(
    policy, scenarios, config, scene, threads=None
) -> tuple[int, list[tuple[int, bool, int, dict]]]:  # type: ignore[no-untyped-def]
    """The batched runner + the same per-episode metrics as :class:`ScenarioReplay` records (with the
    scene loaded once beforehand, as the SB3 side reads its env's scene)."""
    from cadence.sim.batch import rollout

    res = rollout(policy, scenarios, n_envs=len(scenarios), config=config, threads=threads)
    episodes = [(e.steps, e.success, e.collision_steps, episode_signals(e, scene)) for e in res]
    return sum(e.steps for e in res), episodes


def _same_episode(a, b) -> bool:  # type: ignore[no-untyped-def]
    """Equal length, success, collision steps and STL signals."""
    return (
        a[:3] == b[:3] and a[3].keys() == b[3].keys() and all(np.array_equal(a[3][k], b[3][k]) for k in a[3])
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=8, help="episodes per evaluation harness")
    parser.add_argument("--steps", type=int, default=1500, help="control steps for raw / env rates")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="rollout threads (default: the runner's, one per usable CPU up to 4); 1-thread runs are always shown too",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)

    from stable_baselines3 import PPO
    from stable_baselines3.common.monitor import Monitor

    import cadence.sim
    from cadence.sim.batch import sample_scenarios
    from cadence.sim.config import NavEnvConfig

    env = cadence.sim.make("rover-apartment", **ENV_OPTIONS)
    scenarios = sample_scenarios("apartment", args.episodes, seed=0, **ENV_OPTIONS)
    sb3_env = Monitor(ScenarioReplay(cadence.sim.make("rover-apartment", **ENV_OPTIONS), scenarios))
    sb3_env.reset(seed=0)
    model = PPO("MlpPolicy", sb3_env, seed=0, device="cpu", policy_kwargs={"net_arch": [256, 256]})
    config = NavEnvConfig(scene="apartment").replace(**ENV_OPTIONS)
    probe = np.stack([env.reset(seed=i)[0] for i in range(16)])
    SB3Batched(model, 1).check(probe)  # the same network, the same actions as model.predict
    # Set-up outside the timed region on both sides: SB3's env and model are built above; the batched
    # runner builds its envs (kept for later rollouts, as the gate's repeated calls reuse them) here.
    scene = env.scene
    run_batched(SB3Batched(model, 8), scenarios, config, scene)

    keys = ("raw", "env", "raw_mean", "env_mean", "raw_cpu", "env_cpu", "sb3", "sb3_cpu")
    keys += ("batched_k1", "batched_k8", "batched_k1_cpu", "batched_k8_cpu")
    keys += ("batched_k1_1t", "batched_k8_1t", "batched_k1_1t_cpu", "batched_k8_1t_cpu")
    threads = args.threads or min(len(os.sched_getaffinity(0)), 4)
    rates: dict[str, list[float]] = {k: [] for k in keys}
    reset_times: list[float] = []
    agree = 0
    for r in range(args.repeats):
        pair = bench_pair(env, args.steps, seed=r)
        for key in ("raw", "env", "raw_mean", "env_mean", "raw_cpu", "env_cpu"):
            rates[key].append(pair[key])
        reset_times.append(pair["reset_s"])
        c0, t0 = time.process_time(), time.perf_counter()
        steps = bench_sb3(model, sb3_env, args.episodes)
        rates["sb3"].append(steps / (time.perf_counter() - t0))
        rates["sb3_cpu"].append(steps / (time.process_time() - c0))
        sb3_episodes = sb3_env.env.episodes[: args.episodes]
        for k in (1, 8):
            played = {}
            for suffix, n_threads in (("", threads), ("_1t", 1))[:: 1 if r % 2 else -1]:
                c0, t0 = time.process_time(), time.perf_counter()
                steps, played[suffix] = run_batched(SB3Batched(model, k), scenarios, config, scene, n_threads)
                rates[f"batched_k{k}{suffix}"].append(steps / (time.perf_counter() - t0))
                rates[f"batched_k{k}{suffix}_cpu"].append(steps / (time.process_time() - c0))
            if not all(_same_episode(a, b) for a, b in zip(played[""], played["_1t"], strict=True)):
                raise SystemExit(f"K={k}: {threads}-thread and 1-thread rollouts played different episodes")
            if k == 1:
                agree = sum(a[:3] == b[:3] for a, b in zip(played[""], sb3_episodes, strict=True))
        shown = ("raw", "env", "sb3", "batched_k1", "batched_k8", "batched_k1_1t", "batched_k8_1t")
        paired = ", ".join(f"k{k}/sb3={rates[f'batched_k{k}'][-1] / rates['sb3'][-1]:.2f}" for k in (1, 8))
        print(
            f"repeat {r}: " + ", ".join(f"{k}={rates[k][-1]:.0f}" for k in shown) + f" ({paired})", flush=True
        )

    med = {k: float(np.median(v)) for k, v in rates.items()}

    def paired(num: str, den: str, scale: float = 1.0) -> float:
        """Median of the per-repeat ratios: within a repeat the runs are back to back, so a change of
        the shared machine's load between repeats cancels (a ratio of medians taken from different
        repeats does not: one slow SB3 repeat then reads as a large speed-up)."""
        return float(np.median(np.array(rates[num]) * scale / np.array(rates[den])))

    obs_us = bench_observation()
    env_vs_physics = med["env"] / med["raw"]
    physics_ctrl_rate = med["raw_mean"] / 25.0  # total wall time, like the evaluation rates
    sb3 = med["sb3"]
    speedup = {k: paired(f"batched_k{k}", "sb3") for k in (1, 8)}
    speedup_cpu = {k: paired(f"batched_k{k}_cpu", "sb3_cpu") for k in (1, 8)}
    speedup_1t = {k: paired(f"batched_k{k}_1t", "sb3") for k in (1, 8)}
    ceiling = paired("raw_mean", "sb3", 1.0 / 25.0)
    lines = [
        f"raw mj_step            {med['raw']:>9.0f} substeps/s (median step; {med['raw_mean']:.0f} from total wall time)",
        f"env.step               {med['env']:>9.0f} substeps/s -> {env_vs_physics:.2f} of raw physics "
        f"(total wall {med['env_mean'] / med['raw_mean']:.2f}, thread CPU {med['env_cpu'] / med['raw_cpu']:.2f})",
        f"env.reset              {np.median(reset_times) * 1e3:>9.1f} ms (route + start sampling; not in the rate)",
        f"observation build      {obs_us:>9.1f} us (median, 36-beam scan)",
        f"SB3 evaluate_policy    {sb3:>9.0f} env steps/s",
        f"batched K=1            {med['batched_k1']:>9.0f} env steps/s -> {speedup[1]:.2f}x SB3 "
        f"(CPU time {speedup_cpu[1]:.2f}x; {agree}/{args.episodes} episodes "
        "identical in length, success and collisions)",
        f"batched K=8            {med['batched_k8']:>9.0f} env steps/s -> {speedup[8]:.2f}x SB3 "
        f"(CPU time {speedup_cpu[8]:.2f}x)",
        f"  (both with {threads} rollout threads; with 1 thread: K=1 {speedup_1t[1]:.2f}x, "
        f"K=8 {speedup_1t[8]:.2f}x SB3; every episode identical either way)",
        f"1-thread ceiling       {physics_ctrl_rate:>9.0f} env steps/s -> {ceiling:.2f}x SB3",
        # any harness pays at least the physics P per step, and SB3 pays P + its own overhead O, so
        # (P + O) / P >= 5 needs P <= O / 4
        f"5x needs physics <= {(ceiling - 1.0) * 1e6 / physics_ctrl_rate / 4:.0f} us per step "
        f"(SB3's cost beyond the physics / 4); it is {1e6 / physics_ctrl_rate:.0f} us here",
    ]
    print("\n".join(lines))
    print(
        json.dumps(
            {
                "env_vs_physics": round(env_vs_physics, 3),
                "eval_speedup_vs_sb3": round(speedup[1], 2),
                "eval_speedup_vs_sb3_k8": round(speedup[8], 2),
                "rollout_threads": threads,
                "eval_speedup_vs_sb3_1thread": round(speedup_1t[1], 2),
                "eval_speedup_vs_sb3_k8_1thread": round(speedup_1t[8], 2),
                "physics_ceiling_vs_sb3": round(ceiling, 2),
                "env_vs_physics_total_wall": round(med["env_mean"] / med["raw_mean"], 3),
                "env_vs_physics_cpu": round(med["env_cpu"] / med["raw_cpu"], 3),
                "eval_speedup_vs_sb3_cpu": round(speedup_cpu[1], 2),
                "eval_speedup_vs_sb3_k8_cpu": round(speedup_cpu[8], 2),
                "eval_speedup_vs_sb3_of_medians": round(med["batched_k1"] / sb3, 2),
                "eval_speedup_vs_sb3_k8_of_medians": round(med["batched_k8"] / sb3, 2),
                "episodes_identical_k1": agree,
                "raw_substeps_per_s": round(med["raw"]),
                "observation_build_us": round(obs_us, 2),
                "env_reset_ms": round(float(np.median(reset_times)) * 1e3, 2),
                "env_substeps_per_s": round(med["env"]),
                "sb3_steps_per_s": round(sb3),
                "batched_k1_steps_per_s": round(med["batched_k1"]),
                "batched_k8_steps_per_s": round(med["batched_k8"]),
            }
        )
    )


if __name__ == "__main__":
    main()
