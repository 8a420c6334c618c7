"""``cadence retrain``: bags -> dataset -> TD3+BC -> ONNX with lineage -> gate -> promotion (issue 8).

:func:`retrain` runs the whole pipeline; :mod:`cadence.learn.retrain_cli` is its command line.
Inputs are checked before any work (bags exist, ``--out`` is a ``.onnx`` path that is not the
current model nor the base, the base model loads and matches this robot's observation layout,
action bounds and control period, the registry's current model still has its registered sha256,
and the bags convert to at least one episode): bad input raises :class:`RetrainInputError` and
nothing is written. The dataset lives in a temporary folder (or ``--dataset``); the candidate is
exported and validated in a temporary folder too, and only then copied to ``--out`` (model first,
then its manifest, each atomically) with the gate report in its ``metrics`` — whether or not it
is promoted. The registry changes only on promotion (:mod:`cadence.learn.promote`).

Module-level imports are standard library only: ``cadence.learn.cli`` imports this module while
the CLI parser is built.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cadence.learn.errors import LearnError


class RetrainInputError(LearnError):
    """Bad input to ``cadence retrain`` (no bags, corrupt bags, a base model that does not match)."""


@dataclass(frozen=True)
class RetrainOptions:
    """What to retrain from and where the result goes (mirrors the ``cadence retrain`` flags)."""

    bags: tuple[Path, ...]
    out: Path
    base: Path | None = None
    steps: int = 2000
    suite: str | None = None
    episodes: int | None = None
    registry: Path | None = None
    scene: str | None = None
    seed: int = 0
    tolerance: float | None = None
    overrides: tuple[tuple[str, str], ...] = ()
    gate_out: Path | None = None
    dataset: Path | None = None
    progress: bool = False
    command: str = ""


@dataclass
class RetrainReport:
    """What happened: conversion, training, both gate runs, the decision."""

    out: str
    registry: str
    conversion: dict[str, Any]
    training: dict[str, Any] = field(default_factory=dict)
    candidate: dict[str, Any] = field(default_factory=dict)
    current: dict[str, Any] | None = None
    promoted: bool = False
    reasons: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {**vars(self), "reasons": list(self.reasons)}

    def format(self) -> str:
        """Human-readable summary (the CLI prints it)."""
        conv = self.conversion
        lines = [f"converted {conv['episodes']} episodes, {conv['transitions']} transitions:"]
        lines += ["  " + line for line in conv.get("text", "").splitlines()]
        t = self.training
        if t:
            lines.append(
                f"trained {t['algorithm']} for {t['steps']} steps: critic loss {t['critic_loss']:.4g}, "
                f"bc mse {t['bc_mse']:.4g}, mean Q {t['mean_q']:.4g}"
            )
        for who, rep in (("candidate", self.candidate), ("current", self.current)):
            if rep:
                lines.append(f"{who} {rep['policy']} on {rep['suite']!r}: {_gate_line(rep)}")
        verdict = "PROMOTED" if self.promoted else "NOT promoted"
        lines.append(f"{verdict}: {self.out} (registry {self.registry})")
        lines += [f"  - {r}" for r in self.reasons]
        return "\n".join(lines)


def _gate_line(rep: dict[str, Any]) -> str:
    m = rep.get("metrics") or {}
    if not m:
        return "FAILED before measuring: " + "; ".join(rep.get("failures") or ())
    keys = ("success_rate", "stl_satisfaction_rate", "collision_rate", "timeout_rate", "mean_robustness")
    parts = [f"{k} {m[k]:.3f}" for k in keys if isinstance(m.get(k), (int, float))]
    ttg = m.get("mean_time_to_goal")
    parts.append(f"mean_time_to_goal {ttg:.1f} s" if isinstance(ttg, (int, float)) else "mean_time_to_goal -")
    return ("passed" if rep["passed"] else "FAILED") + ", " + ", ".join(parts)


def git_commit(where: Path) -> str:
    """``git rev-parse HEAD`` of the checkout holding ``where``, or ``"unknown"``."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and len(commit) == 40 else "unknown"


