"""Decision latency at batch 1: ONNX Runtime (cadence.policy) vs torch eager vs SB3 ``predict``.

One decision = build the observation with THE builder (cadence.policy.observation) + run the
policy + pass the first command through the safety filter — the executor's hot path. Only the
policy call differs between the contenders; they run the same network (same weights) and are
interleaved iteration by iteration, so machine load hits all of them alike.

The policy is the shipped one (``models/rover_srl.onnx``, or the first policy manifest in
``models/``) when it exists; otherwise the SRL actor architecture (cadence.learn.networks) with
random weights, exported by ``cadence.learn.export.export_policy``. Torch and SB3 get the ONNX
file's weights, and the bench checks all contenders agree before timing.

Usage: ``nice -n 10 .venv/bin/python bench/policy_bench.py [--iters 3000] [--model PATH]``
Last stdout line: JSON with ``p99_us``, ``speedup_vs_sb3``, ``speedup_vs_torch`` (and more).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from cadence.policy.fastpath import Unsupported
from cadence.policy.manifest import load_manifest
from cadence.policy.observation import (
    DEFAULT_LAYOUT,
    ObservationBuilder,
    ObservationLayout,
    RobotState,
    Scan,
    Targets,
)
from cadence.policy.runtime import OnnxPolicy, load_policy
from cadence.policy.safety import SafetyConfig, SafetyFilter


def find_model(explicit: str | None, tmp: Path) -> tuple[Path, str]:
    """The shipped policy if there is one, else a freshly exported SRL actor."""
    if explicit:
        return Path(explicit), "given"
    from cadence.paths import models_dir

    models = models_dir()
    preferred = models / "rover_srl.onnx"
    candidates = [preferred] if preferred.exists() else sorted(models.glob("*.onnx"))
    for path in candidates:
        if path.with_suffix(".json").exists() and load_manifest(path.with_suffix(".json")).kind == "policy":
            return path, "shipped"
    import torch

    from cadence.learn.config import SRLConfig
    from cadence.learn.export import export_policy
    from cadence.learn.networks import SequenceActor
    from cadence.sim import robot

    torch.manual_seed(0)
    actor = SequenceActor(
        DEFAULT_LAYOUT.obs_dim,
        np.array(robot.ACTION_LOW),
        np.array(robot.ACTION_HIGH),
        robot.DEFAULT_K,
        hidden=SRLConfig().hidden,
    )
    path = tmp / "srl_actor.onnx"
    export_policy(actor, DEFAULT_LAYOUT, robot.DEFAULT_K, path, lineage={"bench": "random weights"})
    return path, "exported (no shipped model yet)"


def torch_actor(policy: OnnxPolicy):  # type: ignore[no-untyped-def]
    """A cadence.learn SequenceActor holding the ONNX file's weights (initializer names = state_dict keys)."""
    import torch
    from onnx import numpy_helper

    from cadence.learn.networks import SequenceActor

    weights = {
        t.name: torch.from_numpy(numpy_helper.to_array(t).copy())
        for t in policy._loaded.proto.graph.initializer
    }
    action = policy.manifest.action
    assert action is not None
    if "trunk.0.weight" not in weights:
        raise SystemExit(
            f"{policy.path.name} is not cadence.learn's SequenceActor (initializers {sorted(weights)[:4]}...); "
            "the bench rebuilds that architecture in torch and SB3 from the ONNX weights"
        )
    hidden = weights["trunk.0.weight"].shape[0]
    actor = SequenceActor(
        policy.obs_dim, np.array(action.low), np.array(action.high), action.k, hidden=hidden
    )
    actor.load_state_dict(weights)
    return actor.eval()


def sb3_actor(actor, k: int, low: np.ndarray, high: np.ndarray):  # type: ignore[no-untyped-def]
    """An SB3 SAC policy of the same shape, with the actor's weights (mean head = our mean rows)."""
    import gymnasium as gym
    import torch
    from stable_baselines3 import SAC

    obs_dim, hidden = actor.obs_dim, actor.trunk[0].out_features
    a = actor.action_dim

    class Spaces(gym.Env):  # SAC only reads the spaces; nothing is stepped
        observation_space = gym.spaces.Box(-np.inf, np.inf, (obs_dim,), np.float32)
        action_space = gym.spaces.Box(np.tile(low, k).astype(np.float32), np.tile(high, k).astype(np.float32))

    sac = SAC(
        "MlpPolicy",
        Spaces(),
        buffer_size=1,
        learning_starts=0,
        device="cpu",
        policy_kwargs={"net_arch": [hidden, hidden]},
    )
    pi = sac.policy.actor
    idx = torch.arange(k * 2 * a).view(k, 2, a)
    mean_rows, std_rows = idx[:, 0].reshape(-1), idx[:, 1].reshape(-1)
    with torch.no_grad():
        pi.latent_pi[0].weight.copy_(actor.trunk[0].weight)
        pi.latent_pi[0].bias.copy_(actor.trunk[0].bias)
        pi.latent_pi[2].weight.copy_(actor.trunk[2].weight)
        pi.latent_pi[2].bias.copy_(actor.trunk[2].bias)
        pi.mu.weight.copy_(actor.trunk[4].weight[mean_rows])
        pi.mu.bias.copy_(actor.trunk[4].bias[mean_rows])
        pi.log_std.weight.copy_(actor.trunk[4].weight[std_rows])
        pi.log_std.bias.copy_(actor.trunk[4].bias[std_rows])
    return sac


