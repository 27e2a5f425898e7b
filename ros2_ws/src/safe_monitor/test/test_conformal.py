"""The functional conformal band, checked against the formula worked by hand (facts section 5)."""

import itertools

import numpy as np
import pytest

from safe_monitor.conformal import (BandThreshold, band_from_split, calibrate_band, first_crossing,
                                    pad_curves, thresholds)

A = np.array([[0.0, 1.0, 2.0, 3.0], [1.0, 1.0, 1.0, 1.0], [4.0, 5.0, 6.0, 7.0]])
MU = np.array([5 / 3, 7 / 3, 3.0, 11 / 3])
# |s - mu| rows: [5/3 4/3 1 2/3] (sup 5/3), [2/3 4/3 2 8/3] (sup 8/3), [7/3 8/3 3 10/3] (sup 10/3)
M_TWO_CLOSEST = np.array([5 / 3, 4 / 3, 2.0, 8 / 3]) + 1e-8  # alpha 0.5: k = ceil(4 * 0.5) = 2
M_ALL = np.array([7 / 3, 8 / 3, 3.0, 10 / 3]) + 1e-8  # alpha 0.15: k = ceil(4 * 0.85) = 4 > 3 -> all of A
C = [-1.0, 0.5, 2.0, 1.0, 3.0, 0.0, 0.25]  # B curves are mu + c * m, so max_t (s - mu) / m = c


def numpy_linear_quantile(values: list[float], level: float) -> float:
    ordered = sorted(values)
    h = (len(ordered) - 1) * level
    low = int(np.floor(h))
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (h - low) * (ordered[high] - ordered[low])


@pytest.mark.parametrize("alpha, m", [(0.5, M_TWO_CLOSEST), (0.15, M_ALL)])
def test_band_matches_the_formula_by_hand(alpha, m):
    b = np.array([MU + c * m for c in C])
    band = band_from_split(A, b, alpha)
    q = numpy_linear_quantile(C, 1 - alpha)  # alpha 0.5: the median 0.5; alpha 0.15: 2 + 0.1 * (3 - 2)
    assert q == pytest.approx({0.5: 0.5, 0.15: 2.1}[alpha])
    np.testing.assert_allclose(band.mean, MU)
    np.testing.assert_allclose(band.modulation, m)
    assert band.q == pytest.approx(q)
    np.testing.assert_allclose(band.upper, MU + q * m)


def test_calibrate_band_puts_30_percent_in_a_after_shuffling():
    rng = np.random.default_rng(3)
    curves = [np.cumsum(rng.random(4)) for _ in range(10)]
    band = calibrate_band(curves, alpha=0.5, seed=7)
    stacked = np.stack(curves)
    matches = [a for a in itertools.combinations(range(10), 3)
               if np.allclose(band_from_split(stacked[list(a)], np.delete(stacked, a, axis=0), 0.5).upper, band.upper)]
    assert len(matches) >= 1  # some 3 / 7 split of the curves gives exactly this band
    assert not np.allclose(calibrate_band(curves, alpha=0.5, seed=8).upper, band.upper)


def test_curves_pad_with_their_last_value_and_the_band_extends_flat():
    padded = pad_curves([np.array([1.0, 2.0]), np.array([0.0, 1.0, 5.0])])
    np.testing.assert_array_equal(padded, [[1, 2, 2], [0, 1, 5]])
    band = calibrate_band([np.arange(n, dtype=float) for n in range(2, 12)], alpha=0.2)
    assert len(band.upper) == 11
    np.testing.assert_array_equal(thresholds(band, 15)[11:], band.upper[-1])


def test_first_crossing_is_the_first_step_at_or_above_the_band():
    band = np.array([1.0, 2.0, 3.0])
    assert first_crossing(np.array([0.5, 2.0, 0.0]), band) == 1
    assert first_crossing(np.array([0.0, 0.0, 2.9, 2.99, 3.0]), band) == 4  # past the end: last value
    assert first_crossing(np.array([0.0, 1.0, 2.0]), band) is None


@pytest.mark.parametrize("alpha", [0.1, 0.15, 0.3])
def test_false_alarms_on_exchangeable_successes_stay_near_alpha(alpha):
    rng = np.random.default_rng(0)

    def successes(n: int) -> list[np.ndarray]:
        return [np.cumsum(rng.exponential(1.0 + 0.2 * rng.normal(), size=int(rng.integers(20, 40))))
                for _ in range(n)]

    band = calibrate_band(successes(400), alpha=alpha, seed=1)
    fresh = successes(3000)
    false_alarm = np.mean([first_crossing(c, band) is not None for c in fresh])
    assert false_alarm <= alpha + 0.04


def test_band_threshold_holds_a_band_or_a_constant():
    holder = BandThreshold()
    assert holder.threshold(3) == np.inf
    holder.set_threshold(2.5)
    assert holder.threshold(0) == holder.threshold(100) == 2.5
    holder.set_threshold(np.array([1.0, 2.0]))
    assert (holder.threshold(0), holder.threshold(9)) == (1.0, 2.0)
    with pytest.raises(ValueError, match="non-empty 1-D band"):
        holder.set_threshold(np.array([np.nan]))
