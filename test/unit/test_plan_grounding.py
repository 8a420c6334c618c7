"""Grounding: waypoints through doorways (never through walls), graph pruning, scene text."""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pytest

from cadence.planner.errors import PlanRejected, SceneError
from cadence.planner.geometry import ObstacleField
from cadence.planner.grounding import Roadmap, prune_graph
from cadence.planner.planner import Planner
from cadence.planner.scene import Scene, list_scenes, load_scene
from cadence.planner.scene_text import connections, scene_text


@pytest.fixture(scope="module")
def scene() -> Scene:
    return load_scene("apartment")


@pytest.mark.parametrize(
    "task",
    [
        "go to the kitchen, then the office, then the dock",
        "go to the lab then the kitchen",
        "go to the office and then the lab and then the dock",
    ],
)
@pytest.mark.parametrize("start", [(4.0, 4.0, 0.0), (1.0, 6.0, 1.0), (8.5, 1.0, -2.0)])
def test_waypoints_connect_through_doorways_not_walls(scene: Scene, task: str, start) -> None:
    plan = Planner(scene).plan(task, start)
    chain = [start[:2], *plan.waypoints]
    for a, b in itertools.pairwise(chain):
        assert scene.segment_clear(a, b, clearance=0.05), f"{a} -> {b} crosses an obstacle"
    doors = {scene.nodes[n] for n in scene.nodes if n.startswith("door_")}
    for prev, sg in zip((None, *plan.subgoals), plan.subgoals, strict=False):
        assert scene.region(sg.region).contains(*plan.waypoints[sg.waypoint])
        lo = prev.waypoint + 1 if prev is not None else 0
        leg = plan.waypoints[lo : sg.waypoint + 1]
        if prev is not None and prev.region != "hallway" and sg.region != "hallway":
            assert doors & set(leg), f"leg to {sg.region} passes no doorway: {leg}"


def test_join_equals_scene_route(scene: Scene) -> None:
    """Roadmap.join applies Scene.route's rule (batched); same waypoints from random free poses."""
    roadmap = Roadmap(scene)
    rng = np.random.default_rng(1)
    field = ObstacleField(scene)
    checked = 0
    while checked < 25:
        xy = (float(rng.uniform(0.3, 9.7)), float(rng.uniform(0.3, 7.7)))
        if field.distance(np.array(xy)) < 0.3:
            continue
        for goal in ("kitchen", "door_lab"):
            try:
                expected = scene.route(xy, goal)
            except SceneError:
                with pytest.raises(SceneError, match="no graph node is visible"):
                    roadmap.join(xy, goal)
                continue
            assert roadmap.join(xy, goal) == expected
        checked += 1


def test_segments_clear_matches_scene(scene: Scene) -> None:
    field = ObstacleField(scene)
    rng = np.random.default_rng(2)
    a = rng.uniform([0, 0], [10, 8], size=(150, 2))
    b = a + rng.normal(scale=2.0, size=(150, 2))
    np.testing.assert_allclose(field.distance(a), scene.obstacle_distance(a))
    for clearance in (0.0, 0.2):
        ours = field.segments_clear(a, b, clearance)
        theirs = np.array(
            [scene.segment_clear(tuple(p), tuple(q), clearance) for p, q in zip(a, b, strict=False)]
        )
        # Scene.segment_clear samples every 2 cm; ours is exact: disagreements only at grazing contacts
        for i in np.flatnonzero(ours != theirs):
            fine = np.linspace(a[i], b[i], 5000)
            assert abs(float(scene.obstacle_distance(fine).min()) - clearance) < 0.01
        assert (ours == theirs).mean() > 0.99


def _corridor_scene(n: int) -> Scene:
    """Two rooms at the ends of a corridor drawn as a chain of n nodes, with dead-end alcoves."""
    nodes = [{"name": "a", "position": [0.5, 0.5]}, {"name": "b", "position": [n + 1.5, 0.5]}]
    edges = []
    prev = "a"
    for i in range(n):
        name = f"c{i}"
        nodes.append({"name": name, "position": [i + 1.5, 0.5]})
        edges.append([prev, name])
        prev = name
        if i % 3 == 0:
            nodes.append({"name": f"alcove{i}", "position": [i + 1.5, 0.9]})
            edges.append([name, f"alcove{i}"])
    edges.append([prev, "b"])
    return Scene.from_dict(
        {
            "name": "corridor",
            "bounds": [[0, 0], [n + 2, 1.0]],
            "start": {"x": 0.5, "y": 0.5},
            "regions": [
                {"name": "a", "center": [0.5, 0.5], "half_extents": [0.45, 0.45]},
                {"name": "b", "center": [n + 1.5, 0.5], "half_extents": [0.45, 0.45]},
            ],
            "obstacles": [],
            "graph": {"nodes": nodes, "edges": edges},
        }
    )


