"""Shortest-path experts: the next action that finishes the task, from whatever state the robot is in.

Each expert marks goal nodes on the 0.15 m grid (where the robot sees, or can reach, a target from
anywhere in the node's cell), computes grid distances to them once (Dijkstra, keeping a margin from
obstacles), and then per step: turns by 30 degrees toward the farthest of the next few path nodes it
can head straight for and moves ahead; where no straight line works (door frames, furniture corners)
it picks the free move, a few 6 or 30 degree turns away, that lands closest to the goal. Near the
goal it faces the target and finishes: ``done`` for ObjectNav; lift, extend, ``pickup``, ``done``
for PickUp and Fetch.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from safevla_common.actions import ACTION_INDEX, ACTIONS

from .agent import ARM_BASE_OFFSET, EXTENSION_LIMITS, LIFT_LIMITS
from .cameras import MANIP_CAMERA, NAV_CAMERA, CameraSpec
from .geometry import bearing, heading, wrap_degrees
from .navgrid import GRID_SIZE, distance_field, downhill
from .visibility import visible_when_facing
from .world import World

COARSE_TOLERANCE = 20.0  # degrees: while moving, turn by 30 when the heading error is larger (> 15: hysteresis)
FACE_TOLERANCE = 15.0  # degrees: standing still, turn by 30 when the error is larger, else by 6
FINE_TOLERANCE = 3.0  # degrees: turn by 6 when a move is blocked and the error is larger
GOAL_MARGIN = 0.25  # metres: goal nodes lie this much inside the success distance
MOVE_LENGTH = ACTIONS[ACTION_INDEX["move_ahead"]].magnitude
LOOKAHEAD = 8  # path nodes considered as the next waypoint
PLAN_MARGIN = 0.05  # metres of clearance planned paths keep from obstacles
LINE_CLEARANCE = 0.02  # metres of slack a straight line to a waypoint must keep from obstacles
ARM_TOLERANCE = 0.03  # metres: gripper error (lift, extension, sideways) accepted before picking up
REACH_RANGE = (ARM_BASE_OFFSET + 0.05, ARM_BASE_OFFSET + EXTENSION_LIMITS[1] - 0.05)  # metres from the base
REACH_MARGIN = 0.05  # metres: pickup goal nodes lie this much inside REACH_RANGE

# Where in a node's cell the robot may stand: its centre and near its corners.
_CELL_SPOTS = np.array([[0, 0], [-1, -1], [-1, 1], [1, -1], [1, 1]]) * GRID_SIZE * 0.45

# Headings the local search considers (relative to the current yaw) and the turns each costs.
_TURN_OFFSETS = np.array([0, -6, 6, -12, 12, -18, 18, -24, 24, -30, 30, -60, 60, -90, 90, -120, 120, -150, 150, 180])
_TURN_COUNTS = np.abs(_TURN_OFFSETS) // 30 + np.abs(_TURN_OFFSETS) % 30 // 6


def _turn(diff: float, fine: bool = False) -> str:
    side = "right" if diff > 0 else "left"
    return f"rotate_{side}_small" if fine else f"rotate_{side}"


class PathFollower:
    """Drives the base along shortest grid paths toward a set of goal nodes.

    Paths keep PLAN_MARGIN from obstacles: the robot moves in 0.2 m steps off the grid, and cannot
    thread a gap that only the exact grid nodes fit through.
    """

    def __init__(self, world: World, goals: np.ndarray) -> None:
        self.grid = world.navgrid
        roomy = self.grid.reachable & (self.grid.clearance >= PLAN_MARGIN)
        self.dist = distance_field(self.grid, goals & roomy, roomy)
        self.on_path = np.isfinite(self.dist)
        self.next = downhill(self.grid, self.dist)

    def action(self, world: World, target: np.ndarray) -> str:
        """Next base action; ``target`` (x, z) is where to head once on a goal node."""
        agent = world.agent
        node = self.grid.nearest_node(agent.x, agent.z, among=self.on_path)
        if node is None:
            return "rotate_right"  # far from any planned path: turning is safe, and may reveal a way back
        waypoint = self._waypoint(world, node, target)
        if waypoint is None:
            return self._best_local_move(world)
        diff = float(wrap_degrees(bearing(*(waypoint - (agent.x, agent.z))) - agent.yaw))
        if abs(diff) > COARSE_TOLERANCE:
            return _turn(diff)
        if (world.footprint_clearance(world.move_path(MOVE_LENGTH)) >= 0).all():
            return "move_ahead"
        if abs(diff) > FINE_TOLERANCE:
            return _turn(diff, fine=True)
        return self._best_local_move(world)

    def _best_local_move(self, world: World) -> str:
        """Where no straight line works (tight spots by walls and door frames): the heading within
        reach of a few turns whose free move lands closest to the goal, and the first action to it."""
        agent = world.agent
        yaws = agent.yaw + _TURN_OFFSETS
        moves = heading(yaws) * MOVE_LENGTH
        fractions = np.arange(1, 5) / 4
        points = np.array([agent.x, agent.z]) + fractions[None, :, None] * moves[:, None, :]
        free = (world.footprint_clearance(points.reshape(-1, 2)) >= 0).reshape(len(yaws), -1).all(1)
        remaining = np.array([self.path_length_at(*end) for end in points[:, -1]])
        score = np.where(free, remaining + 0.05 * _TURN_COUNTS, np.inf)
        best = int(np.argmin(score))
        if not np.isfinite(score[best]):
            return "move_back"
        if _TURN_OFFSETS[best] == 0:
            return "move_ahead"
        return _turn(_TURN_OFFSETS[best], fine=abs(_TURN_OFFSETS[best]) < 30)

    def path_length_at(self, x: float, z: float) -> float:
        """Metres along the grid from the node nearest (x, z) to the goal (inf if none)."""
        node = self.grid.nearest_node(x, z, among=self.on_path)
        return np.inf if node is None else float(self.dist[node])

    def _waypoint(self, world: World, node: tuple[int, int], target: np.ndarray) -> np.ndarray | None:
        """The farthest of the next few path nodes that the robot can head straight for.

        "Straight for" means the line to it, stretched to at least one move long, keeps clear of
        obstacles: otherwise a move toward a waypoint just round a corner would overshoot into it.
        """
        path = [node]
        for _ in range(LOOKAHEAD):
            step = tuple(self.next[path[-1]])
            if step == path[-1]:
                break
            path.append(step)
        if len(path) == 1:
            return target
        rows, cols = np.array(path[1:]).T
        candidates = self.grid.position(rows, cols)
        start = np.array([world.agent.x, world.agent.z])
        offsets = candidates - start
        lengths = np.maximum(np.linalg.norm(offsets, axis=1, keepdims=True), 1e-9)
        clear = _lines_clear(world, start, start + offsets / lengths * np.maximum(lengths, MOVE_LENGTH))
        return candidates[np.nonzero(clear)[0][-1]] if clear.any() else None


class Expert(Protocol):
    follower: PathFollower  # its grid distances to the goal

    def next_action(self, world: World) -> str:
        """The next action name for the world's current state."""
        ...


