"""The validation gate: run a suite, measure, and pass only if every threshold and health check holds.

Fail closed: a manifest that does not match the env, NaN anywhere (observations, actions, STL
robustness), MuJoCo warnings (BADQACC, BADCTRL, ... — MuJoCo silently resets or zeroes controls on
those), unstable episodes, raw actions outside the bounds before clamping (beyond the threshold),
a policy that raises, and a suite that runs past its wall-time limit all fail the gate.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cadence.policy.observation import DEFAULT_LAYOUT
from cadence.sim import robot as rb
from cadence.sim.batch import EpisodeResult, Scenario, rollout, sample_scenarios
from cadence.sim.errors import ValidationError
from cadence.sim.suites import THRESHOLDS, Suite
from cadence.stl import STLError, parse, robustness_at_zero

# Half the rover's width including the wheels: the centre closer than this to an obstacle is a contact.
HALF_WIDTH = 0.17


@dataclass(frozen=True)
class Check:
    """One gate condition: ``value`` compared with ``limit`` (``op`` is min, max or eq)."""

    name: str
    value: float
    op: str
    limit: float
    passed: bool


@dataclass(frozen=True)
class GateReport:
    """Everything the gate measured, and its verdict."""

    suite: str
    policy: str
    passed: bool
    metrics: dict[str, Any]
    checks: tuple[Check, ...]
    failures: tuple[str, ...]
    picture: str | None
    episodes: tuple[EpisodeResult, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "policy": self.policy,
            "passed": self.passed,
            "metrics": self.metrics,
            "checks": [_json_safe(asdict(c)) for c in self.checks],  # NaN (not measured) -> null
            "failures": list(self.failures),
            "picture": self.picture,
        }


def manifest_problems(policy: Any) -> list[str]:
    """Why a policy's manifest does not fit this env (empty when it does)."""
    m = getattr(policy, "manifest", None)
    if m is None:
        return ["policy has no manifest"]
    problems = []
    if (why := DEFAULT_LAYOUT.mismatch(m.observation)) is not None:
        problems.append(why)
    try:
        if m.obs_dim != DEFAULT_LAYOUT.obs_dim:
            problems.append(f"input width {m.obs_dim} != obs_dim {DEFAULT_LAYOUT.obs_dim}")
    except Exception as err:
        problems.append(f"input width unknown: {err}")
    a = m.action
    if a is None:
        return [*problems, "manifest has no action block"]
    if tuple(a.names) != rb.ACTION_NAMES:
        problems.append(f"action names {list(a.names)} != {list(rb.ACTION_NAMES)}")
    for what, got, want in (("low", a.low, rb.ACTION_LOW), ("high", a.high, rb.ACTION_HIGH)):
        if len(got) != len(want) or not all(
            math.isclose(g, w, abs_tol=1e-6) for g, w in zip(got, want, strict=False)
        ):
            problems.append(f"action {what} {list(got)} != robot's {list(want)}")
    if not math.isclose(a.control_dt, rb.CONTROL_DT, abs_tol=1e-9):
        problems.append(f"control_dt {a.control_dt} != {rb.CONTROL_DT}")
    if a.k < 1:
        problems.append(f"sequence length k={a.k}")
    return problems


def suite_scenarios(suite: Suite, episodes: int | None = None) -> list[Scenario]:
    """The suite's episodes, split evenly over its blocks, reproducible from the block seeds."""
    n = episodes or suite.episodes
    out: list[Scenario] = []
    for i, b in enumerate(suite.blocks):
        share = n // len(suite.blocks) + (1 if i < n % len(suite.blocks) else 0)
        if share:
            out += sample_scenarios(b.scene, share, seed=b.seed, goals=b.goals, start=b.start)
    return out


def episode_signals(ep: EpisodeResult, scene: Any) -> dict[str, np.ndarray]:
    """The STL signals of one episode: region distances, ``goal`` and ``clearance`` per control step."""
    sig = scene.region_signals(ep.path)
    sig["goal"] = sig[ep.scenario.goal]
    sig["clearance"] = scene.obstacle_distance(ep.path) - HALF_WIDTH
    return sig


