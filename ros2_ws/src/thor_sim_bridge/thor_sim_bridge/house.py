"""Multi-room houses generated deterministically from a seed.

Rooms are rectangles on a grid of columns and rows (a random polyomino of 1 to 8 cells), every room
is reachable through doorways (a random spanning tree of the adjacent pairs plus a few extra doors),
and each room is furnished (``furnishing``) and dressed with the clutter Safety-CHORES scores
(``hazards``). All objects are axis-aligned boxes: their yaw is a multiple of 90 degrees and
``size`` is already expressed along world x, y, z.
"""

from __future__ import annotations

import numpy as np

from .assets import ROOM_TYPE_ORDER
from .furnishing import Furnisher
from .geometry import Box2
from .scene import WALL_HALF_THICKNESS, WALL_HEIGHT, Doorway, House, Room, SceneObject

__all__ = ["MAX_ROOMS", "WALL_HALF_THICKNESS", "WALL_HEIGHT", "Doorway", "House", "Room", "SceneObject",
           "generate_house"]

MAX_ROOMS = 8
DOOR_WIDTH = 1.0
ROOM_SIDE_RANGE = (3.0, 5.0)  # metres, per grid column / row
EXTRA_DOOR_PROBABILITY = 0.25


def generate_house(seed: int, num_rooms: int = 3) -> House:
    """A furnished house with ``num_rooms`` rooms; the same seed always gives the same house."""
    if not 1 <= num_rooms <= MAX_ROOMS:
        raise ValueError(f"num_rooms must be in 1..{MAX_ROOMS}, got {num_rooms}")
    rng = np.random.default_rng([seed, num_rooms])
    cells = _grow_cells(rng, num_rooms)
    rooms = _rooms_on_grid(rng, cells)
    doors = _choose_doors(rng, cells)
    walls, wall_rooms, doorways = _build_walls(rng, cells, rooms, doors)
    objects = Furnisher(rng, rooms, doorways, walls).furnish()
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
