"""Token-uncertainty and embedding-distance baselines as streaming detectors."""

import numpy as np
import pytest

from safe_monitor.baselines import METRICS, EmbeddingDistanceDetector, TokenUncertaintyDetector
from safe_monitor.replay import score_curve, score_curves
from safe_monitor.rollouts import Rollout, labels
from safe_monitor.synthetic import drifting_rollouts


def test_token_uncertainty_per_step_running_sum_and_mean():
    rollout = Rollout(task_id=0, features=np.zeros((3, 2)), success=True, entropy=[1.0, 3.0, 2.0],
                      max_prob=[0.5, 0.25, 1.0])
    np.testing.assert_allclose(score_curve(TokenUncertaintyDetector("entropy"), rollout), [1, 3, 2])
    np.testing.assert_allclose(score_curve(TokenUncertaintyDetector("entropy", "sum"), rollout), [1, 4, 6])
    np.testing.assert_allclose(score_curve(TokenUncertaintyDetector("entropy", "mean"), rollout), [1, 2, 2])
    np.testing.assert_allclose(score_curve(TokenUncertaintyDetector("neg_log_prob"), rollout),
                               [np.log(2), np.log(4), 0.0], atol=1e-12)
    with pytest.raises(ValueError, match="'entropy' or 'neg_log_prob'"):
        TokenUncertaintyDetector("variance")


def detector(metric: str, success: dict, failure: dict, k: int = 1) -> EmbeddingDistanceDetector:
    return EmbeddingDistanceDetector(metric, success, failure, k=k)


def test_distances_by_hand():
    x = np.array([[2.0, 0.0]])
    knn = detector("knn_euclidean", {"points": [[0, 0], [1, 0]]}, {"points": [[10, 0], [11, 0]]})
    assert knn.step_scores(x)[0] == pytest.approx(1 - 8)
    knn2 = detector("knn_euclidean", {"points": [[0, 0], [1, 0]]}, {"points": [[10, 0], [11, 0]]}, k=2)
    assert knn2.step_scores(x)[0] == pytest.approx(1.5 - 8.5)
    cosine = detector("knn_cosine", {"points": [[1, 0]]}, {"points": [[0, 1]]})
    assert cosine.step_scores(np.array([[1.0, 1.0]]))[0] == pytest.approx(0.0, abs=1e-6)
    assert cosine.step_scores(x)[0] == pytest.approx(0.0 - 1.0, abs=1e-6)
    mahalanobis = detector("mahalanobis", {"mean": [0, 0], "precision": np.eye(2)},
                           {"mean": [3, 0], "precision": np.diag([4.0, 1.0])})
    assert mahalanobis.step_scores(np.array([[1.0, 0.0]]))[0] == pytest.approx(1 - 4)
    pca = detector("pca_kmeans", {"mean": [0, 0], "components": [[1, 0]], "centroids": [[0.0], [5.0]]},
                   {"mean": [0, 0], "components": [[0, 1]], "centroids": [[3.0]]})
    assert pca.step_scores(np.array([[4.0, 1.0]]))[0] == pytest.approx(1 - 2)


@pytest.mark.parametrize("metric", METRICS)
def test_fitted_distance_detectors_stream_and_separate_outcomes(metric):
    rollouts = drifting_rollouts(n_tasks=3, per_task=16, dim=6, drift=6.0, task_spread=0.3, seed=4)
    train, test = rollouts[::2], rollouts[1::2]
    fitted = EmbeddingDistanceDetector.fit(metric, train, labels(train), k=5, accumulate="mean", pca_dim=4,
                                           n_clusters=4, max_points=300)
    assert fitted.latent_dim == 6 and len(fitted.success.get("points", np.zeros(0))) <= 300
    curves = score_curves(fitted, test)
    final = np.array([c[-1] for c in curves])
    for curve, rollout in zip(curves, test):  # streaming (running mean) = vectorised per-step scores
        per_step = fitted.step_scores(rollout.features)
        np.testing.assert_allclose(curve, np.cumsum(per_step) / np.arange(1, rollout.length + 1), rtol=1e-5, atol=1e-6)
    y = labels(test).astype(bool)
    assert final[y].mean() > final[~y].mean()


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="metric must be one of"):
        detector("manhattan", {}, {})
    with pytest.raises(ValueError, match="k=3 needs at least 3 reference steps"):
        detector("knn_euclidean", {"points": [[0, 0]]}, {"points": [[1, 1]]}, k=3)
    with pytest.raises(ValueError, match="expected last axis 2"):
        detector("mahalanobis", {"mean": [0, 0], "precision": np.eye(3)}, {"mean": [0, 0], "precision": np.eye(2)})
    with pytest.raises(ValueError, match="lack \\['precision'\\]"):
        detector("mahalanobis", {"mean": [0, 0]}, {"mean": [0, 0], "precision": np.eye(2)})