def inputs(n: int, beams: int, seed: int = 0) -> list[tuple[RobotState, Scan, Targets, float]]:
    """Varied robot states, scans (a ``beams``-ray LaserScan, resampled by the builder) and targets."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x, y, yaw = rng.uniform(-5, 5), rng.uniform(-5, 5), rng.uniform(-math.pi, math.pi)
        start = 0.0 if beams == DEFAULT_LAYOUT.n_beams else -math.pi  # the sim's scan starts straight ahead
        scan = Scan(rng.uniform(0.1, 6.0, beams), start, 2 * math.pi / beams, 5.0)
        wp = [(float(v), float(w)) for v, w in rng.uniform(-6, 6, (3, 2))]
        out.append(
            (RobotState(x, y, yaw, rng.uniform(-0.5, 1), rng.uniform(-2, 2)), scan, Targets(*wp), 30.0)
        )
    return out


def _act_ratio(phases: dict[str, list[tuple[int, int, int]]], other: str, ours: str) -> float:
    """Median policy-call time of ``other`` over ``ours`` (observation and safety excluded)."""
    return float(np.median(np.array(phases[other])[:, 1]) / np.median(np.array(phases[ours])[:, 1]))


def components(data: list[tuple[RobotState, Scan, Targets, float]], iters: int) -> dict[str, float]:
    """Median us of the observation build and the safety filter vs their pre-tuning copies.

    The copies are the test oracles of ``test/unit/test_observation_fast.py`` and
    ``test/unit/test_safety_fast.py`` (bit-identical outputs are asserted there); the calls are
    interleaved, back to back (warm caches), so this isolates the code from the machine.
    """
    import importlib.util

    oracles = {}
    for name in ("test_observation_fast", "test_safety_fast"):
        spec = importlib.util.spec_from_file_location(
            f"_oracle_{name}", Path(__file__).resolve().parents[1] / "test" / "unit" / f"{name}.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        oracles[name] = module
    ref_builder = oracles["test_observation_fast"]._ReferenceBuilder(DEFAULT_LAYOUT)
    builder, out = ObservationBuilder(), np.empty(DEFAULT_LAYOUT.obs_dim, np.float32)
    ours_f = SafetyFilter(SafetyConfig.for_robot())
    ref_f = oracles["test_safety_fast"]._ReferenceFilter(SafetyConfig.for_robot())
    t: dict[str, list[int]] = {"obs": [], "obs_ref": [], "safety": [], "safety_ref": []}
    clock = time.perf_counter_ns
    for i in range(iters):
        state, scan, targets, remaining = data[i % len(data)]
        now = i * 0.05
        for obs_b, obs_key in ((builder, "obs"), (ref_builder, "obs_ref"))[:: 1 if i % 2 else -1]:
            t0 = clock()
            obs_b.build(state, scan, targets, remaining, (0.1, 0.2), out=out)
            t[obs_key].append(clock() - t0)
        for filt, key in ((ours_f, "safety"), (ref_f, "safety_ref"))[:: 1 if i % 2 else -1]:
            t0 = clock()
            filt.observe(out, now)
            filt.filter(state.v, state.omega, now)
            t[key].append(clock() - t0)
    return {key: round(float(np.median(v[iters // 10 :])) / 1e3, 2) for key, v in t.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=3000)
    parser.add_argument(
        "--beams", type=int, default=360, help="rays in the LaserScan fed to the builder (sim: 36)"
    )
    parser.add_argument("--model", help="ONNX policy (default: shipped model, else an exported SRL actor)")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)  # like the ONNX session (1 intra-op thread); faster at batch 1 anyway
    tmp = Path(tempfile.mkdtemp(prefix="policy_bench_"))
    path, source = find_model(args.model, tmp)
    policy = load_policy(path)  # backend "auto": numpy fast path only if verified and faster
    ort_only = load_policy(path, backend="onnxruntime")
    assert isinstance(policy, OnnxPolicy) and isinstance(ort_only, OnnxPolicy)
    action = policy.manifest.action
    assert action is not None
    actor = torch_actor(policy)
    sac = sb3_actor(actor, action.k, np.array(action.low), np.array(action.high))
    try:
        np_only: OnnxPolicy | None = load_policy(path, backend="numpy")  # type: ignore[assignment]
    except Unsupported as err:
        print(f"numpy executor not applicable: {err}")
        np_only = None

    def torch_act(obs: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return actor(torch.from_numpy(obs)).numpy()

    def sb3_act(obs: np.ndarray) -> np.ndarray:
        return sac.predict(obs, deterministic=True)[0].reshape(-1, action.k, len(action.names))

    contenders: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        f"cadence ({policy.backend})": policy.act,
        "onnxruntime": ort_only.act,
        "torch-eager": torch_act,
        "sb3-predict": sb3_act,
    }
    if np_only is not None:
        contenders["numpy-graph"] = np_only.act
    probe = np.random.default_rng(1).standard_normal((1, policy.obs_dim)).astype(np.float32)
    reference = ort_only.act(probe)
    for name, fn in contenders.items():
        got = fn(probe)
        if not np.allclose(got, reference, rtol=1e-4, atol=1e-5):
            raise SystemExit(f"{name} disagrees with ONNX Runtime by {np.max(np.abs(got - reference)):.3g}")

    builder = ObservationBuilder(ObservationLayout.from_dict(policy.manifest.observation))
    data = inputs(256, args.beams)
    buffers = {name: np.empty((1, builder.obs_dim), np.float32) for name in contenders}
    filters = {name: SafetyFilter(SafetyConfig.for_robot()) for name in contenders}
    times: dict[str, list[int]] = {name: [] for name in contenders}
    phases: dict[str, list[tuple[int, int, int]]] = {name: [] for name in contenders}
    names = list(contenders)
    warmup = 200
    shuffle = np.random.default_rng(2)
    gc.collect()
    gc.disable()  # as timeit does: a collection pause would land on whichever contender runs then
    for i in range(args.iters + warmup):
        state, scan, targets, remaining = data[i % len(data)]
        order = [names[j] for j in shuffle.permutation(len(names))]  # no fixed order or neighbours
        for name in order:
            act, buf, safety = contenders[name], buffers[name], filters[name]
            now = i * 0.4
            t0 = time.perf_counter_ns()
            obs = builder.build(state, scan, targets, remaining, (0.0, 0.0), out=buf[0])
            t1 = time.perf_counter_ns()
            seq = act(buf)
            t2 = time.perf_counter_ns()
            safety.observe(obs, now)
            safety.filter(float(seq[0, 0, 0]), float(seq[0, 0, 1]), now)
            t3 = time.perf_counter_ns()
            if i >= warmup:
                times[name].append(t3 - t0)
                phases[name].append((t1 - t0, t2 - t1, t3 - t2))

    parts = components(data, args.iters) if builder.layout == DEFAULT_LAYOUT else {}
    gc.enable()
    stats = {n: np.percentile(np.array(t) / 1e3, [50, 99]) for n, t in times.items()}
    ours = names[0]
    print(f"model: {path} ({source}); provider {policy.provider}; auto backend -> {policy.backend}")
    print(
        f"decision = observation build + act (batch 1) + safety filter; {args.iters} interleaved iterations"
    )
    print(f"{'contender':<24}{'p50 us':>9}{'p99 us':>9}{'p50 x':>8}{'p99 x':>8}   p50 of obs / act / safety")
    for n, (p50, p99) in stats.items():
        obs_us, act_us, safe_us = np.median(np.array(phases[n]), axis=0) / 1e3
        print(
            f"{n:<24}{p50:9.1f}{p99:9.1f}{p50 / stats[ours][0]:7.2f}x{p99 / stats[ours][1]:7.2f}x"
            f"   {obs_us:.1f} / {act_us:.1f} / {safe_us:.1f}"
        )
    if parts:
        print(
            f"warm, back to back: observation build {parts['obs']:.1f} us (pre-tuning copy "
            f"{parts['obs_ref']:.1f} us, {parts['obs_ref'] / parts['obs']:.2f}x); safety observe+filter "
            f"{parts['safety']:.1f} us (copy {parts['safety_ref']:.1f} us, "
            f"{parts['safety_ref'] / parts['safety']:.2f}x)"
        )
    result = {
        "p50_us": round(float(stats[ours][0]), 2),
        "p99_us": round(float(stats[ours][1]), 2),
        "p90_us": round(float(np.percentile(np.array(times[ours]) / 1e3, 90)), 2),
        "speedup_vs_sb3": round(float(stats["sb3-predict"][0] / stats[ours][0]), 2),
        "speedup_vs_torch": round(float(stats["torch-eager"][0] / stats[ours][0]), 2),
        "p99_speedup_vs_sb3": round(float(stats["sb3-predict"][1] / stats[ours][1]), 2),
        "p99_speedup_vs_torch": round(float(stats["torch-eager"][1] / stats[ours][1]), 2),
        "act_p50_us": round(float(np.median(np.array(phases[ours])[:, 1])) / 1e3, 2),
        "act_speedup_vs_sb3": round(_act_ratio(phases, "sb3-predict", ours), 2),
        "act_speedup_vs_torch": round(_act_ratio(phases, "torch-eager", ours), 2),
        **{f"{key}_us": value for key, value in parts.items()},
        "backend": policy.backend,
        "provider": policy.provider,
        "model": source,
        "iters": args.iters,
        "scan_beams": args.beams,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
