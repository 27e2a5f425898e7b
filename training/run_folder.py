"""A stage's run folder: config.json on start, state.pt on --resume, TensorBoard under tb/, the end summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from torch.utils.tensorboard import SummaryWriter

from training import distributed
from training.checkpointing import STATE_FILE, load_state
from training.configs import CommonConfig, check_resume, save_config
from training.distributed import Dist
from training.evaluate import metrics_table

TB_DIR = "tb"


def validate(cfg: CommonConfig, max_context: int | None = None) -> None:
    """Errors that would otherwise surface minutes into a run."""
    problems = []
    if cfg.num_envs < 1:
        problems.append(f"num_envs must be >= 1, got {cfg.num_envs}")
    if max_context is not None and cfg.max_steps > max_context:
        problems.append(f"max_steps ({cfg.max_steps}) exceeds the model's max_context ({max_context}): training "
                        "sequences must fit the decoder's context")
    if problems:
        raise ValueError("; ".join(problems))


def start(cfg: CommonConfig, dist: Dist) -> dict[str, Any] | None:
    """Create (or, with --resume, check) the run folder; returns the saved state when resuming."""
    folder = Path(cfg.run_dir)
    if dist.main:
        if cfg.resume:
            check_resume(cfg)
        else:
            if (folder / STATE_FILE).exists():
                raise FileExistsError(f"{folder} already holds a run ({STATE_FILE}); pass --resume to continue it "
                                      "or choose another --run-dir")
            folder.mkdir(parents=True, exist_ok=True)
            save_config(cfg, folder)
    distributed.barrier(dist)
    return load_state(folder / STATE_FILE) if cfg.resume else None


def writer(cfg: CommonConfig, dist: Dist, step: int) -> SummaryWriter | None:
    """Rank 0's TensorBoard writer; on resume, events after ``step`` (written after the last save) are purged."""
    if not dist.main:
        return None
    return SummaryWriter(str(Path(cfg.run_dir) / TB_DIR), purge_step=step if cfg.resume else None)


def log_scalars(w: SummaryWriter | None, scalars: dict[str, float], step: int) -> None:
    if w is None:
        return
    for key, value in scalars.items():
        w.add_scalar(key, value, step)


def print_summary(title: str, metrics: dict[str, Any], extra: dict[str, Any]) -> None:
    Console().print(metrics_table(title, metrics, extra))
