"""Episode sampling: a target category present in the house, a start pose, and a check that the
shortest-path expert solves it (its step count is the episode's ``expert_length``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .agent import AgentState
from .expert import Expert
from .tasks import Task
from .world import World

START_TRIES = 3  # start poses tried per target category before moving on to another category


@dataclass(frozen=True)
class Episode:
    task: str
    target_type: str
    instruction: str
    start: AgentState
    expert_length: int  # actions the expert takes from the start, its final ``done`` included; -1 if it fails


def sample_episode(
    world: World,
    task: Task,
    rng: np.random.Generator,
    *,
    max_steps: int,
    success_distance: float,
    target_type: str | None = None,
    validate: bool = True,
) -> tuple[Episode, Expert] | None:
    """An episode in ``world`` and its expert, or None if no category present in the house works.

    With ``validate`` only episodes the expert solves within ``max_steps`` are returned.
    """
    categories = [c for c in task.categories if target_type in (None, c.object_type)]
    if target_type is not None and not categories:
        raise ValueError(f"{target_type!r} is not a {task.name} target; expected one of "
                         f"{', '.join(c.object_type for c in task.categories)}")
    present = [c for c in categories if (world.types == c.object_type).any()]
    for k in rng.permutation(len(present)):
        category = present[k]
        expert = task.expert(world, category.object_type, success_distance)
        distances = expert.follower.dist
        rows, cols = np.nonzero(np.isfinite(distances) & (distances > 0))
        if rows.size == 0:
            continue
        for _ in range(START_TRIES):
            i = int(rng.integers(rows.size))
            x, z = world.navgrid.position(rows[i], cols[i])
            start = AgentState(float(x), float(z), float(30 * rng.integers(12)))
            length = expert_rollout(world, task, expert, start, category.object_type, success_distance, max_steps)
            if length < 0 and validate:
                continue
            instruction = task.instruction(category, rng)
            return Episode(task.name, category.object_type, instruction, start, length), expert
    return None


def expert_rollout(
    world: World,
    task: Task,
    expert: Expert,
    start: AgentState,
    target_type: str,
    success_distance: float,
    max_steps: int,
) -> int:
    """Steps the expert takes to succeed from ``start`` (on a copy of ``world``), -1 if it fails."""
    sim = world.copy()
    sim.reset(start)
    for step in range(1, max_steps + 1):
        action = expert.next_action(sim)
        success, error = sim.apply(action)
        if action == "done":
            return step if task.is_success(sim.event(action, success, error), target_type, success_distance) else -1
    return -1