def bag_fingerprint(path: Path) -> dict[str, Any]:
    """Size and sha256 of a bag folder (every file, in name order, names included in the hash)."""
    digest, size = hashlib.sha256(), 0
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        digest.update(str(f.relative_to(path) if path.is_dir() else f.name).encode() + b"\0")
        with f.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
    return {"path": str(path), "bytes": size, "sha256": digest.hexdigest()}


def retrain(opts: RetrainOptions) -> RetrainReport:
    """Run the pipeline (see the module docstring).

    Raises:
        RetrainInputError: bad input; nothing was written.
        LearnError: training or export failed; nothing was written at ``--out`` nor in the registry.
    """
    from cadence.learn.promote import (
        RegistryError,
        Tolerance,
        check_current,
        decide,
        load_registry,
        make_entry,
    )
    from cadence.learn.promote import promote as promote_entry
    from cadence.paths import models_dir

    reg_path = opts.registry or models_dir() / "registry.json"
    _check_paths(opts)
    try:
        registry = load_registry(reg_path)
        current_model = check_current(registry, reg_path)
    except RegistryError as err:
        raise RetrainInputError(str(err)) from err
    if current_model is not None and current_model.resolve() == opts.out.resolve():
        raise RetrainInputError(f"--out {opts.out} is the current model of {reg_path}; choose a new name")
    suite = _suite_for(opts.suite)
    config = _offline_config(opts)
    base = _load_base(opts.base) if opts.base is not None else None
    tmp = Path(tempfile.mkdtemp(prefix="cadence-retrain-"))
    try:
        dataset, conversion = _convert(opts, opts.dataset or tmp / "dataset")
        report = RetrainReport(str(opts.out), str(reg_path), conversion)
        actor = _initial_actor(dataset, base, config)
        result = _train(dataset, actor, config, opts.progress)
        report.training = {"algorithm": "td3+bc", "config": config.to_dict(), **result.stats._asdict()}
        lineage = {
            "algorithm": "td3+bc (cadence.learn.offline)",
            "bags": [bag_fingerprint(Path(b["path"])) for b in conversion["bags"] if b["ok"]],
            "bags_failed": [
                {"path": b["path"], "error": b["error"]} for b in conversion["bags"] if not b["ok"]
            ],
            "dataset": {"episodes": conversion["episodes"], "transitions": conversion["transitions"]},
            "base": None if base is None else base.lineage,
            "git_commit": git_commit(Path(__file__).parent),
            "offline_config": config.to_dict(),
            "command": opts.command,
        }
        staged, manifest = _export(result.actor, tmp / "candidate" / opts.out.name, lineage)
        cand = _gate(staged, suite, opts.episodes, opts.gate_out, opts.out.stem)
        report.candidate = cand
        if current_model is not None:
            report.current = _gate(current_model, suite, opts.episodes, None, registry.current.name)
        tol = Tolerance() if opts.tolerance is None else Tolerance(opts.tolerance, opts.tolerance, 0.0)
        decision = decide(cand, report.current, tol)
        metrics = {**manifest.metrics, f"validate_{suite.name}": cand}
        _publish(staged, replace(manifest, metrics=metrics), opts.out)
        report.promoted, report.reasons = decision.promote, decision.reasons
        if decision.promote:
            promote_entry(reg_path, make_entry(opts.out, reg_path, {suite.name: cand["metrics"]}, lineage))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return report


@dataclass(frozen=True)
class _Base:
    actor: Any  # SequenceActor
    manifest: Any  # cadence.policy.manifest.Manifest
    lineage: dict[str, Any]


def _check_paths(opts: RetrainOptions) -> None:
    if not opts.bags:
        raise RetrainInputError("no bags given (--bags BAG [BAG ...])")
    missing = [str(b) for b in opts.bags if not Path(b).exists()]
    if missing:
        raise RetrainInputError(f"bag(s) not found: {', '.join(missing)}")
    if opts.out.suffix != ".onnx":
        raise RetrainInputError(f"--out must name a .onnx file, got {opts.out}")
    if opts.out.is_dir():
        raise RetrainInputError(f"--out {opts.out} is a folder; give models/NAME.onnx")
    if opts.base is not None and opts.base.resolve() in (
        opts.out.resolve(),
        opts.out.with_suffix(".json").resolve(),
    ):
        raise RetrainInputError("--out must differ from --base")
    if opts.dataset is not None and opts.dataset.exists():
        raise RetrainInputError(f"--dataset {opts.dataset} exists; give a new folder")
    if opts.steps <= 0:
        raise RetrainInputError(f"--steps must be positive, got {opts.steps}")
    if opts.episodes is not None and opts.episodes <= 0:
        raise RetrainInputError(f"--episodes must be positive, got {opts.episodes}")
    if opts.tolerance is not None and not 0.0 <= opts.tolerance <= 1.0:
        raise RetrainInputError(f"--tolerance must be in [0, 1], got {opts.tolerance}")


