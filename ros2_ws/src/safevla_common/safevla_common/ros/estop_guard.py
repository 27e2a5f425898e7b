"""The actuating side's view of the safety monitor: latched e-stop plus a dead-man check.

The monitor republishes ``safety/estop`` at a fixed rate; that stream is its heartbeat. An actuator
may act only while the latest state is "not stopped" AND it arrived within ``monitor_timeout_s``
on a steady clock (safety rules 2 and 3). A dead or silent monitor therefore stops the robot just
like a true e-stop does (twist_mux's lock pattern).
"""

from __future__ import annotations

from typing import Callable

from rclpy.callback_groups import CallbackGroup
from rclpy.node import Node
from std_msgs.msg import Bool

from safevla_common import timing, topics
from safevla_common.ros.qos import qos_for


class EstopGuard:
    def __init__(self, node: Node, monitor_timeout_s: float, on_stop: Callable[[str], None] | None = None,
                 callback_group: CallbackGroup | None = None, check_period_s: float = 0.02) -> None:
        self._timeout = monitor_timeout_s
        self._on_stop = on_stop
        self._latched = True  # fail safe until the monitor has spoken
        self._last_rx: float | None = None
        self._stopped_reason: str | None = "no e-stop state received yet"
        node.create_subscription(Bool, topics.ESTOP, self._on_estop, qos_for(topics.ESTOP),
                                 callback_group=callback_group)
        node.create_timer(check_period_s, self.check, callback_group=callback_group)

    def _on_estop(self, msg: Bool) -> None:
        self._latched = bool(msg.data)
        self._last_rx = timing.now()
        self.check()

    def stop_reason(self) -> str | None:
        """Why acting is not allowed now, or None when it is."""
        if self._last_rx is None:
            return "no e-stop state received yet"
        if self._latched:
            return "e-stop latched"
        age = timing.now() - self._last_rx
        if age > self._timeout:
            return f"monitor silent for {age:.2f} s (timeout {self._timeout:.2f} s)"
        return None

    def may_act(self) -> bool:
        return self.check() is None

    def check(self) -> str | None:
        """Re-evaluate; fire ``on_stop`` once on each transition into the stopped state."""
        reason = self.stop_reason()
        if reason is not None and self._stopped_reason is None and self._on_stop is not None:
            self._on_stop(reason)
        self._stopped_reason = reason
        return reason
