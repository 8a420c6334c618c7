"""Executor choice and a clean, signal-safe spin loop for cadence's nodes.

rclpy's ``EventsExecutor`` (``rclpy.experimental``) cut a two-node round trip here from p50 598 µs
(``SingleThreadedExecutor``) to 128 µs (ENVIRONMENT.md), so it is the default where the distro has it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable

import rclpy
from rclpy.context import Context
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.node import Node

LOG = logging.getLogger("cadence.ros")
EXECUTOR_KINDS = ("events", "single", "multi")


def make_executor(kind: str = "events", context: Context | None = None, num_threads: int = 2):
    """Create an executor by name.

    Args:
        kind: ``events`` (rclpy.experimental.EventsExecutor, falling back to ``single`` with a log
            line where the distro lacks it), ``single`` or ``multi``.
        context: rclpy context (default: the global one).
        num_threads: Threads of the ``multi`` executor.

    Raises:
        ValueError: for an unknown kind, listing the valid ones.
    """
    if kind not in EXECUTOR_KINDS:
        raise ValueError(f"unknown executor {kind!r}; executors: {', '.join(EXECUTOR_KINDS)}")
    if kind == "events":
        try:
            from rclpy.experimental import EventsExecutor
        except ImportError:
            LOG.warning(
                "rclpy.experimental.EventsExecutor is not available here; using SingleThreadedExecutor"
            )
            kind = "single"
        else:
            return EventsExecutor(context=context)
    if kind == "multi":
        return MultiThreadedExecutor(num_threads=num_threads, context=context)
    return SingleThreadedExecutor(context=context)


def spin_for(executor, timeout_sec: float) -> None:
    """Run ready callbacks for up to `timeout_sec` (less if the context shuts down).

    ``spin_until_future_complete`` on a future that never completes: the ``EventsExecutor`` then
    dispatches every event of the interval in C++, instead of returning to a Python loop after each
    one as ``spin_once`` does (measured with ``bench/ros_latency.py``, same run: round trip p50 251 ->
    235 µs, p99 526 -> 483 µs). A fresh future per call: the executor registers a callback on it.
    """
    from rclpy.task import Future

    executor.spin_until_future_complete(Future(), timeout_sec=timeout_sec)


def spin_nodes(
    nodes: Iterable[Node],
    executor_kind: str = "events",
    context: Context | None = None,
    until: Callable[[], bool] | None = None,
    poll_s: float = 0.1,
) -> None:
    """Spin nodes until `until()` is true, SIGINT arrives or the context shuts down; then clean up.

    The executor is shut down and every node destroyed in a ``finally`` block, so Ctrl-C leaves no
    dangling DDS participants. rclpy installs its own SIGINT/SIGTERM handler on ``init``; it shuts the
    context down, which ends the loop.
    """
    executor = make_executor(executor_kind, context=context)
    nodes = list(nodes)
    for node in nodes:
        executor.add_node(node)
    ok = context.ok if context is not None else rclpy.ok
    try:
        # bounded spins in a loop rather than spin(): EventsExecutor.spin() does not return on SIGINT
        # (measured here with rclpy 9.1.2), while a bounded spin sees the context shut down.
        while ok() and not (until is not None and until()):
            spin_for(executor, poll_s)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        executor.shutdown()
        for node in nodes:
            node.destroy_node()


def run_node(
    factory: Callable[[], Node], args: list[str] | None = None, executor_kind: str = "events"
) -> int:
    """``main()`` body shared by every node: init, build the node, spin, shut down cleanly.

    Never ``with rclpy.init()`` (fails on Jazzy): try/finally with ``rclpy.try_shutdown()``.
    """
    from cadence.ros.errors import RosError

    rclpy.init(args=args)
    try:
        try:
            node = factory()
        except (RosError, ValueError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        spin_nodes([node], executor_kind=executor_kind)
    except KeyboardInterrupt:
        pass
    finally:
        rclpy.try_shutdown()
    return 0
