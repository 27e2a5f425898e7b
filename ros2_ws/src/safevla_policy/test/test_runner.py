import numpy as np
import pytest

from safevla_common.actions import ACTION_INDEX, NO_PREVIOUS_ACTION
from safevla_policy.backends.base import PolicyOutput
from safevla_policy.backends.expert import ExpertBackend
from safevla_policy.runner import PolicyRunner

FRAME = np.zeros((224, 384, 3), np.uint8)


class Recorder:
    name, latent_dim = "recorder", 4

    def __init__(self, probs):
        self.probs, self.seen, self.resets = np.asarray(probs, float), [], 0

    def reset(self):
        self.resets += 1

    def step(self, obs):
        self.seen.append(obs)
        return PolicyOutput(self.probs, np.ones(4, np.float32))


def test_runner_tracks_steps_and_previous_action():
    backend = Recorder(np.eye(20)[ACTION_INDEX["rotate_left"]])
    runner = PolicyRunner(backend)
    runner.start_episode(5, "find a mug")
    first = runner.act(FRAME, FRAME)
    second = runner.act(FRAME, FRAME, object_in_hand=True)
    assert (first.action_name, first.latent.episode, first.latent.step) == ("rotate_left", 5, 0)
    assert second.latent.step == 1
    assert backend.seen[0].last_action == NO_PREVIOUS_ACTION
    assert backend.seen[1].last_action == ACTION_INDEX["rotate_left"] and backend.seen[1].object_in_hand
    runner.start_episode(6, "find a mug")
    assert runner.act(FRAME, FRAME).latent.step == 0 and backend.resets == 2


def test_runner_refuses_empty_instruction_and_bad_distributions():
    runner = PolicyRunner(Recorder(np.full(20, np.nan)))
    with pytest.raises(ValueError, match="empty instruction"):
        runner.start_episode(0, "  ")
    runner.start_episode(0, "find a mug")
    with pytest.raises(ValueError, match="invalid probabilities"):
        runner.act(FRAME, FRAME)


def test_sampling_is_seeded():
    probs = np.full(20, 0.05)
    draws = [PolicyRunner(Recorder(probs), "sample", seed=1) for _ in range(2)]
    for runner in draws:
        runner.start_episode(0, "find a mug")
    a = [draws[0].act(FRAME, FRAME).action for _ in range(10)]
    b = [draws[1].act(FRAME, FRAME).action for _ in range(10)]
    assert a == b and len(set(a)) > 1


def test_an_episode_seed_makes_its_actions_independent_of_earlier_episodes():
    probs = np.full(20, 0.05)
    fresh, used = PolicyRunner(Recorder(probs), "sample"), PolicyRunner(Recorder(probs), "sample")
    used.start_episode(0, "find a mug")
    for _ in range(7):
        used.act(FRAME, FRAME)  # consumes random draws
    fresh.start_episode(3, "find a mug", seed=42)
    used.start_episode(3, "find a mug", seed=42)
    assert [fresh.act(FRAME, FRAME).action for _ in range(10)] == [used.act(FRAME, FRAME).action for _ in range(10)]


def test_expert_backend_follows_the_hint():
    backend = ExpertBackend(confidence=0.9)
    runner = PolicyRunner(backend)
    runner.start_episode(0, "find a mug")
    result = runner.act(FRAME, FRAME, expert_action="move_back")
    assert result.action_name == "move_back" and result.latent.max_prob == pytest.approx(0.9)
    assert result.latent.vector.shape == (backend.latent_dim,)
    with pytest.raises(ValueError, match="hint"):
        runner.act(FRAME, FRAME, expert_action=None)


def test_warm_up_runs_throwaway_steps_then_forgets_them():
    backend = Recorder(np.full(20, 0.05))
    runner = PolicyRunner(backend)
    runner.warm_up(steps=2)
    assert len(backend.seen) == 2 and backend.resets == 1
    runner.start_episode(0, "find a mug")
    assert runner.act(FRAME, FRAME).latent.step == 0
