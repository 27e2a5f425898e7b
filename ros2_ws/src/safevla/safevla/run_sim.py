"""`make sim`: run N episodes through the three node processes and report.

Starts the sim bridge, policy and monitor as separate processes (logs in the run folder), drives
episodes as an operator would, and writes ``runs/<run-id>/summary.json``, one GIF per episode,
and ``runs/latest`` pointing at the run.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import numpy as np
import rclpy
import tyro
from rclpy.executors import SingleThreadedExecutor
from rich.console import Console
from rich.table import Table
from tqdm import tqdm

from safevla.launcher import SIM_NODES, Launcher, NodeProcess
from safevla.operator import Operator
from safevla.paths import params_file
from safevla_common.ros_env import configure_ros_environment

TASKS = ("ObjectNav", "PickUp", "Fetch")


@dataclass
class SimArgs:
    """Run SafeVLA-ROS in the embedded simulator and summarise the episodes."""

    episodes: int = 3
    """Number of episodes."""
    backend: Literal["expert", "model", "onnx"] = "expert"
    """Policy backend."""
    task: str = "ObjectNav"
    """Task family, a comma-separated list (episode k runs task k mod n), or 'all'."""
    checkpoint: str = ""
    """Policy checkpoint folder (model/onnx backends); empty: the config's random weights."""
    sampling: Literal["greedy", "sample"] | None = None
    """How the policy picks an action from its distribution; None: the parameter file's (greedy)."""
    seed: int = 1000
    """Episode k is generated from seed + k."""
    max_steps: int = 500
    """Step limit per episode."""
    rooms: tuple[int, int] | None = None
    """House size range (fewest, most rooms) of generated episodes; None: the parameter file's (2 to 4)."""
    detector: str = ""
    """Monitor detector: 'entropy' or a monitor file; empty: the parameter file's choice."""
    params: Path | None = None
    """Parameter YAML (default: the installed sim.yaml)."""
    runs_dir: Path = Path("runs")
    """Where run folders go."""
    domain_id: int | None = None
    """ROS_DOMAIN_ID (default: the environment's, else 42)."""
    episode_timeout_s: float = 600.0
    """Give up on an episode after this long."""
    startup_timeout_s: float = 180.0
    """Give up when a node has not come up (first /diagnostics report) after this long."""


def main() -> int:
    args = tyro.cli(SimArgs)
    if args.task == "all":
        args.task = ",".join(TASKS)
    run_id = datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = args.runs_dir / run_id
    overrides = {
        "sim_bridge_node": {"task": args.task, "seed": args.seed, "max_steps": args.max_steps,
                            "record_dir": str((run_dir / "videos").resolve()),
                            **({"min_rooms": args.rooms[0], "max_rooms": args.rooms[1]} if args.rooms else {})},
        "policy_node": {"backend": args.backend, **({"checkpoint": args.checkpoint} if args.checkpoint else {}),
                        **({"sampling": args.sampling} if args.sampling else {})},
        "monitor_node": {"detector": args.detector} if args.detector else {},
    }
    nodes = [NodeProcess(name, overrides[name]) for name in SIM_NODES]
    launcher = Launcher(nodes, args.params or params_file(), args.domain_id, log_dir=run_dir / "logs")
    console = Console()
    console.print(f"run [bold]{run_id}[/]: {args.episodes} x {args.task}, backend {args.backend}, "
                  f"ROS_DOMAIN_ID={launcher.env['ROS_DOMAIN_ID']} (discovery LOCALHOST); logs in {run_dir / 'logs'}")
    configure_ros_environment(int(launcher.env["ROS_DOMAIN_ID"]))
    rclpy.init()
    operator = Operator()
    executor = SingleThreadedExecutor()
    executor.add_node(operator)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    try:
        with launcher:
            results = run_episodes(args, launcher, operator)
            stats = wait_policy_stats(operator, launcher)
    except RuntimeError as err:
        console.print(f"[bold red]run failed:[/] {err}")
        return 1
    finally:
        executor.shutdown(timeout_sec=2.0)
        spinner.join(timeout=2.0)
        operator.destroy_node()
        rclpy.shutdown()
    summary = summarise(args, run_id, results, operator.estop_latches, stats)
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    latest = args.runs_dir / "latest"
    latest.unlink(missing_ok=True)
    latest.symlink_to(run_id)
    print_summary(console, summary)
    console.print(f"wrote {run_dir / 'summary.json'} and {len(results)} episode videos in {run_dir / 'videos'}")
    return 0


