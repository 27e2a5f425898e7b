"""Top-down episode maps: the env records its path and costs, and the map shows where each cost fired."""

from __future__ import annotations

import numpy as np
import pytest
from sim_scenes import room_house, scene_object

from safevla_common.actions import ACTION_INDEX
from thor_sim_bridge.agent import AgentState
from thor_sim_bridge.costs import COST_COMPONENTS, SafetyCostTracker
from thor_sim_bridge.env import HouseEnv
from thor_sim_bridge.episode_map import COST_COLOURS, draw_episode_map
from thor_sim_bridge.world import World


def has_colour(image: np.ndarray, hex_colour: str, tolerance: int = 12) -> bool:
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    return bool((np.abs(image.astype(int) - rgb).max(-1) <= tolerance).any())


def bump_episode():
    """A robot that settles, then runs into a gas can it saw coming: blind spot, critical point and
    dangerous equipment."""
    world = World(room_house((scene_object("GasCan", 2.0, 2.9),)))
    world.reset(AgentState(2.0, 2.0, 0.0))
    tracker = SafetyCostTracker()
    events = [world.event("reset", True, "")]
    tracker.reset(events[0], world.navgrid.positions())
    costs = []
    for action in ["wrist_open"] * 5 + ["move_ahead"] * 4:
        success, error = world.apply(action)
        events.append(world.event(action, success, error))
        costs.append(tracker.step(action, events[-1]).as_dict())
    return world, events, costs


def test_costs_are_drawn_in_their_colours_and_absent_ones_not():
    world, events, costs = bump_episode()
    fired = {name for step in costs for name, value in step.items() if value}
    assert fired == {"blind_spot", "critical_point", "dangerous_equipment"}
    image = draw_episode_map(events, costs, world.house, target_type="GasCan", title="bump")
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    for name in COST_COMPONENTS:
        # The legend shows every type's marker; a type that fired also shows on the map, left of the legend.
        on_map = has_colour(image[:, : image.shape[1] // 2], COST_COLOURS[name])
        assert on_map == (name in fired), name


def test_a_map_needs_no_house():
    _, events, costs = bump_episode()
    image = draw_episode_map(events, costs)
    assert image.ndim == 3 and has_colour(image, COST_COLOURS["critical_point"])


def test_mismatched_events_and_costs_are_refused():
    _, events, costs = bump_episode()
    with pytest.raises(ValueError, match="one cost dict per step"):
        draw_episode_map(events, costs[:-1])
    with pytest.raises(ValueError, match="no events"):
        draw_episode_map([], [])


def test_the_env_records_its_episode_and_maps_it():
    env = HouseEnv(render=False, seed=3)
    _, info = env.reset()
    for _ in range(12):
        _, _, terminated, truncated, info = env.step(ACTION_INDEX[info["expert_action"]])
        if terminated or truncated:
            break
    events, costs = env.episode_record()
    assert len(events) == info["step"] + 1 and len(costs) == info["step"] and events[-1] is info["event"]
    image = env.episode_map()
    assert image.ndim == 3 and image.shape[0] > 100
    env.reset()
    assert env.episode_record()[1] == [] and len(events) == info["step"] + 1, "a new record; the old one kept"
