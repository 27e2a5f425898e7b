"""Experts: the next action that finishes the task, from whatever state the robot is in.

Two kinds (``EXPERT_KINDS``), both for all three tasks:

- "shortest": SafeVLA's shortest-path expert. It plans on the map of walls and furniture and
  learns the small movable objects only by bumping into them (``follower``), so, like an expert
  that follows a navmesh, it knocks over what lies on its way; its arm goes straight for the target.
- "cost_aware": plans around everything, with a hazard map that keeps clearance from fragile
  clusters, dangerous and loose objects and cramped spots, never drives backwards blind, and picks
  up from where the arm's path to the target is clear (``cost_aware``). Where no such path exists it
  takes the cheapest there is, which is the shortest path.

Each expert marks goal nodes on the 0.15 m grid (where the robot sees, or can reach, a target from
anywhere in the node's cell) and drives there with a ``PathFollower``. Near the goal it faces the
target and finishes: ``done`` for ObjectNav; lift, extend to the target's near face, ``pickup``,
``done`` for PickUp and Fetch.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from .agent import ARM_BASE_OFFSET, ARM_HALF_WIDTH, ARM_START, EXTENSION_LIMITS, LIFT_LIMITS, AgentState
from .cameras import MANIP_CAMERA, NAV_CAMERA, CameraSpec
from .cost_aware import cost_aware_follower
from .follower import FINE_TOLERANCE, PathFollower, turn_toward
from .geometry import bearing, ray_box_entry, segments_hit_boxes, wrap_degrees
from .navgrid import GRID_SIZE
from .visibility import visible_when_facing
from .world import World

EXPERT_KINDS = ("shortest", "cost_aware")
FACE_TOLERANCE = 15.0  # degrees: standing still, turn by 30 when the error is larger, else by 6
GOAL_MARGIN = 0.25  # metres: goal nodes lie this much inside the success distance
ARM_TOLERANCE = 0.03  # metres: gripper error (lift, extension, sideways) accepted before picking up
GRASP_DEPTH = 0.02  # metres the grasp point goes past the target's near face
DROP_EXTENSION = 0.1  # metres of arm extension before letting go of a wrong object (clear of the base)
SET_ASIDE_DEGREES = 60.0  # a wrong object is let go of at least this far from the direction of the target
REACH_SLACK = 0.03  # metres the cost-aware expert keeps between its arm and other objects on the way
REACH_RANGE = (ARM_BASE_OFFSET + 0.05, ARM_BASE_OFFSET + EXTENSION_LIMITS[1] - 0.05)  # metres from the base
REACH_MARGIN = 0.05  # metres: pickup goal nodes lie this much inside REACH_RANGE

# Where in a node's cell the robot may stand: its centre and near its corners (and edges, for reaching).
_CELL_SPOTS = np.array([[0, 0], [-1, -1], [-1, 1], [1, -1], [1, 1]]) * GRID_SIZE * 0.45
_REACH_SPOTS = np.array([[i, j] for i in (-1, 0, 1) for j in (-1, 0, 1)]) * GRID_SIZE * 0.5


def clear_reach_goals(
    world: World, goals: np.ndarray, targets: np.ndarray, band: tuple[float, float], others: np.ndarray, margin: float
) -> np.ndarray:
    """The goal nodes from anywhere in whose cell some target within ``band`` metres can be reached
    straight, at its height, with the arm passing no object of the mask ``others`` closer than
    ``margin``; all of ``goals`` if there is no such node. Objects as the house was generated."""
    rows, cols = np.nonzero(goals)
    spots = (world.navgrid.position(rows, cols)[:, None, :] + _REACH_SPOTS[None]).reshape(-1, 2)
    others = others.copy()
    others[targets] = False
    half = world.sizes[others] / 2 + margin
    boxes = np.concatenate([world.initial_centers[others] - half, world.initial_centers[others] + half], axis=1)
    clear = np.zeros(len(spots), dtype=bool)
    for k in targets:
        offset = world.initial_centers[k, [0, 2]] - spots
        distance = np.linalg.norm(offset, axis=1)
        direction = offset / np.maximum(distance, 1e-9)[:, None]
        near_face = distance - np.abs(direction) @ (world.sizes[k, [0, 2]] / 2)
        height = np.full((len(spots), 1), world.initial_centers[k, 1])
        starts = np.concatenate([spots + direction * ARM_START, height], axis=1)[:, [0, 2, 1]]
        ends = np.concatenate([spots + direction * near_face[:, None], height], axis=1)[:, [0, 2, 1]]
        blocked = segments_hit_boxes(starts, ends, boxes).any(1) if len(boxes) else np.zeros(len(spots), bool)
        clear |= (distance >= band[0]) & (distance <= band[1]) & ~blocked
    clear = clear.reshape(len(rows), len(_REACH_SPOTS)).all(1)
    if not clear.any():
        return goals
    kept = np.zeros_like(goals)
    kept[rows[clear], cols[clear]] = True
    return kept


def make_follower(world: World, goals: np.ndarray, kind: str) -> PathFollower:
    """The follower of an expert of ``kind`` (one of ``EXPERT_KINDS``)."""
    if kind == "shortest":
        return PathFollower(world, goals, known=np.zeros(len(world.object_ids), dtype=bool))
    if kind == "cost_aware":
        return cost_aware_follower(world, goals)
    raise ValueError(f"unknown expert kind {kind!r}; expected one of {', '.join(EXPERT_KINDS)}")


class Expert(Protocol):
    follower: PathFollower  # its grid distances to the goal

    def next_action(self, world: World) -> str:
        """The next action name for the world's current state."""
        ...

    def reset(self) -> None:
        """Forget what the last episode taught, before a new one from the house's initial state."""
        ...


