"""Simulation throughput: raw physics vs env.step, and the batched evaluator vs SB3 evaluate_policy (issue 3).

One run, one scene (apartment), interleaved repeats (the machine is shared: compare ratios):

* ``raw``: ``mujoco.mj_step(model, data, 25)`` on a copy of the env's state with the same wheel
  commands, interleaved with the env's steps — the physics alone for the same control periods;
* ``env``: ``NavEnv.step`` (the same 25 substeps + lidar rays + observation + reward + info),
  random actions; the time of ``reset`` (route planning, start sampling) is reported apart;
* ``sb3``: ``stable_baselines3.common.evaluation.evaluate_policy`` with an SB3 PPO MlpPolicy on the
  env (Monitor-wrapped, as SB3 expects);
* ``batched``: :func:`cadence.sim.batch.rollout` with THE SAME torch network, wrapped as a batched
  ``act(obs[B, obs_dim]) -> [B, K, 2]``: K=1 (a decision every control step, the same semantics as
  evaluate_policy) and K=8 (the executor's sequence length, what the gate runs).

Evaluation speed is env steps per second of wall time (episode lengths differ between the two
harnesses because they draw different goals; steps/s is comparable, episodes/s is not).
Targets: env_vs_physics >= 0.6, eval_speedup_vs_sb3 >= 5.

    nice -n 10 .venv/bin/python bench/sim_bench.py [--episodes 8] [--repeats 3]

Last line: one JSON object with ``env_vs_physics`` and ``eval_speedup_vs_sb3`` (K=1; K=8 alongside).
"""

from __future__ import annotations

import argparse
import json
import time

import mujoco
import numpy as np
import torch

ENV_OPTIONS = {"budget_speed": 0.8, "budget_slack": 4.0}  # short episodes: the bench measures rates


