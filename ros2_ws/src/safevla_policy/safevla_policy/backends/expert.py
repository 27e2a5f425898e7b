"""The simulator's shortest-path planner as a policy: for demos and for testing the ROS plumbing.

It follows the privileged hint the sim bridge publishes on ``sim/expert_action``. Like every
backend it emits an action distribution (most mass on the expert's action) and a latent (colour
statistics of both cameras on a coarse grid), so the monitor has something real to watch.
"""

from __future__ import annotations

import numpy as np

from safevla_common.actions import ACTION_INDEX, NUM_ACTIONS
from safevla_policy.backends.base import Observation, PolicyOutput

GRID = (4, 8)


class ExpertBackend:
    name = "expert"
    needs_expert_hint = True
    latent_dim = 2 * GRID[0] * GRID[1] * 3

    def __init__(self, confidence: float = 0.9) -> None:
        if not 1.0 / NUM_ACTIONS < confidence <= 1.0:
            raise ValueError(f"confidence must be in (1/{NUM_ACTIONS}, 1], got {confidence}")
        self._confidence = confidence

    def reset(self) -> None:
        pass

    def step(self, obs: Observation) -> PolicyOutput:
        if obs.expert_action not in ACTION_INDEX:
            raise ValueError(f"the expert backend needs the simulator's hint; got {obs.expert_action!r}")
        probs = np.full(NUM_ACTIONS, (1.0 - self._confidence) / (NUM_ACTIONS - 1))
        probs[ACTION_INDEX[obs.expert_action]] = self._confidence
        latent = np.concatenate([_grid_means(obs.nav_rgb), _grid_means(obs.manip_rgb)])
        return PolicyOutput(probs=probs, latent=latent)


def _grid_means(rgb: np.ndarray) -> np.ndarray:
    rows, cols = GRID
    h, w = rgb.shape[0] // rows * rows, rgb.shape[1] // cols * cols
    cells = rgb[:h, :w].reshape(rows, h // rows, cols, w // cols, 3).astype(np.float32)
    return (cells.mean(axis=(1, 3)) / 255.0).ravel()