def _facing_goals(
    world: World, targets: np.ndarray, spec: CameraSpec, band: tuple[float, float], eye_heights: np.ndarray
) -> np.ndarray:
    """Goal nodes: reachable nodes within ``band`` metres of a target that see it when facing it with
    the camera at the target's eye height, from anywhere in the node's cell (the robot is rarely
    exactly on a node). Objects as the house was generated (the world may be mid-episode)."""
    grid = world.navgrid
    rows, cols = np.nonzero(grid.reachable)
    nodes = grid.position(rows, cols)
    goals = np.zeros(grid.shape, dtype=bool)
    centers, half = world.initial_centers, world.sizes / 2
    occluders = np.concatenate([centers - half, centers + half], axis=1)
    for k, eye_height in zip(targets, eye_heights):
        d = np.hypot(*(nodes - centers[k, [0, 2]]).T)
        near = np.nonzero((d >= band[0]) & (d <= band[1]))[0]
        spots = (nodes[near, None, :] + _CELL_SPOTS[None]).reshape(-1, 2)
        eyes = np.column_stack([spots[:, 0], np.full(len(spots), eye_height), spots[:, 1]])
        seen = visible_when_facing(spec, eyes, k, centers, world.sizes, world.house.walls, occluders)
        good = near[seen.reshape(len(near), len(_CELL_SPOTS)).all(1)]
        goals[rows[good], cols[good]] = True
    return goals


class ObjectNavExpert:
    """Go to where a target is in view within the success distance, face it, say ``done``."""

    def __init__(self, world: World, target_type: str, success_distance: float, kind: str = "shortest") -> None:
        self.targets = np.nonzero(world.types == target_type)[0]
        self.radius = min(success_distance, world.visibility_distance)
        band = (0.0, self.radius - GOAL_MARGIN)
        eye_heights = np.full(len(self.targets), NAV_CAMERA.mount_height)
        goals = _facing_goals(world, self.targets, NAV_CAMERA, band, eye_heights)
        self.follower = make_follower(world, goals, kind)

    def reset(self) -> None:
        self.follower.reset()

    def next_action(self, world: World) -> str:
        self.follower.observe(world)
        distances = world.distances()[self.targets]
        if (world.visible(NAV_CAMERA)[self.targets] & (distances <= self.radius)).any():
            return "done"
        agent = world.agent
        eye = np.array([[agent.x, NAV_CAMERA.mount_height, agent.z]])
        occluders = world.occluders()
        for k, distance in sorted(zip(self.targets, distances), key=lambda pair: pair[1]):
            if distance > self.radius:
                break
            if visible_when_facing(NAV_CAMERA, eye, k, world.centers, world.sizes, world.house.walls, occluders)[0]:
                diff = float(wrap_degrees(bearing(*(world.centers[k, [0, 2]] - (agent.x, agent.z))) - agent.yaw))
                if abs(diff) > FINE_TOLERANCE:
                    return turn_toward(diff, fine=abs(diff) <= FACE_TOLERANCE)
        nearest = self.targets[np.argmin(distances)]
        return self.follower.action(world, world.centers[nearest, [0, 2]])


