"""Scene model: YAML round trip, regions, signed distances, the topological graph."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import yaml

from cadence.planner.errors import SceneError
from cadence.planner.scene import Box, Scene, list_scenes, load_scene


@pytest.mark.parametrize("name", list_scenes())
def test_shipped_scene_round_trips(name: str) -> None:
    scene = load_scene(name)
    again = Scene.from_dict(yaml.safe_load(scene.to_yaml()))
    assert again == scene


@pytest.mark.parametrize("name", list_scenes())
def test_shipped_scene_graph_is_sane(name: str) -> None:
    import networkx as nx

    scene = load_scene(name)
    g = scene.graph()
    assert nx.is_connected(g), "every region must be reachable"
    for region in scene.regions:
        assert region.name in scene.nodes, f"region {region.name} needs a graph node"
        assert region.contains(*scene.nodes[region.name])
    for u, v in scene.edges:  # edges join mutually visible nodes: no wall or furniture in between
        assert scene.segment_clear(scene.nodes[u], scene.nodes[v], clearance=0.2), (u, v)
    assert scene.in_bounds(scene.start.x, scene.start.y)
    assert float(scene.obstacle_distance(np.array([scene.start.x, scene.start.y]))) > 0.3


def test_box_signed_distance() -> None:
    box = Box("r", (1.0, 2.0), (1.0, 0.5))
    pts = np.array([[1.0, 2.0], [1.9, 2.0], [3.0, 2.0], [3.0, 3.5], [2.0, 2.5]])
    np.testing.assert_allclose(box.signed_distance(pts), [0.5, 0.1, -1.0, -np.hypot(1.0, 1.0), 0.0])
    assert box.signed_distance(np.zeros((4, 3, 2))).shape == (4, 3)


def test_unknown_region_lists_valid_names() -> None:
    scene = load_scene("apartment")
    with pytest.raises(ValueError, match="kitchen"):
        scene.region("garage")


def test_unknown_scene_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="apartment"):
        load_scene("moon_base")


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"bounds": [[0, 0], [-1, 5]]}, "bounds"),
        ({"regions": [{"name": "a", "center": [0, 0], "half_extents": [0, 1]}]}, "positive"),
        ({"regions": [{"name": "a", "center": [0, "x"], "half_extents": [1, 1]}]}, "malformed"),
        ({"graph": {"nodes": [{"name": "a", "position": [0, 0]}], "edges": [["a", "b"]]}}, "unknown node"),
        ({"format_version": 99}, "format_version"),
    ],
)
def test_malformed_scene_is_refused(patch: dict, message: str) -> None:
    data = load_scene("apartment").to_dict() | patch
    with pytest.raises(SceneError, match=message):
        Scene.from_dict(data)


def test_route_goes_through_doorways() -> None:
    scene = load_scene("apartment")
    route = scene.route((7.5, 1.6), "kitchen")
    assert route[0] == (7.5, 1.6) or scene.segment_clear((7.5, 1.6), route[0], 0.2)
    assert route[-1] == scene.nodes["kitchen"]
    assert scene.nodes["door_dock"] in route and scene.nodes["door_kitchen"] in route
    pts = [(7.5, 1.6), *route]
    for a, b in itertools.pairwise(pts):
        assert scene.segment_clear(a, b, 0.2), (a, b)


def test_route_joins_at_the_best_visible_node() -> None:
    scene = load_scene("apartment")
    # Standing in the hallway west of the kitchen door: go straight to the door, not back east.
    route = scene.route((1.5, 4.0), "kitchen")
    assert route[0] in (scene.nodes["hall_west"], scene.nodes["door_kitchen"])
    with pytest.raises(ValueError, match="door_kitchen"):
        scene.route((1.5, 4.0), "garage")
