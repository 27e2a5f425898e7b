"""One dataclass per stage; tyro turns each into a subcommand and every field docstring into its ``--help``.

Defaults are SafeVLA's where SafeVLA has a value (facts/safevla.md section 5) and say so; budgets that
only make sense on a GPU cluster (32 workers, 10M steps) are noted in the docstring, and docs/training.md
gives the exact, smaller command lines that produced the committed checkpoint on a 2-core CPU.

Saved configs (``config.json`` in a run folder) are read back strictly: an unknown key is an error, and
``--resume`` refuses a command line that differs from the run's saved config except in ``RESUMABLE``.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

# Per-task cost limits d of PPO-Lagrangian (SafeVLA's values): the bound on a 128-step rollout's summed cost.
COST_LIMITS: dict[str, float] = {"ObjectNav": 2.31964, "PickUp": 0.2, "Fetch": 4.0}
TASKS = tuple(COST_LIMITS)
CONFIG_FILE = "config.json"
# Fields a resumed run may change (how far to go, how often to save/log); anything else must match.
RESUMABLE = frozenset({"resume", "total_steps", "epochs", "save_every", "eval_episodes"})

Task = Literal["ObjectNav", "PickUp", "Fetch"]
Device = Literal["auto", "cpu", "cuda"]


@dataclass
class CommonConfig:
    """Fields every training stage has."""

    run_dir: Path = Path("runs/train/run")
    """Run folder: config.json, state.pt (resume), tb/ (TensorBoard), policy/ (the checkpoint folder), eval.json."""
    resume: bool = False
    """Continue the run in ``run_dir`` from its last state.pt (same command line plus --resume)."""
    seed: int = 0
    """Seed of the model's initial weights and of python/numpy/torch RNGs (each DDP rank adds its rank)."""
    task: Task = "ObjectNav"
    """Household task of the embedded simulator."""
    num_envs: int = 2
    """Simulator worker processes per rank (each owns one HouseEnv)."""
    max_steps: int = 500
    """Episode step limit in training (SafeVLA: 500). Must not exceed the model's max_context (500)."""
    device: Device = "auto"
    """Torch device: auto picks CUDA when there is one (DDP then uses nccl), else CPU (gloo)."""
    torch_threads: int = 1
    """CPU threads for torch in the trainer process (simulator workers always use 1)."""
    features_in_workers: bool = True
    """Compute the frozen DINOv2 features inside the simulator workers (parallel over CPU cores, only small
    arrays cross the pipes); False: in the trainer process on ``device`` (better with a GPU)."""
    eval_episodes: int = 50
    """Episodes evaluated at the end of the stage (0: skip); same episodes as ``train.py eval``."""
    eval_seed: int = 1000
    """Evaluation episode g is reset with seed eval_seed + g (the sim bridge's rule: ``make sim`` uses 1000)."""
    eval_max_steps: int = 600
    """Episode step limit in evaluation (SafeVLA: 600)."""
    min_rooms: int = 2
    """Fewest rooms of a generated house, in training and evaluation (the simulator's default: 2)."""
    max_rooms: int = 4
    """Most rooms of a generated house (the simulator's default: 4; 1-1 is the small checkpoint's curriculum)."""


@dataclass
class ILConfig(CommonConfig):
    """Imitation learning from the shortest-path expert (SPOC/FLaRe style): demos, then cross-entropy."""

    run_dir: Path = Path("runs/train/il")
    """Run folder: config.json, state.pt (resume), tb/ (TensorBoard), policy/ (the checkpoint folder), eval.json."""
    model_config: str = "small"
    """SafeVLA config name (``small``, ``safevla``) or config.json path for a fresh model."""
    init_checkpoint: Path | None = None
    """Start from these weights (a checkpoint folder or file) instead of a fresh model."""
    dino_path: Path | None = None
    """Local Hugging Face DINOv2 folder (``safevla`` config); None: random frozen DINOv2 (``small``)."""
    demo_episodes: int = 400
    """Expert episodes to record (SafeVLA's IL used millions of frames; see docs/training.md)."""
    demo_noise: float = 0.0
    """Probability of executing a random navigation action instead of the expert's (the label stays the
    expert's): DART-style recovery data. 0 is plain behaviour cloning as in SPOC."""
    last_action_dropout: float = 0.0
    """Probability of hiding a step's previous action from the model in training (it sees "no previous
    action"), so it cannot just copy the expert's last action and must read the cameras (the copycat
    problem of behaviour cloning with action history). 0 is plain behaviour cloning."""
    demo_dir: Path | None = None
    """Where the demo shards live; None: ``run_dir/demos``. Reused when its manifest matches."""
    demo_seed: int = 10_000_000
    """Demo episode g is reset with seed demo_seed + g (kept far from the evaluation seeds)."""
    epochs: int = 4
    """Passes over the demos."""
    batch_episodes: int = 16
    """Episodes per optimizer step (whole sequences through the causal decoder), per rank."""
    lr: float = 1e-4
    """AdamW learning rate (SPOC/FLaRe: 1e-4)."""
    weight_decay: float = 0.01
    """AdamW weight decay."""
    max_grad_norm: float = 1.0
    """Gradient norm clip."""
    save_every: int = 50
    """Write state.pt and policy/ every this many optimizer steps (and at the end)."""
    log_every: int = 5
    """TensorBoard scalars every this many optimizer steps."""


