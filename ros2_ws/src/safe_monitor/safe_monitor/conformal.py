"""The time-varying threshold: SAFE's one-sided functional conformal band.

Calibrated on score curves of successful seen-task validation runs, the band ``u_t`` is crossed
by at most a fraction ``alpha`` of fresh successful runs, provided those runs are exchangeable
with the calibration runs (unseen tasks are not: expect more false alarms there).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_ALPHA = 0.15
EPS = 1e-8


@dataclass(frozen=True)
class ConformalBand:
    """``upper[t] = mean[t] + q * modulation[t]``; steps past the end use the last value."""

    upper: np.ndarray
    mean: np.ndarray
    modulation: np.ndarray
    q: float
    alpha: float


def threshold_at(upper: np.ndarray, step_index: int) -> float:
    return float(upper[min(step_index, len(upper) - 1)])


def pad_curves(curves: Sequence[np.ndarray], length: int | None = None) -> np.ndarray:
    """Stack curves into (n, length), padding each by repeating its last value."""
    if not curves or any(len(c) == 0 for c in curves):
        raise ValueError("need at least one curve, each with at least one step")
    length = length or max(len(c) for c in curves)
    out = np.empty((len(curves), length), dtype=np.float64)
    for row, curve in zip(out, curves):
        n = min(len(curve), length)
        row[:n] = curve[:n]
        row[n:] = curve[n - 1]
    return out


def band_from_split(a: np.ndarray, b: np.ndarray, alpha: float = DEFAULT_ALPHA) -> ConformalBand:
    """The band from curves already split: ``a`` (n1, L) fits mean and modulation, ``b`` (n2, L)
    fixes the width ``q`` (facts section 5, steps 2-5)."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    mean = a.mean(axis=0)
    deviation = np.abs(a - mean)
    n1 = len(a)
    k = math.ceil((n1 + 1) * (1 - alpha))
    if k > n1:
        kept = deviation
    else:
        sup = deviation.max(axis=1)
        gamma = np.sort(sup)[k - 1]
        kept = deviation[sup <= gamma]
    modulation = kept.max(axis=0) + EPS
    q = float(np.quantile(((b - mean) / modulation).max(axis=1), 1 - alpha))
    return ConformalBand(upper=mean + q * modulation, mean=mean, modulation=modulation, q=q, alpha=alpha)


def calibrate_band(curves: Sequence[np.ndarray], alpha: float = DEFAULT_ALPHA, seed: int = 0,
                   fraction_a: float = 0.3) -> ConformalBand:
    """Shuffle the calibration curves (successful runs only), put ``round(fraction_a * n)`` of them
    (at least one) in A and the rest in B, and build the band."""
    n = len(curves)
    if n < 2:
        raise ValueError(f"conformal calibration needs at least 2 successful curves, got {n}; "
                         "record more successful validation runs")
    padded = pad_curves(curves)
    order = np.random.default_rng(seed).permutation(n)
    n_a = min(max(1, round(fraction_a * n)), n - 1)
    return band_from_split(padded[order[:n_a]], padded[order[n_a:]], alpha)


def thresholds(band: ConformalBand | np.ndarray, length: int) -> np.ndarray:
    """The threshold at each of ``length`` steps."""
    upper = band.upper if isinstance(band, ConformalBand) else np.asarray(band, dtype=np.float64)
    return upper[np.minimum(np.arange(length), len(upper) - 1)]


def first_crossing(scores: np.ndarray, band: ConformalBand | np.ndarray) -> int | None:
    """The first step with ``score >= threshold`` (the detection time), or None if never."""
    hits = np.flatnonzero(np.asarray(scores) >= thresholds(band, len(scores)))
    return int(hits[0]) if len(hits) else None


class BandThreshold:
    """Mixin giving a detector ``threshold(t)``: a conformal band, or a constant held as a
    one-value band. Until set, the threshold is +inf (never flags)."""

    band: np.ndarray = np.array([np.inf])

    def set_threshold(self, threshold: ConformalBand | np.ndarray | float) -> None:
        if isinstance(threshold, ConformalBand):
            threshold = threshold.upper
        band = np.atleast_1d(np.asarray(threshold, dtype=np.float64))
        if band.ndim != 1 or len(band) == 0 or np.isnan(band).any():
            raise ValueError(f"a threshold must be a number or a non-empty 1-D band without NaN, got {band!r}")
        self.band = band

    def threshold(self, step_index: int) -> float:
        return threshold_at(self.band, step_index)
