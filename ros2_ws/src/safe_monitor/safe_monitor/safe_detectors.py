"""SAFE-MLP and SAFE-LSTM as streaming ``Detector``s in plain numpy.

Training is torch (``score_models``); the node only runs these, so a robot needs no torch to
monitor. Feature standardisation is folded into the first layer when a model is exported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from safevla_common.latent import LatentStep

from safe_monitor.conformal import BandThreshold


def sigmoid(z: np.ndarray | float) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -np.asarray(z, dtype=np.float64)))


def matvec(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``w @ x`` without BLAS. A threaded BLAS matrix-vector product stalls when the CPU is busy
    (measured 8 ms instead of 0.2 ms per LSTM step on 2 loaded cores); numpy's own single-threaded
    loop keeps a 512-d step well under a millisecond whatever else runs."""
    return np.einsum("ij,j->i", w, x)


def checked(name: str, value: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``value`` as contiguous float32 with the expected shape; raise saying what was found otherwise."""
    value = np.ascontiguousarray(value, dtype=np.float32)
    if value.shape != shape:
        raise ValueError(f"monitor tensor {name!r} has shape {value.shape}, expected {shape}")
    return value


def get_tensors(tensors: Mapping[str, np.ndarray], names: tuple[str, ...]) -> list[np.ndarray]:
    """The named tensors in order; raise naming the missing ones otherwise."""
    missing = [n for n in names if n not in tensors]
    if missing:
        raise ValueError(f"detector tensors lack {missing} (found {sorted(tensors)}); a monitor file "
                         "missing them is incomplete or was written for another detector kind")
    return [tensors[n] for n in names]


class SafeMLPDetector(BandThreshold):
    """Score after step t = sum over tau <= t of sigmoid(MLP(x_tau))."""

    kind = name = "safe_mlp"
    TENSORS = ("w1", "b1", "w2", "b2")

    def __init__(self, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray) -> None:
        hidden, dim = np.shape(w1)
        self.w1 = checked("w1", w1, (hidden, dim))
        self.b1 = checked("b1", b1, (hidden,))
        self.w2 = checked("w2", w2, (hidden,))
        self.b2 = checked("b2", b2, (1,))
        self.latent_dim: int | None = dim
        self._total = 0.0

    def reset(self) -> None:
        self._total = 0.0

    def score(self, step: LatentStep) -> float:
        hidden = np.maximum(matvec(self.w1, step.vector) + self.b1, 0.0)
        self._total += float(sigmoid(hidden @ self.w2 + self.b2[0]))
        return self._total

    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {}, {n: getattr(self, n) for n in self.TENSORS}

    @classmethod
    def from_state(cls, config: Mapping[str, Any], tensors: Mapping[str, np.ndarray]) -> SafeMLPDetector:
        return cls(*get_tensors(tensors, cls.TENSORS))


class SafeLSTMDetector(BandThreshold):
    """Score after step t = sigmoid(Linear(h_t)), h_t the LSTM state (PyTorch gate order i, f, g, o)."""

    kind = name = "safe_lstm"
    TENSORS = ("w_ih", "w_hh", "bias", "w_out", "b_out")

    def __init__(self, w_ih: np.ndarray, w_hh: np.ndarray, bias: np.ndarray, w_out: np.ndarray,
                 b_out: np.ndarray) -> None:
        gates, dim = np.shape(w_ih)
        hidden = gates // 4
        self.w_ih = checked("w_ih", w_ih, (4 * hidden, dim))
        self.w_hh = checked("w_hh", w_hh, (4 * hidden, hidden))
        self.bias = checked("bias", bias, (4 * hidden,))
        self.w_out = checked("w_out", w_out, (hidden,))
        self.b_out = checked("b_out", b_out, (1,))
        self.latent_dim: int | None = dim
        self._h = np.zeros(hidden, dtype=np.float32)
        self._c = np.zeros(hidden, dtype=np.float64)

    def reset(self) -> None:
        self._h[:] = 0.0
        self._c[:] = 0.0

    def score(self, step: LatentStep) -> float:
        z = matvec(self.w_ih, step.vector) + matvec(self.w_hh, self._h) + self.bias
        i, f, g, o = np.split(z, 4)
        self._c = sigmoid(f) * self._c + sigmoid(i) * np.tanh(g)
        self._h = (sigmoid(o) * np.tanh(self._c)).astype(np.float32)
        return float(sigmoid(self.w_out @ self._h + self.b_out[0]))

    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {}, {n: getattr(self, n) for n in self.TENSORS}

    @classmethod
    def from_state(cls, config: Mapping[str, Any], tensors: Mapping[str, np.ndarray]) -> SafeLSTMDetector:
        return cls(*get_tensors(tensors, cls.TENSORS))
