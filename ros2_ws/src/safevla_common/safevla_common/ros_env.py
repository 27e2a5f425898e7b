"""The loopback rule: every ROS 2 process this project starts keeps DDS discovery on this host.

Fast DDS multicasts discovery off the machine by default. Every entry point (node mains, the
launcher, tests, benchmarks) calls :func:`configure_ros_environment` before rclpy is initialised.
"""

from __future__ import annotations

import os

DEFAULT_DOMAIN_ID = 42
DISCOVERY_RANGE = "LOCALHOST"


def configure_ros_environment(domain_id: int | None = None, env: dict[str, str] | None = None) -> dict[str, str]:
    """Set ``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST`` and a ``ROS_DOMAIN_ID`` in ``env`` (default os.environ).

    An explicit ``domain_id`` wins; else an id already in the environment is kept; else the
    project default. Returns ``env`` so it can be handed to a child process.
    """
    target = os.environ if env is None else env
    target["ROS_AUTOMATIC_DISCOVERY_RANGE"] = DISCOVERY_RANGE
    target.pop("ROS_LOCALHOST_ONLY", None)  # deprecated; conflicts with the range above
    if domain_id is not None:
        target["ROS_DOMAIN_ID"] = str(domain_id)
    else:
        target.setdefault("ROS_DOMAIN_ID", str(DEFAULT_DOMAIN_ID))
    if not 0 <= int(target["ROS_DOMAIN_ID"]) <= 101:
        raise ValueError(f"ROS_DOMAIN_ID must be 0..101 on Linux, got {target['ROS_DOMAIN_ID']}")
    return target
