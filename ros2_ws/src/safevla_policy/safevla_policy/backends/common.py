"""Episode bookkeeping shared by the torch and ONNX Runtime backends.

A backend keeps, per episode: the instruction's text features (computed once), the decoder's KV cache
and how many steps it holds. The rules, in one place:
- ``reset()`` or an observation with ``step == 0`` starts a new episode (empty cache);
- once the cache holds ``max_context`` steps it restarts empty, as SafeVLA's step counter did;
- the time encoding always uses the observation's own step index.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from safevla_common.actions import NO_PREVIOUS_ACTION
from safevla_common.timing import RollingStats, now
from safevla_policy.backends.base import Observation, PolicyOutput
from safevla_policy.processor_safevla import SafeVLAProcessor


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities in float64 that sum to 1 to rounding."""
    z = np.asarray(logits, dtype=np.float64).reshape(-1)
    e = np.exp(z - z.max())
    return e / e.sum()


def check_observation(obs: Observation) -> None:
    """Raise ValueError naming the defect (the node drops such observations, design rule 4)."""
    if not isinstance(obs.step, (int, np.integer)) or obs.step < 0:
        raise ValueError(f"step must be an integer >= 0, got {obs.step!r}")
    if not isinstance(obs.last_action, (int, np.integer)) or not 0 <= obs.last_action <= NO_PREVIOUS_ACTION:
        raise ValueError(f"last_action must be an action index or NO_PREVIOUS_ACTION ({NO_PREVIOUS_ACTION}), "
                         f"got {obs.last_action!r}")


class CachedPolicyBackend(ABC):
    """A SafeVLA backend: subclasses supply text encoding and one cached step; this class runs episodes."""

    name: str
    latent_dim: int

    def __init__(self, processor: SafeVLAProcessor, has_critic: bool) -> None:
        self.processor = processor
        self.config = processor.config
        self.latent_dim = self.config.hidden_size
        self.has_critic = has_critic
        self.timing = {stage: RollingStats(1000) for stage in ("preprocess", "text", "step")}
        self.reset()

    # --- what a runtime provides ---
    @abstractmethod
    def _encode_text(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> Any:
        """Token ids (1, L) -> the runtime's text features (kept for the episode)."""

    @abstractmethod
    def _empty_cache(self) -> Any:
        """A KV cache holding no steps."""

    @abstractmethod
    def _run_step(self, nav: np.ndarray, manip: np.ndarray, text: Any, last_action: int,
                  object_in_hand: int, step: int, cache: Any) -> tuple[np.ndarray, float, np.ndarray, Any]:
        """One step -> (logits (A,), value, belief (D,) float32, new cache)."""

    # --- PolicyBackend ---
    def reset(self) -> None:
        self._cache = None
        self._steps_in_context = 0
        self._instruction: str | None = None
        self._text = None

    def step(self, obs: Observation) -> PolicyOutput:
        check_observation(obs)
        if obs.step == 0 and self._steps_in_context:
            self.reset()
        t0 = now()
        nav, manip = self.processor.preprocess_images(obs.nav_rgb, obs.manip_rgb)
        t1 = now()
        if obs.instruction != self._instruction:
            ids, mask = self.processor.tokenize(obs.instruction)
            self._text, self._instruction = self._encode_text(ids, mask), obs.instruction
        t2 = now()
        if self._cache is None or self._steps_in_context >= self.config.max_context:
            self._cache, self._steps_in_context = self._empty_cache(), 0
        logits, value, belief, self._cache = self._run_step(
            nav, manip, self._text, int(obs.last_action), int(bool(obs.object_in_hand)), int(obs.step), self._cache)
        self._steps_in_context += 1
        t3 = now()
        for stage, dt in (("preprocess", t1 - t0), ("text", t2 - t1), ("step", t3 - t2)):
            self.timing[stage].add(dt)
        return PolicyOutput(probs=softmax(logits), latent=np.asarray(belief, dtype=np.float32).reshape(-1),
                            value=float(value) if self.has_critic else None)

    def timings(self) -> dict[str, dict[str, float]]:
        """Rolling p50/p95/p99 seconds per stage (preprocess, text, step) for diagnostics."""
        return {stage: stats.summary() for stage, stats in self.timing.items()}
