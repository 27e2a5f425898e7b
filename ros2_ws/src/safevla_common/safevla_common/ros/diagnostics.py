"""A node's health on ``/diagnostics``: counters (drops by reason), latency percentiles, state."""

from __future__ import annotations

from collections import Counter

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node

from safevla_common import topics
from safevla_common.ros.qos import qos_for
from safevla_common.timing import RollingStats


class NodeHealth:
    """Collects what a node wants to report and publishes it once per ``period_s``."""

    def __init__(self, node: Node, period_s: float = 1.0, callback_group=None) -> None:
        self._node = node
        self.drops: Counter[str] = Counter()
        self.counters: Counter[str] = Counter()
        self.latency: dict[str, RollingStats] = {}
        self.state: dict[str, str] = {}
        self.level = DiagnosticStatus.OK
        self.message = "ok"
        self._pub = node.create_publisher(DiagnosticArray, topics.DIAGNOSTICS, qos_for(topics.DIAGNOSTICS))
        node.create_timer(period_s, self.publish, callback_group=callback_group)

    def drop(self, reason: str, detail: str) -> None:
        """Count a dropped input and log why (throttled so a flood cannot drown the log)."""
        self.drops[reason] += 1
        self._node.get_logger().warn(f"dropped input ({reason}): {detail}", throttle_duration_sec=1.0)

    def timing(self, name: str, ms: float) -> None:
        self.latency.setdefault(name, RollingStats()).add(ms)

    def publish(self) -> None:
        values = [KeyValue(key=f"drops/{k}", value=str(v)) for k, v in sorted(self.drops.items())]
        values += [KeyValue(key=k, value=str(v)) for k, v in sorted(self.counters.items())]
        values += [KeyValue(key=k, value=v) for k, v in sorted(self.state.items())]
        for name, stats in sorted(self.latency.items()):
            values += [KeyValue(key=f"{name}_ms_{k}", value=f"{v:.3f}") for k, v in stats.summary().items()]
        status = DiagnosticStatus(level=self.level, name=self._node.get_fully_qualified_name(),
                                  message=self.message, hardware_id=self._node.get_name(), values=values)
        msg = DiagnosticArray(status=[status])
        msg.header.stamp = self._node.get_clock().now().to_msg()
        self._pub.publish(msg)
