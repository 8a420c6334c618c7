"""Validation suites from ``config/validation.yaml``: typed, checked, listed by name on a bad one."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cadence.sim.config import START_MODES
from cadence.sim.errors import ValidationError

SUITES_FORMAT_VERSION = 1
# threshold key -> (metric name, comparison): "min" means metric >= limit, "max" metric <= limit.
THRESHOLDS = {
    "success_rate_min": ("success_rate", "min"),
    "stl_satisfaction_rate_min": ("stl_satisfaction_rate", "min"),
    "mean_robustness_min": ("mean_robustness", "min"),
    "collision_rate_max": ("collision_rate", "max"),
    "timeout_rate_max": ("timeout_rate", "max"),
    "mean_time_to_goal_max": ("mean_time_to_goal", "max"),
    "raw_out_of_bounds_rate_max": ("raw_out_of_bounds_rate", "max"),
}


@dataclass(frozen=True)
class Block:
    """Episodes drawn in one scene: goals (empty = every region), start mode, seed."""

    scene: str
    start: str = "region"
    goals: tuple[str, ...] = ()
    seed: int = 0


@dataclass(frozen=True)
class Suite:
    """A named suite of scenarios and the thresholds a policy must meet."""

    name: str
    description: str
    episodes: int
    n_envs: int
    wall_time_limit_s: float
    spec: str
    blocks: tuple[Block, ...]
    thresholds: Mapping[str, float]


def _suite(name: str, d: Any) -> Suite:
    where = f"validation suite {name!r}"
    if not isinstance(d, Mapping):
        raise ValidationError(f"{where} must be a mapping")
    known = {"description", "episodes", "n_envs", "wall_time_limit_s", "spec", "blocks", "thresholds"}
    unknown = sorted(set(d) - known)
    if unknown:
        raise ValidationError(f"{where}: unknown key(s) {unknown}; keys: {sorted(known)}")
    try:
        blocks = tuple(
            Block(
                str(b["scene"]),
                str(b.get("start", "region")),
                tuple(b.get("goals") or ()),
                int(b.get("seed", 0)),
            )
            for b in d["blocks"]
        )
        suite = Suite(
            name=name,
            description=str(d.get("description", "")),
            episodes=int(d.get("episodes", 10)),
            n_envs=int(d.get("n_envs", 16)),
            wall_time_limit_s=float(d.get("wall_time_limit_s", 600)),
            spec=str(d["spec"]),
            blocks=blocks,
            thresholds={str(k): float(v) for k, v in (d.get("thresholds") or {}).items()},
        )
    except (KeyError, TypeError, ValueError) as err:
        raise ValidationError(f"{where}: missing or malformed key: {err}") from err
    if not blocks:
        raise ValidationError(f"{where}: needs at least one block")
    for b in blocks:
        if b.start not in START_MODES:
            raise ValidationError(f"{where}: start must be one of {', '.join(START_MODES)}, got {b.start!r}")
    bad = sorted(set(suite.thresholds) - set(THRESHOLDS))
    if bad:
        raise ValidationError(f"{where}: unknown threshold(s) {bad}; thresholds: {', '.join(THRESHOLDS)}")
    if suite.episodes < 1 or suite.n_envs < 1 or not suite.wall_time_limit_s > 0:
        raise ValidationError(f"{where}: episodes, n_envs and wall_time_limit_s must be positive")
    if not all(math.isfinite(v) for v in suite.thresholds.values()):
        raise ValidationError(f"{where}: thresholds must be finite numbers")
    return suite


def load_suites(path: str | Path | None = None) -> tuple[dict[str, Suite], str]:
    """All suites of a validation file and the name of its default suite.

    Raises:
        ValidationError: for an unreadable or malformed file (naming the key).
    """
    if path is None:
        from cadence.paths import config_dir

        path = config_dir() / "validation.yaml"
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ValidationError(f"cannot read validation config {path}: {err}") from err
    if not isinstance(data, Mapping) or not isinstance(data.get("suites"), Mapping):
        raise ValidationError(f"validation config {path} needs a `suites:` mapping")
    if int(data.get("format_version", SUITES_FORMAT_VERSION)) != SUITES_FORMAT_VERSION:
        raise ValidationError(f"validation config {path}: format_version must be {SUITES_FORMAT_VERSION}")
    suites = {str(n): _suite(str(n), d) for n, d in data["suites"].items()}
    default = str(data.get("default_suite", next(iter(suites), "")))
    if default not in suites:
        raise ValidationError(f"validation config {path}: default_suite {default!r} is not a suite")
    return suites, default


def load_suite(name: str | None = None, path: str | Path | None = None) -> Suite:
    """One suite by name (the file's default when None).

    Raises:
        ValueError: for an unknown suite name, listing the valid ones.
    """
    suites, default = load_suites(path)
    name = name or default
    if name not in suites:
        raise ValueError(f"unknown validation suite {name!r}; suites: {', '.join(suites)}")
    return suites[name]
