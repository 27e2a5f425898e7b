"""A Stretch-like robot: its footprint, arm joints and their limits, and its kinematic state.

Simplification: the arm telescopes along the base's heading (the real Stretch's arm points
sideways); the manipulation camera looks the same way, so reaching means facing the object.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from safevla_common.actions import ActionSpec, Effect

from .geometry import heading

AGENT_RADIUS = 0.2  # metres, circular base
BASE_HEIGHT = 0.9  # AI2-THOR reports the Stretch agent's position at ~0.90 m above the floor
LIFT_LIMITS = (0.0, 1.1)  # metres, arm height (y)
EXTENSION_LIMITS = (0.0, 0.52)  # metres, arm reach beyond ARM_BASE_OFFSET (z)
WRIST_LIMITS = (-90.0, 90.0)  # degrees, positive opens
ARM_BASE_OFFSET = 0.25  # metres from the base centre to the gripper at zero extension
PICKUP_RADIUS = 0.15  # metres from the gripper to an object's bounding box
ARM_START = 0.12  # metres ahead of the base centre where the arm's bar begins
ARM_HALF_WIDTH = 0.02  # metres: half the arm bar's thickness

_JOINTS = {
    Effect.ARM_Y: ("lift", LIFT_LIMITS, "m"),
    Effect.ARM_Z: ("extension", EXTENSION_LIMITS, "m"),
    Effect.WRIST: ("wrist", WRIST_LIMITS, "deg"),
}


@dataclass(frozen=True)
class AgentState:
    x: float
    z: float
    yaw: float  # degrees in [0, 360), 0 = +z, clockwise
    lift: float = 0.8
    extension: float = 0.0
    wrist: float = 0.0
    held: str | None = None  # objectId in the gripper

    @property
    def heading(self) -> np.ndarray:
        """Unit vector (x, z) the base faces."""
        return heading(self.yaw)


def gripper_position(agent: AgentState) -> np.ndarray:
    """(x, y, z) of the gripper's grasp point."""
    x, z = np.array([agent.x, agent.z]) + agent.heading * (ARM_BASE_OFFSET + agent.extension)
    return np.array([x, agent.lift, z])


def rotated(agent: AgentState, degrees: float) -> AgentState:
    return replace(agent, yaw=round(float(agent.yaw + degrees) % 360.0, 6))


def moved_arm(agent: AgentState, action: ActionSpec) -> tuple[AgentState, str]:
    """The arm after ``action``, clamped to the joint's limits; an error if it could not move at all."""
    joint, (low, high), unit = _JOINTS[action.effect]
    before = getattr(agent, joint)
    after = round(min(max(before + action.magnitude, low), high), 6)
    if after == before:
        limit = high if action.magnitude > 0 else low
        return agent, f"{action.name} failed: {joint} is at its limit ({limit:g} {unit})"
    return replace(agent, **{joint: after}), ""
