"""Fixtures for the ROS tests: one rclpy.Context per test, a spin helper, graph builders."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

SPIN_TIMEOUT_S = 20.0  # a safety net for a broken graph, not a speed requirement


@pytest.fixture
def context() -> Iterator[Any]:
    import rclpy

    ctx = rclpy.Context()
    rclpy.init(args=[], context=ctx)
    try:
        yield ctx
    finally:
        rclpy.try_shutdown(context=ctx)


class Graph:
    """Nodes on one SingleThreadedExecutor in a test's context."""

    def __init__(self, context: Any) -> None:
        from rclpy.executors import SingleThreadedExecutor

        self.context = context
        self.executor = SingleThreadedExecutor(context=context)
        self.nodes: list[Any] = []

    def add(self, node: Any) -> Any:
        self.nodes.append(node)
        self.executor.add_node(node)
        return node

    def node(self, name: str) -> Any:
        import rclpy

        return self.add(rclpy.create_node(name, context=self.context))

    def spin_until(self, predicate: Callable[[], bool], timeout: float = SPIN_TIMEOUT_S) -> bool:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                return False
            self.executor.spin_once(timeout_sec=0.02)
        return True

    def spin_for(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.02)

    def close(self) -> None:
        self.executor.shutdown()
        for node in self.nodes:
            node.destroy_node()


@pytest.fixture
def graph(context: Any) -> Iterator[Graph]:
    g = Graph(context)
    try:
        yield g
    finally:
        g.close()


@pytest.fixture(scope="session")
def kitchen_plan() -> Any:
    """A rules plan in the apartment from the scene's start: kitchen, then office, keep out of the lab."""
    from cadence.planner.planner import Planner
    from cadence.planner.scene import load_scene

    scene = load_scene("apartment")
    return Planner(scene, "rules").plan(
        "Visit the kitchen, then the office within 90 seconds, and keep out of the lab",
        (scene.start.x, scene.start.y, scene.start.yaw),
    )


def overrides(**values: Any) -> list[Any]:
    from cadence.ros.params import parameter_overrides

    return parameter_overrides(values)
