"""End to end on synthetic rollouts: split by task, fit SAFE, calibrate the band, save, load, evaluate.

Failing episodes drift along a direction shared by all tasks, so a detector that learns it must
rank unseen-task failures above successes, and the band must keep false alarms on fresh
successful seen-task runs near alpha.
"""

import pytest

pytest.importorskip("torch")

from safe_monitor.conformal import calibrate_band  # noqa: E402
from safe_monitor.metrics import alarm_metrics, roc_auc  # noqa: E402
from safe_monitor.monitor_file import load_monitor, save_monitor  # noqa: E402
from safe_monitor.replay import score_curves  # noqa: E402
from safe_monitor.rollouts import labels, split_by_task, take  # noqa: E402
from safe_monitor.score_models import FitConfig, fit, to_detector  # noqa: E402
from safe_monitor.synthetic import drifting_rollouts  # noqa: E402

ALPHA = 0.15
CONFIGS = {"safe_mlp": FitConfig(epochs=60, hidden=64, progress=False),
           "safe_lstm": FitConfig(epochs=30, hidden=32, lr=3e-3, lambda_reg=1e-2, progress=False)}


@pytest.mark.parametrize("kind", sorted(CONFIGS))
def test_safe_detects_unseen_task_failures_with_few_false_alarms(tmp_path, kind):
    rollouts = drifting_rollouts(n_tasks=10, per_task=40, dim=16, task_spread=0.5, seed=0)
    split = split_by_task(rollouts, seed=0, unseen_fraction=0.3, train_fraction=0.5)
    train, val, unseen = take(rollouts, split.train), take(rollouts, split.val), take(rollouts, split.unseen)
    model = fit(kind, train, labels(train), CONFIGS[kind])

    val_ok = [r for r in val if r.success]
    calibration, check = val_ok[::2], val_ok[1::2]
    detector = to_detector(model)
    band = calibrate_band(score_curves(detector, calibration), alpha=ALPHA, seed=0)
    detector.set_threshold(band)
    path = tmp_path / f"{kind}.safetensors"
    save_monitor(path, detector, feature={"source": "synthetic"}, alpha=ALPHA, training={"epochs": 1})
    monitor = load_monitor(path, expected_latent_dim=16)

    unseen_curves = score_curves(monitor, unseen)
    auc = roc_auc(unseen_curves, labels(unseen), [r.task_id for r in unseen])
    false_alarm = 1.0 - alarm_metrics(score_curves(monitor, check), labels(check), monitor.band).tnr
    assert auc > 0.75
    assert false_alarm <= ALPHA + 0.1
