"""SafeVLA training on the embedded simulator: ``python training/train.py {il,rl,eval,safe} [--help]``.

    python training/train.py il   --run-dir runs/train/il            # imitation from the expert
    python training/train.py rl   --init runs/train/il/policy        # PPO-Lagrangian (--algo ppo: baseline)
    python training/train.py eval --checkpoint runs/train/rl/policy  # success, SPL, SEL, costs
    python training/train.py safe --checkpoint runs/train/rl/policy  # SAFE monitor: fit, calibrate, report
    torchrun --nproc-per-node 2 training/train.py rl ...              # data-parallel (gloo on CPU, nccl on GPU)

A small dispatcher: each subcommand is one entry of ``STAGES`` (its config dataclass and the
"module:function" that runs it, imported only when chosen). docs/training.md has the exact commands
behind checkpoints/objectnav_small/.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any, Callable

# Runnable as a script (python training/train.py, torchrun training/train.py) or as python -m training.train.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# Idle torch threads sleep instead of spinning (we share CPU cores with simulator workers); see backends/__init__.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# No per-file progress bars from Hugging Face loaders (here and in the simulator workers, which inherit it).
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

import tyro  # noqa: E402

from training.configs import EvalConfig, ILConfig, RLConfig  # noqa: E402
from training.safe_fit import SafeConfig  # noqa: E402

# subcommand -> (config dataclass, "module:function" taking that config). Adding a stage is one entry.
STAGES: dict[str, tuple[type, str]] = {
    "il": (ILConfig, "training.il:train_il"),
    "rl": (RLConfig, "training.ppo_lag:train_rl"),
    "eval": (EvalConfig, "training.evaluate:run_eval"),
    "safe": (SafeConfig, "training.safe_fit:run_safe"),
}


def runner(name: str) -> Callable[[Any], Any]:
    module, _, function = STAGES[name][1].partition(":")
    return getattr(importlib.import_module(module), function)


def main(argv: list[str] | None = None) -> Any:
    config = tyro.extras.subcommand_cli_from_dict({name: cls for name, (cls, _) in STAGES.items()}, args=argv,
                                                  prog="train.py", description=__doc__.split("\n\n")[0])
    name = next(name for name, (cls, _) in STAGES.items() if type(config) is cls)
    return runner(name)(config)


if __name__ == "__main__":
    main()
