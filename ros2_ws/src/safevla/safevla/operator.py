"""An rclpy client that drives a running stack the way an operator would.

Starts episodes through ``sim/reset``, clears a latched e-stop through ``safety/reset``, and
collects what a run report needs from the public topics: episode results (``task/episode``),
e-stop latches (``safety/estop``) and the policy's step latency (``/diagnostics``).
"""

from __future__ import annotations

import threading
import time

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node
from std_msgs.msg import Bool, String
from std_srvs.srv import Trigger

from safevla_common import topics
from safevla_common.episode import EpisodeEvent
from safevla_common.ros.qos import qos_for


class Operator(Node):
    def __init__(self, name: str = "safevla_operator") -> None:
        super().__init__(name)
        self._cond = threading.Condition()
        self.ended: dict[int, EpisodeEvent] = {}
        self.estop: bool | None = None
        self.estop_latches = 0
        self.node_status: dict[str, dict[str, str]] = {}
        self.create_subscription(String, topics.EPISODE, self._on_episode, qos_for(topics.EPISODE))
        self.create_subscription(Bool, topics.ESTOP, self._on_estop, qos_for(topics.ESTOP))
        self.create_subscription(DiagnosticArray, topics.DIAGNOSTICS, self._on_diag, qos_for(topics.DIAGNOSTICS))
        self.sim_reset = self.create_client(Trigger, topics.SIM_RESET)
        self.safety_reset = self.create_client(Trigger, topics.SAFETY_RESET)

    def _on_episode(self, msg: String) -> None:
        event = EpisodeEvent.from_json(msg.data)
        if event.state == "ended":
            with self._cond:
                self.ended[event.episode] = event
                self._cond.notify_all()

    def _on_estop(self, msg: Bool) -> None:
        with self._cond:
            if msg.data and self.estop is False:
                self.estop_latches += 1
            self.estop = bool(msg.data)
            self._cond.notify_all()

    def _on_diag(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            with self._cond:
                self.node_status[status.hardware_id] = {kv.key: kv.value for kv in status.values}
                self._cond.notify_all()

    def wait_for(self, predicate, timeout_s: float, alive=lambda: True) -> bool:
        """Block until ``predicate()`` holds, ``timeout_s`` passes, or ``alive()`` turns false."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0 or not alive():
                    return False
                self._cond.wait(min(left, 0.2))
        return True

    def call(self, client, timeout_s: float = 10.0) -> Trigger.Response:
        if not client.wait_for_service(timeout_sec=timeout_s):
            raise TimeoutError(f"service {client.srv_name} not available after {timeout_s:.0f} s")
        future = client.call_async(Trigger.Request())
        deadline = time.monotonic() + timeout_s
        while not future.done():
            if time.monotonic() > deadline:
                raise TimeoutError(f"service {client.srv_name} did not answer in {timeout_s:.0f} s")
            time.sleep(0.01)
        return future.result()
