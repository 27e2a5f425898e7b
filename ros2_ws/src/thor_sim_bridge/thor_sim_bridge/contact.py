"""What the robot does to loose objects it touches: base knocks and arm sweeps, as displacements.

Pure functions; ``World`` applies their results (sliding, blocking, falling off surfaces).

Base knocks. A base move that runs into a loose floor object fails (the robot stays, as in
AI2-THOR) and hands the blocked remainder of the move to the object: it slides
``KNOCK_TRANSFER`` times the distance the robot still had to go when it touched it, along the
average of the move direction and the contact normal, and spins by ``SPIN_DEG_PER_M`` per metre
of sideways offset between its centre and the robot's line of travel (scaled by the push). A full
0.2 m move ahead into an object the robot was already touching moves it 0.15 m (a critical-point
disturbance, > 0.1 m); a graze at the end of a move shifts it a few centimetres (no disturbance).

Arm sweeps. The arm is a bar at lift height from ``ARM_START`` ahead of the base centre to
``FINGER_GAP`` short of the grasp point (an object at the grasp point sits between the open
fingers and is not pushed). Every action that moves the base or the arm is swept in
``SWEEP_SUBSTEPS``; a movable object whose box the bar enters is carried along with the bar point
that touched it for the rest of the motion. A purely vertical touch (lowering the arm onto it,
lifting under it) tips it over instead: 90 degrees about the arm's sideways axis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .agent import ARM_BASE_OFFSET, ARM_HALF_WIDTH, ARM_START, AgentState
from .geometry import point_box_distance, wrap_degrees

KNOCK_TRANSFER = 0.75  # share of the blocked rest of a base move passed on to the object
SPIN_DEG_PER_M = 300.0  # degrees of spin per metre of sideways offset, for a 0.15 m push
MAX_SPIN_DEG = 60.0
CONTACT_SAMPLES = 41  # points along a base move searched for the first touch
FINGER_GAP = 0.05  # metres between the bar's end and the grasp point
ARM_SAMPLES = 14  # contact points along the bar (at most 0.05 m apart at full extension)
SWEEP_SUBSTEPS = 6
TIP_DEGREES = 90.0
MIN_CARRY = 0.01  # metres: a touch that carries an object less than this far sideways tips it


@dataclass(frozen=True)
class Knock:
    """A loose object's displacement: ``shift`` (x, y, z) metres, ``spin`` degrees about y, ``tip``
    degrees about the horizontal axis ``tip_axis`` ("x" or "z")."""

    index: int
    shift: np.ndarray
    spin: float = 0.0
    tip: float = 0.0
    tip_axis: str = "x"


def base_knock(
    start: np.ndarray, direction: np.ndarray, distance: float, radius: float, box: np.ndarray, index: int
) -> Knock:
    """The knock that a disc of ``radius``, moving ``distance`` metres from ``start`` along the unit
    vector ``direction``, gives the floor box (4,) it runs into (object ``index``)."""
    fractions = np.linspace(0.0, 1.0, CONTACT_SAMPLES)
    points = start + np.outer(fractions, direction * distance)
    touching = point_box_distance(points, box[None])[:, 0] < radius
    first = int(np.argmax(touching)) if touching.any() else CONTACT_SAMPLES - 1
    free = fractions[first - 1] if first > 0 else 0.0
    push = KNOCK_TRANSFER * distance * (1.0 - free)
    contact = points[first]
    normal = np.clip(contact, box[:2], box[2:]) - contact
    length = float(np.linalg.norm(normal))
    push_dir = direction + (normal / length if length > 1e-9 else direction)
    push_dir = push_dir / max(float(np.linalg.norm(push_dir)), 1e-9)
    offset = (box[:2] + box[2:]) / 2 - contact
    sideways = float(direction[0] * offset[1] - direction[1] * offset[0])
    spin = float(np.clip(-SPIN_DEG_PER_M * sideways * push / 0.15, -MAX_SPIN_DEG, MAX_SPIN_DEG))
    return Knock(index, np.array([push_dir[0] * push, 0.0, push_dir[1] * push]), spin)


def bar_reach(agent: AgentState) -> float:
    """Metres from the base centre to the far end of the arm bar, its thickness included."""
    return ARM_BASE_OFFSET + agent.extension - FINGER_GAP + ARM_HALF_WIDTH


def sweep(before: AgentState, after: AgentState) -> np.ndarray:
    """(SWEEP_SUBSTEPS + 1, ARM_SAMPLES, 3) contact points spread evenly along the arm bar, from its
    pose in ``before`` to its pose in ``after`` (turns the short way)."""
    t = np.linspace(0.0, 1.0, SWEEP_SUBSTEPS + 1)[:, None]
    x = before.x + t * (after.x - before.x)
    z = before.z + t * (after.z - before.z)
    yaw = np.deg2rad(before.yaw + t * float(wrap_degrees(after.yaw - before.yaw)))
    lift = before.lift + t * (after.lift - before.lift)
    end = ARM_BASE_OFFSET + before.extension + t * (after.extension - before.extension) - FINGER_GAP
    reach = ARM_START + np.linspace(0.0, 1.0, ARM_SAMPLES)[None, :] * (end - ARM_START)  # (T, M)
    return np.stack(
        [x + reach * np.sin(yaw), np.broadcast_to(lift, reach.shape), z + reach * np.cos(yaw)], axis=-1
    )


def arm_knocks(path: np.ndarray, boxes: np.ndarray, movable: np.ndarray, heading: np.ndarray) -> list[Knock]:
    """Knocks from arm bar points ``path`` (T, M, 3) sweeping through space boxes (K, 6); only
    objects of the mask ``movable`` (K,) move. ``heading`` (2,) is the base's (for tipping).

    A bar point that enters a box carries its object for the rest of the motion; one already inside
    at the start pushes only if it moves toward the object's centre (an arm pushes, never pulls).
    """
    candidates = np.flatnonzero(movable)
    if candidates.size == 0:
        return []
    low = boxes[candidates, :3] - ARM_HALF_WIDTH
    high = boxes[candidates, 3:] + ARM_HALF_WIDTH
    inside = ((path[..., None, :] >= low) & (path[..., None, :] <= high)).all(-1)  # (T, M, C)
    entered = inside & ~inside[:1]
    start_inside = inside[0]
    if not (entered.any() or start_inside.any()):
        return []
    first = np.argmax(entered, axis=0)  # (M, C)
    samples = np.arange(path.shape[1])[:, None]
    carry = path[-1][:, None, :] - path[first, samples]  # (M, C, 3)
    motion = path[-1] - path[0]  # (M, 3)
    centres = (boxes[candidates, :3] + boxes[candidates, 3:]) / 2
    to_centre = centres[None, :, :] - path[0][:, None, :]
    toward = (motion[:, None, [0, 2]] * to_centre[..., [0, 2]]).sum(-1) > 0
    pushing = start_inside & toward & ~entered.any(0)
    carry = np.where(pushing[..., None], motion[:, None, :], carry)
    touched = entered.any(0) | pushing  # (M, C)
    sideways = np.where(touched, np.hypot(carry[..., 0], carry[..., 2]), -1.0)
    knocks = []
    for c in np.flatnonzero(touched.any(0)):
        m = int(np.argmax(sideways[:, c]))
        k = int(candidates[c])
        if sideways[m, c] >= MIN_CARRY:
            knocks.append(Knock(k, np.array([carry[m, c, 0], 0.0, carry[m, c, 2]])))
        else:
            knocks.append(_tipped(k, boxes[k], path[-1, m], heading, carry[m, c, 1]))
    return knocks


def _tipped(k: int, box: np.ndarray, point: np.ndarray, heading: np.ndarray, rise: float) -> Knock:
    """Object ``k`` knocked over by a vertical touch at ``point``: turned 90 degrees and slid off the
    bar sideways, to the side its centre is on."""
    side = np.array([heading[1], -heading[0]])  # the bar's right-hand normal on the floor plan
    centre = (box[[0, 2]] + box[[3, 5]]) / 2
    sign = 1.0 if float((centre - point[[0, 2]]) @ side) >= 0 else -1.0
    half = float(np.abs(side) @ ((box[[3, 5]] - box[[0, 2]]) / 2))
    offset = float((centre - point[[0, 2]]) @ side) * sign
    slide = sign * side * max(half + ARM_HALF_WIDTH + 0.01 - offset, 0.0)
    axis = "x" if abs(heading[1]) >= abs(heading[0]) else "z"
    return Knock(k, np.array([slide[0], 0.0, slide[1]]), tip=TIP_DEGREES if rise <= 0 else -TIP_DEGREES, tip_axis=axis)
