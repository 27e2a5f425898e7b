"""Hand-built houses for the embedded simulator's tests: exact layouts, so tests can predict outcomes."""

from __future__ import annotations

import numpy as np

from thor_sim_bridge.assets import ASSETS
from thor_sim_bridge.house import House, Room, SceneObject


def scene_object(
    object_type: str, x: float, z: float, *, y0: float = 0.0, n: int = 1, parent: str | None = None
) -> SceneObject:
    """An object of ``object_type`` (catalogue size and colour) standing at (x, z) with its bottom at ``y0``."""
    asset = ASSETS[object_type]
    sx, sy, sz = asset.size
    return SceneObject(
        object_id=f"{object_type}|0|{n}",
        object_type=object_type,
        name=f"{object_type}_{n}",
        center=(x, y0 + sy / 2, z),
        size=(sx, sy, sz),
        yaw=0.0,
        colour=asset.colour,
        pickupable=asset.pickupable,
        room=0,
        parent=parent,
    )


def room_house(objects: tuple[SceneObject, ...] = (), size: float = 4.0, wall_at_x: float | None = None) -> House:
    """A square room from (0, 0) to (size, size); with ``wall_at_x``, a solid wall splits it in two."""
    walls = [(0, 0, 0, size), (0, 0, size, 0), (size, 0, size, size), (0, size, size, size)]
    sides = [(-1, 0), (-1, 0), (0, -1), (0, -1)]
    rooms = [Room(0, "LivingRoom", (0.0, 0.0, size, size))]
    if wall_at_x is not None:
        rooms = [Room(0, "LivingRoom", (0.0, 0.0, wall_at_x, size)), Room(1, "Kitchen", (wall_at_x, 0.0, size, size))]
        walls.append((wall_at_x, 0, wall_at_x, size))
        sides.append((0, 1))
    return House(0, tuple(rooms), np.array(walls, dtype=float), np.array(sides), (), tuple(objects))
