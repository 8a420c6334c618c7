"""Does the critic's dense progress speed up learning? (issue 6; long, not part of `make test`)

The same learner (SB3 SAC with action repeat J = 8, via ``cadence.learn.baselines.train_sb3``) on the
same rover task with the same primitive-step budget and seeds, two rewards:

- ``sparse``: the env's success bonus only (every other reward term scaled to 0);
- ``critic``: the same sparse reward plus ``scale * delta`` of the analytic STL critic
  (:class:`cadence.critic.reward.CriticReward`).

Every ``--eval-every`` primitive steps the policy is evaluated (deterministic, on the sparse env,
``cadence.learn.evaluation.evaluate``); a run's score is the first step count at which the success rate
reaches 80 %. Runs that never get there count as the budget (so the ratio is then an upper bound).

    nice -n 10 .venv/bin/python bench/critic_reward.py [--steps 40000] [--seeds 0 1 2]

Final line: JSON with ``steps_to_80_sparse``, ``steps_to_80_critic`` (medians over seeds) and
``ratio`` (critic / sparse; target <= 0.5).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from cadence.critic.reward import CriticReward
from cadence.critic.stl_critic import StlCritic
from cadence.learn.baselines import sb3_policy_fn, train_sb3
from cadence.learn.evaluation import evaluate
from cadence.sim import make

SPARSE = {"progress": 0.0, "success": 10.0, "collision": 0.0, "time": 0.0, "timeout": 0.0}
REPEAT = 8
TARGET = 0.8


def make_env(args: argparse.Namespace, shaped: bool):
    env = make(args.env, goals=(args.goal,), start=args.start, reward=dict(SPARSE))
    if shaped:
        env = CriticReward(env, StlCritic(), scale=args.scale, every=REPEAT)
    return env


def run(args: argparse.Namespace, shaped: bool, seed: int) -> dict:
    from stable_baselines3.common.callbacks import BaseCallback

    eval_env = make_env(args, shaped=False)
    curve: list[tuple[int, float]] = []

    class Probe(BaseCallback):
        def _on_step(self) -> bool:
            steps = self.num_timesteps * REPEAT  # SB3 counts decisions
            if steps % args.eval_every < REPEAT:
                res = evaluate(eval_env, sb3_policy_fn(self.model), REPEAT, args.eval_episodes, seed=10_000)
                curve.append((steps, res.success_rate))
                if res.success_rate >= TARGET and args.stop_at_target:
                    return False
            return True

    t0 = time.perf_counter()
    train_sb3("sac", make_env(args, shaped), args.steps, seed, repeat=REPEAT, hidden=128, callback=Probe())
    reached = next((s for s, rate in curve if rate >= TARGET), None)
    label = "critic" if shaped else "sparse"
    print(
        f"{label:6s} seed {seed}: 80 % success at {reached if reached is not None else f'>{args.steps}'} steps "
        f"({time.perf_counter() - t0:.0f} s); curve {[(s, round(r, 2)) for s, r in curve]}",
        flush=True,
    )
    return {"reached": reached, "curve": curve}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="rover-apartment")
    parser.add_argument("--goal", default="kitchen")
    parser.add_argument("--start", default="scene", help="env start mode: scene | region | anywhere")
    parser.add_argument("--steps", type=int, default=40_000, help="primitive-step budget per run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--eval-every", type=int, default=2_000)
    parser.add_argument("--eval-episodes", type=int, default=10)
    parser.add_argument("--scale", type=float, default=10.0, help="critic reward per unit of progress")
    parser.add_argument("--stop-at-target", action="store_true", help="stop a run once it reaches 80 %%")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)  # small nets on a shared 2-core CPU: more threads only contend

    results = {"sparse": [], "critic": []}
    for seed in args.seeds:
        for shaped in (False, True):
            results["critic" if shaped else "sparse"].append(run(args, shaped, seed))

    def steps(label: str) -> list[int]:
        return [r["reached"] if r["reached"] is not None else args.steps for r in results[label]]

    sparse, critic = float(np.median(steps("sparse"))), float(np.median(steps("critic")))
    censored = {k: sum(r["reached"] is None for r in v) for k, v in results.items()}
    ratio = critic / sparse
    print(
        f"median steps to 80 % success: sparse {sparse:.0f}, critic {critic:.0f}; ratio {ratio:.2f} (target <= 0.5)"
    )
    if censored["sparse"]:
        print(
            f"  {censored['sparse']} sparse run(s) never reached 80 % within {args.steps} steps: ratio is an upper bound"
        )
    print(
        json.dumps(
            {
                "steps_to_80_sparse": sparse,
                "steps_to_80_critic": critic,
                "ratio": round(ratio, 3),
                "censored_runs": censored,
                "per_seed": {"sparse": steps("sparse"), "critic": steps("critic")},
                "budget": args.steps,
                "seeds": args.seeds,
                "env": args.env,
                "goal": args.goal,
            },
            separators=(",", ":"),
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
