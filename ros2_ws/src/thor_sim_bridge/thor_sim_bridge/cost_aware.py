"""The cost-aware expert's view of a house: what to keep away from, and where to reach from.

``hazard_penalty`` scores every grid node by the movable objects near it (any movable object
``MOVABLE_WEIGHT``; more for members of a fragile cluster, Safety-CHORES' 3+ objects within
0.3 m, and for dangerous equipment) falling off linearly to zero at ``HAZARD_RADIUS`` from the
object's footprint, plus ``CRAMPED_WEIGHT`` where fewer than 40 grid points lie within 1 m (the
corner cost's cramped spots). The follower plans on that map knowing every object, so it never
bumps into one, and never drives backwards (the camera cannot see behind the robot). The map only
raises costs, so where every way is hazardous the cheapest path is taken, as the shortest-path
expert would.

For picking up, the cost-aware expert also keeps only the goal spots from which the arm's bar on
its straight way to the target touches no other movable object, with ``REACH_SLACK`` to spare
(``expert.clear_reach_goals``).
"""

from __future__ import annotations

import numpy as np

from .costs import CLUSTER_LINK_M, CLUSTER_MIN_SIZE, CORNER_MIN_FREE_POINTS, CORNER_RADIUS_M, is_dangerous
from .follower import PathFollower
from .geometry import point_box_distance
from .navgrid import GRID_SIZE
from .world import World

HAZARD_RADIUS = 0.5  # metres from an object's footprint at which its penalty reaches zero
MOVABLE_WEIGHT = 1.0
CLUSTER_WEIGHT = 4.0
DANGEROUS_WEIGHT = 4.0
CRAMPED_WEIGHT = 2.0


def cost_aware_follower(world: World, goals: np.ndarray) -> PathFollower:
    """A follower that knows every object, plans on ``hazard_penalty`` and never backs off blind."""
    known = np.ones(len(world.object_ids), dtype=bool)
    return PathFollower(world, goals, known, penalty=hazard_penalty(world), back_off=False)


def hazard_weights(world: World) -> np.ndarray:
    """(K,) how much each object (as the house was generated) is worth keeping away from; 0: furniture."""
    dangerous = np.array([is_dangerous(o.name, o.object_type) for o in world.house.objects], dtype=bool)
    weights = MOVABLE_WEIGHT + DANGEROUS_WEIGHT * dangerous
    weights = weights + CLUSTER_WEIGHT * cluster_members(world.initial_centers, world.movable)
    return np.where(world.movable, weights, 0.0)


def cluster_members(centres: np.ndarray, members: np.ndarray) -> np.ndarray:
    """(K,) which of the ``members`` belong to a single-linkage cluster (links under 0.3 m) of 3+."""
    idx = np.flatnonzero(members)
    near = ((centres[idx, None] - centres[None, idx]) ** 2).sum(-1) < CLUSTER_LINK_M**2
    label = np.arange(len(idx))
    while True:  # propagate the smallest label through links until nothing changes
        merged = np.where(near, label[None, :], len(idx)).min(1)
        if np.array_equal(merged, label):
            break
        label = merged
    in_big = np.bincount(label, minlength=len(idx))[label] >= CLUSTER_MIN_SIZE
    out = np.zeros(len(centres), dtype=bool)
    out[idx[in_big]] = True
    return out


def hazard_penalty(world: World) -> np.ndarray:
    """(rows, cols) penalty of each grid node (see the module docstring)."""
    grid = world.static_navgrid
    rows, cols = np.indices(grid.shape)
    points = grid.position(rows.ravel(), cols.ravel())
    weights = hazard_weights(world)
    (hazards,) = np.nonzero(weights > 0)
    half = world.sizes[hazards][:, [0, 2]] / 2
    centres = world.initial_centers[hazards][:, [0, 2]]
    boxes = np.concatenate([centres - half, centres + half], axis=1)
    falloff = np.clip(1.0 - (point_box_distance(points, boxes) - 0.2) / HAZARD_RADIUS, 0.0, 1.0)
    penalty = (falloff * weights[hazards]).sum(1).reshape(grid.shape)
    return penalty + CRAMPED_WEIGHT * (free_points_within(world.navgrid.reachable, CORNER_RADIUS_M) < CORNER_MIN_FREE_POINTS)


def free_points_within(free: np.ndarray, radius: float) -> np.ndarray:
    """(rows, cols) how many ``free`` grid points lie within ``radius`` metres of each node."""
    reach = int(radius / GRID_SIZE)
    padded = np.pad(free.astype(np.int32), reach)
    rows, cols = free.shape
    count = np.zeros(free.shape, dtype=np.int32)
    for dr in range(-reach, reach + 1):
        for dc in range(-reach, reach + 1):
            if (dr * dr + dc * dc) * GRID_SIZE**2 <= radius**2 + 1e-9:
                count += padded[reach + dr : reach + dr + rows, reach + dc : reach + dc + cols]
    return count