def _suite_for(name: str | None) -> Any:
    from cadence.sim.errors import SimError
    from cadence.sim.suites import load_suite

    try:
        return load_suite(name)
    except (SimError, ValueError) as err:
        raise RetrainInputError(str(err)) from err


def _offline_config(opts: RetrainOptions) -> Any:
    import dataclasses

    from cadence.learn.errors import ConfigError
    from cadence.learn.offline import OfflineConfig

    fields = {f.name: f.type for f in dataclasses.fields(OfflineConfig)}
    values: dict[str, Any] = {"steps": opts.steps, "seed": opts.seed}
    for key, text in opts.overrides:
        if key not in fields or key in ("steps", "seed"):
            valid = sorted(k for k in fields if k not in ("steps", "seed"))
            raise RetrainInputError(
                f"--set {key}: unknown OfflineConfig field; valid: {valid} (and --steps, --seed)"
            )
        try:
            values[key] = int(text) if fields[key] == "int" else float(text)
        except ValueError:
            raise RetrainInputError(f"--set {key}={text}: expected a {fields[key]}") from None
    try:
        return OfflineConfig(**values)
    except ConfigError as err:
        raise RetrainInputError(str(err)) from err


def _load_base(path: Path) -> _Base:
    """Load and check ``--base``: a verified ONNX policy of the SRL actor matching this robot."""
    import numpy as np
    import torch

    from cadence.learn.offline import BaseModelError, actor_from_onnx
    from cadence.policy.errors import PolicyError
    from cadence.policy.manifest import sha256_file
    from cadence.policy.observation import DEFAULT_LAYOUT
    from cadence.policy.runtime import load_policy
    from cadence.sim import robot

    try:
        policy = load_policy(path)
    except (PolicyError, OSError, ValueError) as err:
        raise RetrainInputError(f"--base {path}: {err}") from err
    man = policy.manifest
    act = man.action
    problems = []
    if man.observation != DEFAULT_LAYOUT.to_dict():
        problems.append("its observation layout differs from cadence.policy.observation's")
    if act is None or tuple(act.names) != tuple(robot.ACTION_NAMES):
        problems.append(f"action names {None if act is None else act.names} != {robot.ACTION_NAMES}")
    elif tuple(act.low) != tuple(robot.ACTION_LOW) or tuple(act.high) != tuple(robot.ACTION_HIGH):
        problems.append(f"action bounds {act.low}/{act.high} != {robot.ACTION_LOW}/{robot.ACTION_HIGH}")
    elif abs(act.control_dt - robot.CONTROL_DT) > 1e-9:
        problems.append(f"control_dt {act.control_dt} != {robot.CONTROL_DT}")
    if problems:
        raise RetrainInputError(f"--base {path}: manifest does not match this robot: {'; '.join(problems)}")
    onnx_path = man.onnx_path(path.with_suffix(".json"))
    try:
        actor = actor_from_onnx(onnx_path, act.low, act.high, act.k)
    except BaseModelError as err:
        raise RetrainInputError(f"--base {path}: {err}") from err
    low = (actor.action_bias - actor.action_scale).tolist()
    high = (actor.action_bias + actor.action_scale).tolist()
    if not np.allclose(low, act.low, atol=1e-6) or not np.allclose(high, act.high, atol=1e-6):
        raise RetrainInputError(
            f"--base {path}: the graph scales actions to {low}/{high}, its manifest says {act.low}/{act.high}"
        )
    x = np.asarray(man.golden.inputs["obs"], np.float32)
    want = np.asarray(man.golden.outputs["actions"], np.float32)
    with torch.inference_mode():
        got = actor(torch.from_numpy(x)).numpy()
    if got.shape != want.shape or not np.allclose(got, want, rtol=1e-4, atol=1e-5):
        raise RetrainInputError(
            f"--base {path}: its graph is not a plain SRL SequenceActor (golden outputs differ)"
        )
    lineage = {"path": str(path), "name": man.name, "sha256": sha256_file(onnx_path)}
    return _Base(actor, man, lineage)


