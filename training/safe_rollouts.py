"""Collect SAFE training data: run a policy checkpoint in the embedded simulator and record, every
step, exactly what the monitor node will see (the backend's latent, the action distribution's
entropy and max probability) plus actions, Safety-CHORES costs and the episode's outcome.

The policy runs through the deployment path (``make_backend`` + ``PolicyRunner``), so a monitor
fitted here scores the same latents the policy node publishes on the robot. A SAFE "task" is a
(task family, target category) pair: held-out categories are the unseen tasks.
"""

from __future__ import annotations

import multiprocessing as mp
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from safe_monitor.rollouts import Rollout


@dataclass(frozen=True)
class CollectJob:
    checkpoint: str
    task: str
    max_steps: int
    seed: int
    backend: str = "model"
    rooms: tuple[int, int] = (2, 4)
    sampling: str = "greedy"


def categories(task: str) -> list[str]:
    """Target object types of a task family, in a fixed order (their index is the SAFE task id)."""
    from thor_sim_bridge.categories import OBJECTNAV_CATEGORIES, PICKUP_CATEGORIES

    chosen = OBJECTNAV_CATEGORIES if task == "ObjectNav" else PICKUP_CATEGORIES
    return [c.object_type for c in chosen]


_worker: dict = {}


def _init_worker(job: CollectJob) -> None:
    import torch

    from safevla_policy.backends import make_backend
    from safevla_policy.runner import PolicyRunner
    from thor_sim_bridge.config import SimConfig
    from thor_sim_bridge.env import HouseEnv

    torch.set_num_threads(1)
    params = {} if job.backend == "expert" else {"checkpoint": job.checkpoint or None, "device": "cpu",
                                                  "num_threads": 1, "seed": job.seed}
    backend = make_backend(job.backend, **params)
    needs_hint = getattr(backend, "needs_expert_hint", False)
    _worker.update(job=job, runner=PolicyRunner(backend, job.sampling, job.seed), hint=needs_hint,
                   env=HouseEnv(SimConfig(task=job.task, max_steps=job.max_steps, expert=needs_hint,
                                           min_rooms=job.rooms[0], max_rooms=job.rooms[1])))


def _run_episode(episode: int) -> Rollout | int:
    """One rollout, or the episode number back when its target category cannot be placed."""
    job: CollectJob = _worker["job"]
    runner, env = _worker["runner"], _worker["env"]
    targets = categories(job.task)
    task_id = episode % len(targets)
    try:
        obs, info = env.reset(seed=job.seed + episode, options={"target_type": targets[task_id]})
    except RuntimeError:  # the category does not occur in these houses (e.g. a bathroom object, one room)
        return episode
    runner.start_episode(episode, info["instruction"], seed=job.seed + episode)
    features, entropy, max_prob, actions, costs = [], [], [], [], []
    done = False
    while not done:
        hint = info["expert_action"] if _worker["hint"] else None
        result = runner.act(obs["nav_rgb"], obs["manip_rgb"], bool(obs["object_in_hand"]), hint)
        obs, _, terminated, truncated, info = env.step(result.action)
        features.append(result.latent.vector)
        entropy.append(result.latent.entropy)
        max_prob.append(result.latent.max_prob)
        actions.append(result.action)
        costs.append(info["cost"])
        done = terminated or truncated
    return Rollout(task_id=task_id, features=np.stack(features), success=bool(info["success"]),
                   task=f"{job.task}/{targets[task_id]}", instruction=runner.instruction, episode=episode,
                   entropy=np.asarray(entropy, np.float32), max_prob=np.asarray(max_prob, np.float32),
                   actions=np.asarray(actions, np.int64), costs=np.asarray(costs, np.float32))


def collect_rollouts(job: CollectJob, episodes: int, workers: int = 2) -> list[Rollout]:
    """Rollouts of episodes 0..episodes-1 (episode g uses seed + g and category g mod n), in episode order;
    episodes whose category cannot be placed in the houses are skipped (and said so)."""
    ctx = mp.get_context("spawn")  # torch and forked threads do not mix
    with ctx.Pool(workers, initializer=_init_worker, initargs=(job,)) as pool:
        rollouts = list(tqdm(pool.imap_unordered(_run_episode, range(episodes)), total=episodes,
                             desc=f"rollouts ({job.task})", unit="ep"))
    kept = sorted((r for r in rollouts if isinstance(r, Rollout)), key=lambda r: r.episode)
    names = categories(job.task)
    skipped = sorted({names[g % len(names)] for g in rollouts if isinstance(g, int)})
    if skipped:
        print(f"skipped {episodes - len(kept)} episodes: {', '.join(skipped)} never occur in houses of "
              f"{job.rooms[0]} to {job.rooms[1]} rooms")
    return kept
