"""ROC-AUC capped at T_task, and the alarm metrics of a band, on hand-made curves."""

import math

import numpy as np
import pytest

from safe_monitor.metrics import alarm_metrics, capped_max, roc_auc, task_shortest


def test_scores_are_capped_at_the_shortest_rollout_of_each_task():
    curves = [np.array([0.1, 0.2]), np.array([0.0, 0.3, 9.0]), np.array([0.5, 0.4, 0.3, 0.2])]
    tasks = [0, 0, 1]
    assert task_shortest([2, 3, 4], tasks) == {0: 2, 1: 4}
    np.testing.assert_allclose(capped_max(curves, tasks), [0.2, 0.3, 0.5])  # the 9.0 at t = 2 >= T_task is ignored
    np.testing.assert_allclose(capped_max(curves, tasks, {0: 1, 1: 1}), [0.1, 0.0, 0.5])


def test_roc_auc_counts_correctly_ordered_pairs():
    # failures (label 1) with capped maxima 0.9, 0.4; successes 0.5, 0.1 -> 3 of 4 pairs ordered
    curves = [np.array([0.9]), np.array([0.4]), np.array([0.5]), np.array([0.1])]
    assert roc_auc(curves, np.array([1, 1, 0, 0]), [0, 0, 0, 0]) == pytest.approx(0.75)
    # a late-growing score that only counting time would win: capped, it ties
    late = [np.array([0.0, 0.0, 5.0]), np.array([0.0, 0.0])]
    assert roc_auc(late, np.array([1, 0]), [0, 0]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="needs both outcomes"):
        roc_auc(curves, np.zeros(4), [0] * 4)


def test_alarm_metrics_from_first_crossings():
    band = np.array([1.0])
    curves = [np.array([0, 0, 2, 0]), np.array([0, 0]), np.array([3, 0]), np.array([0, 1.5, 0, 0, 0])]
    y = np.array([1, 1, 0, 0])  # failures: flagged at 2 of 4, never; successes: flagged, flagged
    m = alarm_metrics(curves, y, band)
    assert (m.tpr, m.tnr, m.balanced_accuracy) == (0.5, 0.0, 0.25)
    assert m.detection_time == pytest.approx((2 / 4 + 1.0) / 2)
    only_ok = alarm_metrics(curves[2:], y[2:], band)
    assert math.isnan(only_ok.tpr) and math.isnan(only_ok.detection_time) and only_ok.tnr == 0.0
