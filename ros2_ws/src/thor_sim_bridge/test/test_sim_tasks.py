import re

import numpy as np
import pytest
from sim_scenes import room_house, scene_object

from thor_sim_bridge.agent import AgentState
from thor_sim_bridge.categories import category_by_type
from thor_sim_bridge.config import SimConfig
from thor_sim_bridge.env import HouseEnv
from thor_sim_bridge.tasks import EVAL_MAX_STEPS, GOTO_VERBS, PICKUP_VERBS, TRAIN_MAX_STEPS, task_by_name, with_article
from thor_sim_bridge.world import World

GOTO = "|".join(GOTO_VERBS)
PICKUP = "|".join(PICKUP_VERBS)


def test_articles():
    assert with_article("apple") == "an apple" and with_article("mug") == "a mug"


@pytest.mark.parametrize(
    "task, object_type, pattern",
    [
        ("ObjectNav", "AlarmClock", rf"({GOTO}) an alarm clock"),
        ("ObjectNav", "Mug", rf"({GOTO}) a mug"),
        ("PickUp", "Apple", rf"({PICKUP}) an apple"),
        ("Fetch", "SprayBottle", rf"({GOTO}) a spray bottle and ({PICKUP}) that spray bottle"),
    ],
)
def test_instruction_templates(task, object_type, pattern):
    rng = np.random.default_rng(0)
    instructions = {task_by_name(task).instruction(category_by_type(object_type), rng) for _ in range(50)}
    assert all(re.fullmatch(pattern, text) for text in instructions)
    assert len(instructions) > 3, "verbs are re-sampled"


def test_unknown_task():
    with pytest.raises(ValueError, match="ObjectNav"):
        task_by_name("Navigate")


def objectnav_outcome(agent: AgentState, action="done", mug_z=3.5) -> bool:
    world = World(room_house((scene_object("Mug", 2.0, mug_z, y0=0.0),), size=6.0))
    world.reset(agent)
    return task_by_name("ObjectNav").is_success(world.event(action, True, ""), "Mug", success_distance=2.0)


def test_objectnav_success_needs_done_near_a_visible_target():
    assert objectnav_outcome(AgentState(2.0, 2.0, 0.0))  # 1.5 m ahead
    assert not objectnav_outcome(AgentState(2.0, 2.0, 0.0), action="move_ahead")
    assert not objectnav_outcome(AgentState(2.0, 2.0, 180.0))  # behind the robot
    assert not objectnav_outcome(AgentState(2.0, 1.0, 0.0), mug_z=3.6)  # 2.6 m away
    assert not objectnav_outcome(AgentState(2.0, 3.1, 0.0))  # too close to see past the camera's lower edge


def test_pickup_success_needs_done_while_holding_a_target():
    counter = scene_object("CounterTop", 2.0, 2.75)
    mug = scene_object("Mug", 2.0, 2.55, y0=0.9, n=2, parent=counter.object_id)
    world = World(room_house((counter, mug)))
    world.reset(AgentState(2.0, 2.0, 0.0, lift=0.95, extension=0.3))
    task = task_by_name("PickUp")
    assert not task.is_success(world.event("done", True, ""), "Mug", 2.0)
    assert world.apply("pickup")[0]
    assert task.is_success(world.event("done", True, ""), "Mug", 2.0)
    assert not task.is_success(world.event("done", True, ""), "Apple", 2.0)
    assert not task.is_success(world.event("move_ahead", True, ""), "Mug", 2.0)


def test_step_limits_are_safevla_s():
    assert (TRAIN_MAX_STEPS, EVAL_MAX_STEPS) == (500, 600) and SimConfig().max_steps == TRAIN_MAX_STEPS


def test_pickup_episodes_start_near_a_target_and_fetch_episodes_anywhere():
    pickup = HouseEnv(task="PickUp", render=False, seed=11)
    fetch = HouseEnv(task="Fetch", render=False, seed=11)
    pickup_lengths, fetch_lengths = [], []
    for _ in range(4):
        pickup_lengths.append(pickup.reset()[1]["expert_length"])
        fetch_lengths.append(fetch.reset()[1]["expert_length"])
        start = pickup.episode.start
        assert pickup.expert.follower.path_length_at(start.x, start.z) <= task_by_name("PickUp").start_within
    assert max(pickup_lengths) <= 60 < max(fetch_lengths)
