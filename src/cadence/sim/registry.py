"""The env registry: ``make(name, **options)`` and ``list_envs()`` (STYLE.md 5, mujoco_playground)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cadence.sim.config import NavEnvConfig

if TYPE_CHECKING:
    from cadence.sim.env import NavEnv

# name -> the config it starts from; ``make`` keyword options override any field.
ENVS: dict[str, NavEnvConfig] = {
    "rover-apartment": NavEnvConfig(scene="apartment"),
    "rover-apartment-dr": NavEnvConfig(scene="apartment").replace(randomization={"enabled": True}),
    "rover-warehouse": NavEnvConfig(scene="warehouse"),
    "rover-open": NavEnvConfig(scene="open", start="anywhere"),
}


def list_envs() -> list[str]:
    """Names of the registered envs."""
    return sorted(ENVS)


def env_config(name: str, **options: Any) -> NavEnvConfig:
    """The config a registered env starts from, with ``options`` applied.

    Raises:
        ValueError: for an unknown env name (listing the registered ones) or option (listing fields).
    """
    if name not in ENVS:
        raise ValueError(f"unknown env {name!r}; envs: {', '.join(list_envs())}")
    return ENVS[name].replace(**options) if options else ENVS[name]


def make(name: str, render_mode: str | None = None, **options: Any) -> NavEnv:
    """Create a registered env.

    Args:
        name: One of :func:`list_envs` (``rover-apartment``, ...).
        render_mode: ``None`` or ``"rgb_array"``.
        **options: Fields of :class:`NavEnvConfig` to override (``goals=("kitchen",)``,
            ``randomization={"enabled": True}``, ...).

    Raises:
        ValueError: for an unknown name or option.
    """
    from cadence.sim.env import NavEnv

    return NavEnv(env_config(name, **options), render_mode=render_mode)
