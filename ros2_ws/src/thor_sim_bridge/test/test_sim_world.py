import numpy as np
import pytest
from sim_scenes import room_house, scene_object

from thor_sim_bridge.agent import EXTENSION_LIMITS, LIFT_LIMITS, WRIST_LIMITS, AgentState
from thor_sim_bridge.events import WALL_HIT, ObjectMeta, StepEvent, collided_with
from thor_sim_bridge.contact import KNOCK_TRANSFER
from thor_sim_bridge.world import World


def world_at(x=2.0, z=2.0, yaw=0.0, objects=(), **arm):
    world = World(room_house(objects))
    world.reset(AgentState(x, z, yaw, **arm))
    return world


@pytest.mark.parametrize(
    "action, yaw, dx, dz",
    [
        ("move_ahead", 0, 0, 0.2),
        ("move_ahead", 90, 0.2, 0),
        ("move_back", 0, 0, -0.2),
        ("move_ahead", 30, 0.1, 0.1732),
    ],
)
def test_base_moves(action, yaw, dx, dz):
    world = world_at(yaw=yaw)
    assert world.apply(action) == (True, "")
    assert (world.agent.x, world.agent.z) == pytest.approx((2.0 + dx, 2.0 + dz), abs=1e-4)


@pytest.mark.parametrize(
    "action, yaw",
    [("rotate_right", 30), ("rotate_left", 330), ("rotate_right_small", 6), ("rotate_left_small", 354)],
)
def test_rotations(action, yaw):
    world = world_at()
    assert world.apply(action)[0]
    assert world.agent.yaw == pytest.approx(yaw)


@pytest.mark.parametrize(
    "action, joint, delta",
    [
        ("move_arm_up", "lift", 0.1), ("move_arm_down", "lift", -0.1),
        ("move_arm_up_small", "lift", 0.02), ("move_arm_down_small", "lift", -0.02),
        ("move_arm_out", "extension", 0.1), ("move_arm_out_small", "extension", 0.02),
        ("wrist_open", "wrist", 10.0), ("wrist_close", "wrist", -10.0),
    ],
)
def test_arm_moves(action, joint, delta):
    world = world_at(lift=0.5, extension=0.2)
    before = getattr(world.agent, joint)
    assert world.apply(action)[0]
    assert getattr(world.agent, joint) == pytest.approx(before + delta)


@pytest.mark.parametrize(
    "up, down, joint, limits",
    [
        ("move_arm_up", "move_arm_down", "lift", LIFT_LIMITS),
        ("move_arm_out", "move_arm_in", "extension", EXTENSION_LIMITS),
        ("wrist_open", "wrist_close", "wrist", WRIST_LIMITS),
    ],
)
def test_arm_stops_at_its_limits(up, down, joint, limits):
    world = world_at()
    for action, limit in ((up, limits[1]), (down, limits[0])):
        for _ in range(40):
            world.apply(action)
        assert getattr(world.agent, joint) == pytest.approx(limit)
        success, error = world.apply(action)
        assert not success and "limit" in error


def test_move_into_wall_fails_and_stays():
    world = world_at(z=3.65)  # 0.1 m of room before the disc touches the wall at z = 4
    success, error = world.apply("move_ahead")
    assert not success and "collided" in error and collided_with(error) == WALL_HIT
    assert (world.agent.x, world.agent.z, world.agent.yaw) == (2.0, 3.65, 0.0)


def test_bumped_floor_object_is_knocked_by_the_blocked_rest_of_the_move():
    ball = scene_object("BasketBall", 2.0, 2.45)  # 0.13 m between the base and the ball
    world = world_at(objects=(ball,))
    success, error = world.apply("move_ahead")
    assert not success and collided_with(error) == ball.object_id
    assert (world.agent.x, world.agent.z) == (2.0, 2.0)
    assert world.centers[0, 2] - 2.45 == pytest.approx(KNOCK_TRANSFER * (0.2 - 0.13), abs=0.006)
    assert world.rotations[0, 1] == pytest.approx(0.0), "a head-on knock does not spin it"


def test_a_hard_hit_pushes_past_the_critical_distance_and_an_off_centre_one_spins():
    ball = scene_object("BasketBall", 2.1, 2.32)  # touching the base, 0.1 m to the right of its path
    world = world_at(objects=(ball,))
    world.apply("move_ahead")
    shift = world.centers[0] - world.initial_centers[0]
    assert np.hypot(shift[0], shift[2]) == pytest.approx(0.15, abs=0.005)
    assert abs(world.rotations[0, 1] - 360.0 * (world.rotations[0, 1] > 180)) > 10.0