def test_pruning_keeps_shortest_paths_and_shrinks_the_graph() -> None:
    scene = _corridor_scene(30)
    full = scene.graph()
    pruned = prune_graph(full, set(scene.region_names))
    assert pruned.number_of_nodes() == 2 and full.number_of_nodes() > 40
    roadmap = Roadmap(scene)
    length, nodes = roadmap.path("a", "b")
    assert length == pytest.approx(nx.shortest_path_length(full, "a", "b", weight="weight"))
    assert nodes == nx.shortest_path(full, "a", "b", weight="weight")  # expanded back to every node
    plan = Planner(scene).plan("go to b then a")
    assert len(plan.waypoints) == 2 * 31 + 1


def test_pruning_keeps_junctions(scene: Scene) -> None:
    pruned = prune_graph(scene.graph(), set(scene.region_names))
    for u in scene.region_names:
        for v in scene.region_names:
            if u < v:
                ours = nx.shortest_path_length(pruned, u, v, weight="weight")
                assert ours == pytest.approx(nx.shortest_path_length(scene.graph(), u, v, weight="weight"))


def test_either_or_picks_the_nearer_option(scene: Scene) -> None:
    planner = Planner(scene)
    near_kitchen = planner.plan("go to the kitchen or the dock", (2.5, 4.0, 0.0))
    near_dock = planner.plan("go to the kitchen or the dock", (7.5, 4.0, 0.0))
    assert near_kitchen.subgoals[0].region == "kitchen"
    assert near_dock.subgoals[0].region == "dock"
    assert set(near_dock.subgoals[0].options) == {"kitchen", "dock"}


def test_scene_text_lists_rooms_contents_and_connections(scene: Scene) -> None:
    text = scene_text(scene)
    for r in scene.regions:
        assert r.name in text and r.description in text
    assert "docking station" in text
    assert connections(scene)["kitchen"] == ["hallway"]
    assert connections(scene)["hallway"] == ["dock", "kitchen", "lab", "office"]
    assert len(text) < 2000
    assert math.isfinite(len(text))


@pytest.mark.parametrize("name", list_scenes())
def test_every_region_of_every_shipped_scene_is_plannable(name: str) -> None:
    scene = load_scene(name)
    planner = Planner(scene)
    names = scene.region_names
    for region in names:
        plan = planner.plan(f"go to the {region.replace('_', ' ')}")
        assert plan.subgoals[0].region == region
    tour = planner.plan(", then ".join(f"go to {r}" for r in names[:3]) + " and wait there for 2 s")
    assert [s.region for s in tour.subgoals] == list(names[:3])
    chain = [tour.start[:2], *tour.waypoints]
    for a, b in itertools.pairwise(chain):
        assert scene.segment_clear(a, b, clearance=0.05)
    assert all(r in scene_text(scene) for r in names)


@pytest.mark.parametrize(
    ("pose", "match"),
    [
        ((5.0, 4.8, 0.0), "no graph node is visible"),  # inside the hallway's north wall
        ((50.0, 50.0, 0.0), "no graph node is visible"),
        ((float("nan"), 4.0, 0.0), "finite numbers"),
        ((4.0, 4.0, float("inf")), "finite numbers"),
        ((1.0, 2.0, 3.0, 4.0), "finite numbers"),
        (("a", 1.0), "numbers"),
    ],
)
def test_bad_poses_are_rejected(scene: Scene, pose, match: str) -> None:
    with pytest.raises(PlanRejected, match=match):
        Planner(scene).plan("go to the lab", pose)


@pytest.mark.parametrize("task", ["", "   ", "go to the lab " * 200])
def test_empty_or_huge_tasks_are_rejected(scene: Scene, task: str) -> None:
    with pytest.raises(PlanRejected, match="non-empty text of at most 2000 characters"):
        Planner(scene).plan(task)
