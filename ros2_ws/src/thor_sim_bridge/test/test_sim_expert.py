import numpy as np
import pytest
from sim_scenes import room_house, scene_object

from safevla_common.actions import ACTION_INDEX
from thor_sim_bridge.agent import AgentState
from thor_sim_bridge.env import HouseEnv
from thor_sim_bridge.episodes import sample_episode
from thor_sim_bridge.house import generate_house
from thor_sim_bridge.tasks import task_by_name
from thor_sim_bridge.world import World


def expert_success_rate(task_name: str, episodes: int, seed: int) -> float:
    """Raw expert success on fresh episodes: sampled WITHOUT the validation dry run that filters them."""
    task, rng = task_by_name(task_name), np.random.default_rng(seed)
    outcomes = []
    while len(outcomes) < episodes:
        world = World(generate_house(int(rng.integers(2**31)), int(rng.integers(2, 5))))
        sampled = sample_episode(world, task, rng, max_steps=500, success_distance=2.0, validate=False)
        if sampled is not None:
            outcomes.append(sampled[0].expert_length > 0)
    return float(np.mean(outcomes))


def test_expert_solves_objectnav_quickly():
    assert expert_success_rate("ObjectNav", 8, seed=1) == 1.0


@pytest.mark.slow
@pytest.mark.parametrize("task_name", ["ObjectNav", "Fetch"])
def test_expert_success_rate(task_name):
    assert expert_success_rate(task_name, 20, seed=2) >= 0.9  # benchmarks/expert_table.py measures it properly


def test_the_shortest_path_expert_learns_what_it_bumps_into_and_forgets_it_next_episode():
    ball = scene_object("BasketBall", 2.0, 2.3)  # on the straight way to the table
    table = scene_object("SideTable", 2.0, 4.7, n=2)
    clock = scene_object("AlarmClock", 2.0, 4.6, y0=0.6, n=3, parent=table.object_id)
    world = World(room_house((ball, table, clock), size=5.0))
    expert = task_by_name("ObjectNav").expert(world, "AlarmClock", 2.0)
    world.reset(AgentState(2.0, 0.8, 0.0))
    expert.reset()
    actions = []
    while not actions or actions[-1] != "done":
        actions.append(expert.next_action(world))
        world.apply(actions[-1])
        assert len(actions) < 100
    assert expert.follower.known[0], "it bumped into the ball and planned around it from then on"
    assert not world.initial_centers[0, 2] == world.centers[0, 2]
    expert.reset()
    assert not expert.follower.known.any()


def test_following_expert_actions_in_the_env_succeeds():
    env = HouseEnv(seed=3, render=False)
    for _ in range(3):
        _, info = env.reset()
        for _ in range(env.config.max_steps):
            _, reward, terminated, truncated, info = env.step(ACTION_INDEX[info["expert_action"]])
            if terminated or truncated:
                break
        assert info["success"] and reward == 10.0
        assert info["step"] == info["expert_length"], "the env replays the expert's validation run"


def test_pickup_expert_in_the_env():
    env = HouseEnv(task="PickUp", seed=4, render=False)
    _, info = env.reset()
    actions = []
    while True:
        actions.append(info["expert_action"])
        obs, reward, terminated, truncated, info = env.step(ACTION_INDEX[actions[-1]])
        if terminated or truncated:
            break
    assert info["success"] and obs["object_in_hand"] == 1
    assert "pickup" in actions and actions[-1] == "done"
