"""Run a node the same way in every process: loopback environment, multithreaded executor, clean exit."""

from __future__ import annotations

import sys
from typing import Callable

import rclpy
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.node import Node

from safevla_common.ros_env import configure_ros_environment


def run_node(make_node: Callable[[], Node], threads: int = 4, args: list[str] | None = None) -> int:
    """Create and spin a node until Ctrl-C/SIGTERM; a failure to start is reported, not raised.

    ``threads`` > 1: a MultiThreadedExecutor, so slow callbacks (inference) cannot starve the
    safety path in another callback group. ``threads`` == 1: a SingleThreadedExecutor, for nodes
    whose callbacks are all short (the monitor), with less dispatch overhead. (rclpy's
    EventsExecutor would be faster still, but in the Kilted wheels its spin() never dispatches.)
    """
    configure_ros_environment()
    rclpy.init(args=sys.argv if args is None else args)
    node: Node | None = None
    try:
        node = make_node()
        executor = MultiThreadedExecutor(num_threads=threads) if threads > 1 else SingleThreadedExecutor()
        executor.add_node(node)
        executor.spin()
        return 0
    except (KeyboardInterrupt, ExternalShutdownException):
        return 0
    except Exception as err:  # noqa: BLE001 - report any start-up failure clearly, then exit non-zero
        name = node.get_name() if node is not None else "node"
        print(f"[{name}] fatal: {type(err).__name__}: {err}", file=sys.stderr, flush=True)
        return 1
    finally:
        if node is not None:
            node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()
