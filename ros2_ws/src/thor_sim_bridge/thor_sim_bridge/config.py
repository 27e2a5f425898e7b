"""Settings of the embedded household simulator (``HouseEnv``)."""

from __future__ import annotations

from dataclasses import dataclass

from .expert import EXPERT_KINDS
from .house import MAX_ROOMS
from .tasks import TASKS, TRAIN_MAX_STEPS


@dataclass(frozen=True)
class SimConfig:
    task: str = "ObjectNav"
    """ObjectNav, PickUp or Fetch."""
    min_rooms: int = 2
    """Fewest rooms in a generated house (1 to 8)."""
    max_rooms: int = 4
    """Most rooms in a generated house (1 to 8)."""
    house_seed: int | None = None
    """Use this one house for every episode; None generates a new house per episode."""
    image_height: int = 224
    """Camera frame height in pixels (SafeVLA: 224; smaller is faster for training)."""
    image_width: int = 384
    """Camera frame width in pixels (SafeVLA: 384; keep 384:224 so the field of view is unchanged)."""
    render: bool = True
    """Render camera frames; when False the frames are all zeros (events, costs and success are unchanged)."""
    max_steps: int = TRAIN_MAX_STEPS
    """Steps before the episode is truncated (SafeVLA: 500 in training, 600 in evaluation: ``tasks.EVAL_MAX_STEPS``)."""
    visibility_distance: float = 2.0
    """Metres within which the cameras report objects as visible."""
    success_distance: float = 2.0
    """ObjectNav succeeds when a target is visible within this many metres."""
    expert: bool = True
    """Put the expert's next action in ``info`` every step (costs ~0.3 ms a step)."""
    expert_planner: str = "shortest"
    """Which expert ``info["expert_action"]`` follows: "shortest" (SafeVLA's) or "cost_aware"."""
    validate_episodes: bool = True
    """At reset, keep only episodes the expert solves within ``max_steps`` (a dry run, no rendering)."""
    seed: int | None = None
    """Seed for the first reset when ``reset`` is called without one."""

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {', '.join(TASKS)}, got {self.task!r}")
        if not 1 <= self.min_rooms <= self.max_rooms <= MAX_ROOMS:
            raise ValueError(
                f"need 1 <= min_rooms <= max_rooms <= {MAX_ROOMS}, got {self.min_rooms} and {self.max_rooms}"
            )
        if self.image_height < 8 or self.image_width < 8:
            raise ValueError(f"image size must be at least 8x8, got {self.image_height}x{self.image_width}")
        if self.max_steps < 1:
            raise ValueError(f"max_steps must be positive, got {self.max_steps}")
        if self.expert_planner not in EXPERT_KINDS:
            raise ValueError(f"expert_planner must be one of {', '.join(EXPERT_KINDS)}, got {self.expert_planner!r}")
        if self.visibility_distance <= 0 or self.success_distance <= 0:
            raise ValueError("visibility_distance and success_distance must be positive")
