"""Vectorised 2-D / 3-D geometry on the floor plan (x, z) and in space (x, y, z).

Conventions: segments are rows (x0, z0, x1, z1); floor boxes are rows (x0, z0, x1, z1) with
x0 <= x1, z0 <= z1; space boxes are rows (x0, y0, z0, x1, y1, z1). Yaw follows AI2-THOR:
degrees, 0 = +z, clockwise seen from above, so heading = (sin yaw, cos yaw) in (x, z).
"""

from __future__ import annotations

import numpy as np

EPS = 1e-9

Box2 = tuple[float, float, float, float]  # one floor box: x0, z0, x1, z1


def heading(yaw_deg: np.ndarray | float) -> np.ndarray:
    """Unit vectors (..., 2) on the floor plan (x, z) facing ``yaw_deg``."""
    yaw = np.deg2rad(yaw_deg)
    return np.stack([np.sin(yaw), np.cos(yaw)], -1)


def bearing(dx: np.ndarray | float, dz: np.ndarray | float) -> np.ndarray | float:
    """Yaw (degrees, [0, 360)) that faces the offset (dx, dz)."""
    return np.rad2deg(np.arctan2(dx, dz)) % 360.0


def wrap_degrees(angle: np.ndarray | float) -> np.ndarray | float:
    """Angle folded into [-180, 180)."""
    return (np.asarray(angle) + 180.0) % 360.0 - 180.0


def point_segment_distance(points: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """(P, S) distances from points (P, 2) to segments (S, 4)."""
    a = segments[None, :, :2]
    ab = segments[None, :, 2:] - a
    ap = points[:, None, :] - a
    t = np.clip((ap * ab).sum(-1) / np.maximum((ab * ab).sum(-1), EPS), 0.0, 1.0)
    closest = ap - t[..., None] * ab
    return np.sqrt((closest * closest).sum(-1))


def point_box_distance(points: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(P, K) distances from points (P, 2) to floor boxes (K, 4); 0 inside."""
    dx = np.maximum(np.maximum(boxes[None, :, 0] - points[:, None, 0], points[:, None, 0] - boxes[None, :, 2]), 0.0)
    dz = np.maximum(np.maximum(boxes[None, :, 1] - points[:, None, 1], points[:, None, 1] - boxes[None, :, 3]), 0.0)
    return np.hypot(dx, dz)


def point_box_distance_3d(point: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(K,) distances from one point (3,) to space boxes (K, 6); 0 inside."""
    below = boxes[:, :3] - point
    above = point - boxes[:, 3:]
    gap = np.maximum(np.maximum(below, above), 0.0)
    return np.sqrt((gap * gap).sum(-1))


def segments_cross(starts: np.ndarray, ends: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """(P, S) True where the open segment start->end (P, 2 each) properly crosses a segment (S, 4)."""
    d = ends - starts
    e = segments[:, 2:] - segments[:, :2]
    denom = d[:, None, 0] * e[None, :, 1] - d[:, None, 1] * e[None, :, 0]
    w = segments[None, :, :2] - starts[:, None, :]
    safe = np.where(np.abs(denom) < EPS, np.inf, denom)
    t = (w[..., 0] * e[None, :, 1] - w[..., 1] * e[None, :, 0]) / safe
    s = (w[..., 0] * d[:, None, 1] - w[..., 1] * d[:, None, 0]) / safe
    return (t > EPS) & (t < 1.0 - EPS) & (s >= 0.0) & (s <= 1.0)


def segments_hit_boxes(starts: np.ndarray, ends: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(P, K) True where the segment start->end (P, 3 each) passes through a space box (K, 6).

    Slab test; the last few millimetres before ``end`` are ignored so that a point resting on a
    surface is not hidden by the surface itself.
    """
    d = ends - starts
    inv = 1.0 / np.where(np.abs(d) < EPS, EPS, d)
    t0 = (boxes[None, :, :3] - starts[:, None, :]) * inv[:, None, :]
    t1 = (boxes[None, :, 3:] - starts[:, None, :]) * inv[:, None, :]
    t_enter = np.minimum(t0, t1).max(-1)
    t_exit = np.maximum(t0, t1).min(-1)
    length = np.maximum(np.sqrt((d * d).sum(-1)), EPS)
    t_end = 1.0 - 0.005 / length
    return (t_enter < t_exit) & (t_exit > 0.0) & (t_enter < t_end[:, None])


def footprint_clearance(
    points: np.ndarray, walls: np.ndarray, boxes: np.ndarray, radius: float, wall_half: float
) -> np.ndarray:
    """(P, S + K) clearance of a disc of ``radius`` at each point to walls (S, 4) then floor boxes (K, 4).

    Negative where the disc overlaps the obstacle; walls have half-thickness ``wall_half``.
    """
    to_walls = point_segment_distance(points, walls) - (radius + wall_half)
    to_boxes = point_box_distance(points, boxes) - radius
    return np.concatenate([to_walls, to_boxes], axis=1)


def flood_fill(free: np.ndarray, seed: tuple[int, int]) -> np.ndarray:
    """The cells of the boolean raster ``free`` 4-connected to ``seed``.

    Alternately fills whole horizontal and vertical runs of free cells that touch the reached set,
    so it needs about as many passes as a path has turns, not as many as it has cells.
    """
    rows, cols = _run_labels(free), _run_labels(free.T).T
    reached = np.zeros_like(free)
    reached[seed] = free[seed]
    count = int(reached.sum())
    while True:
        for runs in (rows, cols):
            touched = np.bincount(runs[reached], minlength=runs.max() + 1) > 0
            touched[0] = False
            reached = touched[runs]
        grown = int(np.count_nonzero(reached))
        if grown == count:
            return reached
        count = grown


def _run_labels(free: np.ndarray) -> np.ndarray:
    """Each free cell labelled by its run of free cells along its row (1, 2, ...); 0 where not free."""
    starts = free.copy()
    starts[:, 1:] &= ~free[:, :-1]
    return np.where(free, np.cumsum(starts.ravel()).reshape(free.shape), 0)


def box_at(x: float, z: float, ex: float, ez: float) -> Box2:
    """The floor box of extents (``ex``, ``ez``) centred on (``x``, ``z``)."""
    return (x - ex / 2, z - ez / 2, x + ex / 2, z + ez / 2)


def inflate(box: Box2, margin: float) -> Box2:
    """``box`` grown by ``margin`` on every side (shrunk when negative); also orders its corners."""
    x0, z0, x1, z1 = box
    return (min(x0, x1) - margin, min(z0, z1) - margin, max(x0, x1) + margin, max(z0, z1) + margin)


def boxes_overlap(a: Box2, b: Box2) -> bool:
    """Whether two floor boxes share interior."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def box_contains(outer: Box2, inner: Box2) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def ray_box_entry(origin: np.ndarray, direction: np.ndarray, box: np.ndarray) -> float | None:
    """Distance along the unit ``direction`` (2,) from ``origin`` (2,) at which the ray enters the
    floor box (4,); 0 if it starts inside, None if it misses."""
    d = np.where(np.abs(direction) < EPS, EPS, direction)
    t0, t1 = (box[:2] - origin) / d, (box[2:] - origin) / d
    enter, leave = float(np.minimum(t0, t1).max()), float(np.maximum(t0, t1).min())
    if leave < max(enter, 0.0):
        return None
    return max(enter, 0.0)