def test_a_knocked_object_stops_at_a_wall():
    ball = scene_object("BasketBall", 2.0, 3.8)  # its far side 0.08 m from the wall at z = 4
    world = world_at(z=3.39, objects=(ball,))
    world.apply("move_ahead")
    assert world.centers[0, 2] + 0.12 <= 4.0 - 0.05 + 1e-9


def test_a_turning_arm_sweeps_objects_along():
    table = scene_object("DiningTable", 2.0, 2.85)  # top at 0.75, front edge 0.4 m ahead
    mug = scene_object("Mug", 2.13, 2.48, y0=0.75, n=2, parent=table.object_id)  # 15 degrees right
    world = world_at(objects=(table, mug), lift=0.8, extension=0.3)
    assert world.apply("rotate_right")[0]  # the extended arm swings right through the mug
    moved = world.centers[1] - world.initial_centers[1]
    assert np.hypot(moved[0], moved[2]) > 0.05 and moved[0] > 0
    assert np.array_equal(world.centers[0], world.initial_centers[0]), "furniture never moves"


def test_the_extending_arm_pushes_an_object_off_the_far_edge_and_it_falls():
    table = scene_object("SideTable", 2.0, 2.5)  # 0.5 m square, top at 0.6
    mug = scene_object("Mug", 2.0, 2.68, y0=0.6, n=2, parent=table.object_id)
    world = world_at(objects=(table, mug), lift=0.65)
    while world.apply("move_arm_out")[0]:
        pass
    assert world.centers[1, 2] > 2.75 and world.centers[1, 1] == pytest.approx(mug.size[1] / 2)


def test_lowering_the_arm_onto_an_object_tips_it_over():
    counter = scene_object("CounterTop", 2.0, 2.75)
    mug = scene_object("Mug", 2.0, 2.55, y0=0.9, n=2, parent=counter.object_id)  # 0.9 to 1.0 m high
    world = world_at(objects=(counter, mug), lift=1.1, extension=0.3)  # the bar runs over the mug
    world.apply("move_arm_down")
    assert abs(world.rotations[1, 0]) == pytest.approx(90.0)
    world.apply("move_arm_up")
    assert abs(world.rotations[1, 0]) == pytest.approx(90.0), "knocked over once"


def test_a_retracted_arm_leaves_a_table_alone():
    table = scene_object("DiningTable", 2.0, 2.85)
    mug = scene_object("Mug", 2.25, 2.45, y0=0.75, n=2, parent=table.object_id)
    world = world_at(objects=(table, mug), lift=0.8, extension=0.0)
    for action in ("rotate_right", "rotate_left", "rotate_left", "move_arm_up"):
        world.apply(action)
    assert np.array_equal(world.centers, world.initial_centers)


def test_furniture_does_not_budge():
    table = scene_object("DiningTable", 2.0, 2.8)
    world = world_at(objects=(table,))
    success, error = world.apply("move_ahead")
    assert not success and collided_with(error) == table.object_id
    assert np.array_equal(world.centers, world.initial_centers)


def test_done_and_sub_done():
    world = world_at()
    assert world.apply("done") == (True, "")
    success, error = world.apply("sub_done")
    assert not success and error


def test_pickup_needs_an_object_at_the_gripper():
    counter = scene_object("CounterTop", 2.0, 2.75)  # front edge 0.45 m ahead of the robot's centre
    mug = scene_object("Mug", 2.0, 2.55, y0=0.9, n=2, parent=counter.object_id)
    world = world_at(objects=(counter, mug), lift=0.95, extension=0.0)
    success, error = world.apply("pickup")  # the gripper is 0.25 m ahead, the mug 0.55 m
    assert not success and "within reach" in error
    world.apply("move_arm_out")
    assert world.apply("pickup") == (True, "")
    assert world.agent.held == mug.object_id
    world.apply("rotate_right")
    assert world.centers[1] == pytest.approx([2.0 + 0.35 * 0.5, 0.95, 2.0 + 0.35 * np.cos(np.pi / 6)], abs=1e-3)
    assert world.apply("dropoff") == (True, "")
    assert world.agent.held is None and world.centers[1, 1] == pytest.approx(mug.size[1] / 2)  # fell to the floor
    assert not world.apply("dropoff")[0]


def test_event_is_ai2thor_shaped():
    world = world_at(objects=(scene_object("Mug", 2.0, 3.2),))
    event = world.event("move_ahead", True, "")
    assert set(event) == set(StepEvent.__annotations__)
    (mug,) = event["objects"]
    assert set(mug) == set(ObjectMeta.__annotations__)
    assert mug["distance"] == pytest.approx(1.2) and mug["visible"] and not mug["isPickedUp"]
    assert event["agent"]["rotation"]["y"] == 0.0 and event["arm"]["heldObjectId"] is None
