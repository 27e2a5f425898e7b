import numpy as np
import pytest
from sim_scenes import room_house, scene_object

from thor_sim_bridge.agent import EXTENSION_LIMITS, LIFT_LIMITS, WRIST_LIMITS, AgentState
from thor_sim_bridge.events import WALL_HIT, ObjectMeta, StepEvent, collided_with
from thor_sim_bridge.world import KNOCK_DISTANCE, World


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


def test_bumped_floor_object_is_knocked():
    ball = scene_object("BasketBall", 2.0, 2.45)
    world = world_at(objects=(ball,))
    success, error = world.apply("move_ahead")
    assert not success and collided_with(error) == ball.object_id
    assert (world.agent.x, world.agent.z) == (2.0, 2.0)
    assert world.centers[0, 2] == pytest.approx(2.45 + KNOCK_DISTANCE)


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
