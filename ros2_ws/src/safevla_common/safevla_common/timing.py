"""Steady-clock time and rolling latency statistics (watchdogs never use message stamps)."""

from __future__ import annotations

import time
from collections import deque

import numpy as np


def now() -> float:
    """Seconds on a monotonic clock: immune to wall-clock jumps and to other machines' clocks."""
    return time.monotonic()


class RollingStats:
    """The last ``window`` samples, with percentiles for diagnostics and summaries."""

    def __init__(self, window: int = 10_000) -> None:
        self._samples: deque[float] = deque(maxlen=window)
        self.count = 0

    def add(self, value: float) -> None:
        self._samples.append(value)
        self.count += 1

    def percentile(self, q: float) -> float:
        return float(np.percentile(self._samples, q)) if self._samples else float("nan")

    def summary(self) -> dict[str, float]:
        return {"p50": self.percentile(50), "p95": self.percentile(95), "p99": self.percentile(99),
                "count": float(self.count)}
