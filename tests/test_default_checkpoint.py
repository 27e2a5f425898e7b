"""The committed defaults of `make sim`: the trained checkpoint and its SAFE monitor fit together."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from safe_monitor.monitor_file import load_monitor, read_monitor_info
from safevla_policy.backends import make_backend
from safevla_policy.runner import PolicyRunner
from thor_sim_bridge.config import SimConfig
from thor_sim_bridge.env import HouseEnv

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINT = ROOT / "checkpoints" / "objectnav_small"


def test_make_sim_defaults_to_the_committed_checkpoint():
    makefile = (ROOT / "Makefile").read_text()
    default = re.search(r"^CHECKPOINT \?= (\S+)$", makefile, re.M)
    assert default and ROOT / default.group(1) == CHECKPOINT
    assert re.search(r"^BACKEND \?= model$", makefile, re.M)


def test_checkpoint_acts_and_its_monitor_reads_its_latents():
    backend = make_backend("model", checkpoint=str(CHECKPOINT), device="cpu", num_threads=1)
    runner = PolicyRunner(backend, "sample", seed=0)
    env = HouseEnv(SimConfig(task="ObjectNav", max_steps=5, expert=False, min_rooms=1, max_rooms=1))
    obs, info = env.reset(seed=1000)
    runner.start_episode(0, info["instruction"], seed=0)
    result = runner.act(obs["nav_rgb"], obs["manip_rgb"])
    assert result.latent.vector.shape == (backend.latent_dim,) and np.isfinite(result.latent.vector).all()

    monitor = CHECKPOINT / "monitor.safetensors"
    assert read_monitor_info(monitor).latent_dim == backend.latent_dim
    detector = load_monitor(monitor, expected_latent_dim=backend.latent_dim)
    detector.reset()
    assert np.isfinite(detector.score(result.latent)) and np.isfinite(detector.threshold(0))