def bench_pair(env, n: int, seed: int) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """env.step vs raw mj_step on the SAME trajectory, interleaved step by step.

    A second MjData of the same model follows the env: before each step it is set to the env's
    state (``mj_copyData``, untimed), then the env steps (timed) and the copy steps the same
    wheel commands with bare ``mj_step(model, data, 25)`` (timed). Both pay for the same contacts,
    and alternating them keeps the machine's load out of the ratio. Resets are timed apart.

    Returns:
        (raw substeps/s, env substeps/s, mean seconds per env.reset).
    """
    from cadence.sim import robot as rb

    rng = np.random.default_rng(seed)
    actions = rng.uniform(rb.ACTION_LOW, rb.ACTION_HIGH, (n, 2)).astype(np.float32)
    m, act = env.model, list(env.info.actuators)
    shadow = mujoco.MjData(m)
    env.reset(seed=seed)
    stepping = physics = resetting = 0.0
    resets = 0
    for a in actions:
        mujoco.mj_copyData(shadow, m, env.data)
        t0 = time.perf_counter()
        _, _, terminated, truncated, _ = env.step(a)
        t1 = time.perf_counter()
        shadow.ctrl[act] = rb.wheel_speeds(*rb.clamp_command(float(a[0]), float(a[1])))
        t2 = time.perf_counter()
        mujoco.mj_step(m, shadow, rb.N_SUBSTEPS)
        t3 = time.perf_counter()
        stepping += t1 - t0
        physics += t3 - t2
        if terminated or truncated:
            env.reset()
            resetting += time.perf_counter() - t3
            resets += 1
    sub = n * rb.N_SUBSTEPS
    return sub / physics, sub / stepping, resetting / max(resets, 1)


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
    """The SB3 policy network as a batched cadence policy: deterministic action, clipped like predict()."""

    def __init__(self, model, k: int) -> None:  # type: ignore[no-untyped-def]
        from cadence.sim import robot as rb

        self.policy, self.k = model.policy, k
        self.low, self.high = np.array(rb.ACTION_LOW, np.float32), np.array(rb.ACTION_HIGH, np.float32)

    def act(self, obs: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            a = self.policy._predict(torch.as_tensor(obs), deterministic=True).numpy()
        a = np.clip(a, self.low, self.high)
        return np.repeat(a[:, None, :], self.k, axis=1)


def bench_sb3(model, env, episodes: int) -> float:  # type: ignore[no-untyped-def]
    from stable_baselines3.common.evaluation import evaluate_policy

    _, lengths = evaluate_policy(
        model, env, n_eval_episodes=episodes, deterministic=True, return_episode_rewards=True
    )
    return float(sum(lengths))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=8, help="episodes per evaluation harness")
    parser.add_argument("--steps", type=int, default=1500, help="control steps for raw / env rates")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)

    from stable_baselines3 import PPO
    from stable_baselines3.common.monitor import Monitor

    import cadence.sim
    from cadence.sim.batch import rollout, sample_scenarios
    from cadence.sim.config import NavEnvConfig

    env = cadence.sim.make("rover-apartment", **ENV_OPTIONS)
    sb3_env = Monitor(cadence.sim.make("rover-apartment", **ENV_OPTIONS))
    sb3_env.reset(seed=0)
    model = PPO("MlpPolicy", sb3_env, seed=0, device="cpu", policy_kwargs={"net_arch": [256, 256]})
    scenarios = sample_scenarios("apartment", args.episodes, seed=0, **ENV_OPTIONS)
    config = NavEnvConfig(scene="apartment").replace(**ENV_OPTIONS)

    rates: dict[str, list[float]] = {k: [] for k in ("raw", "env", "sb3", "batched_k1", "batched_k8")}
    reset_times: list[float] = []
    for r in range(args.repeats):
        raw_rate, env_rate, reset_s = bench_pair(env, args.steps, seed=r)
        rates["raw"].append(raw_rate)
        rates["env"].append(env_rate)
        reset_times.append(reset_s)
        t0 = time.perf_counter()
        steps = bench_sb3(model, sb3_env, args.episodes)
        rates["sb3"].append(steps / (time.perf_counter() - t0))
        for k in (1, 8):
            t0 = time.perf_counter()
            res = rollout(SB3Batched(model, k), scenarios, n_envs=args.episodes, config=config)
            rates[f"batched_k{k}"].append(sum(e.steps for e in res) / (time.perf_counter() - t0))
        print(f"repeat {r}: " + ", ".join(f"{k}={v[-1]:.0f}" for k, v in rates.items()), flush=True)

    med = {k: float(np.median(v)) for k, v in rates.items()}
    obs_us = bench_observation()
    env_vs_physics = med["env"] / med["raw"]
    physics_ctrl_rate = med["raw"] / 25.0
    print(
        f"raw mj_step           {med['raw']:>10.0f} substeps/s  ({physics_ctrl_rate:.0f} control periods/s)"
    )
    print(f"env.step              {med['env']:>10.0f} substeps/s  -> {env_vs_physics:.2f} of raw physics")
    print(
        f"env.reset             {np.median(reset_times) * 1e3:>10.1f} ms (route + start sampling; not in the rate)"
    )
    print(f"observation build     {obs_us:>10.1f} us (median, 36-beam scan)")
    print(f"SB3 evaluate_policy   {med['sb3']:>10.0f} env steps/s")
    print(
        f"batched K=1           {med['batched_k1']:>10.0f} env steps/s  -> {med['batched_k1'] / med['sb3']:.2f}x SB3"
    )
    print(
        f"batched K=8           {med['batched_k8']:>10.0f} env steps/s  -> {med['batched_k8'] / med['sb3']:.2f}x SB3"
    )
    print(
        f"ceiling (physics only){physics_ctrl_rate:>10.0f} env steps/s  -> {physics_ctrl_rate / med['sb3']:.2f}x SB3"
    )
    print(
        json.dumps(
            {
                "env_vs_physics": round(env_vs_physics, 3),
                "eval_speedup_vs_sb3": round(med["batched_k1"] / med["sb3"], 2),
                "eval_speedup_vs_sb3_k8": round(med["batched_k8"] / med["sb3"], 2),
                "physics_ceiling_vs_sb3": round(physics_ctrl_rate / med["sb3"], 2),
                "raw_substeps_per_s": round(med["raw"]),
                "observation_build_us": round(obs_us, 2),
                "env_reset_ms": round(float(np.median(reset_times)) * 1e3, 2),
                "env_substeps_per_s": round(med["env"]),
                "sb3_steps_per_s": round(med["sb3"]),
                "batched_k1_steps_per_s": round(med["batched_k1"]),
                "batched_k8_steps_per_s": round(med["batched_k8"]),
            }
        )
    )


if __name__ == "__main__":
    main()
