import numpy as np
import pytest

from safevla_common.actions import ACTION_NAMES, ACTIONS, NUM_ACTIONS, action_by_name
from safevla_common.episode import EpisodeEvent
from safevla_common.latent import LatentStep, distribution_stats
from safevla_common.ros_env import configure_ros_environment


def test_actions_follow_safevla_order_and_magnitudes():
    assert NUM_ACTIONS == 20
    assert ACTION_NAMES[:5] == ("move_ahead", "rotate_right", "rotate_left", "move_back", "done")
    assert ACTION_NAMES[19] == "dropoff"
    assert [a.index for a in ACTIONS] == list(range(20))
    assert action_by_name("rotate_left_small").magnitude == -6.0
    with pytest.raises(ValueError, match="expected one of"):
        action_by_name("fly")


def test_episode_event_round_trip_and_validation():
    event = EpisodeEvent(3, "ended", task="ObjectNav", reason="success", result={"length": 12})
    assert EpisodeEvent.from_json(event.to_json()) == event
    for bad in ("not json", "[]", '{"episode": 1, "state": "paused"}', '{"episode": -1, "state": "running"}',
                '{"episode": 1, "state": "ended"}', '{"episode": 1, "state": "running", "extra": 1}'):
        with pytest.raises(ValueError):
            EpisodeEvent.from_json(bad)


@pytest.mark.parametrize("vector,entropy,max_prob", [
    (np.array([1.0, np.nan], np.float32), 1.0, 0.5),
    (np.array([1.0, np.inf], np.float32), 1.0, 0.5),
    (np.zeros(0, np.float32), 1.0, 0.5),
    (np.zeros(4, np.float32), float("nan"), 0.5),
    (np.zeros(4, np.float32), 1.0, 1.5),
])
def test_latent_validation_rejects_bad_values(vector, entropy, max_prob):
    with pytest.raises(ValueError):
        LatentStep(0, 0, vector, entropy, max_prob).validate()


def test_latent_dimension_is_checked():
    with pytest.raises(ValueError, match="expected 8"):
        LatentStep(0, 0, np.zeros(4, np.float32), 1.0, 0.5).validate(expected_dim=8)


def test_distribution_stats():
    entropy, max_prob = distribution_stats(np.full(20, 0.05))
    assert entropy == pytest.approx(np.log(20)) and max_prob == pytest.approx(0.05)
    assert distribution_stats(np.eye(20)[3]) == (0.0, 1.0)


def test_loopback_environment_is_forced():
    env = configure_ros_environment(env={"ROS_LOCALHOST_ONLY": "0"})
    assert env["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "LOCALHOST" and "ROS_LOCALHOST_ONLY" not in env
    assert env["ROS_DOMAIN_ID"] == "42"
    assert configure_ros_environment(7, env={"ROS_DOMAIN_ID": "3"})["ROS_DOMAIN_ID"] == "7"
    assert configure_ros_environment(env={"ROS_DOMAIN_ID": "3"})["ROS_DOMAIN_ID"] == "3"
    with pytest.raises(ValueError):
        configure_ros_environment(200, env={})
