"""Expert demonstrations for imitation learning: recorded by simulator workers, stored as feature shards.

Each simulator worker plays its episodes with the shortest-path expert (``info["expert_action"]``) and
computes the frozen DINOv2 features of both cameras itself, so a demo step is ~16 KB of float16 instead
of two frames. Optional DART-style noise executes a random navigation action now and then while the label
stays the expert's (the expert then shows how to recover). Episode g is reset with ``demo_seed + g``.

A demo folder holds ``shard_r<rank>_<n>.pt`` files (episodes: features, previous actions, object-in-hand
flags, expert labels, instruction) and ``manifest.json``, written last. A folder whose manifest matches
the request (task, count, noise, seeds, step limit, DINOv2 fingerprint) is reused; an interrupted
generation starts again (minutes; training itself resumes exactly).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from safevla_common.actions import ACTION_INDEX, ACTIONS, Effect
from thor_sim_bridge.config import SimConfig
from thor_sim_bridge.vector_env import VectorHouseEnv

from training import distributed
from training.checkpointing import atomic_torch_save, atomic_write_bytes
from training.configs import ILConfig
from training.distributed import Dist
from training.envs import make_envs, sim_config
from training.features import DinoFeaturizer

MANIFEST = "manifest.json"
SHARD_EPISODES = 100
# Noise draws from the base motions only: never ``done`` (it would end the episode) nor arm actions.
NOISE_ACTIONS = np.array([a.index for a in ACTIONS if a.effect in (Effect.BASE_MOVE, Effect.BASE_ROTATE)])


def _new_trajectory() -> dict[str, list]:
    return {k: [] for k in ("nav", "manip", "last_action", "object_in_hand", "action")}


def _finish(traj: dict[str, list], instruction: str, summary: Any) -> dict[str, Any]:
    as_long = lambda k: torch.tensor(traj[k], dtype=torch.long)  # noqa: E731
    return {"nav": torch.stack(traj["nav"]).half(), "manip": torch.stack(traj["manip"]).half(),
            "last_action": as_long("last_action"), "object_in_hand": as_long("object_in_hand"),
            "action": as_long("action"), "instruction": instruction, "episode": int(summary.episode),
            "success": bool(summary.success), "cost": float(summary.cost)}


def record_demos(envs: VectorHouseEnv, featurizer: DinoFeaturizer, wanted: set[int], noise: float,
                 rng: np.random.Generator, progress: bool = True) -> list[dict[str, Any]]:
    """Play the expert until every episode index in ``wanted`` has finished; episodes sorted by index."""
    out = envs.reset()
    running = [_new_trajectory() for _ in range(envs.num_envs)]
    instructions = list(out.instruction)
    done: dict[int, dict[str, Any]] = {}
    with tqdm(total=len(wanted), desc="expert demos", disable=not progress) as bar:
        while len(done) < len(wanted):
            obs = featurizer.ensure_features(out.obs)
            labels = out.expert_action
            if (labels < 0).any():
                raise RuntimeError("the simulator gave no expert action; demos need SimConfig(expert=True)")
            for i, traj in enumerate(running):
                traj["nav"].append(torch.as_tensor(obs["nav_feats"][i]).cpu())
                traj["manip"].append(torch.as_tensor(obs["manip_feats"][i]).cpu())
                traj["last_action"].append(int(obs["last_action"][i]))
                traj["object_in_hand"].append(int(obs["object_in_hand"][i]))
                traj["action"].append(int(labels[i]))
            executed = labels.copy()
            flip = (rng.random(len(labels)) < noise) & (labels != ACTION_INDEX["done"])
            executed[flip] = rng.choice(NOISE_ACTIONS, size=int(flip.sum()))
            out = envs.step(executed)
            for i in np.flatnonzero(out.done):
                summary = out.finished[i]
                if summary.episode in wanted and summary.episode not in done:
                    done[summary.episode] = _finish(running[i], instructions[i], summary)
                    bar.update(1)
                running[i], instructions[i] = _new_trajectory(), out.instruction[i]
    return [done[g] for g in sorted(done)]


def demo_request(cfg: ILConfig, fingerprint: str) -> dict[str, Any]:
    return {"task": cfg.task, "episodes": cfg.demo_episodes, "noise": cfg.demo_noise, "demo_seed": cfg.demo_seed,
            "max_steps": cfg.max_steps, "rooms": [cfg.min_rooms, cfg.max_rooms], "dino": fingerprint}


def generate_demos(cfg: ILConfig, policy_folder: Path, out_dir: Path, dist: Dist) -> dict[str, Any]:
    """Make (or reuse) the demo folder; every rank records its share of the episodes."""
    featurizer = DinoFeaturizer(policy_folder, device="cpu" if cfg.features_in_workers else str(dist.device))
    request = demo_request(cfg, featurizer.fingerprint)
    manifest_path = out_dir / MANIFEST
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        if {k: manifest.get(k) for k in request} == request:
            return manifest
        if dist.main:
            print(f"{out_dir}: existing demos were made with other settings; recording new ones")
    distributed.barrier(dist)
    if dist.main:
        manifest_path.unlink(missing_ok=True)
        for old in out_dir.glob("shard_*.pt"):
            old.unlink()
    distributed.barrier(dist)

    per_rank = cfg.num_envs
    first, stride = dist.rank * per_rank, dist.world * per_rank
    wanted = {g for g in range(cfg.demo_episodes) if (g % stride) // per_rank == dist.rank}
    sim = sim_config(cfg, max_steps=cfg.max_steps, expert=True)
    with make_envs(sim, per_rank, base_seed=cfg.demo_seed, first_episode=first, stride=stride,
                   featurizer=featurizer if cfg.features_in_workers else None) as envs:
        episodes = record_demos(envs, featurizer, wanted, cfg.demo_noise,
                                np.random.default_rng([cfg.seed, dist.rank]), progress=dist.main)
    shards = []
    for n, start in enumerate(range(0, len(episodes), SHARD_EPISODES)):
        name = f"shard_r{dist.rank}_{n:04d}.pt"
        atomic_torch_save({"episodes": episodes[start: start + SHARD_EPISODES]}, out_dir / name)
        shards.append(name)
    all_shards = [s for rank_shards in distributed.all_gather(shards, dist) for s in rank_shards]
    steps = int(distributed.total(sum(len(e["action"]) for e in episodes), dist))
    manifest = {**request, "shards": sorted(all_shards), "steps": steps,
                "expert_success_rate": distributed.mean(float(np.mean([e["success"] for e in episodes])), dist)}
    if dist.main:
        atomic_write_bytes(manifest_path, (json.dumps(manifest, indent=2) + "\n").encode())
    distributed.barrier(dist)
    return manifest


def load_demos(out_dir: Path, manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """All episodes of a demo folder, ordered by episode index."""
    episodes = []
    for name in manifest["shards"]:
        episodes += torch.load(out_dir / name, map_location="cpu", weights_only=True)["episodes"]
    if len(episodes) != manifest["episodes"]:
        raise RuntimeError(f"{out_dir}: the shards hold {len(episodes)} episodes, the manifest says "
                           f"{manifest['episodes']}; delete the folder to record the demos again")
    return sorted(episodes, key=lambda e: e["episode"])
