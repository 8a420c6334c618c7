"""Planner back ends: a registry chosen by name (STYLE.md 5).

A back end turns a :class:`PlanRequest` into an :class:`~cadence.planner.intent.Intent`. It never
builds waypoints, deadlines or STL: the :class:`~cadence.planner.planner.Planner` grounds, times,
writes and validates every intent the same way, whichever back end produced it.

=========  ====================================================================================
name       what
=========  ====================================================================================
rules      embedded deterministic parser (:mod:`cadence.planner.rules`), the default
openai     any OpenAI-compatible chat server (:mod:`cadence.planner.openai_backend`)
llama      a local GGUF model through llama-cpp-python (optional; :mod:`cadence.planner.llama_backend`)
=========  ====================================================================================
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from cadence.planner.intent import Intent
    from cadence.planner.scene import Scene


@dataclass(frozen=True)
class PlanRequest:
    """What every back end sees.

    Attributes:
        task: The user's task text (put into prompts as quoted data, never as instructions).
        scene: The scene.
        scene_text: :func:`cadence.planner.scene_text.scene_text` of the scene.
        pose: Robot pose (x, y, yaw).
        image_jpeg: The camera frame as JPEG bytes, or None.
    """

    task: str
    scene: Scene
    scene_text: str
    pose: tuple[float, float, float]
    image_jpeg: bytes | None = None


class Backend(Protocol):
    """A planner back end.

    Attributes:
        name: Registry name, recorded in plans.
        max_attempts: How many intents the planner may ask for, feeding each rejection back.
    """

    name: str
    max_attempts: int

    def propose(self, request: PlanRequest, feedback: str | None = None) -> Intent:
        """Read the task. `feedback` is why the previous intent was rejected, on a retry.

        Raises:
            BackendError: when no reply could be obtained (network, timeout).
            PlannerError: for a reply that cannot be used (the planner may retry).
        """
        ...


def _rules(**config: Any) -> Backend:
    from cadence.planner.rules import RulesBackend

    if config:
        raise ValueError(f"the rules back end takes no options, got {', '.join(sorted(config))}")
    return RulesBackend()


def _lazy(module: str, cls: str) -> Callable[..., Backend]:
    def make(**config: Any) -> Backend:
        return getattr(importlib.import_module(module), cls).from_config(**config)

    return make


BACKENDS: dict[str, Callable[..., Backend]] = {
    "rules": _rules,
    "openai": _lazy("cadence.planner.openai_backend", "OpenAIBackend"),
    "llama": _lazy("cadence.planner.llama_backend", "LlamaBackend"),
}


def list_backends() -> list[str]:
    return list(BACKENDS)


def make_backend(name: str, **config: Any) -> Backend:
    """Build a back end by name.

    Args:
        name: ``rules``, ``openai`` or ``llama``.
        **config: The back end's options (e.g. ``base_url``, ``model`` for ``openai``).

    Raises:
        ValueError: for an unknown name (listing the valid ones) or unknown options.
        BackendUnavailable: when the back end's optional package is missing.
    """
    if name not in BACKENDS:
        raise ValueError(f"unknown planner back end {name!r}; back ends: {', '.join(BACKENDS)}")
    return BACKENDS[name](**config)
