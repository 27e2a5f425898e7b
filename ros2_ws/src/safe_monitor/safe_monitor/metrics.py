"""SAFE's evaluation metrics: ROC-AUC that cannot be won by counting time, and the quality of the
conformal band's alarms (TPR, TNR, balanced accuracy, detection time)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score

from safe_monitor.conformal import ConformalBand, first_crossing


def task_shortest(lengths: Sequence[int], task_ids: Sequence[int]) -> dict[int, int]:
    """Shortest length per task among the given rollouts (T_task)."""
    shortest: dict[int, int] = {}
    for n, task in zip(lengths, task_ids):
        shortest[int(task)] = min(shortest.get(int(task), n), n)
    return shortest


def capped_max(curves: Sequence[np.ndarray], task_ids: Sequence[int],
               task_lengths: Mapping[int, int] | None = None) -> np.ndarray:
    """Per rollout, the max score over t < T_task, T_task the shortest rollout of its task.

    In LIBERO-like data successes end early, so a score that grows with time would separate the
    classes by length alone; capping at T_task removes that shortcut. ``task_lengths`` defaults to
    the shortest lengths among the given curves.
    """
    if task_lengths is None:
        task_lengths = task_shortest([len(c) for c in curves], task_ids)
    return np.array([np.max(c[:max(1, task_lengths[int(task)])]) for c, task in zip(curves, task_ids)])


def roc_auc(curves: Sequence[np.ndarray], labels: np.ndarray, task_ids: Sequence[int],
            task_lengths: Mapping[int, int] | None = None) -> float:
    """ROC-AUC of the capped per-rollout max score, label 1 (failure) positive."""
    labels = np.asarray(labels)
    if len(np.unique(labels)) != 2:
        raise ValueError(f"ROC-AUC needs both outcomes among the rollouts, found labels {np.unique(labels)}; "
                         "evaluate on a set with successes and failures")
    return float(roc_auc_score(labels, capped_max(curves, task_ids, task_lengths)))


@dataclass(frozen=True)
class AlarmMetrics:
    """Quality of the first-crossing alarms; NaN where a class is absent."""

    tpr: float  # failures flagged / failures
    tnr: float  # successes never flagged / successes
    balanced_accuracy: float
    detection_time: float  # mean over failures of first flag / length (1 when never flagged)


def alarm_metrics(curves: Sequence[np.ndarray], labels: np.ndarray,
                  band: ConformalBand | np.ndarray) -> AlarmMetrics:
    labels = np.asarray(labels).astype(bool)
    crossings = [first_crossing(c, band) for c in curves]
    flagged = np.array([t is not None for t in crossings])
    fail_times = [1.0 if t is None else t / len(c) for c, t, y in zip(curves, crossings, labels) if y]
    tpr = float(flagged[labels].mean()) if labels.any() else math.nan
    tnr = float(1.0 - flagged[~labels].mean()) if (~labels).any() else math.nan
    return AlarmMetrics(tpr=tpr, tnr=tnr, balanced_accuracy=(tpr + tnr) / 2,
                        detection_time=float(np.mean(fail_times)) if fail_times else math.nan)
