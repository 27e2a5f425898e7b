"""Test-side stand-ins for the nodes around the one under test: a monitor heartbeat and a camera."""

from __future__ import annotations

import json

import numpy as np
from builtin_interfaces.msg import Time
from sensor_msgs.msg import Image
from std_msgs.msg import Bool, String

from safevla_common import topics
from safevla_common.episode import EpisodeEvent
from safevla_common.ros.images import to_msg

from ros_harness import Client


class MonitorHeartbeat:
    """Publishes ``safety/estop`` at 20 Hz like the monitor; can latch or go silent."""

    def __init__(self, client: Client) -> None:
        self.latched, self.silent = False, False
        self._pub = client.publisher(Bool, topics.ESTOP)
        client.every(0.05, self._tick)

    def _tick(self) -> None:
        if not self.silent:
            self._pub.publish(Bool(data=self.latched))


class FakeSim:
    """Announces an episode and publishes observations (both cameras + expert hint) as the sim does."""

    def __init__(self, client: Client) -> None:
        self.nav = client.publisher(Image, topics.NAV_IMAGE)
        self.manip = client.publisher(Image, topics.MANIP_IMAGE)
        self.hint = client.publisher(String, topics.SIM_EXPERT_ACTION)
        self.episode = client.publisher(String, topics.EPISODE)
        self.instruction = client.publisher(String, topics.INSTRUCTION)
        self.stamp_ns = 1_000_000_000

    def start_episode(self, episode: int = 0, instruction: str = "find a mug") -> None:
        self.instruction.publish(String(data=instruction))
        event = EpisodeEvent(episode, "running", instruction=instruction, start_stamp_ns=self.stamp_ns)
        self.episode.publish(String(data=event.to_json()))

    def observe(self, action: str = "move_ahead", nav: Image | None = None) -> None:
        """Publish one observation with a new stamp; ``nav`` replaces the nav frame (to inject bad ones)."""
        self.stamp_ns += 1_000_000
        stamp = Time(sec=self.stamp_ns // 1_000_000_000, nanosec=self.stamp_ns % 1_000_000_000)
        frame = np.full((224, 384, 3), 90, np.uint8)
        self.hint.publish(String(data=json.dumps({"stamp_ns": self.stamp_ns, "action": action})))
        manip = to_msg(frame, stamp, "manip_camera")
        if nav is None:
            nav = to_msg(frame, stamp, "nav_camera")
        else:
            nav.header.stamp = stamp
        self.manip.publish(manip)
        self.nav.publish(nav)
