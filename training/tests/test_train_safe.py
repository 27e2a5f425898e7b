"""train.py safe: rollouts through the deployment path, and the fit -> calibrate -> monitor file stage."""

from __future__ import annotations

import json

import numpy as np
import pytest

from safe_monitor.monitor_file import load_monitor, read_monitor_info
from safe_monitor.replay import score_curve
from safe_monitor.rollouts import save_rollouts
from safe_monitor.synthetic import drifting_rollouts
from training.safe_fit import SafeConfig, run_safe
from training.safe_rollouts import CollectJob, categories, collect_rollouts


@pytest.mark.slow
def test_rollouts_record_what_the_monitor_node_sees():
    rollouts = collect_rollouts(CollectJob(checkpoint="", task="ObjectNav", max_steps=40, seed=3), episodes=2, workers=1)
    assert [r.episode for r in rollouts] == [0, 1]
    names = categories("ObjectNav")
    for r in rollouts:
        assert r.task == f"ObjectNav/{names[r.task_id]}" and r.instruction
        assert r.features.ndim == 2 and len(r.features) == len(r.entropy) == len(r.actions) == len(r.costs) <= 40
        assert np.isfinite(r.features).all() and (r.entropy >= 0).all() and (r.max_prob <= 1).all()


def test_categories_absent_from_the_houses_are_skipped_not_fatal(capsys):
    # One-room houses have no SprayBottle (episode 0's category); AlarmClock (episode 1) is there.
    job = CollectJob(checkpoint="", task="ObjectNav", max_steps=5, seed=3, rooms=(1, 1))
    rollouts = collect_rollouts(job, episodes=2, workers=1)
    assert [r.episode for r in rollouts] == [1]
    assert "SprayBottle" in capsys.readouterr().out


@pytest.mark.slow
def test_safe_stage_writes_a_calibrated_monitor_and_a_report(tmp_path):
    rollouts = drifting_rollouts(n_tasks=10, per_task=16, dim=12, seed=1)
    save_rollouts(tmp_path / "rollouts.npz", rollouts)
    report = run_safe(SafeConfig(rollouts=tmp_path / "rollouts.npz", out_dir=tmp_path / "safe", epochs=40,
                                 lrs=(3e-3,), lambda_regs=(1e-3,)))

    assert set(report["results"]) >= {"safe_mlp", "safe_lstm", "entropy", "mahalanobis", "knn_cosine"}
    chosen = report["results"][report["chosen"]]
    assert chosen["auc_unseen"] > 0.7  # failures drift: SAFE must find it on held-out tasks
    assert (tmp_path / "safe" / "score_curves.png").stat().st_size > 10_000
    assert "| safe_mlp |" in (tmp_path / "safe" / "report.md").read_text()
    assert json.loads((tmp_path / "safe" / "report.json").read_text())["chosen"] == report["chosen"]

    info = read_monitor_info(report["monitor"])
    assert info.kind == report["chosen"] and info.latent_dim == 12 and info.alpha == 0.15
    detector = load_monitor(report["monitor"], expected_latent_dim=12)
    failing = max((r for r in rollouts if not r.success), key=lambda r: len(r.features))
    curve = score_curve(detector, failing)
    assert np.isfinite(curve).all()
    with pytest.raises(ValueError, match="512"):
        load_monitor(report["monitor"], expected_latent_dim=512)
