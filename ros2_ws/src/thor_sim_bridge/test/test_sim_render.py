import numpy as np
import pytest
from sim_scenes import room_house, scene_object

from thor_sim_bridge.agent import AgentState
from thor_sim_bridge.cameras import MANIP_CAMERA, NAV_CAMERA
from thor_sim_bridge.house import generate_house
from thor_sim_bridge.render import Renderer
from thor_sim_bridge.world import World


def views(world, height=224, width=384):
    return Renderer(world.house, height, width).render_views(world)


@pytest.mark.parametrize("height, width", [(224, 384), (112, 192)])
def test_frame_shape_and_type(height, width):
    world = World(generate_house(4, 3))
    x, z = world.navgrid.positions()[0]
    world.reset(AgentState(x, z, 90.0))
    for frame in views(world, height, width):
        assert frame.shape == (height, width, 3) and frame.dtype == np.uint8
        assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 3, "more than a blank wall"


def test_same_state_same_frames():
    house = generate_house(8, 3)
    frames = []
    for _ in range(2):
        world = World(house)
        x, z = world.navgrid.positions()[50]
        world.reset(AgentState(x, z, 210.0))
        frames.append(views(world))
    assert all(np.array_equal(a, b) for a, b in zip(*frames))


def test_object_ahead_is_drawn_in_its_colour():
    ball = scene_object("BasketBall", 2.0, 3.2)
    world = World(room_house((ball,)))
    world.reset(AgentState(2.0, 1.6, 0.0))
    nav, _ = views(world)
    ball_pixels = np.all(nav == ball.colour, axis=-1) | np.all(np.abs(nav.astype(int) - ball.colour) < 60, axis=-1)
    assert ball_pixels.sum() > 100
    cols = np.nonzero(ball_pixels.any(0))[0]
    assert abs(cols.mean() - 192) < 10, "straight ahead: in the middle of the image"


def test_visible_ahead_hidden_behind_wall_or_back():
    mug = scene_object("Mug", 3.0, 2.0)
    world = World(room_house((mug,), wall_at_x=2.5))
    world.reset(AgentState(2.0, 2.0, 90.0))  # facing the mug through the wall
    assert not world.visible(NAV_CAMERA)[0]
    open_world = World(room_house((mug,)))
    open_world.reset(AgentState(1.5, 2.0, 90.0))
    assert open_world.visible(NAV_CAMERA)[0]
    open_world.reset(AgentState(1.5, 2.0, 270.0))  # turned away
    assert not open_world.visible(NAV_CAMERA)[0]


def test_visibility_ends_at_the_visibility_distance():
    mug = scene_object("Mug", 3.7, 2.0)
    world = World(room_house((mug,)), visibility_distance=2.0)
    world.reset(AgentState(1.0, 2.0, 90.0))
    assert not world.visible(NAV_CAMERA)[0]
    world.reset(AgentState(1.8, 2.0, 90.0))
    assert world.visible(NAV_CAMERA)[0]


def test_manipulation_camera_sees_the_gripper_area():
    counter = scene_object("CounterTop", 2.0, 2.75)
    apple = scene_object("Apple", 2.0, 2.55, y0=0.9, n=2, parent=counter.object_id)
    world = World(room_house((counter, apple)))
    world.reset(AgentState(2.0, 2.0, 0.0, lift=0.95, extension=0.3))
    assert world.visible(MANIP_CAMERA)[1]
    _, manip = views(world)
    assert np.all(np.abs(manip.astype(int) - apple.colour) < 40, axis=-1).sum() > 30
