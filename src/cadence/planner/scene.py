"""Scenes: named regions, obstacles, a topological graph and a start pose (DESIGN.md, "Formats").

A scene is one YAML file (``sim/scenes/NAME.yaml``). Regions and obstacles are axis-aligned boxes;
STL predicates over a region are the signed distance to its box, positive inside. The MuJoCo world,
the planner's scene text and the STL signals are all derived from this one description.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from cadence.planner.errors import SceneError
from cadence.planner.geometry import field_for

if TYPE_CHECKING:
    import networkx as nx

SCENE_FORMAT_VERSION = 1


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in the plane: a region or an obstacle.

    Attributes:
        name: Unique name within the scene (regions are referred to by it in STL and tasks).
        center: (x, y) of the centre in metres.
        half_extents: (hx, hy) half sizes in metres, both > 0.
        kind: ``region``, ``wall`` or ``furniture`` (obstacle kinds are free text; rendering uses it).
        aliases: Other names people use for it ("charging dock", "docking station").
        description: What is there, for the planner's scene text.
        height: Obstacle height in metres (for the MuJoCo world).
    """

    name: str
    center: tuple[float, float]
    half_extents: tuple[float, float]
    kind: str = "region"
    aliases: tuple[str, ...] = ()
    description: str = ""
    height: float = 0.0

    @property
    def lo(self) -> tuple[float, float]:
        return (self.center[0] - self.half_extents[0], self.center[1] - self.half_extents[1])

    @property
    def hi(self) -> tuple[float, float]:
        return (self.center[0] + self.half_extents[0], self.center[1] + self.half_extents[1])

    def signed_distance(self, xy: np.ndarray) -> np.ndarray:
        """Signed distance from points to the box boundary, positive inside.

        Args:
            xy: Array of shape (..., 2).

        Returns:
            Array of shape (...): inside, the distance to the nearest edge; outside, minus the
            Euclidean distance to the box.
        """
        xy = np.asarray(xy, dtype=np.float64)
        d = np.abs(xy - np.asarray(self.center)) - np.asarray(self.half_extents)
        outside = np.linalg.norm(np.maximum(d, 0.0), axis=-1)
        inside = np.minimum(np.max(d, axis=-1), 0.0)
        return -(outside + inside)

    def contains(self, x: float, y: float, margin: float = 0.0) -> bool:
        return float(self.signed_distance(np.array([x, y]))) > margin

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "center": [float(v) for v in self.center],
            "half_extents": [float(v) for v in self.half_extents],
        }
        if self.kind != "region":
            out["kind"] = self.kind
        if self.aliases:
            out["aliases"] = list(self.aliases)
        if self.description:
            out["description"] = self.description
        if self.height:
            out["height"] = float(self.height)
        return out


@dataclass(frozen=True)
class Pose2D:
    x: float
    y: float
    yaw: float = 0.0


