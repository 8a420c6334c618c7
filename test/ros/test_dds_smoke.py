"""A broken ROS install must fail CI loudly: two real rclpy nodes exchange a message over DDS."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.ros


def test_two_nodes_exchange_a_string_over_dds() -> None:
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from std_msgs.msg import String

    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        talker = rclpy.create_node("smoke_talker", context=context)
        listener = rclpy.create_node("smoke_listener", context=context)
        received: list[str] = []
        listener.create_subscription(String, "smoke", lambda m: received.append(m.data), 10)
        pub = talker.create_publisher(String, "smoke", 10)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(talker)
        executor.add_node(listener)
        deadline = time.monotonic() + 10.0
        while not received and time.monotonic() < deadline:
            pub.publish(String(data="hello over dds"))
            executor.spin_once(timeout_sec=0.05)
        assert received and received[0] == "hello over dds"
        executor.shutdown()
        talker.destroy_node()
        listener.destroy_node()
    finally:
        rclpy.try_shutdown(context=context)
