"""torchrun with 2 ranks on CPU (gloo): separate episodes per rank, averaged gradients, identical weights."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from training.checkpointing import load_state  # noqa: E402


@pytest.mark.slow
def test_two_ranks_end_with_identical_weights_and_multiplier(tmp_path):
    run = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           str(REPO / "training" / "train.py"), "rl", "--run-dir", str(run), "--device", "cpu", "--num-envs", "1",
           "--rollout-steps", "8", "--total-steps", "32", "--save-every", "1", "--max-steps", "12",
           "--critic-warmup-steps", "0", "--lr", "1e-3", "--cost-limit", "-1", "--lagrange-lr", "0.2",
           "--eval-episodes", "0", "--no-features-in-workers"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    state = load_state(run / "state.pt")
    assert state["world"] == 2 and state["counters"]["global_step"] == 32  # 2 updates x 8 steps x 1 worker x 2 ranks
    ranks = state["ranks"]
    assert ranks[0]["weights"] == ranks[1]["weights"]  # gradients were averaged: the same step on both ranks
    assert ranks[0]["lambda"] == ranks[1]["lambda"] == pytest.approx(state["lagrange"]["multiplier"].item())
    # Each rank played its own episodes: rank r's worker plays g = r, r + 2, r + 4, ...
    assert [r["episodes"][0]["episode"] % 2 for r in ranks] == [0, 1]
    assert not ranks[0]["rng"]["torch"].equal(ranks[1]["rng"]["torch"])  # each rank samples its own actions
