"""The sim bridge as a client sees it: no action is executed once the e-stop latches or the monitor dies."""

from __future__ import annotations

import time

import pytest
from diagnostic_msgs.msg import DiagnosticArray
from std_msgs.msg import Float64MultiArray, String
from std_srvs.srv import Trigger

from safevla_common import topics
from safevla_common.episode import EpisodeEvent

from ros_harness import wait_until
from fakes import MonitorHeartbeat
from test_monitor_node import drops

pytestmark = [pytest.mark.ros, pytest.mark.slow]
MONITOR_TIMEOUT_S = 1.0  # shorter: the bridge's own ~0.4 s stall at an episode start reads as a silent monitor
SIM = {"sim_bridge_node": {"monitor_timeout_s": MONITOR_TIMEOUT_S}}


def ended(events: list) -> list[EpisodeEvent]:
    return [e for e in (EpisodeEvent.from_json(m.data) for m in events) if e.state == "ended"]


@pytest.fixture
def running_sim(launch, client):
    launch(SIM)
    heartbeat = MonitorHeartbeat(client)
    inbox = {"costs": client.subscribe(Float64MultiArray, topics.SIM_COST),
             "episodes": client.subscribe(String, topics.EPISODE),
             "diagnostics": client.subscribe(DiagnosticArray, topics.DIAGNOSTICS)}
    # The bridge refuses to start an episode until it has the monitor's (here: the fake's) e-stop state.
    assert wait_until(lambda: client.call(Trigger, topics.SIM_RESET, timeout_s=60).success, 20, period_s=0.1)
    actions = client.publisher(String, topics.ACTION)
    assert wait_until(lambda: actions.get_subscription_count() > 0, 10)
    actions.publish(String(data="rotate_left"))
    assert wait_until(lambda: len(inbox["costs"]) == 1, 5), "the first action was not executed"
    return heartbeat, actions, inbox


def test_no_episode_starts_while_the_estop_is_latched(launch, client):
    launch(SIM)
    heartbeat = MonitorHeartbeat(client)
    heartbeat.latched = True
    episodes = client.subscribe(String, topics.EPISODE)
    assert wait_until(lambda: "latched" in client.call(Trigger, topics.SIM_RESET, timeout_s=60).message, 20,
                      period_s=0.1), "reset was not refused while the e-stop was latched"
    assert not client.call(Trigger, topics.SIM_RESET).success and not episodes
    heartbeat.latched = False
    assert wait_until(lambda: client.call(Trigger, topics.SIM_RESET).success, 5, period_s=0.1)
    assert wait_until(lambda: bool(episodes), 2)


def test_no_action_is_executed_after_the_estop_latches(running_sim):
    heartbeat, actions, inbox = running_sim
    heartbeat.latched = True
    assert wait_until(lambda: bool(ended(inbox["episodes"])), 2), "the episode did not end on the e-stop"
    assert ended(inbox["episodes"])[0].reason == "stopped"
    for _ in range(5):
        actions.publish(String(data="move_ahead"))
    time.sleep(0.5)
    assert len(inbox["costs"]) == 1, "an action was executed after the e-stop latched"


def test_a_silent_monitor_stops_the_episode_and_refuses_actions(running_sim):
    heartbeat, actions, inbox = running_sim
    heartbeat.silent = True
    started = time.monotonic()
    assert wait_until(lambda: bool(ended(inbox["episodes"])), MONITOR_TIMEOUT_S + 2)
    assert time.monotonic() - started < MONITOR_TIMEOUT_S + 0.3, "slower than the monitor timeout allows"
    assert ended(inbox["episodes"])[0].reason == "stopped"
    actions.publish(String(data="move_ahead"))
    time.sleep(0.5)
    assert len(inbox["costs"]) == 1


def test_unknown_actions_are_dropped_and_counted(running_sim):
    _, actions, inbox = running_sim
    for name in ("fly", "", "MOVE_AHEAD"):
        actions.publish(String(data=name))
    assert wait_until(lambda: drops(inbox["diagnostics"], "unknown_action", node="sim_bridge_node") == 3, 5)
    assert len(inbox["costs"]) == 1 and not ended(inbox["episodes"])
