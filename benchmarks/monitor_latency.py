"""What SAFE monitoring costs per step, and how fast its e-stop reaches a subscriber over DDS.

1. Scoring: every detector kind loaded through ``load_monitor`` (the node's code path), one
   ``score()`` + ``threshold()`` per step on 512-d latents (SafeVLA's belief).
2. latent -> e-stop over DDS with a SAFE-MLP monitor file in the real monitor node.

    .venv/bin/python benchmarks/monitor_latency.py [--steps 2000] [--trials 300]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from estop_latency import DOMAIN_ID, latent_to_estop  # noqa: E402
from report import percentiles, print_table, write_json  # noqa: E402

from safe_monitor.baselines import EmbeddingDistanceDetector, TokenUncertaintyDetector  # noqa: E402
from safe_monitor.monitor_file import load_monitor, save_monitor  # noqa: E402
from safe_monitor.rollouts import labels  # noqa: E402
from safe_monitor.safe_detectors import SafeLSTMDetector, SafeMLPDetector  # noqa: E402
from safe_monitor.synthetic import drifting_rollouts  # noqa: E402
from safevla_common.latent import LatentStep  # noqa: E402
from safevla_common.ros_env import configure_ros_environment  # noqa: E402

DIM, HIDDEN = 512, 256
FEATURE = {"source": "benchmark"}


def detectors(rng: np.random.Generator) -> dict[str, object]:
    """One of each kind at SAFE's sizes (weights random: cost does not depend on their values)."""
    w = lambda *shape: rng.normal(0, 0.05, shape).astype(np.float32)  # noqa: E731
    found = {
        "safe_mlp": SafeMLPDetector(w(HIDDEN, DIM), w(HIDDEN), w(HIDDEN), w(1)),
        "safe_lstm": SafeLSTMDetector(w(4 * HIDDEN, DIM), w(4 * HIDDEN, HIDDEN), w(4 * HIDDEN), w(HIDDEN), w(1)),
        "entropy": TokenUncertaintyDetector("entropy", "mean"),
    }
    rollouts = drifting_rollouts(n_tasks=4, per_task=20, dim=DIM, seed=0)
    for metric in ("mahalanobis", "knn_cosine", "pca_kmeans"):
        found[metric] = EmbeddingDistanceDetector.fit(metric, rollouts, labels(rollouts))
    for detector in found.values():
        detector.set_threshold(np.linspace(1.0, 2.0, 600))  # a time-varying band, as calibrated ones are
    return found


def scoring_cost(steps: int) -> list[list]:
    rng = np.random.default_rng(0)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, detector in detectors(rng).items():
            path = Path(folder) / f"{name}.safetensors"
            save_monitor(path, detector, feature=FEATURE, label="failure")
            loaded = load_monitor(path)
            latents = rng.normal(size=(steps, DIM)).astype(np.float32)
            loaded.reset()
            times = []
            for t in range(steps):
                step = LatentStep(0, t, latents[t], 1.0, 0.5)
                started = time.perf_counter()
                loaded.score(step)
                loaded.threshold(t)
                times.append((time.perf_counter() - started) * 1e3)
            p = percentiles(times)
            rows.append([name, DIM, p["p50"], p["p95"], p["p99"]])
    return rows


def trigger_monitor(folder: Path) -> tuple[Path, np.ndarray]:
    """A SAFE-MLP monitor that flags exactly one kind of latent (large first component)."""
    w1 = np.zeros((HIDDEN, DIM), np.float32)
    w1[0, 0] = 10.0
    w2 = np.zeros(HIDDEN, np.float32)
    w2[0] = 10.0
    detector = SafeMLPDetector(w1, np.zeros(HIDDEN, np.float32), w2, np.array([-5.0], np.float32))
    detector.set_threshold(0.5)  # a normal step adds sigmoid(-5) = 0.007; the trigger adds ~1
    path = folder / "trigger_mlp.safetensors"
    save_monitor(path, detector, feature=FEATURE, label="failure")
    fail = np.zeros(DIM, np.float32)
    fail[0] = 1.0
    return path, fail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--trials", type=int, default=300)
    args = parser.parse_args()
    rows = scoring_cost(args.steps)
    print_table("per-step scoring cost, monitor files loaded as the node loads them (ms)",
                ["detector", "latent dim", "p50", "p95", "p99"], rows)
    configure_ros_environment(DOMAIN_ID)
    import rclpy

    rclpy.init()
    try:
        with tempfile.TemporaryDirectory() as folder:
            path, fail = trigger_monitor(Path(folder))
            dds = percentiles(latent_to_estop(args.trials, str(path), fail, DIM))
    finally:
        rclpy.shutdown()
    print_table("latent published -> e-stop received over DDS, SAFE-MLP monitor node (ms)",
                ["n", "p50", "p95", "p99", "max"], [[dds["n"], dds["p50"], dds["p95"], dds["p99"], dds["max"]]])
    write_json("monitor_latency", {
        "scoring_ms": {r[0]: {"latent_dim": r[1], "p50": r[2], "p95": r[3], "p99": r[4]} for r in rows},
        "latent_to_estop_ms": dds, "goal_p99_ms": 2.0})


if __name__ == "__main__":
    main()
