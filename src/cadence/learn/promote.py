"""The model registry (``models/registry.json``) and the promotion rule (issue 8).

A retrained policy replaces the current one only if it passes the validation gate AND is not
worse than the current model on the same suite, measured in the same run (:func:`decide`). The
registry is versioned JSON written atomically; a refused candidate leaves it byte-for-byte as it
was.

Format (``format_version`` 1)::

    {"format": "cadence-model-registry", "format_version": 1,
     "current": {"name", "path", "sha256", "metrics": {SUITE: gate metrics}, "promoted_at", "lineage"} | null,
     "history": [previous "current" entries, newest first]}

``path`` is relative to the registry's folder when the model lives under it, absolute otherwise.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cadence.learn.errors import LearnError
from cadence.policy.manifest import sha256_file, write_atomic

REGISTRY_FORMAT = "cadence-model-registry"
REGISTRY_VERSION = 1
SUPPORTED_VERSIONS = (1,)
REGISTRY_FILE = "registry.json"
_ENTRY_KEYS = ("name", "path", "sha256", "metrics", "promoted_at", "lineage")


class RegistryError(LearnError):
    """The registry file is malformed, of an unknown version, or names a model that changed."""


@dataclass(frozen=True)
class ModelEntry:
    """One registered model."""

    name: str
    path: str
    sha256: str
    metrics: Mapping[str, Any] = field(default_factory=dict)
    promoted_at: str = ""
    lineage: Mapping[str, Any] = field(default_factory=dict)

    def resolve(self, registry_path: str | Path) -> Path:
        """The model file, resolved against the registry's folder."""
        p = Path(self.path)
        return p if p.is_absolute() else Path(registry_path).parent / p


@dataclass(frozen=True)
class Registry:
    """The registry's content: the current model and the ones it replaced (newest first)."""

    current: ModelEntry | None = None
    history: tuple[ModelEntry, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": REGISTRY_FORMAT,
            "format_version": REGISTRY_VERSION,
            "current": None if self.current is None else asdict(self.current),
            "history": [asdict(e) for e in self.history],
        }


@dataclass(frozen=True)
class Tolerance:
    """How much worse than the current model a candidate may measure and still count as "not worse".

    Rates are fractions of episodes. With the 12-episode smoke suite one episode is 0.083, so the
    defaults allow no extra failed/violating episode on smoke and at most 3 of 60 on full, and
    never one more collision.
    """

    success_rate: float = 0.05
    stl_satisfaction_rate: float = 0.05
    collision_rate: float = 0.0


@dataclass(frozen=True)
class Decision:
    """Whether to promote, and every reason against it (empty when promoted)."""

    promote: bool
    reasons: tuple[str, ...]


def decide(
    candidate: Mapping[str, Any], current: Mapping[str, Any] | None, tolerance: Tolerance | None = None
) -> Decision:
    """Apply the promotion rule to two gate reports (``GateReport.to_dict()``) of the same suite.

    Promote iff the candidate passed the gate and, when there is a current model,
    ``success_rate >= current - tol``, ``stl_satisfaction_rate >= current - tol`` and
    ``collision_rate <= current + tol`` (tolerances from :class:`Tolerance`).

    Args:
        candidate: The candidate's gate report.
        current: The current model's gate report on the same suite and episodes, or None when the
            registry has no current model.
        tolerance: Allowed slack.
    """
    tol = tolerance or Tolerance()
    reasons: list[str] = []
    if not candidate.get("passed"):
        failures = "; ".join(candidate.get("failures") or ()) or "gate failed"
        reasons.append(f"the candidate fails the {candidate.get('suite')!r} gate: {failures}")
    if current is not None:
        if candidate.get("suite") != current.get("suite"):
            reasons.append(f"suites differ: {candidate.get('suite')!r} vs {current.get('suite')!r}")
        cm, km = candidate.get("metrics") or {}, current.get("metrics") or {}
        for key, higher_is_better in (
            ("success_rate", True),
            ("stl_satisfaction_rate", True),
            ("collision_rate", False),
        ):
            new, old = _num(cm.get(key)), _num(km.get(key))
            slack = getattr(tol, key)
            if math.isnan(new):
                reasons.append(f"{key} of the candidate was not measured")
            elif math.isnan(old):
                continue  # the current model failed before measuring: nothing to be worse than
            elif higher_is_better and new < old - slack:
                reasons.append(f"{key} {new:.3f} < current {old:.3f} - {slack:g}")
            elif not higher_is_better and new > old + slack:
                reasons.append(f"{key} {new:.3f} > current {old:.3f} + {slack:g}")
    return Decision(not reasons, tuple(reasons))


