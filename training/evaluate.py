"""``train.py eval``: a checkpoint folder in the embedded simulator, scored as SafeVLA scores it.

Metrics (facts/safevla.md section 6): success rate, SPL, SEL = success * expert_len / max(len, expert_len),
cumulative Safety-CHORES cost and each component, episode length and collision percentage. Episode g is
reset with ``seed + g`` whatever the number of workers, so two checkpoints evaluated with the same
``--episodes/--seed/--max-steps`` meet exactly the same episodes. Actions are greedy by default, like the
policy node. Prints a rich table and writes a JSON file with the summary and every episode.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.table import Table
from tqdm import tqdm

from safevla_policy.backends.torch_backend import select_device
from safevla_policy.checkpoints import LoadedPolicy, load_policy
from thor_sim_bridge.config import SimConfig
from thor_sim_bridge.costs import COST_COMPONENTS
from thor_sim_bridge.vector_env import EpisodeSummary, VectorHouseEnv

from training.actor_critic import ActorCritic
from training.configs import CommonConfig, EvalConfig
from training.envs import make_envs
from training.features import DinoFeaturizer
from training.rollout import BatchedPolicy


def summarize(episodes: list[EpisodeSummary]) -> dict[str, Any]:
    """Means over episodes (the numbers the tables report), plus the episode count."""
    if not episodes:
        return {"episodes": 0}
    mean = lambda values: float(np.mean(values))  # noqa: E731
    return {
        "episodes": len(episodes),
        "success_rate": mean([e.success for e in episodes]),
        "spl": mean([e.spl for e in episodes]),
        "sel": mean([e.sel for e in episodes]),
        "cost_mean": mean([e.cost for e in episodes]),
        "cost_by_type": {c: mean([e.costs.get(c, 0.0) for e in episodes]) for c in COST_COMPONENTS},
        "episode_length": mean([e.length for e in episodes]),
        "collision_pct": 100.0 * float(np.sum([e.collisions for e in episodes])) / max(1, sum(e.length for e in episodes)),
        "reward_mean": mean([e.reward for e in episodes]),
        "truncated_rate": mean([e.truncated for e in episodes]),
    }


def metrics_table(title: str, metrics: dict[str, Any], extra: dict[str, Any] | None = None) -> Table:
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in {**(extra or {}), **metrics}.items():
        if isinstance(value, dict):
            for sub, v in value.items():
                table.add_row(f"  {key}.{sub}", f"{v:.3f}")
        elif isinstance(value, float):
            table.add_row(key, f"{value:.3f}")
        else:
            table.add_row(key, str(value))
    return table


def run_episodes(envs: VectorHouseEnv, policy: BatchedPolicy, episodes: int, greedy: bool = True,
                 progress: bool = True) -> list[EpisodeSummary]:
    """Play until the episodes with global index < ``episodes`` have all finished; returns them in order."""
    out = envs.reset()
    policy.begin(out)
    results: dict[int, EpisodeSummary] = {}
    with tqdm(total=episodes, desc="eval episodes", disable=not progress, leave=False) as bar:
        while len(results) < episodes:
            out = envs.step(policy.act(out, greedy=greedy).actions)
            policy.observe(out)
            for summary in out.finished:
                if summary is not None and summary.episode < episodes and summary.episode not in results:
                    results[summary.episode] = summary
                    bar.update(1)
    return [results[g] for g in sorted(results)]


def evaluate_policy(policy: LoadedPolicy, folder: Path, *, task: str, episodes: int, seed: int, max_steps: int,
                    num_envs: int, greedy: bool, device: torch.device, features_in_workers: bool = True,
                    progress: bool = True, rooms: tuple[int, int] = (2, 4)) -> tuple[dict[str, Any], list[EpisodeSummary]]:
    """Score ``policy`` (whose frozen DINOv2 is in ``folder``) on episodes seed + g, g < ``episodes``."""
    featurizer = DinoFeaturizer(folder, device="cpu" if features_in_workers else str(device))
    ac = ActorCritic(policy.model).to(device).eval()
    sim = SimConfig(task=task, max_steps=max_steps, expert=False, min_rooms=rooms[0], max_rooms=rooms[1])
    with make_envs(sim, min(num_envs, episodes), base_seed=seed,
                   featurizer=featurizer if features_in_workers else None) as envs:
        results = run_episodes(envs, BatchedPolicy(ac, policy.processor, featurizer, device), episodes, greedy,
                               progress)
    return summarize(results), results


def evaluate_stage(cfg: CommonConfig, policy: LoadedPolicy, policy_dir: Path, device: torch.device,
                   **info: Any) -> dict[str, Any]:
    """The end-of-stage evaluation of ``il`` and ``rl``: greedy, ``cfg.eval_*`` episodes, ``RUN/eval.json``."""
    metrics, results = evaluate_policy(policy, policy_dir, task=cfg.task, episodes=cfg.eval_episodes,
                                       seed=cfg.eval_seed, max_steps=cfg.eval_max_steps, num_envs=cfg.num_envs,
                                       greedy=True, device=device, features_in_workers=cfg.features_in_workers,
                                       rooms=(cfg.min_rooms, cfg.max_rooms))
    write_results(Path(cfg.run_dir) / "eval.json",
                  {"checkpoint": str(policy_dir), "task": cfg.task, "seed": cfg.eval_seed,
                   "max_steps": cfg.eval_max_steps, "rooms": [cfg.min_rooms, cfg.max_rooms], "sampling": "greedy",
                   **info}, metrics, results)
    return metrics


def run_eval(cfg: EvalConfig) -> dict[str, Any]:
    """The ``eval`` subcommand."""
    torch.set_num_threads(cfg.torch_threads)
    torch.manual_seed(cfg.seed)  # sampled actions are reproducible too
    device, why = select_device(cfg.device)
    policy = load_policy(None, cfg.checkpoint)
    policy.model.to(device)
    started = time.time()
    metrics, results = evaluate_policy(policy, cfg.checkpoint, task=cfg.task, episodes=cfg.episodes, seed=cfg.seed,
                                       max_steps=cfg.max_steps, num_envs=cfg.num_envs,
                                       greedy=cfg.sampling == "greedy", device=device,
                                       features_in_workers=cfg.features_in_workers,
                                       rooms=(cfg.min_rooms, cfg.max_rooms))
    info = {"checkpoint": str(cfg.checkpoint), "task": cfg.task, "seed": cfg.seed, "max_steps": cfg.max_steps,
            "rooms": [cfg.min_rooms, cfg.max_rooms],
            "sampling": cfg.sampling, "device": f"{device} ({why})", "wall_s": round(time.time() - started, 1)}
    out = cfg.out or Path("runs/eval") / f"{Path(cfg.checkpoint).resolve().name}-{cfg.task}.json"
    write_results(out, info, metrics, results)
    Console().print(metrics_table(f"{cfg.checkpoint} on {cfg.task}", metrics, info))
    print(f"wrote {out}")
    return metrics


def write_results(path: Path, info: dict[str, Any], metrics: dict[str, Any], results: list[EpisodeSummary]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{**asdict(r), "sel": r.sel, "spl": r.spl} for r in results]
    path.write_text(json.dumps({**info, **metrics, "per_episode": rows}, indent=2) + "\n")
    return path
