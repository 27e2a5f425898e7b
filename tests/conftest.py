"""Integration fixtures: real node processes over DDS on loopback, and an rclpy client to talk to them.

Every test run takes its own ROS_DOMAIN_ID (from the pid) so parallel runs never cross, and
discovery is forced to LOCALHOST before rclpy starts, in this process and in every child.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Callable

import pytest

from safevla_common.ros_env import configure_ros_environment

DOMAIN_ID = 50 + os.getpid() % 50


@pytest.fixture(scope="session")
def ros():
    configure_ros_environment(DOMAIN_ID)
    import rclpy

    rclpy.init()
    yield rclpy
    rclpy.shutdown()


class Client:
    """A test-side node spun in the background, with helpers to publish and wait."""

    def __init__(self, name: str) -> None:
        from rclpy.executors import MultiThreadedExecutor
        from rclpy.node import Node

        self.node = Node(name)
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


@pytest.fixture
def client(ros, request):
    c = Client("test_client_" + request.node.name.replace("[", "_").replace("]", "").replace("-", "_")[:40])
    yield c
    c.close()


@pytest.fixture
def launch(ros, tmp_path: Path):
    """Start named nodes as processes (the project's launcher) with per-node parameter overrides."""
    from safevla.launcher import Launcher, NodeProcess
    from safevla.paths import params_file

    started = []

    def start(overrides: dict[str, dict]) -> "Launcher":
        nodes = [NodeProcess(name, params) for name, params in overrides.items()]
        launcher = Launcher(nodes, params_file(), DOMAIN_ID, log_dir=tmp_path / f"logs{len(started)}")
        launcher.start()
        started.append(launcher)
        return launcher

    yield start
    for launcher in started:
        launcher.stop()
        for node in launcher.nodes:  # keep node logs visible in the test report
            if node.log_path and node.log_path.exists():
                print(f"--- {node.name} ---\n{node.log_path.read_text()[-3000:]}")
