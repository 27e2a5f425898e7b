"""Which objects a camera sees: in the image, within range, and not hidden behind walls or boxes.

An object counts as visible when any of a few points on it (its centre and points on its top face)
projects into the image and the straight line to it passes through no wall and no other object's
box. This is the analogue of AI2-THOR's visibility raycasts; it does not depend on the rendering
resolution, nor on whether frames are rendered at all.
"""

from __future__ import annotations

import numpy as np

from .cameras import CameraPose, CameraSpec, in_view
from .geometry import segments_cross, segments_hit_boxes

# Sample points as fractions of an object's size, relative to its centre.
_SAMPLES = np.array(
    [[0, 0, 0], [0, 0.45, 0], [-0.35, 0.45, -0.35], [0.35, 0.45, -0.35], [-0.35, 0.45, 0.35], [0.35, 0.45, 0.35]]
)


def visible_objects(
    spec: CameraSpec,
    pose: CameraPose,
    centers: np.ndarray,
    sizes: np.ndarray,
    walls: np.ndarray,
    occluders: np.ndarray,
    max_distance: float,
) -> np.ndarray:
    """(K,) which objects (centres and sizes (K, 3)) the camera at ``pose`` sees within ``max_distance``.

    ``occluders`` (K, 6) are the objects' space boxes, with NaN rows for objects that hide nothing
    (e.g. the one in the gripper).
    """
    visible = np.zeros(len(centers), dtype=bool)
    (idx,) = np.nonzero(np.hypot(centers[:, 0] - pose.x, centers[:, 2] - pose.z) <= max_distance)
    points = (centers[idx, None, :] + _SAMPLES[None] * sizes[idx, None, :]).reshape(-1, 3)
    owner = np.repeat(idx, len(_SAMPLES))
    eye = pose.eye
    seen = in_view(spec, eye, pose.forward, points)
    clear = _sightlines_clear(np.broadcast_to(eye, points[seen].shape), points[seen], owner[seen], walls, occluders)
    visible[owner[seen][clear]] = True
    return visible


def visible_when_facing(
    spec: CameraSpec,
    eyes: np.ndarray,
    k: int,
    centers: np.ndarray,
    sizes: np.ndarray,
    walls: np.ndarray,
    occluders: np.ndarray,
) -> np.ndarray:
    """(N,) whether object ``k`` would be visible from each camera position ``eyes`` (N, 3) after
    turning to face its centre (the distance limit is the caller's)."""
    points = centers[k] + _SAMPLES * sizes[k]  # (M, 3)
    n, m = len(eyes), len(points)
    rel = centers[k, [0, 2]] - eyes[:, [0, 2]]
    forwards = rel / np.maximum(np.linalg.norm(rel, axis=1, keepdims=True), 1e-9)
    eyes_nm = np.repeat(eyes, m, axis=0)
    points_nm = np.tile(points, (n, 1))
    seen = in_view(spec, eyes_nm, np.repeat(forwards, m, axis=0), points_nm)
    clear = np.zeros(n * m, dtype=bool)
    clear[seen] = _sightlines_clear(eyes_nm[seen], points_nm[seen], np.full(seen.sum(), k), walls, occluders)
    return clear.reshape(n, m).any(1)


def _sightlines_clear(
    eyes: np.ndarray, points: np.ndarray, owner: np.ndarray, walls: np.ndarray, occluders: np.ndarray
) -> np.ndarray:
    """(P,) True where the line eye -> point crosses no wall and no occluder other than the point's owner."""
    if len(points) == 0:
        return np.zeros(0, dtype=bool)
    # Only walls and boxes that overlap the lines' bounding rectangle can block them.
    ends = np.concatenate([eyes, points])
    low, high = ends.min(0), ends.max(0)
    near_walls = walls[
        (np.minimum(walls[:, 0], walls[:, 2]) <= high[0]) & (np.maximum(walls[:, 0], walls[:, 2]) >= low[0])
        & (np.minimum(walls[:, 1], walls[:, 3]) <= high[2]) & (np.maximum(walls[:, 1], walls[:, 3]) >= low[2])
    ]
    x0, z0, x1, z1 = occluders[:, 0], occluders[:, 2], occluders[:, 3], occluders[:, 5]
    solid = np.nonzero((x0 <= high[0]) & (x1 >= low[0]) & (z0 <= high[2]) & (z1 >= low[2]))[0]  # NaN rows fail
    blocked = segments_cross(eyes[:, [0, 2]], points[:, [0, 2]], near_walls).any(1)
    hits = segments_hit_boxes(eyes, points, occluders[solid]) & (solid[None, :] != owner[:, None])
    return ~(blocked | hits.any(1))
