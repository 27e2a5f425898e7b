"""Topic and service names (relative, so a namespace can be put on a whole robot) and their QoS.

QoS is described as plain data here so the ROS-free cores and the docs can read it;
``safevla_common.ros.qos`` turns each entry into an rclpy ``QoSProfile``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

NAV_IMAGE = "camera/nav/image_raw"
MANIP_IMAGE = "camera/manip/image_raw"
INSTRUCTION = "task/instruction"
EPISODE = "task/episode"
ACTION = "policy/action"
LATENT = "policy/latent"
SCORE = "safety/score"
ESTOP = "safety/estop"
SIM_COST = "sim/cost"
SIM_EXPERT_ACTION = "sim/expert_action"
OBJECT_IN_HAND = "robot/object_in_hand"
DIAGNOSTICS = "/diagnostics"

SAFETY_RESET = "safety/reset"
SIM_RESET = "sim/reset"


@dataclass(frozen=True)
class QoSSpec:
    reliability: Literal["reliable", "best_effort"]
    durability: Literal["volatile", "transient_local"]
    depth: int


SENSOR = QoSSpec("best_effort", "volatile", 1)  # newest frame only
LATCHED = QoSSpec("reliable", "transient_local", 1)  # late joiners see the current state
STREAM = QoSSpec("reliable", "volatile", 10)

QOS: dict[str, QoSSpec] = {
    NAV_IMAGE: SENSOR,
    MANIP_IMAGE: SENSOR,
    INSTRUCTION: LATCHED,
    EPISODE: LATCHED,
    ACTION: STREAM,
    LATENT: STREAM,
    SCORE: STREAM,
    ESTOP: LATCHED,
    SIM_COST: STREAM,
    SIM_EXPERT_ACTION: LATCHED,
    OBJECT_IN_HAND: LATCHED,
    DIAGNOSTICS: STREAM,
}
