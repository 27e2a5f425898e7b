"""Checkpoints that survive a SIGKILL: atomic writes, the resume state, the exported policy folder.

Every file is written to a temporary file in the same folder, flushed and fsynced, then renamed over
the target with ``os.replace`` (atomic on POSIX), and the folder is fsynced: a reader sees the old file
or the new one, never half of one. A run folder holds

- ``state.pt``: everything ``--resume`` needs in one file (model, optimizers, Lagrange multiplier, step
  counters, python/numpy/torch RNG states, per rank the simulator episode counters and the running
  episodes' actions), read back with ``torch.load(weights_only=True)`` (design rule 6);
- ``policy/``: the policy in safevla_policy's folder format (config.json, model.safetensors, dinov2/),
  which ``make_backend("model", checkpoint=folder)`` and the policy node load directly.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from safevla_policy.checkpoints import DINO_DIR, WEIGHTS_FILE, LoadedPolicy
from safevla_policy.configuration_safevla import CONFIG_FILE

STATE_FILE = "state.pt"
POLICY_DIR = "policy"
FILE_MODE, DIR_MODE = 0o644, 0o755


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that ``path`` is never seen half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)  # mkstemp makes 0600; checkpoints are read by other users' nodes
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def atomic_torch_save(obj: Any, path: str | Path) -> Path:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return atomic_write_bytes(path, buffer.getvalue())


def load_state(path: str | Path) -> dict[str, Any]:
    """Read a state.pt without executing code."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--resume: no {STATE_FILE} at {path}; the run saved no checkpoint yet "
                                "(drop --resume to start over)")
    return torch.load(path, map_location="cpu", weights_only=True)


def weights_digest(module: torch.nn.Module) -> str:
    """SHA-256 of every parameter's bytes: equal digests on all DDP ranks mean identical weights."""
    digest = hashlib.sha256()
    for name, p in module.named_parameters():
        digest.update(name.encode())
        digest.update(p.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def check_world(state: dict[str, Any], dist: Any) -> None:
    """A state holds per-rank parts (RNG, simulator episodes): resume with the same number of ranks."""
    if int(state["world"]) != dist.world:
        raise ValueError(f"--resume with {dist.world} rank(s), but the run was saved with {state['world']}; "
                         "restart torchrun with the original --nproc-per-node")


# ------------------------------------------------------------------------------------ RNG states
def rng_state() -> dict[str, Any]:
    """python, numpy (legacy global) and torch RNG states as plain data (weights_only-loadable)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {"python": random.getstate(), "torch": torch.get_rng_state(),
             "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                       "has_gauss": int(has_gauss), "gauss": float(gauss)}}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


# ------------------------------------------------------------------------------------ policy folder
def policy_tensors(policy: LoadedPolicy, dtype: torch.dtype | None = None) -> dict[str, torch.Tensor]:
    """The model's state dict in the checkpoint key layout; tied T5 weights get a copy each (safetensors)."""
    seen: set[int] = set()
    tensors = {}
    for key, value in policy.model.state_dict().items():
        value = value.detach().cpu()
        if dtype is not None and value.is_floating_point():
            value = value.to(dtype)
        ptr = value.data_ptr()
        tensors[key] = value.clone().contiguous() if ptr in seen else value.contiguous()
        seen.add(ptr)
    return tensors


def export_policy(policy: LoadedPolicy, folder: str | Path, dtype: torch.dtype | None = None,
                  metadata: dict[str, str] | None = None) -> Path:
    """Write ``folder`` in safevla_policy's format, each file atomically.

    config.json and the frozen dinov2/ never change during a run, so only model.safetensors is rewritten
    on later saves; ``dtype=torch.float16`` halves the file (loading casts back to the model's dtype).
    """
    from safetensors.torch import save

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(folder / CONFIG_FILE, (json.dumps(policy.config.to_dict(), indent=2) + "\n").encode())
    meta = {"format": "pt", "config": policy.config.name, **(metadata or {})}
    atomic_write_bytes(folder / WEIGHTS_FILE, save(policy_tensors(policy, dtype), metadata=meta))
    if not (folder / DINO_DIR).is_dir():
        tmp = Path(tempfile.mkdtemp(prefix=f".{DINO_DIR}.", dir=folder))
        tmp.chmod(DIR_MODE)
        policy.dino.dino.save_pretrained(str(tmp))
        os.replace(tmp, folder / DINO_DIR)
        _fsync_dir(folder)
    return folder