def _lines_clear(world: World, start: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """(N,) True where the robot could slide straight from ``start`` to each end with room to spare."""
    spacing = GRID_SIZE / 3
    counts = np.maximum(np.ceil(np.linalg.norm(ends - start, axis=1) / spacing).astype(int), 1)
    fractions = np.concatenate([np.arange(1, n + 1) / n for n in counts])
    owner = np.repeat(np.arange(len(ends)), counts)
    points = start + fractions[:, None] * (ends[owner] - start)
    ok = world.footprint_clearance(points) >= LINE_CLEARANCE
    return np.logical_and.reduceat(ok, np.concatenate([[0], np.cumsum(counts)[:-1]]))


def _facing_goals(
    world: World, targets: np.ndarray, spec: CameraSpec, band: tuple[float, float], eye_heights: np.ndarray
) -> np.ndarray:
    """Goal nodes: reachable nodes within ``band`` metres of a target that see it when facing it with
    the camera at the target's eye height, from anywhere in the node's cell (the robot is rarely
    exactly on a node)."""
    grid = world.navgrid
    rows, cols = np.nonzero(grid.reachable)
    nodes = grid.position(rows, cols)
    goals = np.zeros(grid.shape, dtype=bool)
    occluders = world.occluders()
    for k, eye_height in zip(targets, eye_heights):
        d = np.hypot(*(nodes - world.centers[k, [0, 2]]).T)
        near = np.nonzero((d >= band[0]) & (d <= band[1]))[0]
        spots = (nodes[near, None, :] + _CELL_SPOTS[None]).reshape(-1, 2)
        eyes = np.column_stack([spots[:, 0], np.full(len(spots), eye_height), spots[:, 1]])
        seen = visible_when_facing(spec, eyes, k, world.centers, world.sizes, world.house.walls, occluders)
        good = near[seen.reshape(len(near), len(_CELL_SPOTS)).all(1)]
        goals[rows[good], cols[good]] = True
    return goals


class ObjectNavExpert:
    """Go to where a target is in view within the success distance, face it, say ``done``."""

    def __init__(self, world: World, target_type: str, success_distance: float) -> None:
        self.targets = np.nonzero(world.types == target_type)[0]
        self.radius = min(success_distance, world.visibility_distance)
        band = (0.0, self.radius - GOAL_MARGIN)
        eye_heights = np.full(len(self.targets), NAV_CAMERA.mount_height)
        goals = _facing_goals(world, self.targets, NAV_CAMERA, band, eye_heights)
        self.follower = PathFollower(world, goals)

    def next_action(self, world: World) -> str:
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
                    return _turn(diff, fine=abs(diff) <= FACE_TOLERANCE)
        nearest = self.targets[np.argmin(distances)]
        return self.follower.action(world, world.centers[nearest, [0, 2]])


class PickUpExpert:
    """Go to where a target is within the arm's reach, face it, bring the gripper to it, ``pickup``,
    then ``done``. Also solves Fetch (whose success rule is the same)."""

    def __init__(self, world: World, target_type: str) -> None:
        self.target_type = target_type
        self.targets = np.nonzero((world.types == target_type) & world.pickupable)[0]
        band = (REACH_RANGE[0] + REACH_MARGIN, REACH_RANGE[1] - REACH_MARGIN)
        eye_heights = np.array([self._eye_height(world, k) for k in self.targets])
        goals = _facing_goals(world, self.targets, MANIP_CAMERA, band, eye_heights)
        self.follower = PathFollower(world, goals)

    def next_action(self, world: World) -> str:
        if world.held is not None:
            return "done" if world.types[world.held] == self.target_type else "dropoff"
        agent = world.agent
        k = self._target_in_reach(world)
        if k is None:
            nearest = self.targets[np.argmin(world.distances()[self.targets])]
            return self.follower.action(world, world.centers[nearest, [0, 2]])
        offset = world.centers[k, [0, 2]] - (agent.x, agent.z)
        diff = float(wrap_degrees(bearing(*offset) - agent.yaw))
        reach = float(np.hypot(*offset))
        if abs(diff) > FACE_TOLERANCE:
            return _turn(diff)
        if abs(reach * np.sin(np.deg2rad(diff))) > ARM_TOLERANCE and abs(diff) > FINE_TOLERANCE:
            return _turn(diff, fine=True)
        lift_error = _clip(world.centers[k, 1], LIFT_LIMITS) - agent.lift
        if abs(lift_error) > ARM_TOLERANCE:
            return _arm_step("up" if lift_error > 0 else "down", lift_error)
        extension = _clip(reach * np.cos(np.deg2rad(diff)) - ARM_BASE_OFFSET, EXTENSION_LIMITS)
        if abs(extension - agent.extension) > ARM_TOLERANCE:
            return _arm_step("out" if extension > agent.extension else "in", extension - agent.extension)
        return "pickup"

    def _target_in_reach(self, world: World) -> int | None:
        """The nearest target within the arm's reach that the manipulation camera sees once faced."""
        agent = world.agent
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
    def _eye_height(world: World, k: int) -> float:
        """Manipulation camera height once the lift is level with object ``k``."""
        return _clip(world.centers[k, 1], LIFT_LIMITS) + MANIP_CAMERA.mount_height


def _clip(value: float, limits: tuple[float, float]) -> float:
    return float(min(max(value, limits[0]), limits[1]))


def _arm_step(direction: str, error: float) -> str:
    """A 0.1 m arm move, or a 0.02 m one when the remaining error is smaller than 0.1 m."""
    return f"move_arm_{direction}" if abs(error) >= 0.1 - 1e-9 else f"move_arm_{direction}_small"
