"""The baselines SAFE compares with, as streaming ``Detector``s.

Token uncertainty needs no fitting: it reads the action distribution's entropy or the chosen
action's -log p. Embedding distance fits reference sets on training steps and scores a step by
``d(e, successes) - d(e, failures)`` (Mahalanobis, k-NN Euclidean, k-NN cosine, PCA-KMeans).
Either score can be taken per step, or accumulated as a running sum or running mean.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from safevla_common.latent import LatentStep

from safe_monitor.conformal import BandThreshold
from safe_monitor.rollouts import Rollout
from safe_monitor.safe_detectors import get_tensors

Accumulate = Literal["none", "sum", "mean"]
Metric = Literal["mahalanobis", "knn_euclidean", "knn_cosine", "pca_kmeans"]
METRICS: tuple[str, ...] = ("mahalanobis", "knn_euclidean", "knn_cosine", "pca_kmeans")


class Accumulator:
    """Per-step value, running sum, or running mean over the episode so far."""

    def __init__(self, mode: Accumulate = "none") -> None:
        if mode not in ("none", "sum", "mean"):
            raise ValueError(f"accumulate must be 'none', 'sum' or 'mean', got {mode!r}")
        self.mode = mode
        self.reset()

    def reset(self) -> None:
        self._total, self._count = 0.0, 0

    def add(self, value: float) -> float:
        self._total += value
        self._count += 1
        return {"none": value, "sum": self._total, "mean": self._total / self._count}[self.mode]


class TokenUncertaintyDetector(BandThreshold):
    """Entropy of the action distribution, or -log p of the chosen action (from ``max_prob``)."""

    kind = "token_uncertainty"
    latent_dim: int | None = None

    def __init__(self, stat: Literal["entropy", "neg_log_prob"] = "entropy", accumulate: Accumulate = "none") -> None:
        if stat not in ("entropy", "neg_log_prob"):
            raise ValueError(f"stat must be 'entropy' or 'neg_log_prob', got {stat!r}")
        self.stat = stat
        self.name = f"{stat}_{accumulate}" if accumulate != "none" else stat
        self._acc = Accumulator(accumulate)

    def reset(self) -> None:
        self._acc.reset()

    def score(self, step: LatentStep) -> float:
        value = step.entropy if self.stat == "entropy" else -math.log(max(step.max_prob, 1e-12))
        return self._acc.add(value)

    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {"stat": self.stat, "accumulate": self._acc.mode}, {}

    @classmethod
    def from_state(cls, config: Mapping[str, Any], tensors: Mapping[str, np.ndarray]) -> TokenUncertaintyDetector:
        return cls(config["stat"], config["accumulate"])


def _steps(rollouts: Sequence[Rollout], labels: np.ndarray, label: int) -> np.ndarray:
    chosen = [r.features for r, y in zip(rollouts, labels) if y == label]
    if not chosen:
        raise ValueError(f"fitting a distance baseline needs rollouts of both outcomes; none has label {label}")
    return np.concatenate(chosen)


def _fit_reference(metric: str, x: np.ndarray, pca_dim: int, n_clusters: int,
                   rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The tensors describing one class's reference set for ``metric``."""
    if metric == "mahalanobis":
        cov = np.cov(x, rowvar=False) + 1e-4 * np.eye(x.shape[1])
        return {"mean": x.mean(0), "precision": np.linalg.pinv(cov)}
    if metric in ("knn_euclidean", "knn_cosine"):
        return {"points": _unit(x) if metric == "knn_cosine" else x}
    # sklearn is a training-time dependency: only fitting PCA-KMeans needs it, never the node.
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    pca = PCA(n_components=min(pca_dim, *x.shape)).fit(x)
    seed = int(rng.integers(2**31))
    kmeans = KMeans(n_clusters=min(n_clusters, len(x)), n_init=3, random_state=seed).fit(pca.transform(x))
    return {"mean": pca.mean_, "components": pca.components_, "centroids": kmeans.cluster_centers_}


def _check_reference(metric: str, ref: Mapping[str, np.ndarray], dim: int, k: int) -> None:
    """Raise saying which reference tensor does not fit the latent size (or k)."""
    for name, value in ref.items():
        width = ref["components"].shape[0] if name == "centroids" else dim
        if value.ndim not in (1, 2) or value.shape[-1] != width:
            raise ValueError(f"{metric} reference {name!r} has shape {value.shape}, expected last axis {width}; "
                             "the success and failure references must come from the same latent size")
    if "points" in ref and len(ref["points"]) < k:
        raise ValueError(f"k-NN with k={k} needs at least {k} reference steps, got {len(ref['points'])}")