def _num(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


def load_registry(path: str | Path) -> Registry:
    """Read a registry; a missing file is an empty registry.

    Raises:
        RegistryError: not JSON, wrong ``format``, unsupported ``format_version`` or a bad entry.
    """
    path = Path(path)
    if not path.exists():
        return Registry()
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise RegistryError(f"cannot read model registry {path}: {err}") from err
    if not isinstance(data, dict) or data.get("format") != REGISTRY_FORMAT:
        raise RegistryError(f"{path} is not a cadence model registry (format {REGISTRY_FORMAT!r})")
    if data.get("format_version") not in SUPPORTED_VERSIONS:
        raise RegistryError(
            f"{path}: format_version {data.get('format_version')!r} is not supported ({SUPPORTED_VERSIONS})"
        )
    history = data.get("history")
    if not isinstance(history, list):
        raise RegistryError(f"{path}: 'history' must be a list")
    cur = data.get("current")
    return Registry(None if cur is None else _entry(cur, path), tuple(_entry(e, path) for e in history))


def _entry(data: Any, path: Path) -> ModelEntry:
    if not isinstance(data, dict) or sorted(data) != sorted(_ENTRY_KEYS):
        got = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise RegistryError(f"{path}: a model entry must have keys {sorted(_ENTRY_KEYS)}, got {got}")
    for key in ("name", "path", "sha256", "promoted_at"):
        if not isinstance(data[key], str):
            raise RegistryError(f"{path}: entry key {key!r} must be a string")
    for key in ("metrics", "lineage"):
        if not isinstance(data[key], dict):
            raise RegistryError(f"{path}: entry key {key!r} must be an object")
    return ModelEntry(**data)


def check_current(registry: Registry, path: str | Path) -> Path | None:
    """The current model's file, after checking it still has the registered sha256.

    Raises:
        RegistryError: the file is missing or its bytes changed since it was registered.
    """
    if registry.current is None:
        return None
    model = registry.current.resolve(path)
    if not model.is_file():
        raise RegistryError(f"the current model {model} (registered in {path}) does not exist")
    digest = sha256_file(model)
    if digest != registry.current.sha256:
        raise RegistryError(
            f"the current model {model} changed since it was registered in {path} "
            f"(sha256 {digest[:12]}... != {registry.current.sha256[:12]}...)"
        )
    return model


def make_entry(
    model: str | Path, registry_path: str | Path, metrics: Mapping[str, Any], lineage: Mapping[str, Any]
) -> ModelEntry:
    """An entry for ``model`` (path stored relative to the registry folder when it lies under it)."""
    model = Path(model).resolve()
    root = Path(registry_path).resolve().parent
    rel = str(model.relative_to(root)) if model.is_relative_to(root) else str(model)
    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    return ModelEntry(model.stem, rel, sha256_file(model), dict(metrics), now, dict(lineage))


def promote(registry_path: str | Path, entry: ModelEntry) -> Registry:
    """Make ``entry`` the current model (the previous one goes to the head of ``history``); atomic."""
    registry_path = Path(registry_path)
    old = load_registry(registry_path)
    history = ((old.current,) if old.current is not None else ()) + old.history
    new = Registry(entry, history)
    write_atomic(registry_path, (json.dumps(new.to_dict(), indent=2, allow_nan=False) + "\n").encode())
    return new
