"""Replay recorded rollouts through a ``Detector`` step by step, exactly as the monitor node would.

Offline evaluation goes through here so that what is measured is what runs on the robot.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np
from safevla_common.latent import LatentStep

from safe_monitor.detectors import Detector
from safe_monitor.rollouts import Rollout


def steps(rollout: Rollout) -> Iterator[LatentStep]:
    """The rollout as the monitor receives it; missing action statistics are NaN."""
    for t, vector in enumerate(rollout.features):
        yield LatentStep(episode=rollout.episode, step=t, vector=vector,
                         entropy=math.nan if rollout.entropy is None else float(rollout.entropy[t]),
                         max_prob=math.nan if rollout.max_prob is None else float(rollout.max_prob[t]))


def score_curve(detector: Detector, rollout: Rollout) -> np.ndarray:
    """(T,) scores after ``reset()``, one ``score()`` call per step."""
    detector.reset()
    return np.array([detector.score(step) for step in steps(rollout)], dtype=np.float64)


def score_curves(detector: Detector, rollouts: Sequence[Rollout]) -> list[np.ndarray]:
    return [score_curve(detector, r) for r in rollouts]