def _unit(x: np.ndarray) -> np.ndarray:
    return x / (np.linalg.norm(x, axis=-1, keepdims=True) + 1e-8)


class EmbeddingDistanceDetector(BandThreshold):
    """Score = distance to the success steps - distance to the failure steps (higher = failing)."""

    kind = "embedding_distance"
    _TENSORS = {"mahalanobis": ("mean", "precision"), "knn_euclidean": ("points",), "knn_cosine": ("points",),
                "pca_kmeans": ("mean", "components", "centroids")}

    def __init__(self, metric: Metric, success: Mapping[str, np.ndarray], failure: Mapping[str, np.ndarray],
                 k: int = 5, accumulate: Accumulate = "none") -> None:
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
        names = self._TENSORS[metric]
        self.metric, self.k, self.name = metric, int(k), metric
        self.success = dict(zip(names, (np.asarray(t, dtype=np.float32) for t in get_tensors(success, names))))
        self.failure = dict(zip(names, (np.asarray(t, dtype=np.float32) for t in get_tensors(failure, names))))
        self.latent_dim: int | None = self.success[names[0]].shape[-1]
        for ref in (self.success, self.failure):
            _check_reference(metric, ref, self.latent_dim, self.k)
        self._acc = Accumulator(accumulate)

    @classmethod
    def fit(cls, metric: Metric, rollouts: Sequence[Rollout], labels: np.ndarray, k: int = 5,
            accumulate: Accumulate = "none", pca_dim: int = 64, n_clusters: int = 16,
            max_points: int = 4096, seed: int = 0) -> EmbeddingDistanceDetector:
        """Reference sets from all steps of the training rollouts of each label (1 = failure),
        each subsampled to ``max_points`` steps so that a k-NN step stays cheap at run time."""
        rng = np.random.default_rng(seed)
        refs = []
        for label in (0, 1):
            x = _steps(rollouts, np.asarray(labels), label)
            if len(x) > max_points:
                x = x[rng.choice(len(x), max_points, replace=False)]
            refs.append(_fit_reference(metric, x.astype(np.float64), pca_dim, n_clusters, rng))
        return cls(metric, refs[0], refs[1], k=k, accumulate=accumulate)

    def distance(self, ref: Mapping[str, np.ndarray], x: np.ndarray) -> np.ndarray:
        """(N, D) -> (N,) distance of each row to one reference set."""
        if self.metric == "mahalanobis":
            diff = x - ref["mean"]
            return np.sqrt(np.maximum(np.einsum("nd,de,ne->n", diff, ref["precision"], diff), 0.0))
        if self.metric == "pca_kmeans":
            z = (x - ref["mean"]) @ ref["components"].T
            return np.sqrt(((z[:, None, :] - ref["centroids"][None]) ** 2).sum(-1)).min(1)
        if self.metric == "knn_cosine":
            d = 1.0 - _unit(x) @ ref["points"].T
        else:
            d = np.sqrt(np.maximum((x ** 2).sum(1)[:, None] - 2 * x @ ref["points"].T
                                   + (ref["points"] ** 2).sum(1)[None], 0.0))
        return np.partition(d, self.k - 1, axis=1)[:, :self.k].mean(1)

    def step_scores(self, features: np.ndarray) -> np.ndarray:
        """(T, D) -> (T,) per-step scores before accumulation."""
        x = np.asarray(features, dtype=np.float32)
        return self.distance(self.success, x) - self.distance(self.failure, x)

    def reset(self) -> None:
        self._acc.reset()

    def score(self, step: LatentStep) -> float:
        return self._acc.add(float(self.step_scores(step.vector[None])[0]))

    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        tensors = {f"success.{n}": v for n, v in self.success.items()}
        tensors.update({f"failure.{n}": v for n, v in self.failure.items()})
        return {"metric": self.metric, "k": self.k, "accumulate": self._acc.mode}, tensors

    @classmethod
    def from_state(cls, config: Mapping[str, Any], tensors: Mapping[str, np.ndarray]) -> EmbeddingDistanceDetector:
        def ref(prefix: str) -> dict[str, np.ndarray]:
            return {n[len(prefix):]: v for n, v in tensors.items() if n.startswith(prefix)}
        return cls(config["metric"], ref("success."), ref("failure."), k=config["k"], accumulate=config["accumulate"])
