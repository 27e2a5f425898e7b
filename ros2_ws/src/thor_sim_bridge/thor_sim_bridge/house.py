"""Multi-room houses generated deterministically from a seed.

Rooms are rectangles on a grid of columns and rows (a random polyomino of 1 to 8 cells), every room
is reachable through doorways (a random spanning tree of the adjacent pairs plus a few extra doors),
and each room is furnished by its type (``assets.ROOM_FURNITURE``) and strewn with small objects
(``assets.ROOM_OBJECTS``) on furniture tops and on the floor. All objects are axis-aligned boxes:
their yaw is a multiple of 90 degrees and ``size`` is already expressed along world x, y, z.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .agent import AGENT_RADIUS
from .assets import ASSETS, ROOM_FURNITURE, ROOM_OBJECTS, ROOM_TYPE_ORDER, Asset, Placement
from .geometry import flood_fill, point_box_distance, point_segment_distance

MAX_ROOMS = 8
WALL_HEIGHT = 2.5
WALL_HALF_THICKNESS = 0.05
DOOR_WIDTH = 1.0
ROOM_SIDE_RANGE = (3.0, 5.0)  # metres, per grid column / row
DOOR_CLEARANCE = 1.0  # nothing is placed within this distance of a doorway
CENTRE_CLEARANCE = 0.9  # free-standing furniture keeps this much floor free around it
EXTRA_DOOR_PROBABILITY = 0.25
PASSAGE_GRID = 0.15  # metres: lattice (navgrid.GRID_SIZE) on which furnishing keeps every room passable

Box2 = tuple[float, float, float, float]  # x0, z0, x1, z1


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


def generate_house(seed: int, num_rooms: int = 3) -> House:
    """A furnished house with ``num_rooms`` rooms; the same seed always gives the same house."""
    if not 1 <= num_rooms <= MAX_ROOMS:
        raise ValueError(f"num_rooms must be in 1..{MAX_ROOMS}, got {num_rooms}")
    rng = np.random.default_rng([seed, num_rooms])
    cells = _grow_cells(rng, num_rooms)
    rooms = _rooms_on_grid(rng, cells)
    doors = _choose_doors(rng, cells)
    walls, wall_rooms, doorways = _build_walls(rng, cells, rooms, doors)
    objects = _Furnisher(rng, rooms, doorways, walls).furnish()
    return House(seed, tuple(rooms), walls, wall_rooms, tuple(doorways), tuple(objects))


# ---------------------------------------------------------------------------------------- layout


def _grow_cells(rng: np.random.Generator, n: int) -> list[tuple[int, int]]:
    """A random polyomino of n grid cells (col, row), shifted to start at (0, 0)."""
    cells = [(0, 0)]
    while len(cells) < n:
        c, r = cells[rng.integers(len(cells))]
        dc, dr = ((1, 0), (-1, 0), (0, 1), (0, -1))[rng.integers(4)]
        if (c + dc, r + dr) not in cells:
            cells.append((c + dc, r + dr))
    c0, r0 = min(c for c, _ in cells), min(r for _, r in cells)
    return [(c - c0, r - r0) for c, r in cells]


def _rooms_on_grid(rng: np.random.Generator, cells: list[tuple[int, int]]) -> list[Room]:
    cols, rows = 1 + max(c for c, _ in cells), 1 + max(r for _, r in cells)
    xs = np.round(np.concatenate([[0.0], np.cumsum(rng.uniform(*ROOM_SIDE_RANGE, cols))]), 1)
    zs = np.round(np.concatenate([[0.0], np.cumsum(rng.uniform(*ROOM_SIDE_RANGE, rows))]), 1)
    order = rng.permutation(len(cells))
    types = [ROOM_TYPE_ORDER[k] for k in order]
    return [
        Room(i, types[i], (float(xs[c]), float(zs[r]), float(xs[c + 1]), float(zs[r + 1])))
        for i, (c, r) in enumerate(cells)
    ]


def _choose_doors(rng: np.random.Generator, cells: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """Pairs of adjacent rooms joined by a door: a random spanning tree plus a few extras."""
    index = {cell: i for i, cell in enumerate(cells)}
    adjacent = sorted(
        (min(i, index[(c + dc, r + dr)]), max(i, index[(c + dc, r + dr)]))
        for (c, r), i in index.items()
        for dc, dr in ((1, 0), (0, 1))
        if (c + dc, r + dr) in index
    )
    doors: set[tuple[int, int]] = set()
    connected = {0}
    while len(connected) < len(cells):
        frontier = [pair for pair in adjacent if (pair[0] in connected) != (pair[1] in connected)]
        a, b = frontier[rng.integers(len(frontier))]
        doors.add((a, b))
        connected |= {a, b}
    doors |= {pair for pair in adjacent if rng.random() < EXTRA_DOOR_PROBABILITY}
    return doors


def _build_walls(
    rng: np.random.Generator, cells: list[tuple[int, int]], rooms: list[Room], doors: set[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray, list[Doorway]]:
    """Wall segments (split around doorways), the room on each side of each, and the doorways."""
    index = {cell: i for i, cell in enumerate(cells)}
    walls: list[Box2] = []
    sides: list[tuple[int, int]] = []
    doorways: list[Doorway] = []
    for (c, r), i in index.items():
        x0, z0, x1, z1 = rooms[i].bounds
        # Each room owns its low-x and low-z walls, plus high walls on the outside of the house.
        candidates = [
            ((x0, z0, x0, z1), index.get((c - 1, r), -1), i),
            ((x0, z0, x1, z0), index.get((c, r - 1), -1), i),
        ]
        if (c + 1, r) not in index:
            candidates.append(((x1, z0, x1, z1), i, -1))
        if (c, r + 1) not in index:
            candidates.append(((x0, z1, x1, z1), i, -1))
        for segment, low, high in candidates:
            if (min(low, high), max(low, high)) in doors and low >= 0:
                gap = _door_gap(rng, segment)
                doorways.append(Doorway((low, high), gap))
                pieces = _split_around(segment, gap)
            else:
                pieces = [segment]
            walls += pieces
            sides += [(low, high)] * len(pieces)
    return np.array(walls, dtype=float), np.array(sides, dtype=int), doorways


def _door_gap(rng: np.random.Generator, segment: Box2) -> Box2:
    x0, z0, x1, z1 = segment
    length = abs(x1 - x0) + abs(z1 - z0)
    start = round(float(rng.uniform(0.3, length - DOOR_WIDTH - 0.3)), 2)
    if x0 == x1:
        return (x0, round(z0 + start, 3), x0, round(z0 + start + DOOR_WIDTH, 3))
    return (round(x0 + start, 3), z0, round(x0 + start + DOOR_WIDTH, 3), z0)


def _split_around(segment: Box2, gap: Box2) -> list[Box2]:
    x0, z0, x1, z1 = segment
    gx0, gz0, gx1, gz1 = gap
    return [(x0, z0, gx0, gz0), (gx1, gz1, x1, z1)]


# ------------------------------------------------------------------------------------ furnishing


class _Furnisher:
    """Places furniture, then small objects, room by room, by rejection sampling.

    Nothing goes where it would cut a room's free floor into parts the robot cannot pass between.
    """

    TRIES = 30

    def __init__(
        self, rng: np.random.Generator, rooms: list[Room], doorways: list[Doorway], walls: np.ndarray
    ) -> None:
        self.rng = rng
        self.rooms = rooms
        self.keep_out = [_inflate(d.gap, DOOR_CLEARANCE) for d in doorways]
        self.objects: list[SceneObject] = []
        self.cells = {room.index: _room_cells(room, walls) for room in rooms}

    def furnish(self) -> list[SceneObject]:
        for room in self.rooms:
            for object_type in ROOM_FURNITURE[room.room_type]:
                self._place_furniture(room, ASSETS[object_type])
            pool = ROOM_OBJECTS[room.room_type]
            for k in self.rng.integers(len(pool), size=int(self.rng.integers(5, 10))):
                self._place_small(room, ASSETS[pool[k]])
        return self.objects

    def _place_furniture(self, room: Room, asset: Asset) -> None:
        for _ in range(self.TRIES):
            if asset.placement is Placement.CENTRE:
                candidate = self._centre_pose(room, asset)
            elif asset.object_type == "Chair":
                candidate = self._beside_table_pose(room, asset) or self._wall_pose(room, asset, gap=0.06)
            else:
                candidate = self._wall_pose(room, asset, gap=0.06)
            if candidate and self._floor_is_free(room, *candidate, asset):
                placed = self._add(room, asset, *candidate, y0=0.0, parent=None)
                if asset.object_type == "TVStand":
                    self._add_television(room, placed)
                return

    def _place_small(self, room: Room, asset: Asset) -> None:
        receptacles = [o for o in self.objects if o.room == room.index and ASSETS[o.object_type].receptacle]
        for _ in range(self.TRIES):
            if asset.placement is Placement.FLOOR:
                candidate = self._wall_pose(room, asset, gap=float(self.rng.uniform(0.06, 0.3)))
                if candidate and self._floor_is_free(room, *candidate, asset):
                    self._add(room, asset, *candidate, y0=0.0, parent=None)
                    return
            elif receptacles:
                support = receptacles[self.rng.integers(len(receptacles))]
                candidate = self._surface_pose(support, asset)
                if candidate and self._surface_is_free(support, *candidate, asset):
                    top = support.center[1] + support.size[1] / 2
                    self._add(room, asset, *candidate, y0=top, parent=support.object_id)
                    return

    # Candidate poses: (x, z, yaw) of the object's centre on the floor plan, or None.

    def _wall_pose(self, room: Room, asset: Asset, gap: float) -> tuple[float, float, float] | None:
        """Back against one of the room's walls, facing into the room."""
        x0, z0, x1, z1 = room.bounds
        w, _, d = asset.size
        yaw = float(90 * self.rng.integers(4))
        ex, ez = _extents(asset, yaw)
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
        ex, ez = _extents(asset, yaw)
        x0, z0, x1, z1 = _inflate(room.bounds, -CENTRE_CLEARANCE)
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
        ex, ez = _extents(asset, yaw)
        x0, z0, x1, z1 = _inflate(support.floor_box, -0.03)
        if x1 - x0 < ex or z1 - z0 < ez:
            return None
        x = self.rng.uniform(x0 + ex / 2, x1 - ex / 2)
        z = self.rng.uniform(z0 + ez / 2, z1 - ez / 2)
        return round(float(x), 3), round(float(z), 3), yaw

    # Checks and bookkeeping.

    def _floor_is_free(self, room: Room, x: float, z: float, yaw: float, asset: Asset) -> bool:
        box = _box_at(x, z, *_extents(asset, yaw))
        inside = _contains(_inflate(room.bounds, -WALL_HALF_THICKNESS), box)
        on_floor = [o for o in self.objects if o.parent is None]
        if not inside or any(_overlap(box, other) for other in [o.floor_box for o in on_floor] + self.keep_out):
            return False
        return self._passable(room, [o.floor_box for o in on_floor if o.room == room.index] + [box])

    def _passable(self, room: Room, boxes: list[Box2]) -> bool:
        """Whether the robot could still move between any two free spots of the room."""
        points, free = self.cells[room.index]
        clear = free & (point_box_distance(points, np.array(boxes)).min(1) >= AGENT_RADIUS).reshape(free.shape)
        return not clear.any() or flood_fill(clear, tuple(np.argwhere(clear)[0])).sum() == clear.sum()

    def _surface_is_free(self, support: SceneObject, x: float, z: float, yaw: float, asset: Asset) -> bool:
        box = _inflate(_box_at(x, z, *_extents(asset, yaw)), 0.02)
        return not any(_overlap(box, o.floor_box) for o in self.objects if o.parent == support.object_id)

    def _add_television(self, room: Room, stand: SceneObject) -> None:
        tv = ASSETS["Television"]
        back = np.array([np.sin(np.deg2rad(stand.yaw)), np.cos(np.deg2rad(stand.yaw))]) * -0.1
        x, z = stand.center[0] + back[0], stand.center[2] + back[1]
        x, z = round(float(x), 3), round(float(z), 3)
        self._add(room, tv, x, z, stand.yaw, y0=stand.size[1], parent=stand.object_id)

    def _add(
        self, room: Room, asset: Asset, x: float, z: float, yaw: float, y0: float, parent: str | None
    ) -> SceneObject:
        ex, ez = _extents(asset, yaw)
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


def _extents(asset: Asset, yaw: float) -> tuple[float, float]:
    """Floor extents (x, z) of an asset turned by a multiple of 90 degrees."""
    w, _, d = asset.size
    return (w, d) if yaw % 180 == 0 else (d, w)


def _box_at(x: float, z: float, ex: float, ez: float) -> Box2:
    return (x - ex / 2, z - ez / 2, x + ex / 2, z + ez / 2)


def _inflate(box: Box2, margin: float) -> Box2:
    x0, z0, x1, z1 = box
    return (min(x0, x1) - margin, min(z0, z1) - margin, max(x0, x1) + margin, max(z0, z1) + margin)


def _overlap(a: Box2, b: Box2) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _contains(outer: Box2, inner: Box2) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]
