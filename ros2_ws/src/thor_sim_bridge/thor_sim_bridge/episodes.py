"""Episodes: a target category present in the house, a start pose, and a check that the
shortest-path expert solves it (its step count is the episode's ``expert_length``).

``sample_episode`` draws them at random: a category present in the house, then a start node with
probability proportional to its path length to the goal (generated houses are smaller and denser
with targets than ProcTHOR's; uniform starts would make episodes far shorter than SafeVLA's).
``episode_for_spec`` maps one of SafeVLA's benchmark episodes onto a generated house (see
``benchmark_specs``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .agent import AgentState
from .benchmark_specs import EpisodeSpec
from .expert import Expert
from .tasks import Task
from .world import World

START_TRIES = 3  # start poses tried per target category before moving on to another category
SPEC_METRES_PER_STEP = 0.15  # path length per benchmark expert step (0.2 m moves, plus turns)
SPEC_FIXED_STEPS = {"ObjectNav": 2, "PickUp": 12, "Fetch": 12}  # steps that are not driving (turns, arm, done)


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
        rows, cols = np.nonzero(_start_nodes(world, task, expert))
        if rows.size == 0:
            continue
        weights = expert.follower.dist[rows, cols]  # farther starts are likelier (see the module docstring)
        for _ in range(START_TRIES):
            i = int(rng.choice(rows.size, p=weights / weights.sum()))
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
    expert.reset()
    for step in range(1, max_steps + 1):
        action = expert.next_action(sim)
        success, error = sim.apply(action)
        if action == "done":
            return step if task.is_success(sim.event(action, success, error), target_type, success_distance) else -1
    return -1


def episode_for_spec(
    world: World, task: Task, spec: EpisodeSpec, *, max_steps: int, success_distance: float
) -> tuple[Episode, Expert] | None:
    """The benchmark episode ``spec`` in ``world`` (a generated house): its target category,
    instruction and start yaw, from the start node whose path length to the goal is closest to the
    spec's expert length; None if the category is missing or no such start is solved."""
    target_type = spec.category.object_type
    if not (world.types == target_type).any():
        return None
    expert = task.expert(world, target_type, success_distance)
    starts = _start_nodes(world, task, expert)
    rows, cols = np.nonzero(starts)
    wanted = max(spec.expert_length - SPEC_FIXED_STEPS[task.name], 1) * SPEC_METRES_PER_STEP
    for i in np.argsort(np.abs(expert.follower.dist[rows, cols] - wanted), kind="stable")[:START_TRIES]:
        x, z = world.navgrid.position(rows[i], cols[i])
        start = AgentState(float(x), float(z), float(spec.agent_y_rotation) % 360.0)
        length = expert_rollout(world, task, expert, start, target_type, success_distance, max_steps)
        if length > 0:
            return Episode(task.name, target_type, spec.natural_language_spec, start, length), expert
    return None


def _start_nodes(world: World, task: Task, expert: Expert) -> np.ndarray:
    """Grid nodes an episode may start on: free, on the expert's plan and not already at its goal,
    within the task's ``start_within`` of the goal."""
    distances = expert.follower.dist
    starts = world.navgrid.reachable & np.isfinite(distances) & (distances > 0)
    if task.start_within is not None:
        starts &= distances <= task.start_within
    return starts
