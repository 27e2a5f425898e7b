"""SafeVLA's 20 actions as AI2-THOR Stretch controller calls, with SafeVLA's magnitudes.

As SafeVLA's ``StretchController.agent_step`` issues them (with its "quick" navigation actions):
base moves of 0.2 m (``MoveAheadQuick``/``MoveBackQuick``), turns of 30 and 6 degrees
(``RotateRightQuick``, negative degrees turn left), arm moves of 0.1 and 0.02 m as an absolute
``MoveArm`` target (the current arm position plus the step), wrist turns of at most 10 degrees
kept inside the Stretch wrist's range (``RotateWristRelative``), ``PickupObject``,
``ReleaseObject`` (followed by 2 s of physics) and, for done and sub_done, a ``Pass`` that only
refreshes the metadata. Arm and wrist calls carry ``returnToStart`` and ``speed`` as SafeVLA's
``ADDITIONAL_ARM_ARGS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from safevla_common.actions import ACTION_INDEX, ACTIONS, Effect

from ..thor_metadata import arm_state, wrist_yaw
from .settings import DROPOFF_SETTLING_S

ARM_ARGS = {"returnToStart": True, "speed": 1}
WRIST_STEP_DEG = 10.0
WRIST_BOUNDS = (75.0, -260.0)  # SafeVLA's STRETCH_WRIST_BOUND_1 and _2 (degrees)


def controller_calls(action: str, metadata: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The controller.step keyword dicts that execute ``action`` from the state ``metadata`` shows
    (one call, or two for dropoff: release, then let physics settle)."""
    if action not in ACTION_INDEX:
        raise ValueError(f"unknown action {action!r}; expected one of {', '.join(ACTION_INDEX)}")
    spec = ACTIONS[ACTION_INDEX[action]]
    if spec.effect is Effect.BASE_MOVE:
        name = "MoveAheadQuick" if spec.magnitude > 0 else "MoveBackQuick"
        return [{"action": name, "moveMagnitude": abs(spec.magnitude)}]
    if spec.effect is Effect.BASE_ROTATE:
        return [{"action": "RotateRightQuick", "degrees": spec.magnitude}]
    if spec.effect in (Effect.ARM_Y, Effect.ARM_Z):
        target = arm_state(metadata)
        target["y" if spec.effect is Effect.ARM_Y else "z"] += spec.magnitude
        return [{"action": "MoveArm", "position": target, **ARM_ARGS}]
    if spec.effect is Effect.WRIST:
        return [{"action": "RotateWristRelative", "yaw": _wrist_turn(action, wrist_yaw(metadata)), **ARM_ARGS}]
    if spec.effect is Effect.PICKUP:
        return [{"action": "PickupObject"}]
    if spec.effect is Effect.DROPOFF:
        return [{"action": "ReleaseObject"}, {"action": "AdvancePhysicsStep", "simSeconds": DROPOFF_SETTLING_S}]
    return [{"action": "Pass"}]  # done, sub_done


def _wrist_turn(action: str, current: float) -> float:
    """SafeVLA's wrist step: at most 10 degrees, never past the wrist's bounds (opening is negative yaw)."""
    if action == "wrist_open":
        return -min(WRIST_STEP_DEG, abs(current - (WRIST_BOUNDS[1] + 360.0)))
    return min(WRIST_STEP_DEG, abs(WRIST_BOUNDS[0] - current))
