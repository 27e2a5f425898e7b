"""A top-down plan of the house for people: rooms, walls, reachable grid, objects and the robot."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from .agent import AGENT_RADIUS
from .assets import FLOOR_COLOURS
from .world import World

MARGIN = 0.3  # metres around the house
WALL_COLOUR = (35, 35, 35)
GRID_COLOUR = (120, 120, 120)
ROBOT_COLOUR = (20, 90, 230)
HIGHLIGHT_COLOUR = (255, 0, 0)


def draw_top_down(world: World, pixels_per_metre: int = 40, highlight: str | None = None) -> np.ndarray:
    """RGB image (x to the right, z up) of ``world`` now; objects of type ``highlight`` are outlined."""
    x0, z0, x1, z1 = world.house.bounds
    size = (int((x1 - x0 + 2 * MARGIN) * pixels_per_metre), int((z1 - z0 + 2 * MARGIN) * pixels_per_metre))
    image = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(image)

    def px(x: float, z: float) -> tuple[float, float]:
        return (x - x0 + MARGIN) * pixels_per_metre, (z1 + MARGIN - z) * pixels_per_metre

    def rect(box: tuple[float, float, float, float], **style: object) -> None:
        (ax, az), (bx, bz) = px(box[0], box[3]), px(box[2], box[1])
        draw.rectangle((ax, az, bx, bz), **style)

    for room in world.house.rooms:
        rect(room.bounds, fill=FLOOR_COLOURS[room.room_type])
    for x, z in world.navgrid.positions():
        draw.point(px(x, z), fill=GRID_COLOUR)
    order = np.argsort(world.centers[:, 1] + world.sizes[:, 1] / 2)  # lower objects first
    for k in order:
        if k == world.held:
            continue
        (cx, _, cz), (sx, _, sz) = world.centers[k], world.sizes[k]
        outline = HIGHLIGHT_COLOUR if world.types[k] == highlight else (0, 0, 0)
        rect((cx - sx / 2, cz - sz / 2, cx + sx / 2, cz + sz / 2), fill=world.house.objects[k].colour,
             outline=outline, width=3 if outline == HIGHLIGHT_COLOUR else 1)
    for ax, az, bx, bz in world.house.walls:
        draw.line((px(ax, az), px(bx, bz)), fill=WALL_COLOUR, width=max(2, pixels_per_metre // 10))
    agent = world.agent
    (cx, cz), r = px(agent.x, agent.z), AGENT_RADIUS * pixels_per_metre
    draw.ellipse((cx - r, cz - r, cx + r, cz + r), fill=ROBOT_COLOUR)
    tip = px(*(np.array([agent.x, agent.z]) + agent.heading * AGENT_RADIUS * 1.6))
    draw.line(((cx, cz), tip), fill=ROBOT_COLOUR, width=3)
    return np.asarray(image)
