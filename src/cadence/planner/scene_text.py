"""The concise scene description every back end sees (issue 5: "the same text every back end sees").

Rooms with their aliases and contents, their size and place, and which rooms connect (through
doorways: two regions connect when the topological graph joins them through nodes that lie in no
other region). Obstacles other than walls are folded into the room descriptions the scene author
wrote; graph nodes are not listed because back ends name regions and the planner grounds them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from cadence.planner.scene import Scene


def _owner(scene: Scene, node: str) -> str | None:
    """The region a graph node stands for or lies in (the region node's own name first)."""
    if node in scene.region_names:
        return node
    xy = np.asarray(scene.nodes[node])
    inside = [r.name for r in scene.regions if float(r.signed_distance(xy)) > 0.0]
    return inside[0] if inside else None


def connections(scene: Scene) -> dict[str, list[str]]:
    """Region -> regions reachable without passing through a third region, sorted."""
    g = scene.graph()
    owner = {n: _owner(scene, n) for n in g}
    out: dict[str, set[str]] = {r: set() for r in scene.region_names}
    for region in scene.region_names:
        seen = {n for n in g if owner[n] == region}
        frontier = list(seen)
        while frontier:
            n = frontier.pop()
            for m in g.neighbors(n):
                if m in seen:
                    continue
                seen.add(m)
                if owner[m] is None:
                    frontier.append(m)
                elif owner[m] != region:
                    out[region].add(owner[m])
    return {k: sorted(v) for k, v in out.items()}


def scene_text(scene: Scene) -> str:
    """A few lines describing the scene for a planner back end (cached per scene content)."""
    key = (
        scene.name,
        scene.description,
        scene.bounds,
        scene.regions,
        scene.edges,
        tuple(scene.nodes.items()),
    )
    if key not in _CACHE:
        _CACHE[key] = _build(scene)
    return _CACHE[key]


_CACHE: dict[tuple, str] = {}


def _build(scene: Scene) -> str:
    (x0, y0), (x1, y1) = scene.bounds
    lines = [
        f"Scene {scene.name!r}: {scene.description or 'no description'} Map {x1 - x0:g} m x {y1 - y0:g} m."
    ]
    lines.append("Regions (use these names exactly):")
    links = connections(scene)
    for r in scene.regions:
        alias = f" (also called: {', '.join(r.aliases)})" if r.aliases else ""
        what = f" Contains {r.description}." if r.description else ""
        size = f" {2 * r.half_extents[0]:g} m x {2 * r.half_extents[1]:g} m at ({r.center[0]:g}, {r.center[1]:g})."
        conn = f" Connects to: {', '.join(links[r.name]) or 'nothing'}."
        lines.append(f"- {r.name}{alias}.{what}{size}{conn}")
    return "\n".join(lines)
