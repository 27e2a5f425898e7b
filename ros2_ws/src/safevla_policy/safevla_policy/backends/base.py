"""What every inference backend takes and returns, so the node can swap them by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from safevla_common.actions import NO_PREVIOUS_ACTION


@dataclass
class Observation:
    nav_rgb: np.ndarray  # (224, 384, 3) uint8, navigation camera
    manip_rgb: np.ndarray  # (224, 384, 3) uint8, manipulation camera
    instruction: str
    step: int  # 0-based index within the episode
    last_action: int = NO_PREVIOUS_ACTION  # previous action index; NO_PREVIOUS_ACTION at step 0
    object_in_hand: bool = False
    expert_action: str | None = None  # privileged hint from a simulator (expert backend only)


@dataclass
class PolicyOutput:
    probs: np.ndarray  # (NUM_ACTIONS,) float, sums to 1
    latent: np.ndarray  # (latent_dim,) float32: what the SAFE monitor watches
    value: float | None = None  # critic estimate when the backend has one


class PolicyBackend(Protocol):
    """A policy that keeps its own episode memory (e.g. a KV cache)."""

    name: str
    latent_dim: int

    def reset(self) -> None:
        """Forget the episode: the next ``step`` is step 0 of a new one."""

    def step(self, obs: Observation) -> PolicyOutput:
        """One control step."""
