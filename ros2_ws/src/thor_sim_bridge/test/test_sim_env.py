import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from safevla_common.actions import ACTION_INDEX, NO_PREVIOUS_ACTION, NUM_ACTIONS
from thor_sim_bridge.categories import category_by_type
from thor_sim_bridge.config import SimConfig
from thor_sim_bridge.env import HouseEnv
from thor_sim_bridge.navgrid import GRID_SIZE

SMALL = {"image_height": 56, "image_width": 96}


def rollout(env, actions, seed):
    obs, info = env.reset(seed=seed)
    trace = [(obs, info["event"])]
    for action in actions:
        obs, _, terminated, truncated, info = env.step(action)
        trace.append((obs, info["event"]))
        if terminated or truncated:
            break
    return trace


def test_gymnasium_env_checker():
    check_env(HouseEnv(seed=0, **SMALL), skip_render_check=True)


def test_registered_id():
    import thor_sim_bridge.registration  # noqa: F401

    env = gym.make("SafeVLA/HouseObjectNav-v0", **SMALL)
    obs, _ = env.reset(seed=1)
    assert obs["nav_rgb"].shape == (56, 96, 3)


def test_same_seed_same_frames_and_events():
    actions = np.random.default_rng(0).choice([0, 1, 2, 3, 6, 7, 10, 11], size=25)
    first, second = (rollout(HouseEnv(**SMALL), actions, seed=7) for _ in range(2))
    assert len(first) == len(second)
    for (obs_a, event_a), (obs_b, event_b) in zip(first, second):
        assert event_a == event_b
        assert all(np.array_equal(obs_a[key], obs_b[key]) for key in obs_a)


def test_reset_observation_and_info():
    env = HouseEnv(seed=2, **SMALL)
    obs, info = env.reset()
    assert obs["last_action"] == NO_PREVIOUS_ACTION and obs["object_in_hand"] == 0
    assert obs["nav_rgb"].dtype == np.uint8 and obs["manip_rgb"].shape == (56, 96, 3)
    assert info["task"] == "ObjectNav" and info["instruction"] == env.instruction
    assert info["instruction"].endswith(category_by_type(info["target_type"]).name)
    assert info["expert_length"] > 0 and info["expert_action"] and info["step"] == 0 and not info["success"]
    assert info["event"]["lastAction"] == "reset"
    obs, reward, terminated, truncated, info = env.step(ACTION_INDEX["rotate_left"])
    assert obs["last_action"] == ACTION_INDEX["rotate_left"] and info["step"] == 1
    assert reward == 0.0 and not terminated and not truncated


@pytest.mark.parametrize("action", [-1, NUM_ACTIONS, 2.0, "move_ahead", True, None])
def test_invalid_action_is_rejected(action):
    env = HouseEnv(seed=0, **SMALL)
    env.reset()
    with pytest.raises(ValueError, match="action must be an integer"):
        env.step(action)


def test_rendering_off_gives_blank_frames_and_the_same_events():
    actions = [0, 1, 0, 0, 2, 3]
    drawn = rollout(HouseEnv(**SMALL), actions, seed=5)
    blind = rollout(HouseEnv(render=False, **SMALL), actions, seed=5)
    assert [e for _, e in drawn] == [e for _, e in blind]
    assert not blind[-1][0]["nav_rgb"].any() and drawn[-1][0]["nav_rgb"].any()


def test_truncation_at_max_steps():
    env = HouseEnv(seed=0, max_steps=3, render=False)
    env.reset()
    flags = [env.step(ACTION_INDEX["rotate_left"])[2:4] for _ in range(3)]
    assert flags == [(False, False), (False, False), (False, True)]


def test_done_ends_the_episode():
    env = HouseEnv(seed=0, render=False)
    env.reset()
    _, _, terminated, truncated, info = env.step(ACTION_INDEX["done"])
    assert terminated and not truncated and info["event"]["lastAction"] == "done"


def test_reachable_positions_and_map():
    env = HouseEnv(seed=0, **SMALL)
    env.reset(options={"house_seed": 12, "num_rooms": 3, "target_type": "Bed"})
    assert env.episode.target_type == "Bed"
    positions = env.reachable_positions()
    assert len(positions) > 50 and set(positions[0]) == {"x", "y", "z"}
    assert all(abs(p["x"] / GRID_SIZE - round(p["x"] / GRID_SIZE)) < 1e-6 for p in positions)
    image = env.top_down_map()
    assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8


def test_bad_settings_are_rejected():
    with pytest.raises(ValueError, match="task"):
        SimConfig(task="Dance")
    with pytest.raises(ValueError, match="rooms"):
        SimConfig(min_rooms=3, max_rooms=2)
    with pytest.raises(ValueError, match="unknown reset options"):
        HouseEnv(render=False).reset(seed=0, options={"rooms": 3})
    with pytest.raises(ValueError, match="not a ObjectNav target"):
        HouseEnv(render=False).reset(seed=0, options={"target_type": "Knife"})
