"""Where cadence's shipped files (config, models, scenes, robots, launch files) live.

In a source checkout or an editable install they are in the repository; after `colcon build` or a
regular `pip install` they are under ``<prefix>/share/cadence``. ``CADENCE_SHARE`` overrides both.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PACKAGE = "cadence"
_MARKERS = ("package.xml", "config", "sim")


def _looks_like_share(path: Path) -> bool:
    return all((path / marker).exists() for marker in _MARKERS)


def share_dir() -> Path:
    """Return the folder holding `config/`, `models/`, `sim/` and `launch/`.

    Raises:
        FileNotFoundError: if no candidate folder holds cadence's data files.
    """
    candidates: list[Path] = []
    if env := os.environ.get("CADENCE_SHARE"):
        candidates.append(Path(env))
    candidates.append(Path(__file__).resolve().parents[2])  # source tree: src/cadence/paths.py
    candidates.append(Path(sys.prefix) / "share" / PACKAGE)
    # colcon install space: <install>/lib/pythonX.Y/site-packages/cadence/paths.py
    candidates.append(Path(__file__).resolve().parents[4] / "share" / PACKAGE)
    for candidate in candidates:
        if _looks_like_share(candidate):
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"cadence data files not found (tried {tried}); set CADENCE_SHARE")


def config_dir() -> Path:
    return share_dir() / "config"


def models_dir() -> Path:
    return share_dir() / "models"


def scenes_dir() -> Path:
    return share_dir() / "sim" / "scenes"


def robots_dir() -> Path:
    return share_dir() / "sim" / "robots"
