"""The simulated household in motion: the robot, where every object is now, actions and events.

Physics is kinematic. A base move is checked along its path; if the robot's disc would overlap a
wall or something standing on the floor, the move fails and the robot stays; a loose floor object
that was hit is knocked by the blocked rest of the move (``contact.base_knock``). The arm's bar
sweeps movable objects out of its way and knocks them over (``contact.arm_knocks``); it passes
through walls and furniture. A knocked object slides only as far as walls and floor furniture let
it, and falls to the floor (or a lower surface) when it leaves its surface. A held object travels
with the gripper, hides nothing and touches nothing. Objects keep their axis-aligned boxes when
they spin or tip: the reported rotation changes, the footprint does not.
"""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np

from safevla_common.actions import ACTION_INDEX, ACTIONS, ActionSpec, Effect

from .agent import AGENT_RADIUS, BASE_HEIGHT, PICKUP_RADIUS, AgentState, gripper_position, moved_arm, rotated
from .assets import ASSETS, Placement
from .cameras import MANIP_CAMERA, NAV_CAMERA, CameraSpec, camera_pose
from .contact import Knock, arm_knocks, bar_reach, base_knock, sweep
from .events import WALL_HIT, ObjectMeta, StepEvent, collision_message
from .geometry import footprint_clearance, point_box_distance, point_box_distance_3d, segments_cross
from .house import WALL_HALF_THICKNESS, House
from .navgrid import NavGrid, build_navgrid
from .visibility import visible_objects

MOVE_SUBSTEPS = 4  # collision checks along a base move
ON_FLOOR = 0.01  # an object whose bottom is this close to the floor blocks the base


