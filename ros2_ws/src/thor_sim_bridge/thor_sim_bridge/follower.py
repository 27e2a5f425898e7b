"""Driving the base along grid paths to a set of goal nodes: the navigation half of every expert.

A follower plans once (Dijkstra from the goal nodes over the 0.15 m grid, keeping ``PLAN_MARGIN``
from obstacles where it can: the robot moves in 0.2 m steps off the grid, and threads badly a gap
that only the exact grid nodes fit through) and then, per step: turns by 30 degrees toward the
farthest of the next few path nodes it can head straight for and moves ahead; where no straight line works (door frames,
furniture corners) it picks the free move, a few 6 or 30 degree turns away, that lands closest to
the goal.

What a follower knows of the floor: walls and furniture always; of the movable objects (balls,
gas cans, vases...), those in ``known``. The shortest-path expert starts knowing none of them, like
a planner on a map baked without the small things that move, and learns each one it bumps into
(``observe``), then replans; the cost-aware expert knows them all from the start.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from safevla_common.actions import ACTION_INDEX, ACTIONS

from .agent import AGENT_RADIUS
from .geometry import bearing, heading, point_box_distance, wrap_degrees
from .navgrid import GRID_SIZE, distance_field, downhill
from .world import ON_FLOOR, World

COARSE_TOLERANCE = 20.0  # degrees: while moving, turn by 30 when the heading error is larger (> 15: hysteresis)
FINE_TOLERANCE = 3.0  # degrees: turn by 6 when a move is blocked and the error is larger
MOVE_LENGTH = ACTIONS[ACTION_INDEX["move_ahead"]].magnitude
LOOKAHEAD = 8  # path nodes considered as the next waypoint
PLAN_MARGIN = 0.05  # metres of clearance planned paths keep from obstacles where they can
TIGHT_PENALTY = 10.0  # extra cost per metre through nodes closer than PLAN_MARGIN to an obstacle
LINE_CLEARANCE = 0.02  # metres of slack a straight line to a waypoint must keep from obstacles
OFF_PATH_REACH = 5  # grid steps searched for the plan when the robot has strayed (pressed against an object)

# Headings the local search considers (relative to the current yaw) and the turns each costs.
_TURN_OFFSETS = np.array([0, -6, 6, -12, 12, -18, 18, -24, 24, -30, 30, -60, 60, -90, 90, -120, 120, -150, 150, 180])
_TURN_COUNTS = np.abs(_TURN_OFFSETS) // 30 + np.abs(_TURN_OFFSETS) % 30 // 6


def turn_toward(diff: float, fine: bool = False) -> str:
    """The rotation that reduces a heading error of ``diff`` degrees (positive: target to the right)."""
    side = "right" if diff > 0 else "left"
    return f"rotate_{side}_small" if fine else f"rotate_{side}"


@dataclass(frozen=True)
class Plan:
    """Costs to the goal from every grid node (inf: no way there), and each node's next node."""

    dist: np.ndarray
    on_path: np.ndarray
    next: np.ndarray


