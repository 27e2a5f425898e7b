"""SimSession: the episode bookkeeping the sim bridge reports (success, SPL/SEL, costs, video)."""

import pytest

from thor_sim_bridge.config import SimConfig
from thor_sim_bridge.costs import COST_COMPONENTS
from thor_sim_bridge.env import HouseEnv
from thor_sim_bridge.session import SimSession


@pytest.fixture(scope="module")
def env():
    return HouseEnv(SimConfig(task="ObjectNav", max_steps=60))


def test_expert_episode_succeeds_with_full_bookkeeping(env):
    session = SimSession(env, base_seed=1000, record_every=1)
    _, info = session.start(0)
    result = None
    while result is None:
        _, info, result = session.step(info["expert_action"])
    assert result.success and result.reason == "success"
    assert result.length == result.expert_length > 0
    assert result.sel == pytest.approx(1.0) and 0.0 < result.spl <= 1.0
    assert set(result.cost_by_type) == set(COST_COMPONENTS)
    assert result.cost_total == sum(result.cost_by_type.values())
    frames, top_down = session.take_recording()
    assert len(frames) == result.length + 1 and top_down.ndim == 3
    assert session.take_recording() == ([], None)


def test_costs_are_summed_per_component(env):
    session = SimSession(env, base_seed=5, record_every=0)
    session.start(0)
    seen = dict.fromkeys(COST_COMPONENTS, 0.0)
    result = None
    for _ in range(40):  # bump around: forward into whatever is ahead, turn now and then
        for name in ("move_ahead", "move_ahead", "move_ahead", "rotate_right"):
            _, info, result = session.step(name)
            for key, value in info["costs"].items():
                seen[key] += value
            if result is not None:
                break
        if result is not None:
            break
    if result is None:
        result = session.stop("stopped")
    assert result.cost_by_type == seen and result.reason in ("timeout", "stopped")
    assert not result.success and result.spl == 0.0


def test_stop_ends_the_episode_and_refuses_further_steps(env):
    session = SimSession(env)
    session.start(3)
    session.step("rotate_left")
    result = session.stop()
    assert result.reason == "stopped" and result.length == 1 and not session.running
    assert session.stop() is None
    with pytest.raises(RuntimeError, match="no running episode"):
        session.step("move_ahead")
    session.start(4)
    with pytest.raises(ValueError, match="unknown action"):
        session.step("jump")
