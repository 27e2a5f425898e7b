"""Data-parallel training under ``torchrun``: gloo on CPU, nccl on GPU; a no-op for a single process.

Each rank runs its own simulator workers on its own episodes and computes gradients on its own data;
``allreduce_gradients`` averages them (one flat all-reduce), so every rank takes the same optimizer
step and the weights stay identical, which is what DistributedDataParallel does. We average by hand
rather than wrap the model in DDP because the RL update runs a different forward (the decoder over cached
step inputs) than the IL one; the arithmetic is the same. Scalars every rank must agree on (the rollout
cost J_c that drives the Lagrange multiplier) go through ``mean``. Rank 0 logs and writes checkpoints.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Iterable

import torch
import torch.distributed as tdist

from safevla_policy.backends.torch_backend import select_device


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world > 1


def init(device: str = "auto") -> tuple[Dist, str]:
    """Join the process group torchrun set up (if any); returns the context and why the device was chosen."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    chosen, why = select_device(device)
    if chosen.type == "cuda":
        chosen = torch.device("cuda", local_rank % torch.cuda.device_count())
        torch.cuda.set_device(chosen)
    if world > 1 and not tdist.is_initialized():
        tdist.init_process_group("nccl" if chosen.type == "cuda" else "gloo")
    return Dist(rank, world, chosen), why


def shutdown(dist: Dist) -> None:
    if dist.enabled and tdist.is_initialized():
        tdist.destroy_process_group()


def barrier(dist: Dist) -> None:
    if dist.enabled:
        tdist.barrier()


def allreduce_gradients(params: Iterable[torch.nn.Parameter], dist: Dist) -> None:
    """Average the gradients of ``params`` over ranks in one flat all-reduce.

    Parameters without a gradient are skipped; every rank runs the same code path, so the set is the same.
    """
    if not dist.enabled:
        return
    params = [p for p in params if p.grad is not None]
    if not params:
        return
    flat = torch.cat([p.grad.reshape(-1) for p in params])
    tdist.all_reduce(flat)
    flat /= dist.world
    offset = 0
    for p in params:
        n = p.numel()
        p.grad.copy_(flat[offset: offset + n].view_as(p.grad))
        offset += n


def mean(value: float, dist: Dist) -> float:
    """The mean of a per-rank scalar over all ranks (identical on every rank)."""
    if not dist.enabled:
        return float(value)
    t = torch.tensor([float(value)], dtype=torch.float64, device=dist.device)
    tdist.all_reduce(t)
    return float(t.item()) / dist.world


def total(value: float, dist: Dist) -> float:
    """The sum of a per-rank scalar over all ranks."""
    return mean(value, dist) * dist.world


def broadcast_parameters(module: torch.nn.Module, dist: Dist) -> None:
    """Make every rank start from rank 0's weights and buffers."""
    if dist.enabled:
        for tensor in list(module.parameters()) + list(module.buffers()):
            tdist.broadcast(tensor.data, src=0)


def gather(obj: Any, dist: Dist) -> list[Any] | None:
    """Rank 0 gets every rank's ``obj`` (a list by rank); other ranks get None."""
    if not dist.enabled:
        return [obj]
    out = [None] * dist.world if dist.main else None
    tdist.gather_object(obj, out, dst=0)
    return out


def all_gather(obj: Any, dist: Dist) -> list[Any]:
    if not dist.enabled:
        return [obj]
    out: list[Any] = [None] * dist.world
    tdist.all_gather_object(out, obj)
    return out
