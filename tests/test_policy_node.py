"""The policy node as a client sees it: bad frames are dropped, e-stop and a silent monitor mean no action."""

from __future__ import annotations

import time

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray
from std_msgs.msg import Float64MultiArray, String

from safevla_common import topics
from safevla_common.ros.images import to_msg

from ros_harness import wait_until
from fakes import FakeSim, MonitorHeartbeat
from test_monitor_node import drops

pytestmark = [pytest.mark.ros, pytest.mark.slow]
POLICY = {"policy_node": {"backend": "expert", "monitor_timeout_s": 0.3}}


def bad_frames():
    good = to_msg(np.zeros((224, 384, 3), np.uint8), Time(), "nav_camera")
    wrong_encoding = to_msg(np.zeros((224, 384, 3), np.uint8), Time(), "nav_camera")
    wrong_encoding.encoding = "bgr8"
    truncated = to_msg(np.zeros((224, 384, 3), np.uint8), Time(), "nav_camera")
    truncated.data = bytes(good.data[: len(good.data) // 2])
    wrong_size = to_msg(np.zeros((100, 100, 3), np.uint8), Time(), "nav_camera")
    return {"wrong encoding": wrong_encoding, "truncated": truncated, "wrong size": wrong_size}


def test_malformed_images_are_dropped_and_produce_no_action(launch, client):
    launcher = launch(POLICY)
    actions = client.subscribe(String, topics.ACTION)
    latents = client.subscribe(Float64MultiArray, topics.LATENT)
    diagnostics = client.subscribe(DiagnosticArray, topics.DIAGNOSTICS)
    MonitorHeartbeat(client)
    sim = FakeSim(client)
    assert wait_until(lambda: bool(diagnostics), 30), "policy node did not come up"
    sim.start_episode()

    for frame in bad_frames().values():
        for _ in range(2):  # twice each, paced like a camera: keep-last-1 keeps only the newest
            sim.observe(nav=frame)
            time.sleep(0.1)
    assert wait_until(lambda: drops(diagnostics, "bad_image", node="policy_node") >= 3, 5)
    assert actions == [] and latents == []
    assert launcher.dead() is None

    sim.observe("rotate_left")  # a valid observation still works afterwards
    assert wait_until(lambda: len(actions) == 1, 5)
    assert actions[0].data == "rotate_left" and len(latents) == 1


def test_no_action_while_the_estop_is_latched_or_the_monitor_is_silent(launch, client):
    launch(POLICY)
    actions = client.subscribe(String, topics.ACTION)
    diagnostics = client.subscribe(DiagnosticArray, topics.DIAGNOSTICS)
    heartbeat = MonitorHeartbeat(client)
    sim = FakeSim(client)
    assert wait_until(lambda: bool(diagnostics), 30)
    sim.start_episode()
    sim.observe()
    assert wait_until(lambda: len(actions) == 1, 5)

    heartbeat.latched = True
    time.sleep(0.3)  # let the latch arrive
    for _ in range(5):
        sim.observe()
    assert wait_until(lambda: len(actions) > 1, 1.0) is False, "acted while the e-stop was latched"

    heartbeat.latched, heartbeat.silent = False, True  # a dead monitor must stop the policy too
    time.sleep(0.6)  # longer than monitor_timeout_s
    for _ in range(5):
        sim.observe()
    assert wait_until(lambda: len(actions) > 1, 1.0) is False, "acted while the monitor was silent"

    heartbeat.silent = False
    time.sleep(0.3)
    sim.observe()
    assert wait_until(lambda: len(actions) == 2, 5), "did not resume once the monitor was back"
