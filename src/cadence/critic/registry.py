"""Critics by name (STYLE.md 5): ``make_critic("stl")``, ``make_critic("learned", model=PATH)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cadence.critic.types import Critic


def _stl(**kwargs: Any) -> Critic:
    from cadence.critic.stl_critic import StlCritic, StlCriticConfig

    config = kwargs.pop("config", None) or StlCriticConfig(**kwargs)
    return StlCritic(config)


def _learned(**kwargs: Any) -> Critic:
    from cadence.critic.learned import LearnedCritic

    return LearnedCritic(**kwargs)


CRITICS: dict[str, Callable[..., Critic]] = {"stl": _stl, "learned": _learned}


def critic_names() -> tuple[str, ...]:
    return tuple(CRITICS)


def make_critic(name: str, **kwargs: Any) -> Critic:
    """Build a critic by registry name.

    Args:
        name: ``stl`` (analytic, STL stages) or ``learned`` (pairwise ONNX model).
        **kwargs: Passed to the critic: ``StlCriticConfig`` fields (or ``config=``) for ``stl``;
            ``model=PATH`` and ``done_threshold=`` for ``learned``.

    Raises:
        ValueError: for an unknown name, listing the valid ones.
    """
    try:
        factory = CRITICS[name]
    except KeyError:
        raise ValueError(f"unknown critic {name!r}; critics: {', '.join(CRITICS)}") from None
    return factory(**kwargs)