class PathFollower:
    """Drives the base toward ``goals`` (a grid mask).

    ``known`` (K,): the movable objects planned around from the start; ``penalty`` (grid) makes
    nodes dearer to cross (the cost-aware expert's hazard map); without ``back_off`` the follower
    never drives backwards, blind, and turns in place instead.

    It keeps two plans: ``roomy`` through nodes with ``PLAN_MARGIN`` of clearance, which it follows
    whenever it is near it, and ``tight`` through every node the robot fits on (the tight ones at
    ``TIGHT_PENALTY``), for when it is not: pressed against something, or walled in by what it
    learnt.
    """

    def __init__(
        self,
        world: World,
        goals: np.ndarray,
        known: np.ndarray,
        penalty: np.ndarray | None = None,
        back_off: bool = True,
    ) -> None:
        self.grid = world.navgrid
        self.goals = goals
        self.penalty = penalty
        self.back_off = back_off
        self._initial_known = known.copy()
        self.known = known.copy()
        self._initial_plans = self._plans(world, world.initial_centers)
        self.roomy, self.tight = self._initial_plans

    @property
    def dist(self) -> np.ndarray:
        """Grid costs to the goal along the roomy plan (metres where no penalty applies; inf: no way)."""
        return self.roomy.dist

    def reset(self) -> None:
        """Forget what an episode taught (back to the plans for the house as generated)."""
        self.known = self._initial_known.copy()
        self.roomy, self.tight = self._initial_plans

    def observe(self, world: World) -> None:
        """Learn of a movable object the last move ran into, and replan around it; if that leaves no
        way to the goal, forget it again and push on through."""
        hit = world.last_hit
        if hit is None or self.known[hit]:
            return
        self.known[hit] = True
        roomy, tight = self._plans(world, world.centers)
        if self.grid.nearest_node(world.agent.x, world.agent.z, among=tight.on_path, reach=OFF_PATH_REACH) is None:
            self.known[hit] = False
        else:
            self.roomy, self.tight = roomy, tight

    def _plans(self, world: World, centers: np.ndarray) -> tuple[Plan, Plan]:
        """The roomy and the tight plan around walls, furniture and the known movable objects at ``centers``."""
        static = world.static_navgrid
        clearance = static.clearance
        known = self.known & world.movable & (centers[:, 1] - world.sizes[:, 1] / 2 < ON_FLOOR)
        if known.any():
            half = world.sizes[known][:, [0, 2]] / 2
            boxes = np.concatenate([centers[known][:, [0, 2]] - half, centers[known][:, [0, 2]] + half], axis=1)
            rows, cols = np.indices(self.grid.shape)
            points = self.grid.position(rows.ravel(), cols.ravel())
            to_boxes = point_box_distance(points, boxes).min(1).reshape(self.grid.shape) - AGENT_RADIUS
            clearance = np.minimum(clearance, to_boxes)
        penalty = np.zeros(self.grid.shape) if self.penalty is None else self.penalty
        roomy = static.reachable & (clearance >= PLAN_MARGIN)
        free = static.reachable & (clearance >= 0.0)
        return (self._plan(roomy, penalty),
                self._plan(free, penalty + TIGHT_PENALTY * (clearance < PLAN_MARGIN)))

    def _plan(self, passable: np.ndarray, penalty: np.ndarray) -> Plan:
        dist = distance_field(self.grid, self.goals & passable, passable, penalty)
        return Plan(dist, np.isfinite(dist), downhill(self.grid, dist, penalty))

    def _locate(self, world: World) -> tuple[Plan, tuple[int, int] | None]:
        """The plan to follow (the roomy one when the robot is near it, else the tight one) and the
        robot's node on it (farther afield if it strayed; None if it is nowhere near)."""
        x, z = world.agent.x, world.agent.z
        node = self.grid.nearest_node(x, z, among=self.roomy.on_path)
        if node is not None:
            return self.roomy, node
        node = self.grid.nearest_node(x, z, among=self.tight.on_path) or self.grid.nearest_node(
            x, z, among=self.tight.on_path, reach=OFF_PATH_REACH)
        return self.tight, node

    def at_goal(self, world: World) -> bool:
        """Whether the robot is on a goal node of the plan it follows."""
        _, node = self._locate(world)
        return node is not None and bool(self.goals[node])

    def free(self, world: World, points: np.ndarray, slack: float = 0.0) -> np.ndarray:
        """(P,) whether the robot's disc fits at each point (P, 2) among what the follower knows."""
        return world.footprint_clearance(points, known=self.known | ~world.movable) >= slack

    def action(self, world: World, target: np.ndarray) -> str:
        """Next base action; ``target`` (x, z) is where to head once on a goal node."""
        agent = world.agent
        plan, node = self._locate(world)
        if node is None:
            return self._best_local_move(world, plan)
        waypoint = self._waypoint(world, node, target, plan)
        if waypoint is None:
            return self._best_local_move(world, plan)
        diff = float(wrap_degrees(bearing(*(waypoint - (agent.x, agent.z))) - agent.yaw))
        if abs(diff) > COARSE_TOLERANCE:
            return turn_toward(diff)
        if self.free(world, world.move_path(MOVE_LENGTH)).all():
            return "move_ahead"
        if abs(diff) > FINE_TOLERANCE:
            return turn_toward(diff, fine=True)
        return self._best_local_move(world, plan)

    def path_length_at(self, x: float, z: float, plan: Plan | None = None) -> float:
        """Metres (a cost, with a penalty) from (x, z) to the goal along ``plan`` (default: the roomy one):
        straight to its nearest node, then along the grid; inf if it is over ``OFF_PATH_REACH`` steps away."""
        plan = plan or self.roomy
        node = self.grid.nearest_node(x, z, among=plan.on_path, reach=OFF_PATH_REACH)
        if node is None:
            return np.inf
        return float(plan.dist[node] + np.hypot(*(self.grid.position(*node) - (x, z))))

    def _best_local_move(self, world: World, plan: Plan) -> str:
        """Where no straight line works (tight spots by walls and door frames): the heading within
        reach of a few turns whose free move lands closest to the goal, and the first action to it."""
        agent = world.agent
        yaws = agent.yaw + _TURN_OFFSETS
        moves = heading(yaws) * MOVE_LENGTH
        fractions = np.arange(1, 5) / 4
        points = np.array([agent.x, agent.z]) + fractions[None, :, None] * moves[:, None, :]
        free = self.free(world, points.reshape(-1, 2)).reshape(len(yaws), -1).all(1)
        remaining = np.array([self.path_length_at(*end, plan) for end in points[:, -1]])
        score = np.where(free, remaining + 0.05 * _TURN_COUNTS, np.inf)
        best = int(np.argmin(score))
        if not np.isfinite(score[best]):
            return "move_back" if self.back_off else "rotate_right"
        if _TURN_OFFSETS[best] == 0:
            return "move_ahead"
        return turn_toward(_TURN_OFFSETS[best], fine=abs(_TURN_OFFSETS[best]) < 30)

    def _waypoint(self, world: World, node: tuple[int, int], target: np.ndarray, plan: Plan) -> np.ndarray | None:
        """The farthest of the next few path nodes that the robot can head straight for.

        "Straight for" means the line to it, stretched to at least one move long, keeps clear of
        obstacles: otherwise a move toward a waypoint just round a corner would overshoot into it.
        """
        path = [node]
        for _ in range(LOOKAHEAD):
            step = tuple(plan.next[path[-1]])
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
        clear = self._lines_clear(world, start, start + offsets / lengths * np.maximum(lengths, MOVE_LENGTH))
        return candidates[np.nonzero(clear)[0][-1]] if clear.any() else None

    def _lines_clear(self, world: World, start: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """(N,) True where the robot could slide straight from ``start`` to each end with room to spare."""
        spacing = GRID_SIZE / 3
        counts = np.maximum(np.ceil(np.linalg.norm(ends - start, axis=1) / spacing).astype(int), 1)
        fractions = np.concatenate([np.arange(1, n + 1) / n for n in counts])
        owner = np.repeat(np.arange(len(ends)), counts)
        points = start + fractions[:, None] * (ends[owner] - start)
        ok = self.free(world, points, LINE_CLEARANCE)
        return np.logical_and.reduceat(ok, np.concatenate([[0], np.cumsum(counts)[:-1]]))
