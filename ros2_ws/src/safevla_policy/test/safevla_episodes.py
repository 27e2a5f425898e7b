"""Synthetic episodes for the policy tests (a module of its own: conftest names clash across packages)."""

from __future__ import annotations

import numpy as np

from safevla_policy.backends.base import Observation

INSTRUCTION = "find a mug and pick up that mug"


def random_observations(n: int, seed: int = 0, instruction: str = INSTRUCTION) -> list[Observation]:
    """An episode of random frames with a plausible previous-action sequence."""
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 256, size=(n, 2, 224, 384, 3), dtype=np.uint8)
    actions = rng.integers(0, 20, size=n)
    return [Observation(frames[t, 0], frames[t, 1], instruction, t,
                        int(actions[t - 1]) if t else 20, bool(t % 3 == 0)) for t in range(n)]