class World:
    """One house, its objects' current poses and the robot; ``apply`` an action, then read ``event``."""

    def __init__(self, house: House, visibility_distance: float = 2.0) -> None:
        self.house = house
        self.visibility_distance = visibility_distance
        objects = house.objects
        self.object_ids = [o.object_id for o in objects]
        self.index = {object_id: k for k, object_id in enumerate(self.object_ids)}
        self.types = np.array([o.object_type for o in objects])
        self.sizes = np.array([o.size for o in objects], dtype=float).reshape(-1, 3)
        self.initial_centers = np.array([o.center for o in objects], dtype=float).reshape(-1, 3)
        self.pickupable = np.array([o.pickupable for o in objects], dtype=bool)
        self.loose = np.array([ASSETS[o.object_type].placement is Placement.FLOOR for o in objects], dtype=bool)
        self.movable = self.pickupable | self.loose  # what knocks can move; furniture never moves
        self.initial_rotations = np.array([(0.0, o.yaw, 0.0) for o in objects], dtype=float).reshape(-1, 3)
        self.rotations = self.initial_rotations.copy()
        self.wall_boxes = _wall_boxes(house.walls)
        self.centers = self.initial_centers.copy()
        self._static_meta = [(o.object_id, o.name, o.object_type, o.pickupable) for o in objects]
        self._pose_cache = (np.full_like(self.centers, np.nan), self.rotations.copy(), [None] * len(objects))
        self.agent = AgentState(0.0, 0.0, 0.0)
        self.last_hit: int | None = None  # the object the last action's base move ran into
        self._visible: dict[str, np.ndarray] = {}
        idx, boxes = self.base_obstacles()
        self.navgrid: NavGrid = build_navgrid(house, boxes, AGENT_RADIUS)
        # The floor as a map of walls and furniture shows it, without the small things that move.
        self.static_navgrid: NavGrid = build_navgrid(house, boxes[~self.movable[idx]], AGENT_RADIUS)

    def reset(self, agent: AgentState) -> None:
        """Objects back where the house put them, and the robot at ``agent``."""
        self.centers = self.initial_centers.copy()
        self.rotations = self.initial_rotations.copy()
        self.agent = agent
        self.last_hit = None
        self._visible.clear()

    def copy(self) -> World:
        """An independent copy that shares the static house data (for planning rollouts)."""
        twin = copy.copy(self)
        twin.centers = self.centers.copy()
        twin.rotations = self.rotations.copy()
        twin._visible = dict(self._visible)
        return twin

    # ----------------------------------------------------------------------------------- queries

    @property
    def held(self) -> int | None:
        return None if self.agent.held is None else self.index[self.agent.held]

    def space_boxes(self) -> np.ndarray:
        """(K, 6) every object's box (x0, y0, z0, x1, y1, z1)."""
        half = self.sizes / 2
        return np.concatenate([self.centers - half, self.centers + half], axis=1)

    def base_obstacles(self) -> tuple[np.ndarray, np.ndarray]:
        """Indices and floor boxes (K', 4) of the objects that stand on the floor (and are not held)."""
        on_floor = self.centers[:, 1] - self.sizes[:, 1] / 2 < ON_FLOOR
        if self.agent.held is not None:
            on_floor[self.index[self.agent.held]] = False
        (idx,) = np.nonzero(on_floor)
        half = self.sizes[idx][:, [0, 2]] / 2
        centre = self.centers[idx][:, [0, 2]]
        return idx, np.concatenate([centre - half, centre + half], axis=1)

    def occluders(self) -> np.ndarray:
        """(K, 6) the boxes that block sight lines: every object but the held one (a NaN row)."""
        boxes = self.space_boxes()
        if self.held is not None:
            boxes[self.held] = np.nan
        return boxes

    def visible(self, spec: CameraSpec) -> np.ndarray:
        """(K,) which objects ``spec``'s camera sees now (cached until something moves)."""
        if spec.name not in self._visible:
            occluders = self.occluders()
            self._visible[spec.name] = visible_objects(
                spec,
                camera_pose(spec, self.agent),
                self.centers,
                self.sizes,
                self.house.walls,
                occluders,
                self.visibility_distance,
            )
        return self._visible[spec.name]

    def distances(self) -> np.ndarray:
        """(K,) horizontal distance from the robot to each object's centre."""
        return np.hypot(self.centers[:, 0] - self.agent.x, self.centers[:, 2] - self.agent.z)

    def footprint_clearance(self, points: np.ndarray, cap: float = 0.5, known: np.ndarray | None = None) -> np.ndarray:
        """(P,) how far the robot's disc at each point (P, 2) is from touching anything (< 0: overlap).

        Clearances above ``cap`` are reported as ``cap``, which lets distant obstacles be skipped.
        ``known`` (K,) limits the objects considered (walls always count).
        """
        idx, boxes = self.base_obstacles()
        if known is not None:
            boxes = boxes[known[idx]]
        reach = cap + AGENT_RADIUS + WALL_HALF_THICKNESS
        low, high = points.min(0) - reach, points.max(0) + reach
        walls = self.house.walls[_overlapping(self.wall_boxes, low, high)]
        clearance = footprint_clearance(
            points, walls, boxes[_overlapping(boxes, low, high)], AGENT_RADIUS, WALL_HALF_THICKNESS
        )
        return np.minimum(clearance.min(1, initial=cap), cap)

    # ----------------------------------------------------------------------------------- actions

    def apply(self, action: str) -> tuple[bool, str]:
        """Execute one action by name; returns (success, error message)."""
        spec = ACTIONS[ACTION_INDEX[action]]
        handlers = {
            Effect.BASE_MOVE: self._move,
            Effect.BASE_ROTATE: lambda s: self._set_agent(rotated(self.agent, s.magnitude), ""),
            Effect.ARM_Y: self._move_arm,
            Effect.ARM_Z: self._move_arm,
            Effect.WRIST: self._move_arm,
            Effect.PICKUP: self._pickup,
            Effect.DROPOFF: self._dropoff,
            Effect.DONE: lambda s: (True, ""),
            Effect.SUB_DONE: lambda s: (False, "sub_done does nothing"),
        }
        before = self.agent
        self.last_hit = None
        result = handlers[spec.effect](spec)
        if _pose(self.agent) != _pose(before):
            self._sweep_arm(before)
        return result

    def _set_agent(self, agent: AgentState, error: str) -> tuple[bool, str]:
        if agent != self.agent:
            self.agent = agent
            if agent.held is not None:
                self.centers[self.index[agent.held]] = gripper_position(agent)
            self._visible.clear()
        return not error, error

    def move_path(self, distance: float) -> np.ndarray:
        """(MOVE_SUBSTEPS, 2) the points a base move of ``distance`` is checked at."""
        fractions = np.arange(1, MOVE_SUBSTEPS + 1) / MOVE_SUBSTEPS
        return np.array([self.agent.x, self.agent.z]) + np.outer(fractions, self.agent.heading * distance)

    def _move(self, spec: ActionSpec) -> tuple[bool, str]:
        step = self.agent.heading * spec.magnitude
        path = self.move_path(spec.magnitude)
        idx, boxes = self.base_obstacles()
        clearance = footprint_clearance(path, self.house.walls, boxes, AGENT_RADIUS, WALL_HALF_THICKNESS)
        colliding = (clearance < -1e-9).any(1)
        if not colliding.any():
            x, z = np.round(path[-1], 4)
            return self._set_agent(replace(self.agent, x=float(x), z=float(z)), "")
        obstacle = int(clearance[int(np.argmax(colliding))].argmin())
        if obstacle < len(self.house.walls):
            return False, collision_message(spec.name, WALL_HIT)
        hit = int(idx[obstacle - len(self.house.walls)])
        self.last_hit = hit
        if self.movable[hit]:
            start, direction = np.array([self.agent.x, self.agent.z]), step / abs(spec.magnitude)
            box = boxes[obstacle - len(self.house.walls)]
            self._knock(base_knock(start, direction, abs(spec.magnitude), AGENT_RADIUS, box, hit))
        return False, collision_message(spec.name, self.object_ids[hit])

    def _sweep_arm(self, before: AgentState) -> None:
        """Knock whatever the arm's bar ran into on its way from ``before`` to now."""
        reach = max(bar_reach(before), bar_reach(self.agent)) + np.hypot(self.agent.x - before.x, self.agent.z - before.z)
        radius = np.hypot(self.sizes[:, 0], self.sizes[:, 2]) / 2
        near = self.movable & (self.distances() - radius < reach)
        if self.held is not None:
            near[self.held] = False
        if not near.any():
            return
        for knock in arm_knocks(sweep(before, self.agent), self.space_boxes(), near, self.agent.heading):
            self._knock(knock)

    def _knock(self, knock: Knock, jostle: bool = True) -> None:
        """Move and turn an object as ``knock`` says, as far as walls and floor furniture let it. Loose
        floor objects it slides into are jostled: pushed by half its shift (once, no further chain)."""
        k = knock.index
        old = self.centers[k].copy()
        on_floor = old[1] - self.sizes[k, 1] / 2 < ON_FLOOR
        for fraction in (1.0, 0.75, 0.5, 0.25, 0.0):
            centre = old + knock.shift * fraction
            if fraction == 0.0 or self._room_for(k, old, centre, floor_too=on_floor):
                break
        bottom = old[1] - self.sizes[k, 1] / 2
        surface = self._surface_below(k, centre[[0, 2]], bottom)
        if surface < ON_FLOOR <= bottom and not self._clear_of_robot(k, centre):
            centre, surface = old, bottom  # it would fall onto the robot's base: it stays on the edge
        self.centers[k] = (centre[0], surface + self.sizes[k, 1] / 2, centre[2])
        self.rotations[k, 1] = (self.rotations[k, 1] + knock.spin) % 360.0
        self.rotations[k, "xyz".index(knock.tip_axis)] += knock.tip
        self._visible.clear()
        if jostle and on_floor and fraction > 0.0:
            idx, boxes = self.base_obstacles()
            box = self._floor_box(k, self.centers[k])
            for other in idx[_overlapping(boxes, box[:2], box[2:]) & self.movable[idx] & (idx != k)]:
                self._knock(Knock(int(other), knock.shift * fraction / 2), jostle=False)

    def _room_for(self, k: int, old: np.ndarray, centre: np.ndarray, floor_too: bool) -> bool:
        """Whether object ``k`` may slide from ``old`` to ``centre``: never through a wall; with
        ``floor_too`` (it stands on the floor) not into the robot, walls or floor furniture either."""
        if segments_cross(old[None, [0, 2]], centre[None, [0, 2]], self.house.walls).any():
            return False
        if not floor_too:
            return True
        box = self._floor_box(k, centre)
        idx, boxes = self.base_obstacles()
        others = np.concatenate([boxes[~self.movable[idx]], self.wall_boxes])
        return not _overlapping(others, box[:2], box[2:]).any() and self._clear_of_robot(k, centre)

    def _floor_box(self, k: int, centre: np.ndarray) -> np.ndarray:
        half = self.sizes[k, [0, 2]] / 2
        return np.concatenate([centre[[0, 2]] - half, centre[[0, 2]] + half])

    def _clear_of_robot(self, k: int, centre: np.ndarray) -> bool:
        box = self._floor_box(k, centre)
        return point_box_distance(np.array([[self.agent.x, self.agent.z]]), box[None])[0, 0] >= AGENT_RADIUS

    def _surface_below(self, k: int, xz: np.ndarray, height: float) -> float:
        """Height of the highest top surface under ``xz`` at or below ``height`` (0: the floor), ``k`` and
        the held object excluded."""
        boxes = self.space_boxes()
        below = (boxes[:, 0] <= xz[0]) & (xz[0] <= boxes[:, 3]) & (boxes[:, 2] <= xz[1]) & (xz[1] <= boxes[:, 5])
        below &= boxes[:, 4] <= height + 1e-6
        below[k] = False
        if self.held is not None:
            below[self.held] = False
        return float(boxes[below, 4].max()) if below.any() else 0.0

    def _move_arm(self, spec: ActionSpec) -> tuple[bool, str]:
        return self._set_agent(*moved_arm(self.agent, spec))

    def pickup_candidate(self) -> int | None:
        """The object ``pickup`` would take now: the pickupable one in the manipulation camera's view
        nearest the gripper within PICKUP_RADIUS (ties: the nearest centre); None if there is none."""
        grip = gripper_position(self.agent)
        reach = point_box_distance_3d(grip, self.space_boxes())
        candidates = self.pickupable & (reach <= PICKUP_RADIUS) & self.visible(MANIP_CAMERA)
        if self.held is not None:
            candidates[self.held] = False
        if not candidates.any():
            return None
        to_centre = np.linalg.norm(self.centers - grip, axis=1)
        return int(np.argmin(np.where(candidates, reach + 1e-3 * to_centre, np.inf)))

    def _pickup(self, spec: ActionSpec) -> tuple[bool, str]:
        if self.agent.held is not None:
            return False, f"pickup failed: already holding {self.agent.held}"
        k = self.pickup_candidate()
        if k is None:
            return False, "pickup failed: no pickupable object in view within reach of the gripper"
        return self._set_agent(replace(self.agent, held=self.object_ids[k]), "")

    def _dropoff(self, spec: ActionSpec) -> tuple[bool, str]:
        k = self.held
        if k is None:
            return False, "dropoff failed: not holding anything"
        grip = gripper_position(self.agent)
        base = np.array([[self.agent.x, self.agent.z]])
        if segments_cross(base, grip[None, [0, 2]], self.house.walls).any():
            return False, "dropoff failed: the gripper is beyond a wall"
        surface = self._surface_below(k, grip[[0, 2]], grip[1])
        centre = np.array([grip[0], surface + self.sizes[k, 1] / 2, grip[2]])
        half = self.sizes[k, [0, 2]] / 2
        footprint = np.concatenate([centre[[0, 2]] - half, centre[[0, 2]] + half])
        if surface < ON_FLOOR and point_box_distance(base, footprint[None])[0, 0] < AGENT_RADIUS:
            return False, "dropoff failed: the object would land on the robot's base"
        self.agent = replace(self.agent, held=None)
        self.centers[k] = centre
        self._visible.clear()
        return True, ""

    # ------------------------------------------------------------------------------------ events

    def _pose_meta(self) -> list[tuple[dict[str, float], dict[str, float]]]:
        """Each object's position and rotation dicts; rebuilt only for objects that moved since the
        last call (events share the others: treat them as read-only)."""
        cached_centres, cached_rotations, poses = self._pose_cache
        changed = np.flatnonzero((self.centers != cached_centres).any(1) | (self.rotations != cached_rotations).any(1))
        if changed.size:
            poses = list(poses)
            for k in changed.tolist():
                (x, y, z), (rx, ry, rz) = self.centers[k].tolist(), self.rotations[k].tolist()
                poses[k] = ({"x": x, "y": y, "z": z}, {"x": rx, "y": ry, "z": rz})
            self._pose_cache = (self.centers.copy(), self.rotations.copy(), poses)
        return poses

    def event(self, action: str, success: bool, error: str) -> StepEvent:
        """The AI2-THOR-shaped metadata of the current state after ``action``."""
        agent = self.agent
        nav, manip = self.visible(NAV_CAMERA), self.visible(MANIP_CAMERA)
        distances = self.distances()
        objects: list[ObjectMeta] = [
            {"objectId": oid, "name": name, "objectType": kind, "position": position, "rotation": rotation,
             "distance": d, "visible": v, "pickupable": pickupable, "isPickedUp": False}
            for (oid, name, kind, pickupable), (position, rotation), d, v in zip(
                self._static_meta, self._pose_meta(), distances.tolist(), nav.tolist()
            )
        ]
        if self.held is not None:
            objects[self.held]["isPickedUp"] = True
        return StepEvent(
            lastAction=action,
            lastActionSuccess=success,
            errorMessage=error,
            agent={
                "position": {"x": agent.x, "y": BASE_HEIGHT, "z": agent.z},
                "rotation": {"x": 0.0, "y": agent.yaw, "z": 0.0},
            },
            arm={"lift": agent.lift, "extension": agent.extension, "wrist": agent.wrist, "heldObjectId": agent.held},
            objects=objects,
            manipVisibleObjectIds=[self.object_ids[k] for k in np.nonzero(manip)[0]],
        )


def _pose(agent: AgentState) -> tuple[float, ...]:
    """What places the arm's bar in space."""
    return agent.x, agent.z, agent.yaw, agent.lift, agent.extension


def _overlapping(boxes: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """(K,) which floor boxes (K, 4) overlap the rectangle from ``low`` to ``high`` (x, z)."""
    return (boxes[:, 0] <= high[0]) & (boxes[:, 2] >= low[0]) & (boxes[:, 1] <= high[1]) & (boxes[:, 3] >= low[1])


def _wall_boxes(walls: np.ndarray) -> np.ndarray:
    """Walls as thin floor boxes (S, 4)."""
    low = np.minimum(walls[:, :2], walls[:, 2:]) - WALL_HALF_THICKNESS
    high = np.maximum(walls[:, :2], walls[:, 2:]) + WALL_HALF_THICKNESS
    return np.concatenate([low, high], axis=1)