@dataclass(frozen=True)
class Scene:
    """A whole scene. Build it with :func:`load_scene` or :meth:`from_dict`.

    Attributes:
        name: Scene name (the file stem).
        bounds: ((xmin, ymin), (xmax, ymax)) of the map.
        start: Robot start pose.
        regions: Named goal / keep-out regions.
        obstacles: Walls and furniture.
        nodes: Topological graph nodes: name -> (x, y) (region centres, doorways, junctions).
        edges: Undirected edges between mutually visible nodes.
        description: One line about the place, for the planner's scene text.
    """

    name: str
    bounds: tuple[tuple[float, float], tuple[float, float]]
    start: Pose2D
    regions: tuple[Box, ...]
    obstacles: tuple[Box, ...]
    nodes: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    edges: tuple[tuple[str, str], ...] = ()
    description: str = ""

    # ---------------------------------------------------------------- lookup
    @property
    def region_names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.regions)

    def region(self, name: str) -> Box:
        """The region called `name`.

        Raises:
            ValueError: listing the valid region names.
        """
        for r in self.regions:
            if r.name == name:
                return r
        raise ValueError(
            f"unknown region {name!r} in scene {self.name!r}; regions: {', '.join(self.region_names)}"
        )

    def region_node(self, name: str) -> str:
        """The graph node standing for a region (the node with the region's name)."""
        self.region(name)
        if name not in self.nodes:
            raise SceneError(f"scene {self.name!r}: region {name!r} has no graph node of the same name")
        return name

    def signed_distance(self, region: str, xy: np.ndarray) -> np.ndarray:
        """Signed distance (positive inside) of points (..., 2) to a region: the STL predicate."""
        return self.region(region).signed_distance(xy)

    def region_signals(self, xy: np.ndarray) -> dict[str, np.ndarray]:
        """Every region's signed distance along a path (..., 2): the STL signals of a trajectory."""
        return {r.name: r.signed_distance(xy) for r in self.regions}

    def in_bounds(self, x: float, y: float) -> bool:
        (x0, y0), (x1, y1) = self.bounds
        return x0 <= x <= x1 and y0 <= y <= y1

    def obstacle_distance(self, xy: np.ndarray) -> np.ndarray:
        """Distance from points (..., 2) to the nearest obstacle (negative when inside one)."""
        return field_for(self).distance(xy)  # vectorised over the obstacles (cached per scene)

    def segment_clear(self, a: tuple[float, float], b: tuple[float, float], clearance: float = 0.0) -> bool:
        """Whether the straight segment a-b keeps `clearance` metres away from every obstacle."""
        length = math.dist(a, b)
        n = max(2, int(length / 0.02) + 1)
        pts = np.linspace(np.asarray(a, float), np.asarray(b, float), n)
        return bool(np.all(self.obstacle_distance(pts) > clearance))

    def graph(self) -> nx.Graph:
        """The topological graph as a networkx graph with ``pos`` on nodes, ``weight`` (m) on edges."""
        import networkx as nx

        g = nx.Graph()
        for name, pos in self.nodes.items():
            g.add_node(name, pos=pos)
        for u, v in self.edges:
            g.add_edge(u, v, weight=math.dist(self.nodes[u], self.nodes[v]))
        return g

    def route(
        self, start_xy: tuple[float, float], goal: str, clearance: float = 0.2
    ) -> list[tuple[float, float]]:
        """Waypoints from a free point to a graph node (a region name or a doorway).

        The start joins the graph at the visible node that minimises (straight line to it + shortest
        path from it), so a robot already past a doorway does not turn back to it.

        Args:
            start_xy: (x, y) of the robot.
            goal: Name of the target graph node.
            clearance: Metres a straight start->node segment must keep from obstacles.

        Returns:
            Waypoints after the start, ending at the goal node's position.

        Raises:
            ValueError: for an unknown goal node (listing the nodes).
            SceneError: when no graph node is visible from the start.
        """
        import networkx as nx

        if goal not in self.nodes:
            raise ValueError(
                f"unknown graph node {goal!r} in scene {self.name!r}; nodes: {', '.join(self.nodes)}"
            )
        g = self.graph()
        lengths, paths = nx.single_source_dijkstra(g, goal, weight="weight")
        best: tuple[float, str] | None = None
        for node, pos in self.nodes.items():
            if node not in lengths or not self.segment_clear(start_xy, pos, clearance):
                continue
            cost = math.dist(start_xy, pos) + lengths[node]
            if best is None or cost < best[0]:
                best = (cost, node)
        if best is None:
            raise SceneError(
                f"scene {self.name!r}: no graph node is visible from ({start_xy[0]:.2f}, {start_xy[1]:.2f})"
            )
        path = list(reversed(paths[best[1]]))  # from the entry node to the goal
        return [tuple(self.nodes[n]) for n in path]

    # ---------------------------------------------------------------- (de)serialise
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], name: str | None = None) -> Scene:
        """Build and check a scene from its YAML mapping.

        Raises:
            SceneError: naming the offending key.
        """
        try:
            return _scene_from_dict(data, name)
        except SceneError:
            raise
        except (KeyError, TypeError, ValueError, IndexError) as err:
            raise SceneError(f"scene {name or data.get('name', '?')!r}: malformed: {err}") from err

    def to_dict(self) -> dict[str, Any]:
        (x0, y0), (x1, y1) = self.bounds
        return {
            "format_version": SCENE_FORMAT_VERSION,
            "name": self.name,
            "description": self.description,
            "bounds": [[x0, y0], [x1, y1]],
            "start": {"x": self.start.x, "y": self.start.y, "yaw": self.start.yaw},
            "regions": [r.to_dict() for r in self.regions],
            "obstacles": [o.to_dict() for o in self.obstacles],
            "graph": {
                "nodes": [{"name": k, "position": [float(v[0]), float(v[1])]} for k, v in self.nodes.items()],
                "edges": [[u, v] for u, v in self.edges],
            },
        }

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None)


