"""One policy step as the monitor sees it: the latent vector plus the action distribution's statistics."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LatentStep:
    episode: int
    step: int
    vector: np.ndarray  # (D,) float32: SafeVLA's 512-d belief, or any backend's latent
    entropy: float  # of the action distribution, nats
    max_prob: float  # probability of the most likely action

    def validate(self, expected_dim: int | None = None) -> None:
        """Raise ValueError naming the defect; a step that fails here must never be scored."""
        if self.episode < 0 or self.step < 0:
            raise ValueError(f"negative episode/step ({self.episode}, {self.step})")
        if self.vector.ndim != 1 or self.vector.size == 0:
            raise ValueError(f"latent must be a non-empty vector, got shape {self.vector.shape}")
        if expected_dim is not None and self.vector.size != expected_dim:
            raise ValueError(f"latent has {self.vector.size} values, expected {expected_dim}")
        if not np.isfinite(self.vector).all():
            raise ValueError("latent contains NaN or Inf")
        if not (math.isfinite(self.entropy) and self.entropy >= 0.0):
            raise ValueError(f"entropy must be finite and >= 0, got {self.entropy}")
        if not (math.isfinite(self.max_prob) and 0.0 <= self.max_prob <= 1.0):
            raise ValueError(f"max_prob must be in [0, 1], got {self.max_prob}")


def distribution_stats(probs: np.ndarray) -> tuple[float, float]:
    """Entropy (nats) and max probability of a categorical distribution."""
    p = np.asarray(probs, dtype=np.float64)
    nz = p[p > 0]
    return float(-(nz * np.log(nz)).sum()), float(p.max())
