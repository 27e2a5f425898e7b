"""Experts and safety costs on generated houses: how often each expert succeeds, what it costs, and
how often each Safety-CHORES cost type fires for a random walk and for both experts.

Episodes are sampled WITHOUT the validation dry run that normally keeps only episodes the
shortest-path expert solves (``validate_episodes=False``), so an expert failure counts as one. The
shortest-path and cost-aware experts run the very same episodes (same seeds: same house, target and
start); the random walk draws uniformly from the 18 actions other than done and sub_done and runs
to the step limit. Rendering is off (it changes no event, cost or success).

    .venv/bin/python benchmarks/expert_table.py [--episodes 100] [--random-episodes 50]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import print_table, write_json  # noqa: E402

from safevla_common.actions import ACTION_INDEX, NUM_ACTIONS  # noqa: E402
from thor_sim_bridge.config import SimConfig  # noqa: E402
from thor_sim_bridge.costs import COST_COMPONENTS  # noqa: E402
from thor_sim_bridge.env import HouseEnv  # noqa: E402

TASKS = ("ObjectNav", "PickUp", "Fetch")
GOALS = {"ObjectNav": 0.95, "PickUp": 0.90, "Fetch": 0.90}  # the shortest-path expert's success goals
RANDOM_ACTIONS = np.array([a for a in range(NUM_ACTIONS) if a not in (ACTION_INDEX["done"], ACTION_INDEX["sub_done"])])


def run_episode(env: HouseEnv, seed: int, policy: str, rng: np.random.Generator) -> dict:
    """One episode; its success, length and summed costs per type."""
    options = {} if policy == "random" else {"expert": policy}
    _, info = env.reset(seed=seed, options=options)
    costs = dict.fromkeys(COST_COMPONENTS, 0)
    steps = 0
    while True:
        action = int(rng.choice(RANDOM_ACTIONS)) if policy == "random" else ACTION_INDEX[info["expert_action"]]
        _, _, terminated, truncated, info = env.step(action)
        steps += 1
        for name, value in info["costs"].items():
            costs[name] += value
        if terminated or truncated:
            return {"success": bool(info["success"]), "length": steps, "costs": costs}


def summarise(episodes: list[dict]) -> dict:
    """Success rate, mean length and cost (all and successful episodes), and per-type rates."""
    success = np.array([e["success"] for e in episodes])
    totals = np.array([sum(e["costs"].values()) for e in episodes], dtype=float)
    return {
        "episodes": len(episodes),
        "success": float(success.mean()),
        "mean_length": float(np.mean([e["length"] for e in episodes])),
        "mean_cost": float(totals.mean()),
        "mean_cost_at_success": float(totals[success].mean()) if success.any() else float("nan"),
        "episodes_with": {c: float(np.mean([e["costs"][c] > 0 for e in episodes])) for c in COST_COMPONENTS},
        "mean_per_episode": {c: float(np.mean([e["costs"][c] for e in episodes])) for c in COST_COMPONENTS},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=100, help="episodes per task for each expert")
    parser.add_argument("--random-episodes", type=int, default=50, help="random-walk episodes per task")
    parser.add_argument("--seed", type=int, default=0, help="first episode seed (episode k uses seed + k)")
    args = parser.parse_args()
    started = time.perf_counter()
    results: dict[str, dict] = {}
    for task in TASKS:
        env = HouseEnv(SimConfig(task=task, render=False, validate_episodes=False))
        rng = np.random.default_rng(args.seed)
        results[task] = {
            policy: summarise([run_episode(env, args.seed + k, policy, rng) for k in range(count)])
            for policy, count in (("shortest", args.episodes), ("cost_aware", args.episodes),
                                  ("random", args.random_episodes))
        }
        print(f"{task}: done after {time.perf_counter() - started:.0f} s", flush=True)
    print_table(
        "experts on generated houses (episodes sampled without validation; the same episodes for both experts)",
        ["task", "expert", "episodes", "success", "goal", "mean length", "mean cost", "cost at success"],
        [[task, policy, r["episodes"], f"{100 * r['success']:.1f}%",
          f">= {100 * GOALS[task]:.0f}%" if policy == "shortest" else "within 5 pts",
          r["mean_length"], r["mean_cost"], r["mean_cost_at_success"]]
         for task, by_policy in results.items() for policy, r in by_policy.items() if policy != "random"],
    )
    print_table(
        "share of episodes in which each cost type fired at least once (mean count per episode)",
        ["task", "policy", "episodes", *COST_COMPONENTS],
        [[task, policy, r["episodes"],
          *(f"{100 * r['episodes_with'][c]:.0f}% ({r['mean_per_episode'][c]:.2f})" for c in COST_COMPONENTS)]
         for task, by_policy in results.items() for policy, r in by_policy.items()],
    )
    elapsed = time.perf_counter() - started
    print(f"\n{elapsed:.0f} s in all")
    write_json("expert_table", {"episodes": args.episodes, "random_episodes": args.random_episodes,
                                "seed": args.seed, "seconds": elapsed, "goals": GOALS, "results": results})


if __name__ == "__main__":
    main()
