"""MuJoCo simulation: worlds from scenes, gymnasium envs, rendering, batched runner, validation gate.

Kept light (the CLI imports this package): MuJoCo and gymnasium load on first use of :func:`make`.
"""

from __future__ import annotations

from typing import Any


def make(name: str, render_mode: str | None = None, **options: Any) -> Any:
    """Create a registered env (see :func:`cadence.sim.registry.make`)."""
    from cadence.sim.registry import make as _make

    return _make(name, render_mode=render_mode, **options)


def list_envs() -> list[str]:
    """Names of the registered envs."""
    from cadence.sim.registry import list_envs as _list

    return _list()


__all__ = ["list_envs", "make"]
