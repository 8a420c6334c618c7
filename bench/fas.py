"""FAS benchmark: SRL vs SB3 SAC with action repeat on the rover task (issue 4).

Both learners get the same primitive env-step budget and seeds. Each trained policy is evaluated at
decision intervals J in {1, 2, 4, 8, 16}; returns are normalised between a random policy's return
(0) and the best mean return any evaluated policy reached at any interval (1); FAS is the area under
the normalised return-vs-frequency curve (:mod:`cadence.learn.fas`). Prints a table, the ratio
FAS(SRL) / FAS(SAC) (target >= 1.2), the same with the zero-command policy as the floor (standing
still never collides, so on navigation it scores far above random commands), and ends with one
JSON line.

    nice -n 10 .venv/bin/python bench/fas.py --steps 20000 --seeds 3

Takes tens of minutes on two shared cores; not part of ``make test``.
"""

from __future__ import annotations

import argparse
import json
import time

import gymnasium as gym
import numpy as np
import torch

from cadence.learn.baselines import sb3_policy_fn, train_sb3
from cadence.learn.config import SRLConfig
from cadence.learn.envs import make_env
from cadence.learn.evaluation import evaluate
from cadence.learn.fas import DEFAULT_INTERVALS, frequency_averaged_score
from cadence.learn.trainer import train_srl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="rover-apartment")
    parser.add_argument("--steps", type=int, default=20_000, help="primitive env steps per run")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--k", type=int, default=8, help="SRL sequence length")
    parser.add_argument(
        "--repeat", type=int, default=8, help="SAC action repeat J (same decision rate as SRL)"
    )
    parser.add_argument("--episodes", type=int, default=5, help="evaluation episodes per interval")
    parser.add_argument("--max-episode-steps", type=int, default=400, help="training episode cap")
    parser.add_argument("--reward-scale", type=float, default=10.0, help="reward factor for both learners")
    args = parser.parse_args()
    torch.set_num_threads(1)
    eval_env = make_env(args.env)

    def curve(policy) -> dict[int, float]:
        return {j: evaluate(eval_env, policy, j, args.episodes, seed=50_000).mean for j in DEFAULT_INTERVALS}

    rng = np.random.default_rng(0)
    low_act, high_act = eval_env.action_space.low, eval_env.action_space.high
    random_return = evaluate(
        eval_env, lambda o: rng.uniform(low_act, high_act)[None, :], 1, args.episodes, seed=50_000
    ).mean
    # standing still never collides: on navigation it is a much higher floor than random commands
    zero_return = evaluate(
        eval_env, lambda o: np.zeros((1, len(low_act)), np.float32), 1, args.episodes, seed=50_000
    ).mean
    curves: dict[str, list[dict[int, float]]] = {"srl": [], "sac": []}
    seconds: dict[str, float] = {"srl": 0.0, "sac": 0.0}
    for seed in range(args.seeds):
        t0 = time.time()
        # the rover hyper-parameters of scripts/train_rover.sh, without the guide
        cfg = SRLConfig(
            k=args.k,
            total_steps=args.steps,
            learning_starts=min(2000, args.steps // 5),
            eval_every=0,
            seed=seed,
            reward_scale=args.reward_scale,
            init_alpha=0.05,
            alpha_lr=1e-3,
            batch_size=128,
        )
        agent = train_srl(make_env(args.env, args.max_episode_steps), cfg).agent
        seconds["srl"] += time.time() - t0
        curves["srl"].append(curve(lambda o, a=agent: a.act(o, True)))
        t0 = time.time()
        sac_env = gym.wrappers.TransformReward(
            make_env(args.env, args.max_episode_steps), lambda r: args.reward_scale * r
        )
        model = train_sb3("sac", sac_env, args.steps, seed, args.repeat)
        seconds["sac"] += time.time() - t0
        curves["sac"].append(curve(sb3_policy_fn(model)))
        print(f"seed {seed}: srl {curves['srl'][-1]}  sac {curves['sac'][-1]}", flush=True)

    # the best mean return observed; never below a floor (when every learner is worse than the floors,
    # every normalised score is 0 instead of the normalisation being undefined)
    best = max(max(c.values()) for runs in curves.values() for c in runs)
    high = max(best, random_return + 1e-6, zero_return + 1e-6)
    fas = {
        algo: [frequency_averaged_score(c, random_return, high) for c in runs]
        for algo, runs in curves.items()
    }
    print(
        f"\nnormalisation: random policy {random_return:.2f} -> 0, {high:.2f} -> 1 (best observed {best:.2f})"
    )
    print(
        f"{'algo':5s} " + " ".join(f"J={j:<6d}" for j in DEFAULT_INTERVALS) + "  FAS (mean +- std over seeds)"
    )
    for algo, runs in curves.items():
        means = [np.mean([c[j] for c in runs]) for j in DEFAULT_INTERVALS]
        print(
            f"{algo:5s} "
            + " ".join(f"{m:<8.2f}" for m in means)
            + f"  {np.mean(fas[algo]):.3f} +- {np.std(fas[algo]):.3f}"
        )
    ratio = float(np.mean(fas["srl"]) / max(np.mean(fas["sac"]), 1e-9))
    print(f"FAS(SRL) / FAS(SAC) = {ratio:.2f}  (target >= 1.2; floor = random policy)")
    fas_zero = {
        algo: [frequency_averaged_score(c, zero_return, high) for c in runs] for algo, runs in curves.items()
    }
    ratio_zero = float(np.mean(fas_zero["srl"]) / max(np.mean(fas_zero["sac"]), 1e-9))
    print(
        f"with the zero-command policy ({zero_return:.2f}) as floor: FAS(SRL) {np.mean(fas_zero['srl']):.3f}, "
        f"FAS(SAC) {np.mean(fas_zero['sac']):.3f}, ratio {ratio_zero:.2f}"
    )
    print(
        json.dumps(
            {
                "bench": "fas",
                "env": args.env,
                "steps": args.steps,
                "seeds": args.seeds,
                "k": args.k,
                "sac_repeat": args.repeat,
                "fas_srl": float(np.mean(fas["srl"])),
                "fas_sac": float(np.mean(fas["sac"])),
                "fas_srl_per_seed": fas["srl"],
                "fas_sac_per_seed": fas["sac"],
                "ratio": ratio,
                "random_return": random_return,
                "zero_return": zero_return,
                "best_return": high,
                "fas_srl_zero_floor": float(np.mean(fas_zero["srl"])),
                "fas_sac_zero_floor": float(np.mean(fas_zero["sac"])),
                "ratio_zero_floor": ratio_zero,
                "train_seconds": {k: round(v, 1) for k, v in seconds.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
