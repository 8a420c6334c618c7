"""Critic quality and cost (issue 6): VOC and done F1 per scene for both critics, inference cost.

On held-out MuJoCo episodes (seeds disjoint from the shipped critic's training and held-out
seeds; driven by the same field-following law as the training data, and -- a harder check --
by the shipped SRL policy, a behaviour the critic never saw) in every scene the learned critic was trained on, both critics (``stl``, ``learned``) are
scored: Value-Order Correlation (Spearman between value and time step on successful episodes,
as VLAC reports it) and per-decision done-detection F1. Then the cost of one critic decision is
timed: the learned critic through ONNX Runtime (features + one batched call), the same network
in torch eager (``inference_mode``) and the analytic critic, in the same run.

    .venv/bin/python bench/critic_bench.py [--model models/progress_critic.onnx] [--episodes 20]

Final line: JSON with ``voc`` (lowest over scenes and critics), ``done_f1`` (likewise) and
``infer_us_p99`` (learned critic, ONNX, per decision).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from cadence.critic.evaluate import score_critic
from cadence.critic.learned import LearnedCritic, default_model_path
from cadence.critic.rollouts import sim_episodes
from cadence.critic.stl_critic import StlCritic
from cadence.critic.task import reach_task
from cadence.critic.types import Snapshot
from cadence.paths import models_dir
from cadence.planner.scene import load_scene

BENCH_SEED = 900_000  # far from training (0...) and the trainer's held-out seeds (500_000...)
DECISION_PERIOD_US = 400_000.0  # K = 8 x 50 ms


def _percentiles(samples: list[float]) -> tuple[float, float]:
    arr = np.asarray(samples) * 1e6
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 99))


def _time_critic(critic, task, snaps, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        critic.reset(task, snaps[0])
        for s in snaps[1:]:
            t0 = time.perf_counter()
            critic.observe(s)
            out.append(time.perf_counter() - t0)
    return out


def _torch_twin(model_path: Path, critic: LearnedCritic):
    """The exported network rebuilt in torch from the ONNX initialisers (same weights)."""
    import onnx
    import torch
    from onnx import numpy_helper

    from cadence.critic.train import build_net

    proto = onnx.load(str(model_path))
    weights = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in proto.graph.initializer}
    hidden = weights["trunk.0.weight"].shape[0]
    net = build_net(critic.model.manifest.obs_dim, hidden)
    net.load_state_dict(weights)
    torch.set_num_threads(1)
    return net.eval()


def _time_torch(net, rows: np.ndarray, n: int) -> list[float]:
    import torch

    out = []
    with torch.inference_mode():
        for i in range(n):
            t0 = time.perf_counter()
            x = torch.from_numpy(rows[i % len(rows)])
            d, p = net(x)
            d.numpy(), p.numpy()
            out.append(time.perf_counter() - t0)
    return out


def _score_all(critics: dict, episodes: list, scene, name: str, driver: str) -> dict[str, dict[str, float]]:
    out = {}
    for cname, critic in critics.items():
        s = score_critic(critic, episodes, scene)
        out[cname] = {
            "voc": round(s.voc, 4),
            "voc_min_episode": round(s.voc_min, 4),
            "done_f1": round(s.done_f1, 4),
            "done_precision": round(s.done_precision, 4),
            "done_recall": round(s.done_recall, 4),
            "successful": s.successful,
        }
        print(
            f"{name:10s} {driver:10s} {cname:8s} VOC {s.voc:.3f} (worst episode {s.voc_min:.3f})  "
            f"done F1 {s.done_f1:.3f} (P {s.done_precision:.3f} R {s.done_recall:.3f})  "
            f"{s.successful}/{s.episodes} episodes successful"
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=default_model_path())
    parser.add_argument("--episodes", type=int, default=20, help="held-out episodes per scene")
    parser.add_argument("--seed", type=int, default=BENCH_SEED)
    parser.add_argument(
        "--policy",
        default=str(models_dir() / "rover_srl.onnx"),
        help="also score episodes driven by this ONNX policy ('none' to skip)",
    )
    args = parser.parse_args()

    learned = LearnedCritic(args.model)
    critics = {"stl": StlCritic(), "learned": learned}
    policy = None
    if args.policy.lower() != "none" and Path(args.policy).is_file():
        from cadence.policy.runtime import load_policy

        policy = load_policy(args.policy)
    per_scene: dict[str, dict[str, dict[str, float]]] = {}
    per_scene_policy: dict[str, dict[str, dict[str, float]]] = {}
    timing_snaps: list = []
    for k, name in enumerate(learned.model.scenes):
        scene = load_scene(name)
        episodes = sim_episodes(name, args.episodes, args.seed + 1000 * k)
        per_scene[name] = _score_all(critics, episodes, scene, name, "field-law")
        if policy is not None:  # another behaviour than the critic's training data
            driven = sim_episodes(name, args.episodes, args.seed + 1000 * k, policy=policy, max_time=60.0)
            per_scene_policy[name] = _score_all(critics, driven, scene, name, "srl-policy")
        ep = max(episodes, key=len)
        timing_snaps.append((scene, ep))

    # Inference cost per decision, same run: learned (ONNX), its torch twin, analytic.
    costs: dict[str, list[float]] = {"learned": [], "stl": []}
    rows = []
    for scene, ep in timing_snaps:
        task = reach_task(scene, ep.goal)
        snaps = [Snapshot(float(t), *map(float, p)) for t, p in zip(ep.t, ep.pose, strict=True)]
        for cname in costs:
            critics[cname].reset(task, snaps[0])  # warm-up (distance fields, session)
            costs[cname] += _time_critic(critics[cname], task, snaps, repeats=20)
        learned.reset(task, snaps[0])
        rows.append(np.zeros((2, learned.model.manifest.obs_dim), np.float32))
    net = _torch_twin(Path(args.model), learned)
    raw_onnx = []
    for i in range(5000):
        t0 = time.perf_counter()
        learned.model(rows[i % len(rows)])
        raw_onnx.append(time.perf_counter() - t0)
    torch_cost = _time_torch(net, np.stack(rows), 5000)
    p50, p99 = _percentiles(costs["learned"])
    s50, s99 = _percentiles(costs["stl"])
    o50, o99 = _percentiles(raw_onnx)
    t50, t99 = _percentiles(torch_cost)
    print(f"learned critic per decision (features + ONNX Runtime): p50 {p50:.1f} us, p99 {p99:.1f} us")
    print(
        f"  network only: ONNX Runtime p50 {o50:.1f} / p99 {o99:.1f} us; torch eager p50 {t50:.1f} / p99 {t99:.1f} us"
    )
    print(f"  torch eager / ONNX Runtime (p99): {t99 / o99:.2f}x")
    print(f"analytic stl critic per decision: p50 {s50:.1f} us, p99 {s99:.1f} us")
    print(
        f"share of the {DECISION_PERIOD_US / 1e3:.0f} ms decision period (learned p99): {p99 / DECISION_PERIOD_US:.2e}"
    )

    voc = min(v["voc"] for sc in per_scene.values() for v in sc.values())
    f1 = min(v["done_f1"] for sc in per_scene.values() for v in sc.values())
    if per_scene_policy:
        pvoc = min(v["voc"] for sc in per_scene_policy.values() for v in sc.values())
        pf1 = min(v["done_f1"] for sc in per_scene_policy.values() for v in sc.values())
        print(f"episodes driven by {Path(args.policy).name}: lowest VOC {pvoc:.3f}, lowest done F1 {pf1:.3f}")
    result = {
        "voc": voc,
        "done_f1": f1,
        "infer_us_p99": round(p99, 1),
        "infer_us_p50": round(p50, 1),
        "stl_us_p99": round(s99, 1),
        "onnx_net_us_p99": round(o99, 1),
        "torch_net_us_p99": round(t99, 1),
        "speedup_vs_torch": round(t99 / o99, 2),
        "voc_policy_driven": pvoc if per_scene_policy else None,
        "done_f1_policy_driven": pf1 if per_scene_policy else None,
        "episodes_per_scene": args.episodes,
        "scenes": per_scene,
        "policy_driven": per_scene_policy,
        "targets": {"voc": 0.9, "done_f1": 0.9},
    }
    print(json.dumps(result, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
