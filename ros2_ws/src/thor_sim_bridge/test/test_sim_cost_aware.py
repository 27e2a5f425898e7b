"""The cost-aware expert: it keeps clearance from hazards the shortest-path expert runs into, picks up
without touching neighbours, still finishes when every way is hazardous, and drives the env's hint."""

from __future__ import annotations

import numpy as np
import pytest
from sim_scenes import room_house, scene_object

from safevla_common.actions import ACTION_INDEX
from thor_sim_bridge.agent import AgentState
from thor_sim_bridge.config import SimConfig
from thor_sim_bridge.cost_aware import cluster_members, hazard_weights
from thor_sim_bridge.costs import CostBreakdown, SafetyCostTracker
from thor_sim_bridge.env import HouseEnv
from thor_sim_bridge.geometry import point_box_distance
from thor_sim_bridge.tasks import task_by_name
from thor_sim_bridge.world import World

HAZARDS = (  # a gas can between two floor vases, right on the straight way to the far table
    scene_object("GasCan", 2.5, 2.5, n=1),
    scene_object("FloorVase", 2.22, 2.5, n=2),
    scene_object("FloorVase", 2.78, 2.5, n=3),
)
TABLE = scene_object("SideTable", 2.5, 4.7, n=4)
CLOCK = scene_object("AlarmClock", 2.5, 4.6, y0=0.6, n=5, parent=TABLE.object_id)


def run(world: World, task: str, target: str, kind: str, start: AgentState, steps: int = 300):
    """Drive ``kind``'s expert from ``start``; the robot's path, the summed costs and success."""
    expert = task_by_name(task).expert(world, target, 2.0, kind)
    world.reset(start)
    expert.reset()
    tracker = SafetyCostTracker()
    tracker.reset(world.event("reset", True, ""), world.navgrid.positions())
    path, total = [(start.x, start.z)], CostBreakdown()
    for _ in range(steps):
        action = expert.next_action(world)
        success, error = world.apply(action)
        event = world.event(action, success, error)
        total = total + tracker.step(action, event)
        path.append((world.agent.x, world.agent.z))
        if action == "done":
            return np.array(path), total, task_by_name(task).is_success(event, target, 2.0)
    return np.array(path), total, False


def clearance(world: World, path: np.ndarray, indices) -> float:
    """Least distance from the robot's centre on ``path`` to the footprints of objects ``indices``."""
    boxes = np.array([world.house.objects[k].floor_box for k in indices])
    return float(point_box_distance(path, boxes).min())


def test_the_cost_aware_path_keeps_clearance_where_the_shortest_path_bumps():
    world = World(room_house(HAZARDS + (TABLE, CLOCK), size=5.0))
    start = AgentState(2.5, 0.6, 0.0)
    shortest_path, shortest_costs, shortest_done = run(world, "ObjectNav", "AlarmClock", "shortest", start)
    aware_path, aware_costs, aware_done = run(world, "ObjectNav", "AlarmClock", "cost_aware", start)
    assert shortest_done and aware_done
    assert shortest_costs.total > 0 and aware_costs.total == 0
    assert clearance(world, shortest_path, range(3)) < 0.21, "the shortest-path expert touched a hazard"
    assert clearance(world, aware_path, range(3)) >= 0.35, "the cost-aware one kept 0.15 m between base and hazards"


def test_the_cost_aware_pickup_reaches_past_no_neighbour():
    table = scene_object("DiningTable", 2.5, 2.5, n=1)  # free-standing: it can be reached from any side
    mug = scene_object("Mug", 1.95, 2.3, y0=0.75, n=2, parent=table.object_id)
    cups = tuple(scene_object("Cup", x, 2.1, y0=0.75, n=n, parent=table.object_id) for n, x in ((3, 1.895), (4, 2.005)))
    world = World(room_house((table, mug) + cups, size=5.0))
    start = AgentState(1.95, 0.9, 0.0)  # in front of the long side, the cups either side of the way to the mug
    _, aware_costs, aware_done = run(world, "PickUp", "Mug", "cost_aware", start)
    assert aware_done and aware_costs.total == 0
    assert np.array_equal(world.centers[2:], world.initial_centers[2:]), "the cups were not touched"
    assert world.agent.x < 1.8, "it reached in from the table's side, not past the cups in front"
    assert run(world, "PickUp", "Mug", "shortest", start)[2], "the shortest-path expert finishes too"


def test_when_every_way_passes_a_hazard_the_cost_aware_expert_still_finishes():
    vase = scene_object("FloorVase", 0.55, 2.5, n=1)  # a 1.2 m wide room: 0.7 m left beside the vase
    table = scene_object("SideTable", 0.6, 4.7, n=2)
    clock = scene_object("AlarmClock", 0.6, 4.6, y0=0.6, n=3, parent=table.object_id)
    objects = (vase, table, clock)
    walls = room_house(objects, size=5.0)
    narrow = np.array([[0, 0, 0, 5], [0, 0, 1.2, 0], [1.2, 0, 1.2, 5], [0, 5, 1.2, 5]], dtype=float)
    house = type(walls)(0, (type(walls.rooms[0])(0, "LivingRoom", (0.0, 0.0, 1.2, 5.0)),), narrow,
                        walls.wall_rooms, (), objects)
    world = World(house)
    path, costs, done = run(world, "ObjectNav", "AlarmClock", "cost_aware", AgentState(0.6, 0.6, 0.0))
    assert done and costs.total == 0
    assert clearance(world, path, [0]) < 0.45, "it had to pass the vase closer than it would like"


def test_hazard_weights_rank_clusters_and_dangerous_objects_above_loose_ones():
    world = World(room_house(HAZARDS + (TABLE, CLOCK, scene_object("BasketBall", 1.0, 1.0, n=6)), size=5.0))
    weights = hazard_weights(world)
    gas, vase, _, table, clock, ball = weights
    assert table == 0.0 and ball > 0.0 and gas > ball and vase > ball
    assert cluster_members(world.initial_centers, world.movable)[:3].all(), "gas can and vases: one cluster"


def test_the_env_hint_follows_the_chosen_expert():
    env = HouseEnv(SimConfig(task="ObjectNav", render=False, seed=5, expert_planner="cost_aware"))
    _, info = env.reset()
    assert info["expert_planner"] == "cost_aware"
    while True:
        _, _, terminated, truncated, info = env.step(ACTION_INDEX[info["expert_action"]])
        if terminated or truncated:
            break
    assert info["success"]
    _, info = env.reset(options={"expert": "shortest"})
    assert info["expert_planner"] == "shortest"
    with pytest.raises(ValueError, match="expert"):
        env.reset(options={"expert": "careful"})
    with pytest.raises(ValueError, match="expert_planner"):
        SimConfig(expert_planner="careful")
