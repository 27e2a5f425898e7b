"""Episodes as the sim bridge runs them, free of ROS: start, step by action name, end, record.

Keeps per-episode bookkeeping the node and ``make sim`` report: success, end reason, length,
SPL/SEL, summed Safety-CHORES costs per component, and the navigation-camera video.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from safevla_common.actions import action_by_name


@dataclass
class EpisodeResult:
    episode: int
    task: str
    instruction: str
    success: bool
    reason: str  # success | failure | timeout | stopped
    length: int
    expert_length: int
    sel: float  # success * expert_len / max(len, expert_len)
    spl: float  # success * shortest path / max(path, shortest), in metres
    cost_total: float
    cost_by_type: dict[str, float]
    seed: int
    video: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Episode:
    index: int
    seed: int
    info: dict[str, Any]
    length: int = 0
    path_m: float = 0.0
    costs: dict[str, float] = field(default_factory=dict)
    frames: list[np.ndarray] = field(default_factory=list)


class SimSession:
    """Drives household envs (``HouseEnv`` API: reset/step, ``episode_map``) episode by episode.

    With several envs (one per task), episode k runs in ``envs[k % len(envs)]``."""

    def __init__(self, envs, base_seed: int = 0, record_every: int = 1) -> None:
        self.envs = list(envs) if isinstance(envs, (list, tuple)) else [envs]
        self.env = self.envs[0]
        self.base_seed = base_seed
        self.record_every = record_every  # keep every n-th frame for the video (0: no video)
        self.current: _Episode | None = None
        self.obs: dict[str, Any] | None = None
        self._finished_frames: list[np.ndarray] = []

    @property
    def running(self) -> bool:
        return self.current is not None

    def start(self, episode: int) -> tuple[dict[str, Any], dict[str, Any]]:
        seed = self.base_seed + episode
        self.env = self.envs[episode % len(self.envs)]
        self.obs, info = self.env.reset(seed=seed)
        self.current = _Episode(episode, seed, info)
        self._record(self.obs)
        return self.obs, info

    def step(self, action_name: str) -> tuple[dict[str, Any], dict[str, Any], EpisodeResult | None]:
        """Execute one action; the result is set when the episode ended with this step."""
        if self.current is None:
            raise RuntimeError("no running episode")
        action = action_by_name(action_name)
        ep = self.current
        before = ep.info["event"]["agent"]["position"]
        self.obs, _, terminated, truncated, info = self.env.step(action.index)
        after = info["event"]["agent"]["position"]
        ep.path_m += math.hypot(after["x"] - before["x"], after["z"] - before["z"])
        ep.length += 1
        ep.info = info
        for name, value in info.get("costs", {}).items():
            ep.costs[name] = ep.costs.get(name, 0.0) + float(value)
        self._record(self.obs)
        if not (terminated or truncated):
            return self.obs, info, None
        if terminated and info.get("success"):
            reason = "success"
        elif truncated:
            reason = "timeout"
        else:
            reason = "failure"
        return self.obs, info, self._finish(reason)

    def stop(self, reason: str = "stopped") -> EpisodeResult | None:
        """End the running episode without the policy's say (e-stop, monitor lost, operator)."""
        return self._finish(reason) if self.current is not None else None

    def _finish(self, reason: str) -> EpisodeResult:
        ep, self.current = self.current, None
        assert ep is not None
        info = ep.info
        success = reason == "success"
        expert_len = int(info.get("expert_length", 0))
        shortest_m = float(info.get("shortest_path_m", expert_len * 0.2))
        result = EpisodeResult(
            episode=ep.index, task=str(info.get("task", "")), instruction=str(info.get("instruction", "")),
            success=success, reason=reason, length=ep.length, expert_length=expert_len,
            sel=float(success) * expert_len / max(ep.length, expert_len, 1),
            spl=float(success) * shortest_m / max(ep.path_m, shortest_m, 1e-9),
            cost_total=float(sum(ep.costs.values())), cost_by_type=dict(ep.costs), seed=ep.seed)
        self._finished_frames = ep.frames
        return result

    def take_recording(self) -> tuple[list[np.ndarray], np.ndarray | None]:
        """The finished episode's video frames and top-down map, handed over once.

        Call it before the next ``start``: the env forgets the episode's path at reset. Drawing
        the map takes a while, so callers announce the episode's end first."""
        frames, self._finished_frames = self._finished_frames, []
        top_down = self.env.episode_map() if frames else None
        return frames, top_down

    def _record(self, obs: dict[str, Any]) -> None:
        ep = self.current
        if ep is not None and self.record_every and ep.length % self.record_every == 0:
            ep.frames.append(obs["nav_rgb"])
