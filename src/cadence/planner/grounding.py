"""Grounding: waypoints on the scene's topological graph through every subgoal (FARE's slow module).

The first leg joins the graph from the robot's free pose by :meth:`Scene.route`'s rule (the visible
node that minimises straight line + graph distance; :meth:`Roadmap.join` applies it with batched
visibility checks). Later legs run region node to region node on a
:class:`Roadmap`, a cached, pruned copy of the graph:

* **Redundancy pruning** (after FARE's pruning of the topological graph before the slow module reads
  it): non-region dead ends are dropped (no shortest path between regions uses them) and chains of
  degree-2 non-region nodes are contracted into one edge that remembers the nodes it passes, so
  Dijkstra runs on region nodes and junctions only and paths are expanded back to full waypoints.
  Shortest path lengths are unchanged by construction (tested against the full graph).
* Region-to-region paths are cached per roadmap, so planning cost does not grow with graph size
  after the first query.

FARE also clusters large graphs into communities by modularity for its language model; here the
back ends never see graph nodes (they name regions, the planner grounds them), so that part is not
needed and is not implemented.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cadence.planner.errors import SceneError
from cadence.planner.geometry import field_for

if TYPE_CHECKING:
    import networkx as nx

    from cadence.planner.intent import Step
    from cadence.planner.scene import Scene

XY = tuple[float, float]


def prune_graph(g: nx.Graph, keep: set[str]) -> nx.Graph:
    """Drop non-`keep` dead ends and contract non-`keep` degree-2 chains (edge attr ``via``).

    Args:
        g: Graph with ``weight`` on edges.
        keep: Nodes that must survive (the region nodes).

    Returns:
        A new graph; every edge has ``weight`` and ``via`` (the contracted nodes, in u->v order
        of the edge's ``ends`` attribute).
    """
    h = g.copy()
    for u, v in h.edges:
        h.edges[u, v]["via"] = ()
        h.edges[u, v]["ends"] = (u, v)
    leaves = [n for n in h if h.degree(n) <= 1 and n not in keep]
    while leaves:
        n = leaves.pop()
        if n not in h:
            continue
        nbrs = list(h.neighbors(n))
        h.remove_node(n)
        leaves.extend(m for m in nbrs if h.degree(m) <= 1 and m not in keep)
    for n in [n for n in h if n not in keep]:
        if h.degree(n) != 2:
            continue
        a, b = list(h.neighbors(n))
        weight = _w(h, a, n) + _w(h, n, b)
        via = (*_via(h, a, n), n, *_via(h, n, b))
        h.remove_node(n)
        if h.has_edge(a, b) and _w(h, a, b) <= weight:
            continue  # a direct edge is at least as short: n lies on no shortest path
        h.add_edge(a, b, weight=weight, via=via, ends=(a, b))
    return h


def _w(h: nx.Graph, u: str, v: str) -> float:
    return float(h.edges[u, v]["weight"])


def _via(h: nx.Graph, u: str, v: str) -> tuple[str, ...]:
    """Contracted nodes of edge u-v, ordered from u to v."""
    data = h.edges[u, v]
    return tuple(data["via"]) if data["ends"][0] == u else tuple(reversed(data["via"]))


class Roadmap:
    """Cached region-to-region shortest paths on the pruned topological graph of a scene."""

    def __init__(self, scene: Scene) -> None:
        self.scene = scene
        self.full = scene.graph()
        self.graph = prune_graph(self.full, set(scene.region_names))
        self.field = field_for(scene)
        self._cache: dict[tuple[str, str], tuple[float, list[str]]] = {}
        self._to_goal: dict[str, tuple[dict[str, float], dict[str, list[str]]]] = {}
        self._names = list(scene.nodes)
        self._xy = np.array([scene.nodes[n] for n in self._names], dtype=np.float64).reshape(-1, 2)

    def join(self, start_xy: XY, goal: str, clearance: float = 0.2) -> list[XY]:
        """Waypoints from a free point to a graph node: :meth:`Scene.route`'s rule, batched.

        Same choice as ``Scene.route`` (the visible node minimising straight line + graph distance,
        first in node order on ties; tested equal), with the visibility of every node checked in
        one array call and the graph distances to `goal` cached.

        Raises:
            ValueError: for an unknown goal node.
            SceneError: when no graph node is visible from the start.
        """
        import networkx as nx

        if goal not in self.scene.nodes:
            return self.scene.route(start_xy, goal, clearance)  # raises ValueError listing the nodes
        if goal not in self._to_goal:
            self._to_goal[goal] = nx.single_source_dijkstra(self.full, goal, weight="weight")
        lengths, paths = self._to_goal[goal]
        starts = np.broadcast_to(np.asarray(start_xy, dtype=np.float64), self._xy.shape)
        visible = self.field.segments_clear(starts, self._xy, clearance)
        best: tuple[float, str] | None = None
        for name, pos, ok in zip(self._names, self.scene.nodes.values(), visible, strict=False):
            if not ok or name not in lengths:
                continue
            cost = math.dist(start_xy, pos) + lengths[name]
            if best is None or cost < best[0]:
                best = (cost, name)
        if best is None:
            raise SceneError(
                f"scene {self.scene.name!r}: no graph node is visible from ({start_xy[0]:.2f}, {start_xy[1]:.2f})"
            )
        return [tuple(self.scene.nodes[n]) for n in reversed(paths[best[1]])]

    def path(self, a: str, b: str) -> tuple[float, list[str]]:
        """(length in m, node names from `a` to `b` inclusive) on the graph.

        Raises:
            SceneError: when `b` cannot be reached from `a`.
        """
        import networkx as nx

        key = (a, b)
        if key not in self._cache:
            try:
                length, nodes = nx.single_source_dijkstra(self.graph, a, b, weight="weight")
            except (nx.NetworkXNoPath, nx.NodeNotFound) as err:
                raise SceneError(f"scene {self.scene.name!r}: no path from {a!r} to {b!r}") from err
            full = [nodes[0]]
            for u, v in itertools.pairwise(nodes):
                full.extend((*_via(self.graph, u, v), v))
            self._cache[key] = (float(length), full)
            self._cache[(b, a)] = (float(length), list(reversed(full)))
        return self._cache[key]


@dataclass(frozen=True)
class Leg:
    """One subgoal's share of the route.

    Attributes:
        region: The region reached at the end of the leg.
        points: Waypoints of the leg (after its start), ending at the region's node.
        length: Path length in metres, from the leg's start.
        turn: Total heading change in radians along the leg (from the heading at its start).
    """

    region: str
    points: tuple[XY, ...]
    length: float
    turn: float


def polyline(start: XY, points: list[XY] | tuple[XY, ...], heading: float) -> tuple[float, float, float]:
    """(length, total absolute turn, final heading) of start -> points starting with `heading`."""
    length = turn = 0.0
    prev = start
    for p in points:
        d = math.dist(prev, p)
        if d > 1e-9:
            h = math.atan2(p[1] - prev[1], p[0] - prev[0])
            turn += abs(math.remainder(h - heading, math.tau))
            heading = h
            length += d
        prev = p
    return length, turn, heading


def ground(roadmap: Roadmap, start: tuple[float, float, float], steps: tuple[Step, ...]) -> list[Leg]:
    """Choose a region for every step (the cheapest either/or option) and route through them.

    The choice looks one step ahead: an option's cost is its leg length plus the shortest distance
    from it to the next step's nearest option.

    Args:
        roadmap: The scene's roadmap.
        start: Robot pose (x, y, yaw).
        steps: The intent's steps (regions already known to the scene).

    Returns:
        One :class:`Leg` per step.
    """
    scene = roadmap.scene
    pos: XY = (start[0], start[1])
    node: str | None = None  # current graph node, None while off the graph
    heading = start[2]
    legs: list[Leg] = []
    for i, step in enumerate(steps):
        best: tuple[float, str, list[XY]] | None = None
        nxt = steps[i + 1].regions if i + 1 < len(steps) else ()
        for option in step.regions:
            if node is None:
                points = roadmap.join(pos, scene.region_node(option))
            else:
                points = [scene.nodes[n] for n in roadmap.path(node, option)[1][1:]]
            cost = polyline(pos, points, heading)[0]
            if nxt:
                cost += min(roadmap.path(option, o)[0] for o in nxt)
            if best is None or cost < best[0]:
                best = (cost, option, points)
        if best is None:
            raise SceneError(f"step {i + 1} names no region")
        _, region, points = best
        length, turn, heading = polyline(pos, points, heading)
        legs.append(Leg(region, tuple(points), length, turn))
        if points:
            pos = points[-1]
        node = region
    return legs
