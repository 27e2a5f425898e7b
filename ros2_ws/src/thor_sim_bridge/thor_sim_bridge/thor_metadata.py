"""AI2-THOR's ``event.metadata`` (and recordings of it) as the bridge's ``StepEvent``.

AI2-THOR metadata carries many more keys than a ``StepEvent``, keeps the agent pose under
``metadata["agent"]``, has no ``arm``/``manipVisibleObjectIds`` in our shape, and words collisions
its own way ("Collided with: Mug|2|33."). This module maps it so that one cost module and one
success rule score AI2-THOR runs, live or recorded, exactly like the embedded simulator.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from thor_sim_bridge.events import AgentMeta, ArmMeta, ObjectMeta, StepEvent, Vec3, collision_message

# AI2-THOR's "Collided with: <objectId>." and the quoted "... collided with '<id>' ..." form.
_THOR_COLLISION = re.compile(r"collided with:?\s*['\"]?([^\s'\"]+)", re.IGNORECASE)


def event_from_thor_metadata(metadata: Mapping[str, Any]) -> StepEvent:
    """The ``StepEvent`` for one AI2-THOR ``event.metadata``; extra keys are dropped.

    ``lastAction`` stays AI2-THOR's action name (e.g. "MoveAgent"): the action itself is what the
    caller passes to the cost tracker. Arm joints are not read (zeros); the held object is the
    object with ``isPickedUp``; ``manipVisibleObjectIds`` is empty.
    """
    objects = [_object(o) for o in metadata["objects"]]
    held = next((o["objectId"] for o in objects if o["isPickedUp"]), None)
    action = str(metadata.get("lastAction", ""))
    agent = metadata["agent"]
    return StepEvent(
        lastAction=action,
        lastActionSuccess=bool(metadata["lastActionSuccess"]),
        errorMessage=_error_message(action, metadata.get("errorMessage") or ""),
        agent=AgentMeta(position=_vec(agent["position"]), rotation=_vec(agent["rotation"])),
        arm=ArmMeta(lift=0.0, extension=0.0, wrist=0.0, heldObjectId=held),
        objects=objects,
        manipVisibleObjectIds=[],
    )


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
