"""rclpy QoS profiles for the topics in ``safevla_common.topics``."""

from __future__ import annotations

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from safevla_common.topics import QOS, QoSSpec


def to_profile(spec: QoSSpec) -> QoSProfile:
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=spec.depth,
        reliability=ReliabilityPolicy.RELIABLE if spec.reliability == "reliable" else ReliabilityPolicy.BEST_EFFORT,
        durability=DurabilityPolicy.TRANSIENT_LOCAL if spec.durability == "transient_local" else DurabilityPolicy.VOLATILE,
    )


def qos_for(topic: str) -> QoSProfile:
    """The project's QoS for ``topic`` (a name from ``safevla_common.topics``)."""
    return to_profile(QOS[topic])
