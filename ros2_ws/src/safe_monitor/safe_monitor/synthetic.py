"""Synthetic rollouts with a known failure signal, for smoke tests of the whole SAFE pipeline.

Each task has its own feature centre; failing episodes drift along one direction shared by all
tasks, growing over the episode. A detector that learns the direction therefore transfers to
unseen tasks, and one that only memorises tasks does not.
"""

from __future__ import annotations

import numpy as np

from safe_monitor.rollouts import Rollout


def drifting_rollouts(n_tasks: int = 8, per_task: int = 30, dim: int = 16, length: tuple[int, int] = (20, 40),
                      failure_rate: float = 0.5, drift: float = 3.0, noise: float = 1.0,
                      task_spread: float = 1.0, seed: int = 0) -> list[Rollout]:
    """Rollouts whose failures drift by ``drift * (t / T)`` along a shared unit direction; task
    centres are spread with standard deviation ``task_spread`` per dimension, step noise ``noise``.

    Lengths are drawn independently of the outcome, so episode length carries no label signal.
    Entropy rises weakly with the drift too, so token-uncertainty baselines have something to find.
    """
    rng = np.random.default_rng(seed)
    direction = rng.normal(size=dim)
    direction /= np.linalg.norm(direction)
    rollouts = []
    for task in range(n_tasks):
        centre = rng.normal(scale=task_spread, size=dim)
        for episode in range(per_task):
            steps = int(rng.integers(length[0], length[1] + 1))
            failed = bool(rng.random() < failure_rate)
            progress = np.arange(steps) / steps
            shift = drift * progress * failed
            features = centre + noise * rng.normal(size=(steps, dim)) + shift[:, None] * direction
            entropy = np.abs(0.5 + 0.3 * rng.normal(size=steps) + 0.1 * shift)
            rollouts.append(Rollout(
                task_id=task, features=features, success=not failed, task=f"task{task}",
                instruction=f"do task {task}", episode=task * per_task + episode,
                entropy=entropy, max_prob=np.exp(-entropy), costs=rng.random(steps) * failed))
    return rollouts