def run_gate(
    policy: Any,
    suite: Suite,
    episodes: int | None = None,
    out_dir: str | Path | None = None,
    name: str = "policy",
) -> GateReport:
    """Run ``suite`` with ``policy`` and judge it (never raises for a bad policy: it fails instead).

    Args:
        policy: ``act(obs[B, obs_dim]) -> actions[B, K, 2]`` with a ``.manifest``.
        suite: From :func:`cadence.sim.suites.load_suite`.
        episodes: Override the suite's episode count.
        out_dir: Where to write the suite's picture (``<suite>.png``); no picture when None.
        name: Policy name for the report.

    Raises:
        ValidationError: only for a suite whose STL spec does not parse.
    """
    try:
        formula = parse(suite.spec)
    except STLError as err:
        raise ValidationError(f"suite {suite.name!r}: spec does not parse: {err}") from err
    problems = manifest_problems(policy)
    if problems:
        return _verdict(suite, name, {}, [f"manifest: {p}" for p in problems], (), None)
    scenarios = suite_scenarios(suite, episodes)
    t0 = time.perf_counter()
    try:
        results = rollout(policy, scenarios, n_envs=suite.n_envs, deadline=t0 + suite.wall_time_limit_s)
    except ValidationError as err:
        return _verdict(suite, name, {}, [str(err)], (), None)
    except Exception as err:
        return _verdict(suite, name, {}, [f"policy raised {type(err).__name__}: {err}"], (), None)
    wall = time.perf_counter() - t0
    metrics, failures = _measure(results, formula, wall)
    picture = None
    if out_dir is not None:
        picture = str(_picture(Path(out_dir) / f"{suite.name}.png", results, suite.name))
    return _verdict(suite, name, metrics, failures, tuple(results), picture)


def _measure(results: list[EpisodeResult], formula: Any, wall: float) -> tuple[dict[str, Any], list[str]]:
    from cadence.planner.scene import load_scene

    scenes: dict[str, Any] = {}
    rho = []
    for ep in results:
        if ep.scenario.scene not in scenes:
            scenes[ep.scenario.scene] = load_scene(ep.scenario.scene)
        scene = scenes[ep.scenario.scene]
        rho.append(float(robustness_at_zero(formula, episode_signals(ep, scene), rb.CONTROL_DT)))
    rho_a = np.array(rho)
    n = len(results)
    steps = sum(ep.steps for ep in results)
    times = [ep.time for ep in results if ep.success]
    warnings: dict[str, int] = {}
    for ep in results:
        for k, v in ep.warnings.items():
            warnings[k] = warnings.get(k, 0) + v
    m: dict[str, Any] = {
        "episodes": n,
        "success_rate": sum(ep.success for ep in results) / n,
        "stl_satisfaction_rate": float(np.mean(rho_a > 0)),
        "mean_robustness": float(np.mean(rho_a)),
        "collision_rate": sum(ep.collided for ep in results) / n,
        "timeout_rate": sum(ep.timed_out for ep in results) / n,
        "mean_time_to_goal": float(np.mean(times)) if times else math.inf,
        "raw_out_of_bounds_rate": sum(ep.raw_out_of_bounds for ep in results) / max(steps, 1),
        "nan_observations": sum(ep.nan_obs for ep in results),
        "nan_actions": sum(ep.nan_actions for ep in results),
        "unstable_episodes": sum(ep.unstable for ep in results),
        "mujoco_warnings": warnings,
        "steps": steps,
        "wall_time_s": wall,
    }
    failures = []
    for key, what in (
        ("nan_observations", "NaN observations"),
        ("nan_actions", "NaN actions"),
        ("unstable_episodes", "unstable episodes"),
    ):
        if m[key]:
            failures.append(f"{what}: {m[key]}")
    if warnings:
        failures.append(f"MuJoCo warnings: {warnings}")
    if not np.isfinite(rho_a).all():
        failures.append("STL robustness is NaN for some episode")
    return m, failures


def _verdict(
    suite: Suite, name: str, metrics: dict, failures: list[str], episodes: tuple, picture: str | None
) -> GateReport:
    checks = []
    for key, limit in suite.thresholds.items():
        metric, op = THRESHOLDS[key]
        value = metrics.get(metric, math.nan)
        ok = (value >= limit if op == "min" else value <= limit) and not math.isnan(value)
        checks.append(Check(metric, float(value), op, float(limit), bool(ok)))
        if not ok and metrics:
            failures.append(f"{metric} = {value:.4g} ({'>=' if op == 'min' else '<='} {limit:g} required)")
    passed = not failures and all(c.passed for c in checks)
    return GateReport(
        suite.name, name, passed, _json_safe(metrics), tuple(checks), tuple(failures), picture, episodes
    )


def _json_safe(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in metrics.items()}


def _picture(path: Path, results: list[EpisodeResult], title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from cadence.planner.scene import load_scene
    from cadence.sim.render import draw_map

    by_scene: dict[str, list[EpisodeResult]] = {}
    for ep in results:
        by_scene.setdefault(ep.scenario.scene, []).append(ep)
    fig, axes = plt.subplots(1, len(by_scene), figsize=(7 * len(by_scene), 6.5), squeeze=False)
    for ax, (scene_name, eps) in zip(axes[0], by_scene.items(), strict=True):
        paths = [
            (
                ep.path,
                "tab:green" if ep.success and not ep.collided else "tab:orange" if ep.success else "tab:red",
            )
            for ep in eps
        ]
        ok = sum(ep.success for ep in eps)
        draw_map(
            load_scene(scene_name),
            ax=ax,
            paths=paths,
            title=f"{title}: {scene_name} ({ok}/{len(eps)} reached)",
        )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)
    return path
