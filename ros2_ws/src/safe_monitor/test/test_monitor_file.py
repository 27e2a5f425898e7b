"""Monitor files: every detector kind round-trips, mismatches fail clearly, per-step cost is small."""

import json
import time

import numpy as np
import pytest
from safetensors.numpy import save_file

from safe_monitor.baselines import EmbeddingDistanceDetector, TokenUncertaintyDetector
from safe_monitor.monitor_file import load_monitor, read_monitor_info, save_monitor
from safe_monitor.replay import score_curves, steps
from safe_monitor.rollouts import labels
from safe_monitor.safe_detectors import SafeLSTMDetector, SafeMLPDetector
from safe_monitor.synthetic import drifting_rollouts


def random_mlp(dim: int, hidden: int, rng: np.random.Generator) -> SafeMLPDetector:
    return SafeMLPDetector(rng.normal(size=(hidden, dim)) / np.sqrt(dim), rng.normal(size=hidden),
                           rng.normal(size=hidden) / np.sqrt(hidden), rng.normal(size=1))


def random_lstm(dim: int, hidden: int, rng: np.random.Generator) -> SafeLSTMDetector:
    return SafeLSTMDetector(rng.normal(size=(4 * hidden, dim)) / np.sqrt(dim),
                            rng.normal(size=(4 * hidden, hidden)) / np.sqrt(hidden), rng.normal(size=4 * hidden),
                            rng.normal(size=hidden) / np.sqrt(hidden), rng.normal(size=1))


ROLLOUTS = drifting_rollouts(n_tasks=2, per_task=8, dim=6, length=(4, 8), seed=5)
RNG = np.random.default_rng(0)
DETECTORS = {
    "safe_mlp": random_mlp(6, 8, RNG),
    "safe_lstm": random_lstm(6, 8, RNG),
    "entropy_mean": TokenUncertaintyDetector("entropy", "mean"),
    "knn_cosine": EmbeddingDistanceDetector.fit("knn_cosine", ROLLOUTS, labels(ROLLOUTS), k=3),
    "pca_kmeans": EmbeddingDistanceDetector.fit("pca_kmeans", ROLLOUTS, labels(ROLLOUTS), pca_dim=3, n_clusters=2),
}


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_every_detector_kind_round_trips(tmp_path, name):
    detector = DETECTORS[name]
    detector.set_threshold(np.array([0.5, 1.0, 1.5]))
    path = tmp_path / "monitor.safetensors"
    save_monitor(path, detector, feature={"source": "synthetic", "reduction": "mean"}, label="either",
                 alpha=0.15, training={"epochs": 3})
    loaded = load_monitor(path, expected_latent_dim=6)
    assert (loaded.name, loaded.latent_dim) == (detector.name, detector.latent_dim)
    for before, after in zip(score_curves(detector, ROLLOUTS), score_curves(loaded, ROLLOUTS)):
        np.testing.assert_allclose(after, before, rtol=1e-6, atol=1e-6)
    assert [loaded.threshold(t) for t in (0, 2, 50)] == [0.5, 1.5, 1.5]
    info = read_monitor_info(path)
    assert (info.kind, info.label, info.alpha, info.feature["source"], info.training) == (
        detector.kind, "either", 0.15, "synthetic", {"epochs": 3})


def test_a_latent_size_mismatch_says_what_to_do(tmp_path):
    path = tmp_path / "monitor.safetensors"
    detector = random_mlp(6, 8, np.random.default_rng(2))
    detector.set_threshold(3.0)
    save_monitor(path, detector, feature={"source": "synthetic"})
    with pytest.raises(ValueError, match="fitted on 6-d latents .* publishes 512-d latents; fit a monitor"):
        load_monitor(path, expected_latent_dim=512)


def test_a_detector_without_a_threshold_is_not_saved(tmp_path):
    with pytest.raises(ValueError, match="would never stop the robot"):
        save_monitor(tmp_path / "m.safetensors", random_mlp(6, 8, np.random.default_rng(3)), feature={})


def test_files_that_are_not_monitors_are_refused(tmp_path):
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(ValueError, match="not a readable safetensors monitor file"):
        load_monitor(junk)
    bare = tmp_path / "bare.safetensors"
    save_file({"w": np.zeros(2, dtype=np.float32)}, str(bare))
    with pytest.raises(ValueError, match="not a SAFE monitor file"):
        load_monitor(bare)
    future = tmp_path / "future.safetensors"
    header = {"format": "safevla-safe-monitor", "version": 1, "kind": "transformer", "latent_dim": 2,
              "feature": {}, "label": "failure", "alpha": None, "detector": {}, "training": {}}
    save_file({"band": np.ones(1)}, str(future), metadata={"safe_monitor": json.dumps(header)})
    with pytest.raises(ValueError, match="unknown detector kind 'transformer'"):
        load_monitor(future)


@pytest.mark.parametrize("make", [random_mlp, random_lstm])
def test_a_loaded_512_d_monitor_scores_a_step_in_under_a_millisecond(tmp_path, make):
    path = tmp_path / "monitor.safetensors"
    detector = make(512, 256, np.random.default_rng(1))
    detector.set_threshold(10.0)
    save_monitor(path, detector, feature={"source": "safevla_belief"})
    detector = load_monitor(path, expected_latent_dim=512)
    rollout = drifting_rollouts(n_tasks=1, per_task=1, dim=512, length=(300, 300))[0]
    detector.reset()
    elapsed = []
    for step in steps(rollout):
        start = time.perf_counter()
        detector.score(step)
        detector.threshold(step.step)
        elapsed.append(time.perf_counter() - start)
    assert np.median(elapsed) < 1e-3
