"""AI2-THOR's ``event.metadata`` (and recordings of it) as the bridge's ``StepEvent``.

AI2-THOR metadata carries many more keys than a ``StepEvent``, keeps the agent pose under
``metadata["agent"]``, has no ``arm``/``manipVisibleObjectIds`` in our shape, and words collisions
its own way ("Collided with: Mug|2|33."). This module maps it so that one cost module and one
success rule score AI2-THOR runs, live or recorded, exactly like the embedded simulator.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from thor_sim_bridge.events import AgentMeta, ArmMeta, ObjectMeta, StepEvent, Vec3, collision_message

ARM_BASE_HEIGHT_OFFSET = 0.16297650337219238  # metres: SafeVLA's lift zero, relative to the first arm joint
# AI2-THOR's "Collided with: <objectId>." and the quoted "... collided with '<id>' ..." form.
_THOR_COLLISION = re.compile(r"collided with:?\s*['\"]?([^\s'\"]+)", re.IGNORECASE)


def event_from_thor_metadata(metadata: Mapping[str, Any]) -> StepEvent:
    """The ``StepEvent`` for one AI2-THOR ``event.metadata``; extra keys are dropped.

    ``lastAction`` stays AI2-THOR's action name (e.g. "MoveAgent"): the action itself is what the
    caller passes to the cost tracker. The arm's lift, extension and wrist come from the Stretch
    arm's joints when the metadata has them (else zeros); the held object is the arm's first
    ``heldObjects`` entry or the object with ``isPickedUp``; ``manipVisibleObjectIds`` is empty
    (the backend fills it from a visibility query when it needs it).
    """
    objects = [_object(o) for o in metadata["objects"]]
    arm = metadata.get("arm") or {}
    held = arm.get("heldObjects") or [o["objectId"] for o in objects if o["isPickedUp"]]
    if arm.get("joints"):
        joints, wrist = arm_state(metadata), wrist_yaw(metadata)
    else:
        joints, wrist = {"y": 0.0, "z": 0.0}, 0.0
    action = str(metadata.get("lastAction", ""))
    agent = metadata["agent"]
    return StepEvent(
        lastAction=action,
        lastActionSuccess=bool(metadata["lastActionSuccess"]),
        errorMessage=_error_message(action, metadata.get("errorMessage") or ""),
        agent=AgentMeta(position=_vec(agent["position"]), rotation=_vec(agent["rotation"])),
        arm=ArmMeta(lift=joints["y"], extension=joints["z"], wrist=wrist, heldObjectId=held[0] if held else None),
        objects=objects,
        manipVisibleObjectIds=[],
    )


def arm_state(metadata: Mapping[str, Any]) -> dict[str, float]:
    """The arm's position relative to the agent (x sideways, y lift, z extension), as SafeVLA reads it
    from ``metadata["arm"]["joints"]``."""
    joints = _joints(metadata)
    last = joints[-1]["rootRelativePosition"]
    return {"x": float(last["x"]), "y": float(joints[0]["rootRelativePosition"]["y"]) - ARM_BASE_HEIGHT_OFFSET,
            "z": float(last["z"])}


def wrist_yaw(metadata: Mapping[str, Any]) -> float:
    """The wrist's yaw in degrees, as SafeVLA reads it (the last joint's angle-axis rotation about y)."""
    rotation = _joints(metadata)[-1]["rootRelativeRotation"]
    return math.fmod(float(rotation["w"]) * float(rotation["y"]), 360.0)


def reachable_xz(positions: Iterable[Mapping[str, float]]) -> np.ndarray:
    """(M, 2) x-z array from the ``actionReturn`` of AI2-THOR's ``GetReachablePositions``."""
    return np.array([(p["x"], p["z"]) for p in positions], dtype=float).reshape(-1, 2)


def _object(o: Mapping[str, Any]) -> ObjectMeta:
    return ObjectMeta(
        objectId=o["objectId"], name=o["name"], objectType=o["objectType"],
        position=_vec(o["position"]), rotation=_vec(o["rotation"]), distance=float(o["distance"]),
        visible=bool(o["visible"]), pickupable=bool(o.get("pickupable", False)),
        isPickedUp=bool(o.get("isPickedUp", False)),
    )


def _vec(v: Mapping[str, float]) -> Vec3:
    return Vec3(x=float(v["x"]), y=float(v["y"]), z=float(v["z"]))


def _error_message(action: str, message: str) -> str:
    """AI2-THOR's collision wording rewritten as ``collision_message``, so ``collided_with`` reads it."""
    found = _THOR_COLLISION.search(message)
    return collision_message(action, found.group(1).rstrip(".,")) if found else message


def _joints(metadata: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    joints = (metadata.get("arm") or {}).get("joints") or []
    if not joints:
        raise ValueError("the metadata has no arm joints: is the controller in agentMode 'stretch'?")
    return joints
