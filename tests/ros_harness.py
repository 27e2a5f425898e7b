"""Test-side ROS helpers: a background-spun client node and polling waits.

Every test run takes its own ROS_DOMAIN_ID (from the pid) so parallel runs never cross.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Callable

DOMAIN_ID = 50 + os.getpid() % 50


class Client:
    """A test-side node spun in the background, with helpers to publish and wait."""

    def __init__(self, name: str) -> None:
        from rclpy.executors import MultiThreadedExecutor
        from rclpy.node import Node

        self.node = Node(name)
        self._diagnostics: list | None = None  # subscribed on first wait_for_nodes
        self.executor = MultiThreadedExecutor(num_threads=2)
        self.executor.add_node(self.node)
        self._thread = threading.Thread(target=self.executor.spin, daemon=True)
        self._thread.start()

    def subscribe(self, msg_type, topic: str) -> list:
        """Collect every message on ``topic`` (with the project's QoS) into the returned list."""
        from safevla_common.ros.qos import qos_for

        inbox: list = []
        self.node.create_subscription(msg_type, topic, inbox.append, qos_for(topic))
        return inbox

    def publisher(self, msg_type, topic: str):
        from safevla_common.ros.qos import qos_for

        return self.node.create_publisher(msg_type, topic, qos_for(topic))

    def every(self, period_s: float, fn: Callable[[], None]):
        return self.node.create_timer(period_s, fn)

    def wait_for_nodes(self, names: tuple[str, ...], timeout_s: float = 120.0) -> bool:
        """Wait until each node has published /diagnostics, i.e. finished starting (the policy loads
        and warms up its model first), as ``safevla-sim`` does before its first episode."""
        from diagnostic_msgs.msg import DiagnosticArray

        from safevla_common import topics

        if self._diagnostics is None:
            self._diagnostics = self.subscribe(DiagnosticArray, topics.DIAGNOSTICS)
        reported = lambda: {s.hardware_id for m in list(self._diagnostics) for s in m.status}  # noqa: E731
        return wait_until(lambda: set(names) <= reported(), timeout_s, period_s=0.05)

    def call(self, srv_type, name: str, timeout_s: float = 10.0):
        client = self.node.create_client(srv_type, name)
        assert client.wait_for_service(timeout_sec=timeout_s), f"service {name} not available"
        future = client.call_async(srv_type.Request())
        assert wait_until(future.done, timeout_s), f"service {name} did not answer"
        return future.result()

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()


def wait_until(predicate: Callable[[], bool], timeout_s: float, period_s: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(period_s)
    return predicate()
