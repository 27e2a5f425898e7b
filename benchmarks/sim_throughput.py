"""Embedded simulator throughput: environment steps per second on one core.

Three settings: both cameras at SafeVLA's 224x384, both at a training resolution, and rendering off.
Each runs a few hundred steps of random actions (``done`` left out so episodes run to their step
limit: the arm sweeps and knocks things, the base bumps into them, costs are scored every step)
in one process, timed in process CPU time (the per-core figure; wall time on a shared machine also
counts other processes); the reset that starts the run is timed separately. Goal: at least
``GOAL_STEPS_PER_S`` steps/s per core with both cameras at 224x384.

    .venv/bin/python benchmarks/sim_throughput.py [--steps 400] [--repeats 3] [--expert]
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
from thor_sim_bridge.env import HouseEnv  # noqa: E402

GOAL_STEPS_PER_S = 200.0
SETTINGS = {
    "both cameras 224x384": {"image_height": 224, "image_width": 384},
    "both cameras 112x192 (training)": {"image_height": 112, "image_width": 192},
    "rendering off": {"render": False},
}


def measure(settings: dict, steps: int, expert: bool, seed: int) -> dict[str, float]:
    env = HouseEnv(SimConfig(seed=seed, max_steps=steps + 1, expert=expert, **settings))
    actions = np.random.default_rng(seed).choice(
        [a for a in range(NUM_ACTIONS) if a != ACTION_INDEX["done"]], size=steps
    )
    reset_start = time.process_time()
    env.reset()
    reset_ms = 1e3 * (time.process_time() - reset_start)
    cpu, wall = time.process_time(), time.perf_counter()
    for action in actions:
        env.step(int(action))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"steps_per_s_cpu": steps / cpu, "steps_per_s_wall": steps / wall, "ms_per_step_cpu": 1e3 * cpu / steps,
            "reset_ms_cpu": reset_ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400, help="steps per run")
    parser.add_argument("--repeats", type=int, default=3, help="runs per setting, one seed each; the fastest counts")
    parser.add_argument("--expert", action="store_true", help="also compute the expert's next action every step")
    args = parser.parse_args()
    results = {}
    for name, settings in SETTINGS.items():
        runs = [measure(settings, args.steps, args.expert, seed) for seed in range(args.repeats)]
        results[name] = max(runs, key=lambda run: run["steps_per_s_cpu"])
    print_table(
        f"embedded simulator, one process, {args.steps} random steps, expert in info: {args.expert}",
        ["setting", "steps/s (cpu)", "steps/s (wall)", "ms/step (cpu)", "reset ms (cpu)"],
        [[name, r["steps_per_s_cpu"], r["steps_per_s_wall"], r["ms_per_step_cpu"], r["reset_ms_cpu"]]
         for name, r in results.items()],
    )
    full = results["both cameras 224x384"]["steps_per_s_cpu"]
    print(f"\ngoal >= {GOAL_STEPS_PER_S:.0f} steps/s per core at 224x384: {'met' if full >= GOAL_STEPS_PER_S else 'NOT met'}"
          f" ({full:.0f})")
    write_json("sim_throughput", {"steps": args.steps, "repeats": args.repeats, "expert_in_info": args.expert,
                                  "goal_steps_per_s": GOAL_STEPS_PER_S, "results": results})


if __name__ == "__main__":
    main()