class PickUpExpert:
    """Go to where a target is within the arm's reach, face it, bring the gripper to it, ``pickup``,
    then ``done``. Also solves Fetch (whose success rule is the same)."""

    def __init__(self, world: World, target_type: str, kind: str = "shortest") -> None:
        self.target_type = target_type
        self.targets = np.nonzero((world.types == target_type) & world.pickupable)[0]
        band = (REACH_RANGE[0] + REACH_MARGIN, REACH_RANGE[1] - REACH_MARGIN)
        eye_heights = _clip(world.initial_centers[self.targets, 1], LIFT_LIMITS) + MANIP_CAMERA.mount_height
        goals = _facing_goals(world, self.targets, MANIP_CAMERA, band, eye_heights)
        if kind == "cost_aware":  # the arm's bar touches nothing on its way
            goals = clear_reach_goals(world, goals, self.targets, band, world.movable, ARM_HALF_WIDTH + REACH_SLACK)
        else:  # the gripper meets the target first
            goals = clear_reach_goals(world, goals, self.targets, band, world.pickupable, 0.0)
        self.reach_from_goals_only = kind == "cost_aware"  # the shortest-path expert reaches as soon as it can
        self.follower = make_follower(world, goals, kind)

    def reset(self) -> None:
        self.follower.reset()

    def next_action(self, world: World) -> str:
        self.follower.observe(world)
        agent = world.agent
        if world.held is not None:
            return "done" if world.types[world.held] == self.target_type else self._set_aside(world)
        k = self._target_in_reach(world)
        if k is None:
            nearest = self.targets[np.argmin(world.distances()[self.targets])]
            return self._retracted(agent) or self.follower.action(world, world.centers[nearest, [0, 2]])
        offset = world.centers[k, [0, 2]] - (agent.x, agent.z)
        diff = float(wrap_degrees(bearing(*offset) - agent.yaw))
        reach = float(np.hypot(*offset))
        if abs(diff) > FACE_TOLERANCE:
            return self._retracted(agent) or turn_toward(diff)
        if abs(reach * np.sin(np.deg2rad(diff))) > ARM_TOLERANCE and abs(diff) > FINE_TOLERANCE:
            return self._retracted(agent) or turn_toward(diff, fine=True)
        lift_error = _clip(world.centers[k, 1], LIFT_LIMITS) - agent.lift
        if abs(lift_error) > ARM_TOLERANCE:
            return _arm_step("up" if lift_error > 0 else "down", lift_error)
        extension = _clip(self._grasp_reach(world, k, reach * np.cos(np.deg2rad(diff))) - ARM_BASE_OFFSET,
                          EXTENSION_LIMITS)
        if abs(extension - agent.extension) > ARM_TOLERANCE:
            return _arm_step("out" if extension > agent.extension else "in", extension - agent.extension)
        return "pickup"

    def _set_aside(self, world: World) -> str:
        """Let go of a wrong object away from the targets' direction, with the arm clear of the base."""
        agent = world.agent
        nearest = self.targets[np.argmin(world.distances()[self.targets])]
        diff = float(wrap_degrees(bearing(*(world.centers[nearest, [0, 2]] - (agent.x, agent.z))) - agent.yaw))
        if abs(diff) < SET_ASIDE_DEGREES:
            return "rotate_left" if diff > 0 else "rotate_right"
        return "dropoff" if agent.extension >= DROP_EXTENSION else "move_arm_out"

    def _target_in_reach(self, world: World) -> int | None:
        """The nearest target within the arm's reach that the manipulation camera sees once faced (for the
        cost-aware expert, only from a goal spot: one with a clear way for the arm)."""
        agent = world.agent
        if self.reach_from_goals_only and not self.follower.at_goal(world):
            return None
        occluders = world.occluders()
        distances = world.distances()
        for k in self.targets[np.argsort(distances[self.targets])]:
            if distances[k] > REACH_RANGE[1]:
                break
            eye = np.array([[agent.x, self._eye_height(world, k), agent.z]])
            if distances[k] >= REACH_RANGE[0] and visible_when_facing(
                MANIP_CAMERA, eye, k, world.centers, world.sizes, world.house.walls, occluders
            )[0]:
                return int(k)
        return None

    @staticmethod
    def _retracted(agent: AgentState) -> str | None:
        """The arm move that pulls the arm in before the base moves (an extended arm sweeps things
        along, the target included), or None when it is in."""
        return _arm_step("in", agent.extension) if agent.extension > ARM_TOLERANCE else None

    @staticmethod
    def _grasp_reach(world: World, k: int, along: float) -> float:
        """Metres ahead of the base where the grasp point should stop: just past the near face of
        object ``k`` (so the arm's bar stays out of it), or its centre's distance ``along`` the
        heading if the heading misses it."""
        agent = world.agent
        half = world.sizes[k, [0, 2]] / 2
        box = np.concatenate([world.centers[k, [0, 2]] - half, world.centers[k, [0, 2]] + half])
        entry = ray_box_entry(np.array([agent.x, agent.z]), agent.heading, box)
        return along if entry is None else min(entry + GRASP_DEPTH, along)

    @staticmethod
    def _eye_height(world: World, k: int) -> float:
        """Manipulation camera height once the lift is level with object ``k``."""
        return _clip(world.centers[k, 1], LIFT_LIMITS) + MANIP_CAMERA.mount_height


def _clip(value: float | np.ndarray, limits: tuple[float, float]) -> float | np.ndarray:
    clipped = np.clip(value, *limits)
    return float(clipped) if np.ndim(clipped) == 0 else clipped


def _arm_step(direction: str, error: float) -> str:
    """A 0.1 m arm move, or a 0.02 m one when the remaining error is smaller than 0.1 m."""
    return f"move_arm_{direction}" if abs(error) >= 0.1 - 1e-9 else f"move_arm_{direction}_small"
