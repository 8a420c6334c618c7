"""``/diagnostics`` publishing: every node reports its state as a DiagnosticStatus once a second."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node

from cadence.ros import qos
from cadence.ros.pubsub import safe_publish

OK = DiagnosticStatus.OK
WARN = DiagnosticStatus.WARN
ERROR = DiagnosticStatus.ERROR
STALE = DiagnosticStatus.STALE

# A report: (level, message, key -> value); level is one of OK / WARN / ERROR / STALE (bytes).
Report = tuple[bytes, str, Mapping[str, object]]


class Diagnostics:
    """Publish one DiagnosticStatus for a node, from a callback that describes its state.

    Args:
        node: The node to report for (its fully qualified name is the status name).
        report: Returns ``(level, message, values)``; called at `period_s` on the node's clock.
        period_s: Seconds between reports.
    """

    def __init__(self, node: Node, report: Callable[[], Report], period_s: float = 1.0) -> None:
        self._node = node
        self._report = report
        self._pub = node.create_publisher(DiagnosticArray, "/diagnostics", qos.EVENTS)
        self._timer = node.create_timer(period_s, self.publish)

    def publish(self) -> None:
        level, message, values = self._report()
        status = DiagnosticStatus(
            level=level,
            name=self._node.get_fully_qualified_name(),
            message=message,
            hardware_id="cadence",
            values=[KeyValue(key=str(k), value=str(v)) for k, v in values.items()],
        )
        msg = DiagnosticArray(status=[status])
        msg.header.stamp = self._node.get_clock().now().to_msg()
        safe_publish(self._pub, msg, self._node.get_logger())

    def destroy(self) -> None:
        self._node.destroy_timer(self._timer)
        self._node.destroy_publisher(self._pub)
