"""SAFE-MLP / SAFE-LSTM: the losses by hand, streaming = batch scoring, fitting and selection."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from safe_monitor.replay import score_curves  # noqa: E402
from safe_monitor.rollouts import Rollout, labels  # noqa: E402
from safe_monitor.score_models import (FitConfig, SafeLSTM, SafeMLP, batch_scores, class_weights, fit,  # noqa: E402
                                       pad_batch, safe_loss, select_model, to_detector)
from safe_monitor.synthetic import drifting_rollouts  # noqa: E402


def tiny_batch() -> tuple[list[Rollout], np.ndarray]:
    rng = np.random.default_rng(0)
    rollouts = [Rollout(task_id=0, features=rng.normal(size=(n, 3)), success=ok) for n, ok in ((2, True), (3, False))]
    return rollouts, labels(rollouts)


def test_class_weights_are_inverse_frequencies():
    assert class_weights(np.array([0, 1, 1, 1])) == (4.0, 4 / 3)
    with pytest.raises(ValueError, match="needs both outcomes"):
        class_weights(np.array([0, 0]))


def squared_weights(model) -> float:
    return sum(float((p.detach() ** 2).sum()) for name, p in model.named_parameters() if "bias" not in name)


def test_mlp_loss_by_hand():
    torch.manual_seed(0)
    model = SafeMLP(3, hidden=4)
    rollouts, y = tiny_batch()
    weights, lam = (3.0, 1.5), 0.01
    x, mask = pad_batch(rollouts)
    loss = safe_loss(model, x, mask, torch.tensor(y, dtype=torch.float32), weights, lam)
    per_rollout = []
    for r, label in zip(rollouts, y):
        with torch.no_grad():
            probs = torch.sigmoid(model.net(torch.from_numpy(r.features))).squeeze(-1).tolist()
        sums = [sum(probs[:t + 1]) for t in range(len(probs))]
        mean = sum(sums) / len(sums)
        per_rollout.append(weights[label] * (-mean if label else mean))
    expected = sum(per_rollout) / 2 + lam * squared_weights(model)
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_lstm_loss_by_hand():
    torch.manual_seed(0)
    model = SafeLSTM(3, hidden=4)
    rollouts, y = tiny_batch()
    weights, lam = (3.0, 1.5), 0.1
    x, mask = pad_batch(rollouts)
    loss = safe_loss(model, x, mask, torch.tensor(y, dtype=torch.float32), weights, lam)
    total = 0.0
    for r, label in zip(rollouts, y):
        with torch.no_grad():
            scores = model(torch.from_numpy(r.features)[None], torch.ones(1, r.length))[0].tolist()
        bce = [-(math.log(s) if label else math.log(1 - s)) for s in scores]
        total += weights[label] * sum(bce) / len(bce)
    assert loss.item() == pytest.approx(total / 2 + lam * squared_weights(model), rel=1e-5)


@pytest.mark.parametrize("kind", ["safe_mlp", "safe_lstm"])
def test_streaming_scores_equal_batch_scores(kind):
    rollouts = drifting_rollouts(n_tasks=3, per_task=6, dim=8, length=(5, 15), seed=1)
    model = fit(kind, rollouts, labels(rollouts), FitConfig(epochs=3, hidden=16, progress=False))
    batch = batch_scores(model, rollouts, batch=4)
    streamed = score_curves(to_detector(model), rollouts)
    for b, s, r in zip(batch, streamed, rollouts):
        assert len(b) == len(s) == r.length
        np.testing.assert_allclose(s, b, rtol=1e-4, atol=1e-5)


def test_fit_learns_the_drift_and_selection_keeps_the_best_grid_point():
    rollouts = drifting_rollouts(n_tasks=4, per_task=16, dim=8, seed=2)
    train, val = rollouts[::2], rollouts[1::2]
    config = FitConfig(epochs=15, hidden=16, progress=False)
    chosen = select_model("safe_mlp", train, labels(train), val, labels(val), lrs=(1e-4, 3e-3),
                          lambda_regs=(1e-3,), config=config)
    assert [(lr, lam) for lr, lam, _ in chosen.table] == [(1e-4, 1e-3), (3e-3, 1e-3)]
    assert (chosen.config.lr, chosen.config.lambda_reg, chosen.val_auc) == max(chosen.table, key=lambda row: row[2])
    assert chosen.val_auc > 0.8
