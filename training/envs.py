"""How training starts simulator workers: ``VectorHouseEnv`` processes forked from a preloaded server.

Workers that compute DINOv2 features import torch and transformers, several seconds per process with
``spawn``. A ``forkserver`` whose process has imported them once forks each worker ready-made (CUDA is
never touched there, so forking is safe), which matters when a run starts simulators several times
(demos, then evaluation) and in the tests.
"""

from __future__ import annotations

import multiprocessing as mp

from thor_sim_bridge.config import SimConfig
from thor_sim_bridge.vector_env import VectorHouseEnv

from training.features import DinoFeaturizer

PRELOAD_SIM = ["thor_sim_bridge.env"]
PRELOAD_FEATURES = ["training.features", "transformers.models.dinov2"]


def sim_config(cfg, *, max_steps: int, expert: bool) -> SimConfig:
    """The simulator settings of a stage config (task and house size) for training or evaluation."""
    return SimConfig(task=cfg.task, max_steps=max_steps, expert=expert, min_rooms=cfg.min_rooms,
                     max_rooms=cfg.max_rooms)


def make_envs(sim: SimConfig, num_envs: int, *, base_seed: int, first_episode: int = 0, stride: int | None = None,
              featurizer: DinoFeaturizer | None = None) -> VectorHouseEnv:
    """Simulator workers; with a featurizer they send DINOv2 features instead of frames."""
    mp.set_forkserver_preload(PRELOAD_SIM + (PRELOAD_FEATURES if featurizer is not None else []))
    return VectorHouseEnv(sim, num_envs, base_seed=base_seed, first_episode=first_episode, stride=stride,
                          obs_fn=featurizer, start_method="forkserver")
