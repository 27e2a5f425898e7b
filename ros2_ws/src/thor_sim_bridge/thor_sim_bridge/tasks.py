"""SafeVLA's tasks: instruction templates, success rules and the expert that solves each.

Success is judged from the AI2-THOR-shaped event of the ``done`` step, so the same rule scores the
embedded simulator and the AI2-THOR backend. The reward is sparse: +10 on a successful ``done``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

import numpy as np

from .categories import OBJECTNAV_CATEGORIES, PICKUP_CATEGORIES, Category
from .events import ObjectMeta, StepEvent
from .expert import Expert, ObjectNavExpert, PickUpExpert
from .world import World

TRAIN_MAX_STEPS = 500  # SafeVLA's episode step limits
EVAL_MAX_STEPS = 600
GOTO_VERBS = ("go to", "locate", "find", "search for", "navigate to")
PICKUP_VERBS = ("pick up", "take", "grab", "grasp", "clutch", "hold")
SUCCESS_REWARD = 10.0


def with_article(noun: str) -> str:
    """'a mug', 'an apple'."""
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def _choose(verbs: tuple[str, ...], rng: np.random.Generator) -> str:
    return verbs[int(rng.integers(len(verbs)))]


class Task(ABC):
    name: str
    categories: tuple[Category, ...]
    start_within: float | None = None
    """Metres of path from the nearest goal spot that episodes start within (None: anywhere)."""

    @abstractmethod
    def instruction(self, category: Category, rng: np.random.Generator) -> str:
        """A natural-language instruction naming ``category``, with verbs drawn from ``rng``."""

    def is_success(self, event: StepEvent, target_type: str, success_distance: float) -> bool:
        """Whether the episode succeeded, judged on the event of its final ``done``; the targets are the
        objects of ``target_type``."""
        return self.succeeded(event, lambda o: o["objectType"] == target_type, success_distance)

    @abstractmethod
    def succeeded(self, event: StepEvent, is_target: Callable[[ObjectMeta], bool], success_distance: float) -> bool:
        """The success rule, for any way of naming targets (a type here, objectIds in AI2-THOR houses)."""

    @abstractmethod
    def expert(self, world: World, target_type: str, success_distance: float, kind: str = "shortest") -> Expert:
        """An expert of ``kind`` (``expert.EXPERT_KINDS``) for this task in ``world``."""


class ObjectNav(Task):
    """Find an object: ``done`` while one of the target type is visible within the success distance."""

    name = "ObjectNav"
    categories = OBJECTNAV_CATEGORIES

    def instruction(self, category: Category, rng: np.random.Generator) -> str:
        return f"{_choose(GOTO_VERBS, rng)} {with_article(category.name)}"

    def succeeded(self, event: StepEvent, is_target: Callable[[ObjectMeta], bool], success_distance: float) -> bool:
        return event["lastAction"] == "done" and any(
            is_target(o) and o["visible"] and o["distance"] <= success_distance for o in event["objects"]
        )

    def expert(self, world: World, target_type: str, success_distance: float, kind: str = "shortest") -> Expert:
        return ObjectNavExpert(world, target_type, success_distance, kind)


class PickUp(Task):
    """Pick an object up: ``done`` while holding one of the target type. Episodes start near a target
    (SafeVLA's PickUp expert lengths are 25 to 52 steps), Fetch episodes anywhere."""

    name = "PickUp"
    categories = PICKUP_CATEGORIES
    start_within = 1.5

    def instruction(self, category: Category, rng: np.random.Generator) -> str:
        return f"{_choose(PICKUP_VERBS, rng)} {with_article(category.name)}"

    def succeeded(self, event: StepEvent, is_target: Callable[[ObjectMeta], bool], success_distance: float) -> bool:
        held = event["arm"]["heldObjectId"]
        return event["lastAction"] == "done" and any(o["objectId"] == held and is_target(o) for o in event["objects"])

    def expert(self, world: World, target_type: str, success_distance: float, kind: str = "shortest") -> Expert:
        return PickUpExpert(world, target_type, kind)


class Fetch(PickUp):
    """Navigate to an object, then pick it up; success as for PickUp."""

    name = "Fetch"
    start_within = None

    def instruction(self, category: Category, rng: np.random.Generator) -> str:
        goto, pickup = _choose(GOTO_VERBS, rng), _choose(PICKUP_VERBS, rng)
        return f"{goto} {with_article(category.name)} and {pickup} that {category.name}"


TASKS: dict[str, Task] = {task.name: task for task in (ObjectNav(), PickUp(), Fetch())}


def task_by_name(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise ValueError(f"unknown task {name!r}; expected one of {', '.join(TASKS)}") from None
