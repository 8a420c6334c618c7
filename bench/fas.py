"""FAS benchmark: SRL vs SB3 SAC with action repeat on the rover task (issue 4).

Both learners train on the same env (``--train-env``, default ``rover-apartment-strict``: an episode
ends at the first contact) with the same primitive env-step budget, reward scale and seeds. Each
trained policy is evaluated on the task itself (``--env``, the default rover-apartment return, where a
contact costs every step it lasts) at decision intervals J in {1, 2, 4, 8, 16}. As in the paper's
evaluation code, returns are normalised between a floor (0: a uniformly random policy) and a fixed
task reference (1: the backup controller's return at J=1, the go-to-waypoint law that always
arrives), without clipping, and FAS is the area under the normalised return-vs-interval curve
(:mod:`cadence.learn.fas`). The ratio does not depend on the reference (unclipped, fixed floor).
Prints a table, the ratio FAS(SRL) / FAS(SAC) (target >= 1.2), the same with the zero-command
policy as the floor (standing still never collides, so on navigation it scores far above random
commands) and on the frequency axis (what this bench printed before), and ends with one JSON line.

    MUJOCO_GL=egl nice -n 19 .venv/bin/python bench/fas.py --steps 20000 --seeds 4 --episodes 6

About 11 minutes on two shared cores (4 seeds); not part of ``make test``.
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
from cadence.learn.demos import make_guide
from cadence.learn.envs import make_env
from cadence.learn.evaluation import evaluate
from cadence.learn.fas import DEFAULT_INTERVALS, frequency_averaged_score
from cadence.learn.trainer import train_srl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="rover-apartment", help="evaluation env (the task's return)")
    parser.add_argument("--train-env", default="rover-apartment-strict", help="training env of both learners")
    parser.add_argument("--steps", type=int, default=20_000, help="primitive env steps per run")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--k", type=int, default=8, help="SRL sequence length")
    parser.add_argument(
        "--repeat", type=int, default=8, help="SAC action repeat J (same decision rate as SRL)"
    )
    parser.add_argument("--episodes", type=int, default=5, help="evaluation episodes per interval")
    parser.add_argument("--max-episode-steps", type=int, default=400, help="training episode cap")
    parser.add_argument("--reward-scale", type=float, default=10.0, help="reward factor for both learners")
    parser.add_argument("--algos", default="srl,sac", help="comma-separated subset of srl,sac")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override an SRLConfig field"
    )
    args = parser.parse_args()
    algos = [a for a in args.algos.split(",") if a]
    if not algos or set(algos) - {"srl", "sac"}:
        parser.error(f"--algos must name srl and/or sac, got {args.algos!r}")
    torch.set_num_threads(1)
    eval_env = make_env(args.env)
    srl_overrides = dict(_parse_set(item, parser) for item in args.set)

    def curve(policy_at) -> dict[int, float]:
        """Mean return at each interval J of ``policy_at(J)`` (the policy queried every J steps)."""
        return {
            j: evaluate(eval_env, policy_at(j), j, args.episodes, seed=50_000).mean for j in DEFAULT_INTERVALS
        }

    rng = np.random.default_rng(0)
    low_act, high_act = eval_env.action_space.low, eval_env.action_space.high
    random_return = evaluate(
        eval_env, lambda o: rng.uniform(low_act, high_act)[None, :], 1, args.episodes, seed=50_000
    ).mean
    # standing still never collides: on navigation it is a much higher floor than random commands
    zero_return = evaluate(
        eval_env, lambda o: np.zeros((1, len(low_act)), np.float32), 1, args.episodes, seed=50_000
    ).mean
    # the task reference (1 after normalisation): the backup go-to-waypoint law, deciding every step
    obs_dim = int(eval_env.observation_space.shape[0])
    reference = evaluate(eval_env, make_guide("backup", obs_dim, args.k), 1, args.episodes, seed=50_000).mean
    curves: dict[str, list[dict[int, float]]] = {a: [] for a in algos}
    seconds: dict[str, float] = dict.fromkeys(algos, 0.0)
    for seed in range(args.seeds):
        if "srl" in algos:
            t0 = time.time()
            cfg = srl_config(args, seed).replace(**srl_overrides)
            agent = train_srl(make_env(args.train_env, args.max_episode_steps), cfg).agent
            seconds["srl"] += time.time() - t0
            # a GRU actor continues its sequence to J actions; an MLP one plays its K and holds the last
            curves["srl"].append(curve(lambda j, a=agent: lambda o: a.act(o, True, length=j)))
            print(f"seed {seed} srl ({time.time() - t0:.0f} s): {_fmt(curves['srl'][-1])}", flush=True)
        if "sac" in algos:
            t0 = time.time()
            sac_env = gym.wrappers.TransformReward(
                make_env(args.train_env, args.max_episode_steps), lambda r: args.reward_scale * r
            )
            model = train_sb3("sac", sac_env, args.steps, seed, args.repeat)
            seconds["sac"] += time.time() - t0
            sac_policy = sb3_policy_fn(model)  # action repeat: the same policy at every J
            curves["sac"].append(curve(lambda j, f=sac_policy: f))
            print(f"seed {seed} sac ({time.time() - t0:.0f} s): {_fmt(curves['sac'][-1])}", flush=True)

    high = max(reference, random_return + 1e-6)
    ceiling = return_ceiling(eval_env, args.episodes, seed=50_000)
    fas_ceiling = frequency_averaged_score(
        dict.fromkeys(DEFAULT_INTERVALS, ceiling), random_return, high, clip=False
    )

    def scores(low: float, axis: str) -> dict[str, list[float]]:
        return {
            algo: [frequency_averaged_score(c, low, high, clip=False, axis=axis) for c in runs]
            for algo, runs in curves.items()
        }

    def ratio_of(f: dict[str, list[float]]) -> float:
        if not {"srl", "sac"} <= set(f):
            return float("nan")
        return float(np.mean(f["srl"]) / np.mean(f["sac"])) if np.mean(f["sac"]) > 0 else float("inf")

    fas = scores(random_return, "interval")
    print(
        f"\nnormalisation (unclipped): random policy {random_return:.2f} -> 0, backup controller at J=1 "
        f"{reference:.2f} -> 1; zero-command policy {zero_return:.2f}"
    )
    print(
        f"{'algo':5s} " + " ".join(f"J={j:<6d}" for j in DEFAULT_INTERVALS) + "  FAS (mean +- std over seeds)"
    )
    for algo, runs in curves.items():
        means = [np.mean([c[j] for c in runs]) for j in DEFAULT_INTERVALS]
        print(
            f"{algo:5s} "
            + " ".join(f"{m:<8.2f}" for m in means)
            + f"  {np.mean(fas[algo]):.3f} +- {np.std(fas[algo]):.3f}  per seed "
            + " ".join(f"{x:.3f}" for x in fas[algo])
        )
    ratio = ratio_of(fas)
    print(f"FAS(SRL) / FAS(SAC) = {ratio:.2f}  (target >= 1.2; floor = random policy, area over J)")
    if "sac" in fas:
        print(
            f"ceiling: no policy returns more than {ceiling:.2f} on these episodes (route length + success "
            f"bonus - time at top speed), so FAS <= {fas_ceiling:.3f} and FAS(any) / FAS(SAC) <= "
            f"{fas_ceiling / np.mean(fas['sac']):.2f}"
        )
    extra = {
        "zero_floor": scores(zero_return, "interval"),
        "frequency_axis": scores(random_return, "frequency"),
    }
    for name, f in extra.items():
        print(
            f"  {name}: "
            + ", ".join(f"FAS({a.upper()}) {np.mean(v):.3f}" for a, v in f.items())
            + f", ratio {ratio_of(f):.2f}"
        )
    print(
        json.dumps(
            {
                "bench": "fas",
                "env": args.env,
                "train_env": args.train_env,
                "steps": args.steps,
                "seeds": args.seeds,
                "episodes": args.episodes,
                "k": args.k,
                "sac_repeat": args.repeat,
                "srl_overrides": srl_overrides,
                "returns": {
                    a: [{str(j): r for j, r in c.items()} for c in runs] for a, runs in curves.items()
                },
                "fas_per_seed": fas,
                "fas": {a: float(np.mean(v)) for a, v in fas.items()},
                "ratio": ratio,
                "return_ceiling": ceiling,
                "fas_ceiling": fas_ceiling,
                "ratio_ceiling": fas_ceiling / float(np.mean(fas["sac"])) if "sac" in fas else float("nan"),
                "random_return": random_return,
                "zero_return": zero_return,
                "reference_return": reference,
                "ratio_zero_floor": ratio_of(extra["zero_floor"]),
                "ratio_frequency_axis": ratio_of(extra["frequency_axis"]),
                "train_seconds": {k: round(v, 1) for k, v in seconds.items()},
            }
        )
    )


def return_ceiling(env: gym.Env, episodes: int, seed: int) -> float:
    """An upper bound on any policy's mean return over the evaluation episodes ``seed + i``.

    A return is progress (metres of route left at the start minus metres left at the end, at most
    the route length L) + the success bonus + the per-step time cost, and no policy covers L in fewer
    than ``L / (V_MAX * CONTROL_DT)`` control steps; contacts and timeouts only subtract.
    """
    from cadence.sim import robot

    nav = env.unwrapped
    reward = nav.config.reward
    bounds = []
    for ep in range(episodes):
        env.reset(seed=seed + ep)
        length = float(nav.tracker.remaining_length(*nav.path[0]))
        fastest = np.ceil(length / (robot.V_MAX * robot.CONTROL_DT))
        bounds.append(reward.progress * length + reward.success + min(reward.time, 0.0) * fastest)
    return float(np.mean(bounds))


def srl_config(args: argparse.Namespace, seed: int) -> SRLConfig:
    """The SRL hyper-parameters of the bench (no guide: pure SRL from random exploration).

    Those of ``scripts/train_rover.sh`` without the guide, plus ``n_step = k``: SAC with action repeat
    k backs its decision-level critic up k primitive steps per update; a one-step primitive critic
    needs k times more updates to carry a return as far (4 seeds: FAS 0.801 with n_step=1, 0.831 with 8).
    """
    return SRLConfig(
        k=args.k,
        n_step=args.k,
        total_steps=args.steps,
        learning_starts=min(2000, args.steps // 5),
        eval_every=0,
        seed=seed,
        reward_scale=args.reward_scale,
        init_alpha=0.05,
        alpha_lr=1e-3,
        batch_size=128,
    )


def _parse_set(item: str, parser: argparse.ArgumentParser) -> tuple[str, object]:
    key, sep, raw = item.partition("=")
    default = getattr(SRLConfig(), key, None)
    if not sep or default is None:
        parser.error(f"--set needs KEY=VALUE with an SRLConfig field, got {item!r}")
    try:
        value = type(default)(raw) if not isinstance(default, bool) else raw.lower() in ("1", "true", "yes")
    except ValueError:
        parser.error(f"--set {key}: cannot read {raw!r} as {type(default).__name__}")
    return key, value


def _fmt(curve: dict[int, float]) -> str:
    return " ".join(f"J={j}:{r:.2f}" for j, r in curve.items())


if __name__ == "__main__":
    main()
