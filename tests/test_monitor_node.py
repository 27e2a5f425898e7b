"""The monitor node as a client sees it: latching, late joiners, reset rules, bad latents.

The test plays the policy (it publishes latents) and the sim (it announces the episode).
"""

from __future__ import annotations

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from std_msgs.msg import Bool, Float64MultiArray, String
from std_srvs.srv import Trigger

from safevla_common import topics
from safevla_common.episode import EpisodeEvent
from safevla_common.latent import LatentStep
from safevla_common.ros.messages import latent_to_msg, score_from_msg

from ros_harness import Client, wait_until

pytestmark = [pytest.mark.ros, pytest.mark.slow]
MONITOR = {"monitor_node": {"entropy_threshold": 2.0, "watchdog_period_s": 0.3, "startup_timeout_s": 2.0}}


class FakePolicy:
    """Publishes one latent every 50 ms with a controllable entropy; can go silent."""

    def __init__(self, client: Client, episode: int = 0) -> None:
        self.entropy, self.silent, self.step, self.episode = 0.5, False, 0, episode
        self._pub = client.publisher(Float64MultiArray, topics.LATENT)
        client.every(0.05, self._tick)

    def _tick(self) -> None:
        if not self.silent:
            self._pub.publish(latent_to_msg(LatentStep(self.episode, self.step, np.zeros(16, np.float32),
                                                       self.entropy, 0.5)))
            self.step += 1


def start_episode(client: Client, episode: int = 0) -> None:
    client.publisher(String, topics.EPISODE).publish(String(data=EpisodeEvent(episode, "running").to_json()))


def estop_state(inbox: list) -> bool | None:
    return inbox[-1].data if inbox else None


def test_estop_latches_holds_reaches_late_joiners_and_clears_only_by_reset(launch, client, ros):
    launch(MONITOR)
    estop = client.subscribe(Bool, topics.ESTOP)
    scores = client.subscribe(Float64MultiArray, topics.SCORE)
    assert wait_until(lambda: estop_state(estop) is False, 20), "monitor did not come up"
    start_episode(client)
    policy = FakePolicy(client)
    assert wait_until(lambda: len(scores) > 5, 5)
    assert estop_state(estop) is False

    policy.entropy = 2.5  # above the threshold: failure predicted
    assert wait_until(lambda: estop_state(estop) is True, 2)
    policy.entropy = 0.1  # the score drops again ...
    n = len(scores)
    assert wait_until(lambda: len(scores) > n + 5, 2)
    assert score_from_msg(scores[-1]).score == pytest.approx(0.1)
    assert estop_state(estop) is True  # ... and the e-stop stays latched

    late = Client("late_joiner")  # a subscriber that joins after the latch sees it at once
    try:
        late_inbox = late.subscribe(Bool, topics.ESTOP)
        assert wait_until(lambda: bool(late_inbox), 5) and late_inbox[0].data is True
    finally:
        late.close()

    # Reset clears the latch while latents flow. Starting the late joiner's node can hold up the fake
    # policy past the 0.3 s watchdog, and reset is then rightly refused: ask again, as an operator would.
    responses = []
    assert wait_until(lambda: responses.append(client.call(Trigger, topics.SAFETY_RESET)) or responses[-1].success,
                      3, period_s=0.1), responses[-1].message
    assert wait_until(lambda: estop_state(estop) is False, 2)


def test_silence_latches_and_reset_is_refused_until_latents_flow(launch, client):
    launch(MONITOR)
    estop = client.subscribe(Bool, topics.ESTOP)
    assert wait_until(lambda: estop_state(estop) is False, 20)
    start_episode(client)
    policy = FakePolicy(client)
    assert wait_until(lambda: policy.step > 5, 5)
    policy.silent = True
    assert wait_until(lambda: estop_state(estop) is True, 1.0), "watchdog did not latch on silence"

    refused = client.call(Trigger, topics.SAFETY_RESET)
    assert not refused.success and "refused" in refused.message
    assert estop_state(estop) is True

    policy.silent = False
    assert wait_until(lambda: client.call(Trigger, topics.SAFETY_RESET).success, 3)
    assert wait_until(lambda: estop_state(estop) is False, 2)


def test_nan_latent_is_dropped_counted_and_the_node_keeps_running(launch, client):
    launcher = launch(MONITOR)
    estop = client.subscribe(Bool, topics.ESTOP)
    scores = client.subscribe(Float64MultiArray, topics.SCORE)
    diagnostics = client.subscribe(DiagnosticArray, topics.DIAGNOSTICS)
    assert wait_until(lambda: estop_state(estop) is False, 20)
    start_episode(client)
    pub = client.publisher(Float64MultiArray, topics.LATENT)
    bad = latent_to_msg(LatentStep(0, 0, np.zeros(16, np.float32), 0.5, 0.5))
    bad.data[4 + 3] = float("nan")
    for _ in range(3):
        pub.publish(bad)
    assert wait_until(lambda: drops(diagnostics, "bad_latent") >= 3, 5)
    assert scores == []  # nothing was scored from a NaN latent
    assert launcher.dead() is None

    pub.publish(latent_to_msg(LatentStep(0, 1, np.zeros(16, np.float32), 0.5, 0.5)))
    assert wait_until(lambda: len(scores) == 1, 3)
    assert score_from_msg(scores[0]).step == 1


def drops(diagnostics: list, reason: str, node: str = "monitor_node") -> int:
    """The newest drop count for ``reason`` that ``node`` reported on /diagnostics."""
    for array in reversed(diagnostics):
        for status in array.status:
            if status.hardware_id == node:
                values = {kv.key: kv.value for kv in status.values}
                return int(values.get(f"drops/{reason}", 0))
    return 0