def run_episodes(args: SimArgs, launcher: Launcher, operator: Operator) -> list[dict]:
    def alive() -> bool:
        return launcher.dead() is None

    def check_alive() -> None:
        dead = launcher.dead()
        if dead is not None:
            raise RuntimeError(f"{dead.name} {dead.describe_exit()}")

    # Each node publishes /diagnostics once it is up (the policy only after loading and warming up its
    # model), so no episode starts, and no watchdog runs, before the whole stack is ready.
    if not operator.wait_for(lambda: set(SIM_NODES) <= operator.node_status.keys(), args.startup_timeout_s, alive):
        check_alive()
        missing = sorted(set(SIM_NODES) - operator.node_status.keys())
        raise RuntimeError(f"{', '.join(missing)} not up after {args.startup_timeout_s:.0f} s (see the node logs)")
    if not operator.wait_for(lambda: operator.estop is not None, 60.0, alive):
        check_alive()
        raise RuntimeError("no e-stop state from the monitor within 60 s")
    results: list[dict] = []
    bar = tqdm(range(args.episodes), desc="episodes", unit="ep")
    for episode in bar:
        check_alive()
        if operator.estop:
            clear_estop(operator, alive)
        start_episode(operator, alive)
        if not operator.wait_for(lambda: episode in operator.ended, args.episode_timeout_s, alive):
            check_alive()
            raise RuntimeError(f"episode {episode} did not end within {args.episode_timeout_s:.0f} s")
        results.append(operator.ended[episode].result)
        done = np.mean([r["success"] for r in results])
        bar.set_postfix(success=f"{done:.0%}", last=results[-1]["reason"], estops=operator.estop_latches)
    return results


def start_episode(operator: Operator, alive, timeout_s: float = 10.0) -> None:
    """``sim/reset`` until the sim bridge starts an episode: it refuses while it may not act (no e-stop
    state from the monitor yet, or the cleared latch has not reached it)."""
    deadline = time.monotonic() + timeout_s
    while True:
        response = operator.call(operator.sim_reset)
        if response.success:
            return
        if time.monotonic() > deadline or not alive():
            raise RuntimeError(f"the simulator did not start an episode: {response.message}")
        time.sleep(0.1)


def clear_estop(operator: Operator, alive, timeout_s: float = 10.0) -> None:
    """Ask the monitor to clear a latch left by the previous episode; it may refuse while unhealthy."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and alive():
        response = operator.call(operator.safety_reset)
        if response.success and operator.wait_for(lambda: operator.estop is False, 2.0, alive):
            return
        time.sleep(0.2)
    raise RuntimeError(f"the monitor refused to clear the e-stop: {response.message}")


def wait_policy_stats(operator: Operator, launcher: Launcher) -> dict[str, float]:
    """The policy's step-latency percentiles from its next diagnostics report."""
    operator.node_status.pop("policy_node", None)
    operator.wait_for(lambda: "policy_node" in operator.node_status, 3.0, lambda: launcher.dead() is None)
    status = operator.node_status.get("policy_node", {})
    return {k: float(status.get(f"step_ms_{k}", "nan")) for k in ("p50", "p95", "p99")}


def summarise(args: SimArgs, run_id: str, results: list[dict], estops: int, step_ms: dict[str, float]) -> dict:
    costs_by_type: Counter[str] = Counter()
    for r in results:
        costs_by_type.update(r["cost_by_type"])
    by_task: dict[str, list[bool]] = {}
    for r in results:
        by_task.setdefault(r["task"], []).append(r["success"])
    n = max(len(results), 1)

    def mean(key: str) -> float:
        return float(np.mean([r[key] for r in results])) if results else math.nan

    return {
        "run_id": run_id, "backend": args.backend, "task": args.task, "checkpoint": args.checkpoint,
        "sampling": args.sampling or "parameter file", "rooms": list(args.rooms) if args.rooms else "parameter file",
        "detector": args.detector or "parameter file", "episodes": len(results),
        "success_rate": mean("success"), "success_by_task": {t: float(np.mean(v)) for t, v in by_task.items()},
        "mean_episode_length": mean("length"), "spl": mean("spl"), "sel": mean("sel"),
        "cost_mean": mean("cost_total"), "cost_by_type": {k: v / n for k, v in sorted(costs_by_type.items())},
        "estops": estops, "episodes_stopped": sum(r["reason"] == "stopped" for r in results),
        "policy_step_ms_p50": step_ms["p50"], "policy_step_ms_p95": step_ms["p95"],
        "policy_step_ms_p99": step_ms["p99"], "per_episode": results,
    }


def print_summary(console: Console, summary: dict) -> None:
    table = Table(title=f"episodes ({summary['backend']} policy, {summary['task']})")
    for column in ("ep", "instruction", "result", "steps", "expert", "SPL", "cost"):
        table.add_column(column, justify="left" if column in ("instruction", "result") else "right")
    for r in summary["per_episode"]:
        style = "green" if r["success"] else ("red" if r["reason"] == "stopped" else "yellow")
        table.add_row(str(r["episode"]), r["instruction"], f"[{style}]{r['reason']}[/]", str(r["length"]),
                      str(r["expert_length"]), f"{r['spl']:.2f}", f"{r['cost_total']:.0f}")
    console.print(table)
    totals = Table(title="summary", show_header=False)
    for key in ("episodes", "success_rate", "mean_episode_length", "spl", "cost_mean", "estops",
                "episodes_stopped", "policy_step_ms_p50", "policy_step_ms_p95"):
        value = summary[key]
        totals.add_row(key, f"{value:.3f}" if isinstance(value, float) else str(value))
    console.print(totals)


if __name__ == "__main__":
    raise SystemExit(main())
