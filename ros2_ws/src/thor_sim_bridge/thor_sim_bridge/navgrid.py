"""The 0.15 m navigation grid (AI2-THOR's GetReachablePositions) and shortest paths on it.

A node is free when the robot's disc fits there; the reachable nodes are the largest 4-connected
set of free nodes. Shortest paths move between 8-connected neighbours (diagonals only when both
side neighbours are reachable, so paths never cut a corner).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from .geometry import flood_fill, footprint_clearance
from .house import WALL_HALF_THICKNESS, House

GRID_SIZE = 0.15
_STEPS = ((0, 1), (1, 0), (0, -1), (-1, 0), (1, 1), (1, -1), (-1, 1), (-1, -1))  # (row, col) = (z, x)


@dataclass(frozen=True, eq=False)
class NavGrid:
    origin: tuple[float, float]  # (x, z) of node (0, 0)
    reachable: np.ndarray  # (rows, cols) bool, rows along z, columns along x
    clearance: np.ndarray  # (rows, cols) metres between the robot's disc at the node and the nearest obstacle

    @property
    def shape(self) -> tuple[int, int]:
        return self.reachable.shape

    def position(self, row: int | np.ndarray, col: int | np.ndarray) -> np.ndarray:
        """(x, z) of nodes, rounded to the micrometre (0.45, not 0.44999999999999996)."""
        x = self.origin[0] + np.asarray(col) * GRID_SIZE
        z = self.origin[1] + np.asarray(row) * GRID_SIZE
        return np.round(np.stack([x, z], -1), 6)

    def positions(self) -> np.ndarray:
        """(N, 2) (x, z) of every reachable node, row-major."""
        rows, cols = np.nonzero(self.reachable)
        return self.position(rows, cols)

    def nearest_node(
        self, x: float, z: float, among: np.ndarray | None = None, reach: int = 2
    ) -> tuple[int, int] | None:
        """The reachable node (or node of the mask ``among``) closest to (x, z) within ``reach`` grid
        steps, None if there is none."""
        row = int(round((z - self.origin[1]) / GRID_SIZE))
        col = int(round((x - self.origin[0]) / GRID_SIZE))
        r0, c0 = max(row - reach, 0), max(col - reach, 0)
        mask = self.reachable if among is None else among
        rows, cols = np.nonzero(mask[r0 : row + reach + 1, c0 : col + reach + 1])
        if rows.size == 0:
            return None
        rows, cols = rows + r0, cols + c0
        d = (self.origin[0] + cols * GRID_SIZE - x) ** 2 + (self.origin[1] + rows * GRID_SIZE - z) ** 2
        best = int(np.argmin(d))
        return int(rows[best]), int(cols[best])


def build_navgrid(house: House, obstacles: np.ndarray, radius: float) -> NavGrid:
    """Grid over the house; ``obstacles`` are floor boxes (K, 4) that block the base."""
    x0, z0, x1, z1 = house.bounds
    cols = np.arange(np.ceil(x0 / GRID_SIZE), np.floor(x1 / GRID_SIZE) + 1)
    rows = np.arange(np.ceil(z0 / GRID_SIZE), np.floor(z1 / GRID_SIZE) + 1)
    origin = (round(float(cols[0] * GRID_SIZE), 6), round(float(rows[0] * GRID_SIZE), 6))
    xx, zz = np.meshgrid(cols * GRID_SIZE, rows * GRID_SIZE)
    points = np.stack([xx.ravel(), zz.ravel()], -1)
    clearance = footprint_clearance(points, house.walls, obstacles, radius, WALL_HALF_THICKNESS).min(1)
    inside = house.rooms_at(points) >= 0
    free = ((clearance >= -1e-9) & inside).reshape(xx.shape)
    return NavGrid(origin, _largest_component(free), clearance.reshape(xx.shape))


def _largest_component(free: np.ndarray) -> np.ndarray:
    best = np.zeros_like(free)
    unvisited = free.copy()
    while unvisited.sum() > best.sum():
        component = flood_fill(free, tuple(np.argwhere(unvisited)[0]))
        unvisited &= ~component
        if component.sum() > best.sum():
            best = component
    return best


def distance_field(
    grid: NavGrid, goals: np.ndarray, passable: np.ndarray | None = None, penalty: np.ndarray | None = None
) -> np.ndarray:
    """Shortest-path length (metres) from every node to the nearest goal node, moving only through
    ``passable`` nodes (default: the reachable ones); inf where no path exists.

    With ``penalty`` (rows, cols) >= 0, a step into a node costs its length times 1 + the node's
    penalty: the field is then a cost, not a length.
    """
    rows, cols = grid.shape
    ok = grid.reachable if passable is None else passable
    weight = np.zeros(grid.shape) if penalty is None else penalty
    dist = np.full(grid.shape, np.inf)
    heap = [(0.0, int(r), int(c)) for r, c in zip(*np.nonzero(goals & ok))]
    for _, r, c in heap:
        dist[r, c] = 0.0
    heapq.heapify(heap)
    while heap:
        d, r, c = heapq.heappop(heap)
        if d > dist[r, c]:
            continue
        for dr, dc in _STEPS:
            nr, nc = r + dr, c + dc
            if not (0 <= nr < rows and 0 <= nc < cols and ok[nr, nc]):
                continue
            if dr and dc and not (ok[r + dr, c] and ok[r, c + dc]):
                continue
            nd = d + GRID_SIZE * (1.4142135623730951 if dr and dc else 1.0) * (1.0 + weight[nr, nc])
            if nd < dist[nr, nc]:
                dist[nr, nc] = nd
                heapq.heappush(heap, (nd, nr, nc))
    return dist


def downhill(grid: NavGrid, dist: np.ndarray, penalty: np.ndarray | None = None) -> np.ndarray:
    """(rows, cols, 2) the next node on a shortest path from each node; a node points to itself at a goal.

    ``penalty`` must be the one ``dist`` was computed with.
    """
    rows, cols = grid.shape
    weight = 0.0 if penalty is None else penalty
    padded = np.pad(dist, 1, constant_values=np.inf)
    ok = np.pad(np.isfinite(dist), 1)
    node = np.stack(np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij"), -1)
    best = np.full(dist.shape, np.inf)
    nxt = node.copy()
    for dr, dc in _STEPS:
        cost = GRID_SIZE * (1.4142135623730951 if dr and dc else 1.0) * (1.0 + weight)
        neighbour = padded[1 + dr : 1 + dr + rows, 1 + dc : 1 + dc + cols] + cost
        if dr and dc:
            side_ok = ok[1 + dr : 1 + dr + rows, 1 : 1 + cols] & ok[1 : 1 + rows, 1 + dc : 1 + dc + cols]
            neighbour = np.where(side_ok, neighbour, np.inf)
        better = neighbour < best
        best = np.where(better, neighbour, best)
        nxt[better] = node[better] + (dr, dc)
    stay = (dist == 0) | ~np.isfinite(dist)
    nxt[stay] = node[stay]
    return nxt
