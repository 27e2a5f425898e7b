"""A run SIGKILLed after a checkpoint resumes to exactly the state an uninterrupted run reaches."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from training.checkpointing import load_state  # noqa: E402

# A fresh small policy, one simulator worker, 8-step rollouts, a checkpoint after every update; short
# episodes so that some span rollout boundaries (their prefix and replay are part of what is resumed);
# a negative cost limit makes the multiplier move every update.
RL = ["rl", "--num-envs", "1", "--rollout-steps", "8", "--total-steps", "40", "--save-every", "1",
      "--max-steps", "12", "--critic-warmup-steps", "8", "--lr", "1e-3", "--cost-limit", "-1",
      "--lagrange-lr", "0.2", "--eval-episodes", "0", "--no-features-in-workers"]


def train(run_dir: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    return subprocess.Popen([sys.executable, str(REPO / "training" / "train.py"), *RL, "--run-dir", str(run_dir),
                             *extra], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(proc: subprocess.Popen) -> None:
    out, _ = proc.communicate(timeout=240)
    assert proc.returncode == 0, out[-3000:]


def saved_update(run_dir: Path) -> int:
    try:
        return int(load_state(run_dir / "state.pt")["counters"]["update"])
    except (FileNotFoundError, RuntimeError, EOFError):
        return -1


@pytest.mark.slow
def test_sigkill_then_resume_matches_an_uninterrupted_run(tmp_path):
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    ref_proc = train(reference)
    proc = train(killed)
    deadline = time.time() + 200
    while saved_update(killed) < 2:
        assert proc.poll() is None, proc.communicate()[0][-3000:]
        assert time.time() < deadline, "no checkpoint within 200 s"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finish(ref_proc)
    at_kill = load_state(killed / "state.pt")["counters"]
    assert 2 <= at_kill["update"] < 5, at_kill  # killed part-way, after a checkpoint

    finish(train(killed, "--resume"))
    a, b = load_state(reference / "state.pt"), load_state(killed / "state.pt")
    assert a["counters"] == b["counters"] == {"update": 5, "global_step": 40, "episodes": a["counters"]["episodes"]}
    assert a["lagrange"]["multiplier"].item() == b["lagrange"]["multiplier"].item() > 0.001
    assert a["ranks"][0]["weights"] == b["ranks"][0]["weights"]  # bit-identical weights
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key
    assert a["ranks"][0]["episodes"][0]["actions"] == b["ranks"][0]["episodes"][0]["actions"]

    # Resuming with other settings, or starting over in a run folder, is refused with a clear message.
    changed, again = train(killed, "--resume", "--lr", "0.5"), train(killed)
    for proc, message in ((changed, "lr: saved 0.001, now 0.5"), (again, "pass --resume")):
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode != 0 and message in out, out[-2000:]
