"""The episode lifecycle on ``task/episode``: who is running what, and how it ended.

The sim bridge (or an operator tool on a real robot) publishes one event when an episode starts
and one when it ends. The monitor arms its watchdog only while an episode runs; the policy resets
its memory at each new episode. Carried as JSON in a ``std_msgs/String`` (no custom message
types are needed, so pip-only ROS installs work).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

EpisodeState = Literal["running", "ended"]
END_REASONS = ("success", "failure", "timeout", "stopped")


@dataclass
class EpisodeEvent:
    episode: int
    state: EpisodeState
    task: str = ""
    instruction: str = ""
    reason: str = ""  # for "ended": one of END_REASONS
    start_stamp_ns: int = 0  # for "running": stamp of the first observation; older frames are not this episode's
    result: dict[str, Any] = field(default_factory=dict)  # for "ended": success, length, costs...

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> EpisodeEvent:
        """Parse and validate; raises ValueError saying what is wrong."""
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"episode event is not JSON: {err}") from None
        if not isinstance(raw, dict):
            raise ValueError("episode event must be a JSON object")
        unknown = set(raw) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"episode event has unknown fields {sorted(unknown)}")
        event = cls(**raw)
        if not isinstance(event.episode, int) or event.episode < 0:
            raise ValueError(f"episode must be a non-negative integer, got {event.episode!r}")
        if event.state not in ("running", "ended"):
            raise ValueError(f"state must be 'running' or 'ended', got {event.state!r}")
        if event.state == "ended" and event.reason not in END_REASONS:
            raise ValueError(f"an ended episode needs a reason in {END_REASONS}, got {event.reason!r}")
        return event