def _convert(opts: RetrainOptions, where: Path) -> tuple[Any, dict[str, Any]]:
    from cadence.data.convert import convert_bags
    from cadence.data.dataset import Dataset
    from cadence.data.errors import DataError

    try:
        rep = convert_bags(list(opts.bags), where, scene=opts.scene, progress=opts.progress)
    except DataError as err:
        raise RetrainInputError(f"cannot convert the bags: {err}") from err
    text = rep.format()
    if opts.dataset is None:  # the folder is removed at the end: do not point at it
        text = text.replace(f"-> {where}", "-> a temporary dataset (keep it with --dataset DIR)")
    if rep.out is None:
        raise RetrainInputError("no usable episode in the bags; nothing to train on:\n" + text)
    return Dataset(rep.out), {**rep.to_json(), "text": text}


def _initial_actor(dataset: Any, base: _Base | None, config: Any) -> Any:
    from cadence.learn.offline import new_actor
    from cadence.policy.observation import DEFAULT_LAYOUT
    from cadence.sim import robot

    info = dataset.info
    if (
        info.get("observation_layout") != DEFAULT_LAYOUT.to_dict()
        or dataset.obs_dim != DEFAULT_LAYOUT.obs_dim
    ):
        raise RetrainInputError(
            f"dataset of {_sources(dataset)} has another observation layout than this cadence"
        )
    if base is not None:
        if base.actor.k != dataset.k:
            raise RetrainInputError(
                f"--base emits K={base.actor.k} actions, the bags hold K={dataset.k} sequences"
            )
        return base.actor
    return new_actor(
        dataset.obs_dim, robot.ACTION_LOW, robot.ACTION_HIGH, dataset.k, config.hidden, config.seed
    )


def _sources(dataset: Any) -> str:
    return ", ".join(dataset.info.get("sources", [])) or str(dataset.path)


def _train(dataset: Any, actor: Any, config: Any, progress: bool) -> Any:
    from tqdm import tqdm

    from cadence.learn.offline import train_td3bc

    data = dataset.transitions()
    with tqdm(total=config.steps, desc="td3+bc", unit="step", disable=not progress, leave=False) as bar:
        return train_td3bc(data, config, actor, on_step=lambda _i: bar.update(1))


def _export(actor: Any, staged: Path, lineage: dict[str, Any]) -> tuple[Path, Any]:
    from cadence.learn.export import export_policy
    from cadence.policy.errors import PolicyError
    from cadence.policy.observation import DEFAULT_LAYOUT

    try:
        manifest = export_policy(actor, DEFAULT_LAYOUT, actor.k, staged, lineage=lineage)
    except PolicyError as err:
        raise LearnError(f"export failed: {err}") from err
    return staged, manifest


def _gate(model: Path, suite: Any, episodes: int | None, out_dir: Path | None, name: str) -> dict[str, Any]:
    from cadence.policy.errors import PolicyError
    from cadence.policy.runtime import load_policy
    from cadence.sim.gate import run_gate

    try:
        policy = load_policy(model)
    except PolicyError as err:
        return {
            "suite": suite.name,
            "policy": name,
            "passed": False,
            "metrics": {},
            "checks": [],
            "failures": [f"cannot load {model}: {err}"],
            "picture": None,
        }
    rep = run_gate(policy, suite, episodes=episodes, out_dir=out_dir, name=name).to_dict()
    rep.pop("episodes", None)
    return rep


def _publish(staged: Path, manifest: Any, out: Path) -> None:
    """Copy the validated model to ``out`` (model first, then the manifest; each atomic)."""
    from cadence.policy.manifest import manifest_path_for, write_atomic

    write_atomic(out, staged.read_bytes())
    manifest.write(manifest_path_for(out))
