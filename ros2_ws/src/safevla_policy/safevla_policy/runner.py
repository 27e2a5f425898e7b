"""One episode of policy control, free of ROS: feed observations, get an action and a latent.

The node calls ``start_episode`` when ``task/episode`` announces one and ``act`` for each new
observation; the runner keeps the step counter and previous action the model conditions on,
and turns the backend's distribution into an action (greedy, or sampled with a seeded RNG).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import numpy as np

from safevla_common.actions import ACTION_NAMES, NO_PREVIOUS_ACTION, NUM_ACTIONS
from safevla_common.latent import LatentStep, distribution_stats
from safevla_policy.backends.base import Observation, PolicyBackend


@dataclass(frozen=True)
class StepResult:
    action: int
    action_name: str
    latent: LatentStep
    step_ms: float


class PolicyRunner:
    def __init__(self, backend: PolicyBackend, sampling: Literal["greedy", "sample"] = "greedy",
                 seed: int = 0) -> None:
        if sampling not in ("greedy", "sample"):
            raise ValueError(f"sampling must be 'greedy' or 'sample', got {sampling!r}")
        self.backend = backend
        self.sampling = sampling
        self._rng = np.random.default_rng(seed)
        self.episode: int | None = None
        self.instruction = ""
        self.step = 0
        self._last_action = NO_PREVIOUS_ACTION

    def warm_up(self, image_hw: tuple[int, int] = (224, 384), steps: int = 3) -> float:
        """Run a few throw-away steps so lazy initialisation (allocator, kernels, caches) happens
        before the first real observation, not inside the monitor's watchdog period.
        Returns the last warm-up step's latency in ms."""
        blank = np.zeros((*image_hw, 3), np.uint8)
        started = 0.0
        for step in range(steps):
            started = time.perf_counter()
            self.backend.step(Observation(blank, blank, "warm up", step, expert_action="rotate_left"))
        self.backend.reset()
        return (time.perf_counter() - started) * 1e3

    def start_episode(self, episode: int, instruction: str, seed: int | None = None) -> None:
        """Begin an episode; ``seed`` reseeds sampling so an episode's actions do not depend on which
        episodes ran before it (rollout pools hand episodes to workers in any order)."""
        if not instruction.strip():
            raise ValueError("empty instruction")
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self.backend.reset()
        self.episode, self.instruction = episode, instruction
        self.step, self._last_action = 0, NO_PREVIOUS_ACTION

    def act(self, nav_rgb: np.ndarray, manip_rgb: np.ndarray, object_in_hand: bool = False,
            expert_action: str | None = None) -> StepResult:
        if self.episode is None:
            raise RuntimeError("act() before start_episode()")
        obs = Observation(nav_rgb, manip_rgb, self.instruction, self.step, self._last_action,
                          object_in_hand, expert_action)
        started = time.perf_counter()
        out = self.backend.step(obs)
        step_ms = (time.perf_counter() - started) * 1e3
        probs = np.asarray(out.probs, dtype=np.float64)
        if probs.shape != (NUM_ACTIONS,) or not np.isfinite(probs).all():
            raise ValueError(f"backend {self.backend.name} returned invalid probabilities {probs.shape}")
        if self.sampling == "greedy":
            action = int(np.argmax(probs))
        else:
            action = int(self._rng.choice(NUM_ACTIONS, p=probs / probs.sum()))
        entropy, max_prob = distribution_stats(probs)
        latent = LatentStep(self.episode, self.step, np.asarray(out.latent, dtype=np.float32), entropy, max_prob)
        self._last_action = action
        self.step += 1
        return StepResult(action, ACTION_NAMES[action], latent, step_ms)
