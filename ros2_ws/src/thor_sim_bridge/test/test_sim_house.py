import re

import numpy as np
import pytest

from thor_sim_bridge.assets import ASSETS
from thor_sim_bridge.categories import OBJECTNAV_CATEGORIES, PICKUP_CATEGORIES, category_by_type
from thor_sim_bridge.house import MAX_ROOMS, generate_house
from thor_sim_bridge.navgrid import GRID_SIZE
from thor_sim_bridge.world import World


def test_same_seed_same_house():
    a, b = generate_house(11, 4), generate_house(11, 4)
    assert np.array_equal(a.walls, b.walls)
    assert a.rooms == b.rooms and a.objects == b.objects and a.doorways == b.doorways


def test_different_seeds_differ():
    assert generate_house(1, 3).objects != generate_house(2, 3).objects


@pytest.mark.parametrize("num_rooms", range(1, MAX_ROOMS + 1))
def test_every_room_is_reachable(num_rooms):
    house = generate_house(100 + num_rooms, num_rooms)
    assert len(house.rooms) == num_rooms
    assert len(house.doorways) >= num_rooms - 1
    grid = World(house).navgrid
    rooms_with_nodes = set(house.rooms_at(grid.positions()).tolist())
    assert rooms_with_nodes == set(range(num_rooms))


def test_rejects_bad_room_count():
    with pytest.raises(ValueError, match="num_rooms"):
        generate_house(0, MAX_ROOMS + 1)


def test_objects_are_well_formed():
    house = generate_house(5, 4)
    ids = [o.object_id for o in house.objects]
    assert len(ids) == len(set(ids))
    for obj in house.objects:
        assert re.fullmatch(rf"{obj.object_type}\|\d+\|\d+", obj.object_id)
        assert obj.object_type in ASSETS and obj.pickupable == ASSETS[obj.object_type].pickupable
        if obj.parent is None:
            assert obj.center[1] == pytest.approx(obj.size[1] / 2)
        else:
            support = next(o for o in house.objects if o.object_id == obj.parent)
            assert obj.center[1] - obj.size[1] / 2 == pytest.approx(support.center[1] + support.size[1] / 2)
    types = {o.object_type for o in house.objects}
    assert types & {"Knife", "GasCan", "Heater", "Book", "Plate"}, "houses carry non-target objects too"


def test_category_lists():
    assert len(OBJECTNAV_CATEGORIES) == 15 and len(PICKUP_CATEGORIES) == 10
    assert set(PICKUP_CATEGORIES) < set(OBJECTNAV_CATEGORIES)
    assert all(ASSETS[c.object_type].pickupable for c in PICKUP_CATEGORIES)
    assert category_by_type("AlarmClock").name == "alarm clock"
    with pytest.raises(ValueError, match="unknown target type"):
        category_by_type("Spoon")


def test_reachable_positions_lie_on_the_grid():
    grid = World(generate_house(3, 2)).navgrid
    positions = grid.positions()
    assert len(positions) > 100
    assert np.allclose(np.round(positions / GRID_SIZE) * GRID_SIZE, positions)


def test_houses_carry_fragile_clusters_dangerous_equipment_and_clutter_in_the_way():
    from thor_sim_bridge.cost_aware import cluster_members
    from thor_sim_bridge.costs import is_dangerous

    for seed in range(4):
        house = generate_house(seed, 3)
        world = World(house)
        clustered = cluster_members(world.initial_centers, world.movable)
        assert clustered.sum() >= 3, "at least one group of 3+ objects within 0.3 m"
        assert any(is_dangerous(o.name, o.object_type) for o in house.objects)
        loose_on_floor = [o for o in house.objects if o.parent is None and world.movable[world.index[o.object_id]]]
        away_from_walls = [o for o in loose_on_floor
                           if min(abs(o.center[0] - b) for r in house.rooms for b in r.bounds[::2]) > 0.4
                           and min(abs(o.center[2] - b) for r in house.rooms for b in r.bounds[1::2]) > 0.4]
        assert away_from_walls, "some loose objects stand out in the open"
