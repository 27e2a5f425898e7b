"""The detector interface the monitor node scores steps through, and the simplest detector.

A detector turns each policy step into a failure score and says the threshold that score is
held against at that step (a constant, or a time-varying conformal band). Higher = more likely
to fail. The monitor latches the e-stop at the first step with ``score >= threshold``.
"""

from __future__ import annotations

from typing import Protocol

from safevla_common.latent import LatentStep


class Detector(Protocol):
    name: str
    latent_dim: int | None  # None: any latent size is accepted

    def reset(self) -> None:
        """A new episode starts."""

    def score(self, step: LatentStep) -> float:
        """The failure score after this step (may depend on earlier steps of the episode)."""

    def threshold(self, step_index: int) -> float:
        """The score at or above which step ``step_index`` is flagged."""


class EntropyDetector:
    """SAFE's token-uncertainty baseline: the entropy of the action distribution, fixed threshold."""

    name = "entropy"
    latent_dim = None

    def __init__(self, threshold: float) -> None:
        self._threshold = float(threshold)

    def reset(self) -> None:
        pass

    def score(self, step: LatentStep) -> float:
        return step.entropy

    def threshold(self, step_index: int) -> float:
        return self._threshold
