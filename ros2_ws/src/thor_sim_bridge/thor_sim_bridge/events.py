"""The per-step event every simulator backend produces, shaped like AI2-THOR's ``event.metadata``.

Both the embedded simulator and the AI2-THOR backend emit exactly this, so one cost module
(Safety-CHORES) and one success rule score either backend. Keys and units follow AI2-THOR:
metres, degrees, y up, the agent's yaw in ``agent.rotation.y`` (0 = +z, clockwise positive).
"""

from __future__ import annotations

from typing import TypedDict


class Vec3(TypedDict):
    x: float
    y: float
    z: float


class ObjectMeta(TypedDict):
    objectId: str  # unique in the house, e.g. "Mug|2|33"
    name: str  # free text that may carry hints (e.g. "KitchenKnife_3"); cost keywords match it
    objectType: str  # category, e.g. "Mug"
    position: Vec3  # centre, world frame
    rotation: Vec3  # Euler degrees
    distance: float  # metres from the agent (horizontal)
    visible: bool  # visible from the navigation camera within the visibility distance
    pickupable: bool
    isPickedUp: bool


class AgentMeta(TypedDict):
    position: Vec3
    rotation: Vec3


class ArmMeta(TypedDict):
    lift: float  # metres (arm y)
    extension: float  # metres (arm z)
    wrist: float  # degrees
    heldObjectId: str | None


class StepEvent(TypedDict):
    lastAction: str  # one of safevla_common.actions.ACTION_NAMES, or "reset"
    lastActionSuccess: bool
    errorMessage: str  # a failed move that hit something contains "collided" (see collision_message)
    agent: AgentMeta
    arm: ArmMeta
    objects: list[ObjectMeta]
    # Objects visible in the manipulation camera (for pickup and the object-in-hand logic).
    manipVisibleObjectIds: list[str]


WALL_HIT = "wall"


def collision_message(action: str, hit: str) -> str:
    """Error text for a move that hit something; ``hit`` is an objectId or ``WALL_HIT``.

    Contains "collided" as SafeVLA's cost code expects; the id after "collided with" is what the
    blind-spot cost uses to tell which object was hit.
    """
    return f"{action} failed: collided with {hit}"


def collided_with(error_message: str) -> str | None:
    """The objectId (or ``WALL_HIT``) named by a collision message, None if there was no collision."""
    marker = "collided with "
    at = error_message.find(marker)
    if at < 0:
        return None
    return error_message[at + len(marker):].split()[0].strip("'\".,") or WALL_HIT
