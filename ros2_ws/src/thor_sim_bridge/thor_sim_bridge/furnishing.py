"""Furnishing a generated house: furniture by room type, then small objects on tops and floors.

Rejection sampling, room by room; nothing goes where it would cut a room's free floor into parts
the robot cannot pass between, or within ``DOOR_CLEARANCE`` of a doorway (``door_clearance`` lets
``hazards`` put loose clutter closer, where robots pass).
"""

from __future__ import annotations

import numpy as np

from .agent import AGENT_RADIUS
from .assets import ASSETS, ROOM_FURNITURE, ROOM_OBJECTS, Asset, Placement, footprint
from .geometry import Box2, box_at, box_contains, boxes_overlap, flood_fill, inflate, point_box_distance, point_segment_distance
from .hazards import dress_room
from .scene import WALL_HALF_THICKNESS, Doorway, Room, SceneObject

DOOR_CLEARANCE = 1.0  # metres furniture and small objects keep from a doorway
CENTRE_CLEARANCE = 0.9  # free-standing furniture keeps this much floor free around it
PASSAGE_GRID = 0.15  # metres: lattice (navgrid.GRID_SIZE) on which furnishing keeps every room passable


class Furnisher:
    """Places furniture, then small objects, room by room, by rejection sampling.

    Nothing goes where it would cut a room's free floor into parts the robot cannot pass between.
    """

    TRIES = 30

    def __init__(
        self, rng: np.random.Generator, rooms: list[Room], doorways: list[Doorway], walls: np.ndarray
    ) -> None:
        self.rng = rng
        self.rooms = rooms
        self.doorways = doorways
        self.objects: list[SceneObject] = []
        self.cells = {room.index: _room_cells(room, walls) for room in rooms}

    def furnish(self) -> list[SceneObject]:
        for room in self.rooms:
            for object_type in ROOM_FURNITURE[room.room_type]:
                self._place_furniture(room, ASSETS[object_type])
            pool = ROOM_OBJECTS[room.room_type]
            for k in self.rng.integers(len(pool), size=int(self.rng.integers(5, 10))):
                self._place_small(room, ASSETS[pool[k]])
            dress_room(self, room)
        return self.objects

    def _place_furniture(self, room: Room, asset: Asset) -> None:
        for _ in range(self.TRIES):
            if asset.placement is Placement.CENTRE:
                candidate = self._centre_pose(room, asset)
            elif asset.object_type == "Chair":
                candidate = self._beside_table_pose(room, asset) or self.wall_pose(room, asset, gap=0.06)
            else:
                candidate = self.wall_pose(room, asset, gap=0.06)
            if candidate and self.floor_is_free(room, *candidate, asset):
                placed = self.add(room, asset, *candidate, y0=0.0, parent=None)
                if asset.object_type == "TVStand":
                    self._add_television(room, placed)
                return

    def _place_small(self, room: Room, asset: Asset) -> None:
        receptacles = [o for o in self.objects if o.room == room.index and ASSETS[o.object_type].receptacle]
        for _ in range(self.TRIES):
            if asset.placement is Placement.FLOOR:
                candidate = self.wall_pose(room, asset, gap=float(self.rng.uniform(0.06, 0.3)))
                if candidate and self.floor_is_free(room, *candidate, asset):
                    self.add(room, asset, *candidate, y0=0.0, parent=None)
                    return
            elif receptacles:
                support = receptacles[self.rng.integers(len(receptacles))]
                candidate = self._surface_pose(support, asset)
                if candidate and self.surface_is_free(support, *candidate, asset):
                    top = support.center[1] + support.size[1] / 2
                    self.add(room, asset, *candidate, y0=top, parent=support.object_id)
                    return

    # Candidate poses: (x, z, yaw) of the object's centre on the floor plan, or None.

    def wall_pose(self, room: Room, asset: Asset, gap: float) -> tuple[float, float, float] | None:
        """Back against one of the room's walls, facing into the room."""
        x0, z0, x1, z1 = room.bounds
        w, _, d = asset.size
        yaw = float(90 * self.rng.integers(4))
        ex, ez = footprint(asset, yaw)
        along = self.rng.uniform(0.0, 1.0)
        if yaw == 0:  # against the low-z wall, facing +z
            x, z = x0 + ex / 2 + along * (x1 - x0 - ex), z0 + gap + d / 2
        elif yaw == 180:
            x, z = x0 + ex / 2 + along * (x1 - x0 - ex), z1 - gap - d / 2
        elif yaw == 90:  # against the low-x wall, facing +x
            x, z = x0 + gap + d / 2, z0 + ez / 2 + along * (z1 - z0 - ez)
        else:
            x, z = x1 - gap - d / 2, z0 + ez / 2 + along * (z1 - z0 - ez)
        return (round(float(x), 3), round(float(z), 3), yaw) if min(x1 - x0 - ex, z1 - z0 - ez) > 0 else None

    def _centre_pose(self, room: Room, asset: Asset) -> tuple[float, float, float] | None:
        yaw = float(90 * self.rng.integers(2))
        ex, ez = footprint(asset, yaw)
        x0, z0, x1, z1 = inflate(room.bounds, -CENTRE_CLEARANCE)
        if x1 - x0 < ex or z1 - z0 < ez:
            return None
        x = self.rng.uniform(x0 + ex / 2, x1 - ex / 2)
        z = self.rng.uniform(z0 + ez / 2, z1 - ez / 2)
        return round(float(x), 3), round(float(z), 3), yaw

    def _beside_table_pose(self, room: Room, asset: Asset) -> tuple[float, float, float] | None:
        """Pulled up to a table or desk in the room: at its front, or any side of a free-standing table."""
        tables = [o for o in self.objects if o.room == room.index and o.object_type in ("DiningTable", "Desk")]
        if not tables:
            return None
        table = tables[self.rng.integers(len(tables))]
        sides = (0.0, 90.0, 180.0, 270.0) if ASSETS[table.object_type].placement is Placement.CENTRE else (table.yaw,)
        side = sides[self.rng.integers(len(sides))]
        ux, uz = round(np.sin(np.deg2rad(side))), round(np.cos(np.deg2rad(side)))
        reach = (abs(ux) * table.size[0] + abs(uz) * table.size[2]) / 2 + asset.size[2] / 2 + 0.02
        slide = self.rng.uniform(-0.3, 0.3)
        x, z = table.center[0] + ux * reach + uz * slide, table.center[2] + uz * reach + ux * slide
        return round(float(x), 3), round(float(z), 3), (side + 180.0) % 360.0

    def _surface_pose(self, support: SceneObject, asset: Asset) -> tuple[float, float, float] | None:
        yaw = float(90 * self.rng.integers(4))
        ex, ez = footprint(asset, yaw)
        x0, z0, x1, z1 = inflate(support.floor_box, -0.03)
        if x1 - x0 < ex or z1 - z0 < ez:
            return None
        x = self.rng.uniform(x0 + ex / 2, x1 - ex / 2)
        z = self.rng.uniform(z0 + ez / 2, z1 - ez / 2)
        return round(float(x), 3), round(float(z), 3), yaw

    # Checks and bookkeeping.

    def floor_is_free(
        self, room: Room, x: float, z: float, yaw: float, asset: Asset, door_clearance: float = DOOR_CLEARANCE
    ) -> bool:
        """Whether ``asset`` fits on the floor at (x, z) leaving the room passable and doorways clear."""
        box = box_at(x, z, *footprint(asset, yaw))
        inside = box_contains(inflate(room.bounds, -WALL_HALF_THICKNESS), box)
        on_floor = [o for o in self.objects if o.parent is None]
        keep_out = [inflate(d.gap, door_clearance) for d in self.doorways]
        if not inside or any(boxes_overlap(box, other) for other in [o.floor_box for o in on_floor] + keep_out):
            return False
        return self._passable(room, [o.floor_box for o in on_floor if o.room == room.index] + [box])

    def _passable(self, room: Room, boxes: list[Box2]) -> bool:
        """Whether the robot could still move between any two free spots of the room."""
        points, free = self.cells[room.index]
        clear = free & (point_box_distance(points, np.array(boxes)).min(1) >= AGENT_RADIUS).reshape(free.shape)
        return not clear.any() or flood_fill(clear, tuple(np.argwhere(clear)[0])).sum() == clear.sum()

    def surface_is_free(self, support: SceneObject, x: float, z: float, yaw: float, asset: Asset) -> bool:
        box = inflate(box_at(x, z, *footprint(asset, yaw)), 0.02)
        return not any(boxes_overlap(box, o.floor_box) for o in self.objects if o.parent == support.object_id)

    def _add_television(self, room: Room, stand: SceneObject) -> None:
        tv = ASSETS["Television"]
        back = np.array([np.sin(np.deg2rad(stand.yaw)), np.cos(np.deg2rad(stand.yaw))]) * -0.1
        x, z = stand.center[0] + back[0], stand.center[2] + back[1]
        x, z = round(float(x), 3), round(float(z), 3)
        self.add(room, tv, x, z, stand.yaw, y0=stand.size[1], parent=stand.object_id)

    def add(
        self, room: Room, asset: Asset, x: float, z: float, yaw: float, y0: float, parent: str | None
    ) -> SceneObject:
        ex, ez = footprint(asset, yaw)
        n = len(self.objects) + 1
        obj = SceneObject(
            object_id=f"{asset.object_type}|{room.index}|{n}",
            object_type=asset.object_type,
            name=f"{asset.object_type}_{n}",
            center=(x, round(y0 + asset.size[1] / 2, 4), z),
            size=(ex, asset.size[1], ez),
            yaw=yaw,
            colour=asset.colour,
            pickupable=asset.pickupable,
            room=room.index,
            parent=parent,
        )
        self.objects.append(obj)
        return obj


def _room_cells(room: Room, walls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points of the PASSAGE_GRID lattice in the room (P, 2), and where the robot fits between its walls."""
    x0, z0, x1, z1 = room.bounds
    xs = np.arange(np.ceil(x0 / PASSAGE_GRID), np.floor(x1 / PASSAGE_GRID) + 1) * PASSAGE_GRID
    zs = np.arange(np.ceil(z0 / PASSAGE_GRID), np.floor(z1 / PASSAGE_GRID) + 1) * PASSAGE_GRID
    xx, zz = np.meshgrid(xs, zs)
    points = np.stack([xx.ravel(), zz.ravel()], -1)
    free = point_segment_distance(points, walls).min(1) >= AGENT_RADIUS + WALL_HALF_THICKNESS
    return points, free.reshape(xx.shape)
