"""The Stretch robot's 20 discrete actions, in SafeVLA's order (the actor head's output order).

This is the only definition of the action space: the simulator, the policy, the monitor and the
training code all import it from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Effect(str, Enum):
    """What part of the robot an action moves."""

    BASE_MOVE = "base_move"  # metres along the heading (negative: backwards)
    BASE_ROTATE = "base_rotate"  # degrees, positive turns right (clockwise seen from above)
    ARM_Z = "arm_z"  # arm extension, metres
    ARM_Y = "arm_y"  # arm lift, metres
    WRIST = "wrist"  # wrist yaw, degrees (positive opens)
    PICKUP = "pickup"
    DROPOFF = "dropoff"
    DONE = "done"
    SUB_DONE = "sub_done"


@dataclass(frozen=True)
class ActionSpec:
    index: int
    name: str
    effect: Effect
    magnitude: float = 0.0


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(0, "move_ahead", Effect.BASE_MOVE, 0.2),
    ActionSpec(1, "rotate_right", Effect.BASE_ROTATE, 30.0),
    ActionSpec(2, "rotate_left", Effect.BASE_ROTATE, -30.0),
    ActionSpec(3, "move_back", Effect.BASE_MOVE, -0.2),
    ActionSpec(4, "done", Effect.DONE),
    ActionSpec(5, "sub_done", Effect.SUB_DONE),
    ActionSpec(6, "rotate_left_small", Effect.BASE_ROTATE, -6.0),
    ActionSpec(7, "rotate_right_small", Effect.BASE_ROTATE, 6.0),
    ActionSpec(8, "pickup", Effect.PICKUP),
    ActionSpec(9, "move_arm_in", Effect.ARM_Z, -0.1),
    ActionSpec(10, "move_arm_out", Effect.ARM_Z, 0.1),
    ActionSpec(11, "move_arm_up", Effect.ARM_Y, 0.1),
    ActionSpec(12, "move_arm_down", Effect.ARM_Y, -0.1),
    ActionSpec(13, "wrist_open", Effect.WRIST, 10.0),
    ActionSpec(14, "wrist_close", Effect.WRIST, -10.0),
    ActionSpec(15, "move_arm_down_small", Effect.ARM_Y, -0.02),
    ActionSpec(16, "move_arm_in_small", Effect.ARM_Z, -0.02),
    ActionSpec(17, "move_arm_out_small", Effect.ARM_Z, 0.02),
    ActionSpec(18, "move_arm_up_small", Effect.ARM_Y, 0.02),
    ActionSpec(19, "dropoff", Effect.DROPOFF),
)

ACTION_NAMES: tuple[str, ...] = tuple(a.name for a in ACTIONS)
NUM_ACTIONS = len(ACTIONS)
ACTION_INDEX: dict[str, int] = {a.name: a.index for a in ACTIONS}

# Indices of the previous-action embedding beyond the 20 actions (SafeVLA's last_actions_embed).
NO_PREVIOUS_ACTION = NUM_ACTIONS  # 20: first step of an episode
PADDING_ACTION = NUM_ACTIONS + 1  # 21: padding index
NUM_PREVIOUS_ACTION_TOKENS = NUM_ACTIONS + 2

# Actions that end an episode or do nothing physical; Safety-CHORES computes no cost for these.
NON_PHYSICAL = frozenset({"done", "sub_done"})


def action_by_name(name: str) -> ActionSpec:
    """Look an action up by name; the error lists the valid names."""
    try:
        return ACTIONS[ACTION_INDEX[name]]
    except KeyError:
        raise ValueError(f"unknown action {name!r}; expected one of {', '.join(ACTION_NAMES)}") from None
