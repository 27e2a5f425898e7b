"""Integration fixtures: real node processes over DDS on loopback, and an rclpy client to talk to them.

Discovery is forced to LOCALHOST with this run's own domain id before rclpy starts, in this
process and in every child (the launcher sets it again for each node).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ros_harness import DOMAIN_ID, Client
from safevla_common.ros_env import configure_ros_environment


@pytest.fixture(scope="session")
def ros():
    configure_ros_environment(DOMAIN_ID)
    import rclpy

    rclpy.init()
    yield rclpy
    rclpy.shutdown()


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
