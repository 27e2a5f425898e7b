"""Atomic writes (also under SIGKILL), RNG state round trips, config strictness, the exported policy folder."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from safevla_policy.backends import make_backend  # noqa: E402
from safevla_policy.backends.base import Observation  # noqa: E402
from safevla_policy.checkpoints import load_policy  # noqa: E402
from training import checkpointing  # noqa: E402
from training.checkpointing import (atomic_torch_save, atomic_write_bytes, export_policy, load_state,  # noqa: E402
                                    rng_state, set_rng_state)
from training.configs import RLConfig, check_resume, load_saved_config, save_config  # noqa: E402

WRITER = """
import sys
sys.path.insert(0, {repo!r})
from training.checkpointing import atomic_write_bytes
i = 0
while True:
    atomic_write_bytes({path!r}, bytes([i % 2 + 65]) * 3_000_000)
    i += 1
"""


def test_failed_write_leaves_the_old_file_and_no_temporaries(tmp_path, monkeypatch):
    target = tmp_path / "state.pt"
    atomic_write_bytes(target, b"old")
    for broken in ("fsync", "replace"):
        with monkeypatch.context() as m:
            m.setattr(checkpointing.os, broken, lambda *a: (_ for _ in ()).throw(OSError(f"{broken} failed")))
            with pytest.raises(OSError, match=broken):
                atomic_write_bytes(target, b"new" * 1000)
        assert target.read_bytes() == b"old"
        assert os.listdir(tmp_path) == ["state.pt"]


@pytest.mark.slow
def test_sigkill_during_writes_never_leaves_a_torn_file(tmp_path):
    target = tmp_path / "big.bin"
    proc = subprocess.Popen([sys.executable, "-c", WRITER.format(repo=str(REPO), path=str(target))])
    try:
        deadline = time.time() + 60
        while not target.exists():
            assert time.time() < deadline and proc.poll() is None
            time.sleep(0.01)
        for _ in range(5):
            time.sleep(random.uniform(0.05, 0.2))
            data = target.read_bytes()
            assert len(data) == 3_000_000 and len(set(data)) == 1
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    data = target.read_bytes()
    assert len(data) == 3_000_000 and len(set(data)) == 1  # a whole A-file or a whole B-file


def test_rng_states_survive_a_weights_only_round_trip(tmp_path):
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    atomic_torch_save({"rng": rng_state()}, tmp_path / "s.pt")
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    set_rng_state(load_state(tmp_path / "s.pt")["rng"])
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first


def test_saved_configs_are_strict(tmp_path):
    cfg = RLConfig(run_dir=tmp_path, lr=1e-4)
    save_config(cfg, tmp_path)
    check_resume(RLConfig(run_dir=tmp_path, lr=1e-4, resume=True, total_steps=5))  # budget may change
    with pytest.raises(ValueError, match="lr: saved 0.0001, now 0.001"):
        check_resume(RLConfig(run_dir=tmp_path, lr=1e-3, resume=True))
    data = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**data, "learning_rate": 1}))
    with pytest.raises(ValueError, match="unknown config keys.*learning_rate"):
        load_saved_config(tmp_path, RLConfig)


@pytest.mark.slow
def test_exported_folder_loads_in_the_backend_in_fp32_and_fp16(tmp_path):
    policy = load_policy("small", None, seed=3)
    export_policy(policy, tmp_path / "fp32")
    export_policy(policy, tmp_path / "fp16", dtype=torch.float16)
    assert {p.name for p in (tmp_path / "fp32").iterdir()} == {"config.json", "model.safetensors", "dinov2"}
    size = lambda f: (tmp_path / f / "model.safetensors").stat().st_size  # noqa: E731
    assert size("fp16") < 0.6 * size("fp32")
    obs = Observation(np.full((224, 384, 3), 90, np.uint8), np.zeros((224, 384, 3), np.uint8), "find a mug", 0)
    probs = [make_backend("model", checkpoint=str(tmp_path / f), device="cpu").step(obs).probs for f in ("fp32", "fp16")]
    fresh = make_backend("model", config="small", seed=3, device="cpu").step(obs).probs
    np.testing.assert_allclose(probs[0], fresh, atol=1e-6)
    np.testing.assert_allclose(probs[1], fresh, atol=2e-3)
