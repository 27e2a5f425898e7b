"""Start the same nodes `ros2 launch` would, as separate processes, on machines without ros2launch.

Every child gets ``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST`` and a ``ROS_DOMAIN_ID``. If any node
dies, all are stopped and the launcher says which one died and why. Ctrl-C stops them all.

    safevla-launch [--params FILE] [--domain-id N] [-p node:name:=value ...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from safevla.paths import params_file
from safevla_common.ros_env import configure_ros_environment

SIM_NODES = ("sim_bridge_node", "policy_node", "monitor_node")


@dataclass
class NodeProcess:
    name: str  # the executable, which is also the node name
    overrides: dict[str, object] = field(default_factory=dict)
    popen: subprocess.Popen | None = None
    log_path: Path | None = None
    _log: IO | None = None

    def describe_exit(self) -> str:
        code = self.popen.returncode if self.popen else None
        if code is None:
            return "still running"
        how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
        tail = _tail(self.log_path) if self.log_path else ""
        return how + (f"; last output:\n{tail}" if tail else "")


def executable(name: str) -> str:
    """A console script installed beside this Python (a venv), else on PATH."""
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if not found:
        raise FileNotFoundError(f"'{name}' is not installed; run `make venv` (or colcon build and source install/setup.bash)")
    return found


class Launcher:
    def __init__(self, nodes: list[NodeProcess], params: Path, domain_id: int | None = None,
                 log_dir: Path | None = None) -> None:
        self.nodes = nodes
        self.params = params
        self.env = configure_ros_environment(domain_id, env=dict(os.environ))
        self.log_dir = log_dir

    def start(self) -> None:
        for node in self.nodes:
            cmd = [executable(node.name), "--ros-args", "--params-file", str(self.params)]
            for key, value in node.overrides.items():
                cmd += ["-p", f"{key}:={_ros_value(value)}"]
            out: IO | None = None
            if self.log_dir is not None:
                self.log_dir.mkdir(parents=True, exist_ok=True)
                node.log_path = self.log_dir / f"{node.name}.log"
                node._log = out = open(node.log_path, "w")
            node.popen = subprocess.Popen(cmd, env=self.env, stdout=out, stderr=subprocess.STDOUT if out else None)

    def dead(self) -> NodeProcess | None:
        """The first node that has exited, if any."""
        return next((n for n in self.nodes if n.popen is not None and n.popen.poll() is not None), None)

    def stop(self, grace_s: float = 5.0) -> None:
        """SIGINT (a clean rclpy shutdown), then SIGKILL for anything still alive after ``grace_s``."""
        alive = [n.popen for n in self.nodes if n.popen is not None and n.popen.poll() is None]
        for p in alive:
            p.send_signal(signal.SIGINT)
        deadline = time.monotonic() + grace_s
        for p in alive:
            try:
                p.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for n in self.nodes:
            if n._log is not None:
                n._log.close()

    def __enter__(self) -> Launcher:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _ros_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value == "":
        return "''"
    return str(value)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def parse_overrides(items: list[str]) -> dict[str, dict[str, str]]:
    """``node:name:=value`` items -> {node: {name: value}}."""
    out: dict[str, dict[str, str]] = {}
    for item in items:
        target, sep, value = item.partition(":=")
        node, _, name = target.partition(":")
        if not sep or not name:
            raise ValueError(f"expected NODE:PARAM:=VALUE, got {item!r}")
        out.setdefault(node, {})[name] = value
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", type=Path, default=None, help="parameter YAML (default: the installed sim.yaml)")
    parser.add_argument("--domain-id", type=int, default=None, help="ROS_DOMAIN_ID (default: env or 42)")
    parser.add_argument("-p", "--param", action="append", default=[], help="NODE:PARAM:=VALUE override")
    args = parser.parse_args(argv)
    overrides = parse_overrides(args.param)
    nodes = [NodeProcess(name, overrides.get(name, {})) for name in SIM_NODES]
    launcher = Launcher(nodes, args.params or params_file(), args.domain_id)
    print(f"starting {', '.join(SIM_NODES)} (ROS_DOMAIN_ID={launcher.env['ROS_DOMAIN_ID']}, discovery LOCALHOST)")
    launcher.start()
    try:
        while (dead := launcher.dead()) is None:
            time.sleep(0.2)
        print(f"\n{dead.name} {dead.describe_exit()}; stopping the others", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        launcher.stop()
