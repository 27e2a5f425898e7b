"""The simulated household in motion: the robot, where every object is now, actions and events.

Physics is kinematic. A base move is checked along its path; if the robot's disc would overlap a
wall or something standing on the floor, the move fails, the robot stays, and a loose floor object
that was hit is knocked ``KNOCK_DISTANCE`` along the move (so Safety-CHORES sees the disturbance).
The arm passes through everything; a held object travels with the gripper and hides nothing.
"""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np

from safevla_common.actions import ACTION_INDEX, ACTIONS, ActionSpec, Effect

from .agent import AGENT_RADIUS, BASE_HEIGHT, PICKUP_RADIUS, AgentState, gripper_position, moved_arm, rotated
from .assets import ASSETS, Placement
from .cameras import MANIP_CAMERA, NAV_CAMERA, CameraSpec, camera_pose
from .events import WALL_HIT, ObjectMeta, StepEvent, collision_message
from .geometry import footprint_clearance, point_box_distance, point_box_distance_3d, segments_cross
from .house import WALL_HALF_THICKNESS, House
from .navgrid import NavGrid, build_navgrid
from .visibility import visible_objects

KNOCK_DISTANCE = 0.1  # metres a bumped floor object slides
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
        self.wall_boxes = _wall_boxes(house.walls)
        self.centers = self.initial_centers.copy()
        self.agent = AgentState(0.0, 0.0, 0.0)
        self._visible: dict[str, np.ndarray] = {}
        self.navgrid: NavGrid = build_navgrid(house, self.base_obstacles()[1], AGENT_RADIUS)

    def reset(self, agent: AgentState) -> None:
        """Objects back where the house put them, and the robot at ``agent``."""
        self.centers = self.initial_centers.copy()
        self.agent = agent
        self._visible.clear()

    def copy(self) -> World:
        """An independent copy that shares the static house data (for planning rollouts)."""
        twin = copy.copy(self)
        twin.centers = self.centers.copy()
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

    def footprint_clearance(self, points: np.ndarray, cap: float = 0.5) -> np.ndarray:
        """(P,) how far the robot's disc at each point (P, 2) is from touching anything (< 0: overlap).

        Clearances above ``cap`` are reported as ``cap``, which lets distant obstacles be skipped.
        """
        _, boxes = self.base_obstacles()
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
        return handlers[spec.effect](spec)

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
        if self.loose[hit]:
            self._knock(hit, step / abs(spec.magnitude))
        return False, collision_message(spec.name, self.object_ids[hit])

    def _knock(self, k: int, direction: np.ndarray) -> None:
        """Slide floor object ``k`` along ``direction`` if it has room to go."""
        centre = self.centers[k].copy()
        centre[[0, 2]] += direction * KNOCK_DISTANCE
        half = self.sizes[k, [0, 2]] / 2
        box = np.concatenate([centre[[0, 2]] - half, centre[[0, 2]] + half])
        idx, boxes = self.base_obstacles()
        others = np.concatenate([boxes[idx != k], self.wall_boxes])
        robot = point_box_distance(np.array([[self.agent.x, self.agent.z]]), box[None])[0, 0]
        if not _overlapping(others, box[:2], box[2:]).any() and robot >= AGENT_RADIUS:
            self.centers[k] = centre
            self._visible.clear()

    def _move_arm(self, spec: ActionSpec) -> tuple[bool, str]:
        return self._set_agent(*moved_arm(self.agent, spec))

    def _pickup(self, spec: ActionSpec) -> tuple[bool, str]:
        if self.agent.held is not None:
            return False, f"pickup failed: already holding {self.agent.held}"
        reach = point_box_distance_3d(gripper_position(self.agent), self.space_boxes())
        candidates = self.pickupable & (reach <= PICKUP_RADIUS) & self.visible(MANIP_CAMERA)
        if not candidates.any():
            return False, "pickup failed: no pickupable object in view within reach of the gripper"
        k = int(np.argmin(np.where(candidates, reach, np.inf)))
        return self._set_agent(replace(self.agent, held=self.object_ids[k]), "")

    def _dropoff(self, spec: ActionSpec) -> tuple[bool, str]:
        k = self.held
        if k is None:
            return False, "dropoff failed: not holding anything"
        grip = gripper_position(self.agent)
        base = np.array([[self.agent.x, self.agent.z]])
        if segments_cross(base, grip[None, [0, 2]], self.house.walls).any():
            return False, "dropoff failed: the gripper is beyond a wall"
        boxes = self.space_boxes()
        below = (
            (boxes[:, 0] <= grip[0]) & (grip[0] <= boxes[:, 3]) & (boxes[:, 2] <= grip[2]) & (grip[2] <= boxes[:, 5])
        )
        below &= boxes[:, 4] <= grip[1] + 1e-6
        below[k] = False
        surface = float(boxes[below, 4].max()) if below.any() else 0.0
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

    def event(self, action: str, success: bool, error: str) -> StepEvent:
        """The AI2-THOR-shaped metadata of the current state after ``action``."""
        agent = self.agent
        nav, manip = self.visible(NAV_CAMERA), self.visible(MANIP_CAMERA)
        distances = self.distances()
        held = self.held
        objects = [
            ObjectMeta(
                objectId=o.object_id,
                name=o.name,
                objectType=o.object_type,
                position={"x": float(c[0]), "y": float(c[1]), "z": float(c[2])},
                rotation={"x": 0.0, "y": o.yaw, "z": 0.0},
                distance=float(d),
                visible=bool(v),
                pickupable=o.pickupable,
                isPickedUp=k == held,
            )
            for k, (o, c, d, v) in enumerate(zip(self.house.objects, self.centers.tolist(), distances, nav))
        ]
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


def _overlapping(boxes: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """(K,) which floor boxes (K, 4) overlap the rectangle from ``low`` to ``high`` (x, z)."""
    return (boxes[:, 0] <= high[0]) & (boxes[:, 2] >= low[0]) & (boxes[:, 1] <= high[1]) & (boxes[:, 3] >= low[1])


def _wall_boxes(walls: np.ndarray) -> np.ndarray:
    """Walls as thin floor boxes (S, 4)."""
    low = np.minimum(walls[:, :2], walls[:, 2:]) - WALL_HALF_THICKNESS
    high = np.maximum(walls[:, :2], walls[:, 2:]) + WALL_HALF_THICKNESS
    return np.concatenate([low, high], axis=1)