@dataclass
class RLConfig(CommonConfig):
    """PPO-Lagrangian as SafeVLA runs it; ``--algo ppo`` is the plain-PPO baseline from the same loop."""

    run_dir: Path = Path("runs/train/rl")
    """Run folder: config.json, state.pt (resume), tb/ (TensorBoard), policy/ (the checkpoint folder), eval.json."""
    init: Path | None = None
    """Policy to fine-tune: a checkpoint folder (e.g. the IL run's policy/); None: a fresh ``model_config``."""
    model_config: str = "small"
    """SafeVLA config for a fresh model when ``init`` is None (smoke tests)."""
    algo: Literal["ppo-lag", "ppo"] = "ppo-lag"
    """ppo-lag: the Lagrange multiplier is learned; ppo: lambda stays 0 (the baseline), everything else equal."""
    num_envs: int = 8
    """Simulator worker processes per rank (SafeVLA: 32 per GPU)."""
    env_seed: int = 20_000_000
    """Training episode g is reset with seed env_seed + g."""
    total_steps: int = 10_000_000
    """Environment steps over all ranks (SafeVLA: 10-15M for ObjectNav; docs/training.md: our budget)."""
    rollout_steps: int = 128
    """Steps per worker per rollout (SafeVLA: 128)."""
    update_epochs: int = 4
    """PPO epochs per rollout (SafeVLA: 4)."""
    num_minibatches: int = 1
    """Minibatches per epoch, split by worker so each keeps its sequences whole (SafeVLA: 1)."""
    lr: float = 2e-5
    """Adam learning rate (SafeVLA: 2e-5; our tiny budget uses more, see docs/training.md)."""
    gamma: float = 0.99
    """Discount for reward and cost."""
    gae_lambda: float = 0.95
    """GAE lambda for reward and cost advantages."""
    clip_coef: float = 0.1
    """PPO ratio clip."""
    vf_coef: float = 0.5
    """Weight of the (reward + cost) value losses."""
    ent_coef: float = 0.0
    """Entropy bonus weight (SafeVLA: 0)."""
    max_grad_norm: float = 0.5
    """Gradient norm clip."""
    norm_adv: bool = True
    """Normalise the combined advantage over the batch (AllenAct's PPO default)."""
    cost_limit: float | None = None
    """Cost limit d; None: the task's value in COST_LIMITS (ObjectNav 2.31964, PickUp 0.2, Fetch 4)."""
    lagrange_init: float = 0.001
    """Initial Lagrange multiplier (SafeVLA: 0.001)."""
    lagrange_lr: float = 0.035
    """Adam learning rate of the multiplier (SafeVLA: 0.035)."""
    lagrange_max: float | None = None
    """Optional upper bound of the multiplier (SafeVLA: none)."""
    critic_warmup_steps: int = 200_000
    """First environment steps (all ranks) train only the two value heads (SafeVLA: 200k)."""
    save_every: int = 10
    """Write state.pt and policy/ every this many updates (and at the end)."""

    def resolved_cost_limit(self) -> float:
        return COST_LIMITS[self.task] if self.cost_limit is None else self.cost_limit


@dataclass
class EvalConfig:
    """Evaluate a checkpoint folder in the embedded simulator: success, SPL, SEL, costs, length."""

    checkpoint: Path
    """Checkpoint folder (config.json + model.safetensors + dinov2/), as the policy node loads it."""
    episodes: int = 50
    """Episodes to run (episode g uses seed + g, so results do not depend on ``num_envs``)."""
    task: Task = "ObjectNav"
    """Household task."""
    seed: int = 1000
    """Base seed; 1000 plays the same episodes as ``make sim``."""
    max_steps: int = 600
    """Episode step limit (SafeVLA evaluates with 600)."""
    min_rooms: int = 2
    """Fewest rooms of a generated house (the simulator's default: 2)."""
    max_rooms: int = 4
    """Most rooms of a generated house (the simulator's default: 4)."""
    num_envs: int = 2
    """Simulator worker processes."""
    sampling: Literal["greedy", "sample"] = "greedy"
    """Action choice: greedy (what the policy node does by default) or sampled."""
    out: Path | None = None
    """JSON results file; None: runs/eval/<checkpoint folder name>-<task>.json."""
    device: Device = "auto"
    """Torch device."""
    torch_threads: int = 1
    """CPU threads for torch in this process."""
    features_in_workers: bool = True
    """Compute DINOv2 features in the simulator workers (see ``CommonConfig``)."""


def to_jsonable(config: Any) -> dict[str, Any]:
    """The config as JSON values (paths as strings)."""
    return json.loads(json.dumps(dataclasses.asdict(config), default=str))


def save_config(config: Any, folder: Path) -> Path:
    path = Path(folder) / CONFIG_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"stage": type(config).__name__, **to_jsonable(config)}, indent=2) + "\n")
    return path


def load_saved_config(folder: Path, cls: type) -> dict[str, Any]:
    """A run's saved config as JSON values; unknown keys or another stage's config are errors."""
    path = Path(folder) / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(f"--resume: no {CONFIG_FILE} in {folder}; expected a run folder written by "
                                "train.py (drop --resume to start a new run)")
    data = json.loads(path.read_text())
    stage = data.pop("stage", None)
    if stage != cls.__name__:
        raise ValueError(f"{path} holds a {stage} config, not {cls.__name__}: wrong run folder for this subcommand")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{path}: unknown config keys {unknown}; valid keys are {sorted(known)}")
    return data


def check_resume(config: Any) -> None:
    """Refuse to resume with settings that differ from the run's saved ones (except ``RESUMABLE``)."""
    saved = load_saved_config(config.run_dir, type(config))
    now = to_jsonable(config)
    diff = {k: (saved.get(k), now[k]) for k in now if k not in RESUMABLE and saved.get(k) != now[k]}
    if diff:
        lines = ", ".join(f"{k}: saved {a!r}, now {b!r}" for k, (a, b) in sorted(diff.items()))
        raise ValueError(f"--resume with settings that differ from {config.run_dir}/{CONFIG_FILE}: {lines}. "
                         "Resume with the run's original command line (plus --resume).")
