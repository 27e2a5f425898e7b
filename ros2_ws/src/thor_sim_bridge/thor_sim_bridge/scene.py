"""What a generated house is made of: rooms, doorways, walls and box-shaped objects (data only)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .geometry import Box2

WALL_HEIGHT = 2.5
WALL_HALF_THICKNESS = 0.05


@dataclass(frozen=True)
class Room:
    index: int
    room_type: str
    bounds: Box2


@dataclass(frozen=True)
class Doorway:
    rooms: tuple[int, int]
    gap: Box2  # the opening, as a segment on the shared wall


@dataclass(frozen=True)
class SceneObject:
    object_id: str  # "Type|room|n", e.g. "Mug|2|33"
    object_type: str
    name: str
    center: tuple[float, float, float]
    size: tuple[float, float, float]  # extents along world x, y, z
    yaw: float  # multiple of 90 degrees
    colour: tuple[int, int, int]
    pickupable: bool
    room: int
    parent: str | None  # objectId of the furniture it stands on; None on the floor

    @property
    def floor_box(self) -> Box2:
        (x, _, z), (sx, _, sz) = self.center, self.size
        return (x - sx / 2, z - sz / 2, x + sx / 2, z + sz / 2)


@dataclass(frozen=True, eq=False)
class House:
    seed: int
    rooms: tuple[Room, ...]
    walls: np.ndarray  # (S, 4) segments x0, z0, x1, z1
    wall_rooms: np.ndarray  # (S, 2) room index on the low / high side of each wall (-1: outside)
    doorways: tuple[Doorway, ...]
    objects: tuple[SceneObject, ...]

    @property
    def bounds(self) -> Box2:
        b = np.array([r.bounds for r in self.rooms])
        return (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())

    def rooms_at(self, points: np.ndarray) -> np.ndarray:
        """(P,) index of the room containing each point (P, 2) (x, z); -1 outside the house."""
        b = np.array([r.bounds for r in self.rooms])
        x, z = points[:, None, 0], points[:, None, 1]
        inside = (b[:, 0] <= x) & (x <= b[:, 2]) & (b[:, 1] <= z) & (z <= b[:, 3])
        return np.where(inside.any(1), inside.argmax(1), -1)
