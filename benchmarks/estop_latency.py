"""How fast the safety path reacts, measured over real DDS on loopback.

1. latent -> e-stop: a failing latent is published; time until a subscriber receives
   ``safety/estop = true`` (monitor_node in its own process; reset between trials).
2. policy killed -> e-stop: the full stack runs an episode; the policy process gets SIGKILL;
   time until ``safety/estop = true`` arrives (bounded below by the watchdog period).

    .venv/bin/python benchmarks/estop_latency.py [--trials 200] [--kills 5]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import percentiles, print_table, write_json  # noqa: E402

from safevla_common.ros_env import configure_ros_environment  # noqa: E402

DOMAIN_ID = 20 + os.getpid() % 20
WATCHDOG_S = 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--detector", default="entropy", help="monitor detector (entropy or a monitor file)")
    args = parser.parse_args()
    configure_ros_environment(DOMAIN_ID)
    import rclpy

    rclpy.init()
    try:
        latent_ms = latent_to_estop(args.trials, args.detector)
        kill_ms = kill_to_estop(args.kills) if args.kills else []
    finally:
        rclpy.shutdown()
    rows = [["latent published -> e-stop received", *_cols(percentiles(latent_ms))]]
    if kill_ms:
        rows.append([f"policy SIGKILL -> e-stop received (watchdog {WATCHDOG_S} s)", *_cols(percentiles(kill_ms))])
    print_table("e-stop latency over DDS (ms)", ["path", "n", "p50", "p95", "p99", "max"], rows)
    write_json("estop_latency", {"watchdog_period_s": WATCHDOG_S, "detector": args.detector,
                                 "latent_to_estop_ms": percentiles(latent_ms),
                                 "kill_to_estop_ms": percentiles(kill_ms) if kill_ms else None})


def _cols(p: dict) -> list:
    return [p["n"], p["p50"], p["p95"], p["p99"], p["max"]]


class Probe:
    """A client node: publishes latents/episodes, timestamps e-stop changes on receipt."""

    def __init__(self) -> None:
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.node import Node
        from std_msgs.msg import Bool, Float64MultiArray, String

        from safevla_common import topics
        from safevla_common.ros.qos import qos_for

        self.node = Node("estop_latency_probe")
        self.estop: bool | None = None
        self.changed = threading.Event()
        self.changed_at = 0.0
        self.latent_pub = self.node.create_publisher(Float64MultiArray, topics.LATENT, qos_for(topics.LATENT))
        self.episode_pub = self.node.create_publisher(String, topics.EPISODE, qos_for(topics.EPISODE))
        self.node.create_subscription(Bool, topics.ESTOP, self._on_estop, qos_for(topics.ESTOP))
        self.latents, self.latent_at = 0, 0.0
        self.node.create_subscription(Float64MultiArray, topics.LATENT, self._on_latent, qos_for(topics.LATENT))
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(self.node)
        threading.Thread(target=self.executor.spin, daemon=True).start()

    def _on_latent(self, msg) -> None:
        self.latents += 1
        self.latent_at = time.monotonic()

    def stepping(self) -> bool:
        """Latents are arriving right now (the policy is alive and mid-episode)."""
        return self.latents > 5 and time.monotonic() - self.latent_at < 0.1

    def _on_estop(self, msg) -> None:
        if msg.data != self.estop:
            self.changed_at = time.perf_counter()
            self.estop = msg.data
            self.changed.set()

    def wait_state(self, state: bool, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while self.estop is not state and time.monotonic() < deadline:
            self.changed.wait(0.01)
            self.changed.clear()
        return self.estop is state

    def reset(self) -> None:
        from std_srvs.srv import Trigger

        from safevla_common import topics

        client = self.node.create_client(Trigger, topics.SAFETY_RESET)
        client.wait_for_service(timeout_sec=10)
        future = client.call_async(Trigger.Request())
        while not future.done():
            time.sleep(0.001)
        self.node.destroy_client(client)
        if not future.result().success:
            raise RuntimeError(future.result().message)

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()


def latent_to_estop(trials: int, detector: str = "entropy", fail_vector: np.ndarray | None = None,
                    dim: int = 512) -> list[float]:
    """Per trial: a new episode, one normal latent, then a failing one; time to the e-stop.

    The failing latent is high-entropy for the entropy detector, or ``fail_vector`` for a SAFE
    monitor file built to flag it. Each trial ends its episode so the reset is accepted.
    """
    from std_msgs.msg import String

    from safevla.launcher import Launcher, NodeProcess
    from safevla.paths import params_file
    from safevla_common.episode import EpisodeEvent
    from safevla_common.latent import LatentStep
    from safevla_common.ros.messages import latent_to_msg

    normal = np.zeros(dim, np.float32)
    failing = (normal, 2.9) if fail_vector is None else (fail_vector.astype(np.float32), 0.1)
    overrides = {"entropy_threshold": 2.0, "detector": detector, "watchdog_period_s": 5.0}
    with tempfile.TemporaryDirectory() as logs, Launcher([NodeProcess("monitor_node", overrides)], params_file(),
                                                        DOMAIN_ID, log_dir=Path(logs)):
        probe = Probe()
        try:
            if not probe.wait_state(False, 30):
                raise RuntimeError("monitor did not come up")
            samples = []
            for trial in range(trials):
                probe.episode_pub.publish(String(data=EpisodeEvent(trial, "running").to_json()))
                probe.latent_pub.publish(latent_to_msg(LatentStep(trial, 0, normal, 0.1, 0.9)))
                time.sleep(0.005)
                sent = time.perf_counter()
                probe.latent_pub.publish(latent_to_msg(LatentStep(trial, 1, *failing, 0.1)))
                if not probe.wait_state(True, 2.0):
                    raise RuntimeError(f"trial {trial}: no e-stop within 2 s")
                samples.append((probe.changed_at - sent) * 1e3)
                probe.episode_pub.publish(String(data=EpisodeEvent(trial, "ended", reason="stopped").to_json()))
                time.sleep(0.005)
                probe.reset()
                probe.wait_state(False, 2.0)
            return samples
        finally:
            probe.close()


def kill_to_estop(kills: int) -> list[float]:
    from safevla.launcher import Launcher, NodeProcess, _tail
    from safevla.operator import Operator
    from safevla.paths import params_file
    from rclpy.executors import SingleThreadedExecutor

    samples = []
    for _ in range(kills):
        # An untrained model wanders for the whole episode (the expert may finish before the kill);
        # the entropy threshold is moved out of the way so only the watchdog decides.
        nodes = [NodeProcess("sim_bridge_node", {"max_steps": 10_000}), NodeProcess("policy_node", {"backend": "model"}),
                 NodeProcess("monitor_node", {"watchdog_period_s": WATCHDOG_S, "entropy_threshold": 100.0})]
        with tempfile.TemporaryDirectory() as logs, Launcher(nodes, params_file(), DOMAIN_ID, log_dir=Path(logs)):
            probe, operator = Probe(), Operator("kill_probe_operator")
            executor = SingleThreadedExecutor()
            executor.add_node(operator)
            threading.Thread(target=executor.spin, daemon=True).start()
            try:
                if not probe.wait_state(False, 60):
                    raise RuntimeError("monitor did not come up")
                deadline = time.monotonic() + 120
                while not probe.stepping():  # an untrained policy may say "done": start another episode
                    if time.monotonic() > deadline:
                        tails = "\n".join(f"{n.name}: {n.describe_exit()}\n{_tail(n.log_path)}" for n in nodes)
                        raise RuntimeError(f"the policy is not stepping (latents seen: {probe.latents})\n{tails}")
                    if not operator.wait_for(probe.stepping, 5.0):
                        operator.call(operator.sim_reset, timeout_s=60)
                if probe.estop is not False:
                    raise RuntimeError("e-stop latched before the kill")
                killed = time.perf_counter()
                os.kill(nodes[1].popen.pid, signal.SIGKILL)
                if not probe.wait_state(True, 5.0):
                    raise RuntimeError("no e-stop within 5 s of killing the policy")
                samples.append((probe.changed_at - killed) * 1e3)
            finally:
                executor.shutdown()
                operator.destroy_node()
                probe.close()
    return samples


if __name__ == "__main__":
    main()
