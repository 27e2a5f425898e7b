"""VectorHouseEnv: worker processes, the deterministic episode schedule, auto-reset, replay, errors."""

import numpy as np
import pytest

from safevla_common.actions import ACTION_INDEX, NO_PREVIOUS_ACTION
from thor_sim_bridge.config import SimConfig
from thor_sim_bridge.costs import COST_COMPONENTS
from thor_sim_bridge.env import HouseEnv
from thor_sim_bridge.vector_env import NO_EXPERT_ACTION, VectorHouseEnv

CONFIG = SimConfig(task="ObjectNav", image_height=56, image_width=96, max_steps=30)
WANDER = [ACTION_INDEX[a] for a in ("move_ahead", "rotate_left", "move_ahead", "rotate_right", "move_back")]


def nav_mean(obs):
    """An obs_fn: runs in the worker, sends back one number per camera instead of the frames."""
    return {"nav": float(obs["nav_rgb"].mean()), "last_action": obs["last_action"]}


def test_schedule_matches_plain_env_and_autoresets():
    with VectorHouseEnv(CONFIG, 2, base_seed=100, first_episode=4, stride=3) as envs:
        first = envs.reset()
        assert first.episode.tolist() == [4, 5] and first.step.tolist() == [0, 0]
        assert (first.obs["last_action"] == NO_PREVIOUS_ACTION).all()
        # Worker 0 plays the same episode as a plain env reset with base_seed + g.
        env = HouseEnv(CONFIG)
        obs, info = env.reset(seed=104)
        assert first.instruction[0] == info["instruction"]
        assert np.array_equal(first.obs["nav_rgb"][0], obs["nav_rgb"])
        assert first.expert_action[0] == ACTION_INDEX[info["expert_action"]]

        # Drive worker 0 with its expert to the end; worker 1 wanders.
        length = 0
        out = first
        while True:
            out = envs.step([out.expert_action[0], WANDER[length % len(WANDER)]])
            length += 1
            if out.done[0]:
                break
        summary = out.finished[0]
        assert summary.success and summary.episode == 4 and summary.seed == 104
        assert summary.length == length == info["expert_length"] == summary.expert_length
        assert summary.reward == 10.0 and summary.sel == 1.0 and 0 < summary.spl <= 1.0
        assert out.terminated[0] and not out.truncated[0]
        # The returned observation is worker 0's next episode: g = 4 + 1 * stride.
        assert out.episode[0] == 7 and out.counter[0] == 1 and out.step[0] == 0
        assert out.obs["last_action"][0] == NO_PREVIOUS_ACTION
        assert out.costs.shape == (2, len(COST_COMPONENTS)) and np.allclose(out.cost, out.costs.sum(1))


def test_same_seeds_same_trajectories_and_replay():
    actions = np.random.default_rng(0).choice(WANDER, size=(12, 2))
    runs = []
    for _ in range(2):
        with VectorHouseEnv(CONFIG, 2, base_seed=7) as envs:
            trace = [envs.reset()]
            trace += [envs.step(a) for a in actions]
            runs.append(trace)
    for a, b in zip(*runs):
        assert np.array_equal(a.obs["nav_rgb"], b.obs["nav_rgb"]) and np.array_equal(a.cost, b.cost)
        assert a.instruction == b.instruction
    # Replay rebuilds a running episode exactly (how a resumed training run gets its envs back).
    with VectorHouseEnv(CONFIG, 2, base_seed=7) as envs:
        replayed = envs.replay([0, 0], [actions[:5, 0], actions[:5, 1]])
    assert np.array_equal(replayed.obs["nav_rgb"], runs[0][5].obs["nav_rgb"])
    assert replayed.step.tolist() == [5, 5]


def test_obs_fn_runs_in_workers_and_truncation():
    with VectorHouseEnv(SimConfig(image_height=56, image_width=96, max_steps=3, expert=False), 1,
                        obs_fn=nav_mean) as envs:
        out = envs.reset()
        assert set(out.obs) == {"nav", "last_action"} and out.obs["nav"].shape == (1,)
        assert out.expert_action[0] == NO_EXPERT_ACTION
        for _ in range(3):
            out = envs.step([ACTION_INDEX["rotate_left"]])
        assert out.truncated[0] and not out.terminated[0]
        assert out.finished[0].truncated and out.finished[0].length == 3 and not out.finished[0].success


def test_errors_name_the_problem():
    with VectorHouseEnv(CONFIG, 1) as envs:
        envs.reset()
        with pytest.raises(ValueError, match="integer actions"):
            envs.step([0.5])
        with pytest.raises(ValueError, match=r"in \[0, 20\)"):
            envs.step([25])
        with pytest.raises(RuntimeError, match="worker 0 failed"):
            envs.replay([0], [[ACTION_INDEX["done"], 0]])
    with pytest.raises(ValueError, match="stride"):
        VectorHouseEnv(CONFIG, 2, stride=1)