def _pair(value: Any, key: str) -> tuple[float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise SceneError(f"{key} must be a list of two numbers, got {value!r}")
    out = (float(value[0]), float(value[1]))
    if not all(math.isfinite(v) for v in out):
        raise SceneError(f"{key} must be finite, got {value!r}")
    return out


def _box(item: Mapping[str, Any], where: str, default_kind: str) -> Box:
    name = item["name"]
    if not isinstance(name, str) or not name.strip():
        raise SceneError(f"{where}: every entry needs a non-empty name")
    half = _pair(item["half_extents"], f"{where} {name}.half_extents")
    if min(half) <= 0:
        raise SceneError(f"{where} {name}.half_extents must be positive, got {list(half)}")
    return Box(
        name=name,
        center=_pair(item["center"], f"{where} {name}.center"),
        half_extents=half,
        kind=str(item.get("kind", default_kind)),
        aliases=tuple(str(a) for a in item.get("aliases", ())),
        description=str(item.get("description", "")),
        height=float(item.get("height", 0.0)),
    )


def _scene_from_dict(data: Mapping[str, Any], name: str | None) -> Scene:
    version = int(data.get("format_version", SCENE_FORMAT_VERSION))
    if version != SCENE_FORMAT_VERSION:
        raise SceneError(
            f"scene format_version {version} is not supported (this cadence reads {SCENE_FORMAT_VERSION})"
        )
    scene_name = str(data.get("name") or name or "scene")
    regions = tuple(_box(r, "regions", "region") for r in data.get("regions", ()))
    obstacles = tuple(_box(o, "obstacles", "furniture") for o in data.get("obstacles", ()))
    for what, boxes in (("region", regions), ("obstacle", obstacles)):
        seen: set[str] = set()
        for b in boxes:
            if b.name in seen:
                raise SceneError(f"scene {scene_name!r}: duplicate {what} name {b.name!r}")
            seen.add(b.name)
    bounds_raw = data["bounds"]
    bounds = (_pair(bounds_raw[0], "bounds[0]"), _pair(bounds_raw[1], "bounds[1]"))
    if not (bounds[0][0] < bounds[1][0] and bounds[0][1] < bounds[1][1]):
        raise SceneError(
            f"scene {scene_name!r}: bounds must be [[xmin, ymin], [xmax, ymax]], got {bounds_raw!r}"
        )
    start_raw = data.get("start", {})
    start = Pose2D(
        float(start_raw.get("x", 0.0)), float(start_raw.get("y", 0.0)), float(start_raw.get("yaw", 0.0))
    )
    graph = data.get("graph", {}) or {}
    nodes = {
        str(n["name"]): _pair(n["position"], f"graph node {n.get('name')}") for n in graph.get("nodes", ())
    }
    edges: list[tuple[str, str]] = []
    for edge in graph.get("edges", ()):
        u, v = str(edge[0]), str(edge[1])
        for end in (u, v):
            if end not in nodes:
                raise SceneError(f"scene {scene_name!r}: graph edge {[u, v]} names unknown node {end!r}")
        edges.append((u, v))
    return Scene(
        name=scene_name,
        bounds=bounds,
        start=start,
        regions=regions,
        obstacles=obstacles,
        nodes=nodes,
        edges=tuple(edges),
        description=str(data.get("description", "")),
    )


def list_scenes() -> list[str]:
    """Names of the shipped scenes (``sim/scenes/*.yaml``)."""
    from cadence.paths import scenes_dir

    return sorted(p.stem for p in scenes_dir().glob("*.yaml"))


def load_scene(name_or_path: str | Path) -> Scene:
    """Load a shipped scene by name, or any scene YAML by path.

    Raises:
        ValueError: for an unknown scene name, listing the shipped ones.
        SceneError: for a malformed file.
    """
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        from cadence.paths import scenes_dir

        path = scenes_dir() / f"{name_or_path}.yaml"
        if not path.is_file():
            raise ValueError(f"unknown scene {str(name_or_path)!r}; scenes: {', '.join(list_scenes())}")
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise SceneError(f"cannot read scene {path}: {err}") from err
    if not isinstance(data, Mapping):
        raise SceneError(f"scene {path} is not a YAML mapping")
    return Scene.from_dict(data, name=path.stem)


def boxes_overlapping(boxes: Iterable[Box], x: float, y: float, margin: float = 0.0) -> list[str]:
    """Names of the boxes that contain (x, y) with `margin` metres of slack."""
    return [b.name for b in boxes if float(b.signed_distance(np.array([x, y]))) > -margin]
