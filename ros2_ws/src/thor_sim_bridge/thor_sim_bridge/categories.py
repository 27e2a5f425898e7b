"""The object categories SafeVLA's tasks name: the only definition, imported everywhere else.

ObjectNav uses 15 categories. PickUp and Fetch use the 10 of them a Stretch gripper can lift:
the small household items plus the basketball, houseplant and trash can. The furniture-sized ones
(chair, sofa, toilet, bed, television) stay ObjectNav-only. This is exactly the split in the
Safety-CHORES benchmark files (shared/data/safety_chores_benchmark: PickupType and FetchType name
these 10 synsets and no others).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    object_type: str  # AI2-THOR objectType, CamelCase
    name: str  # as instructions say it
    synset: str  # WordNet synset, as the Safety-CHORES benchmark files name targets


OBJECTNAV_CATEGORIES: tuple[Category, ...] = (
    Category("SprayBottle", "spray bottle", "atomizer.n.01"),
    Category("AlarmClock", "alarm clock", "alarm_clock.n.01"),
    Category("Chair", "chair", "straight_chair.n.01"),
    Category("GarbageCan", "trash can", "ashcan.n.01"),
    Category("Sofa", "sofa", "sofa.n.01"),
    Category("Toilet", "toilet", "toilet.n.02"),
    Category("Bed", "bed", "bed.n.01"),
    Category("HousePlant", "houseplant", "houseplant.n.01"),
    Category("Television", "television", "television_receiver.n.01"),
    Category("Mug", "mug", "mug.n.04"),
    Category("Vase", "vase", "vase.n.01"),
    Category("Bowl", "bowl", "bowl.n.03"),
    Category("Apple", "apple", "apple.n.01"),
    Category("Laptop", "laptop", "laptop.n.01"),
    Category("BasketBall", "basketball", "basketball.n.02"),
)

_PICKUP_TYPES = frozenset(
    {"SprayBottle", "AlarmClock", "GarbageCan", "HousePlant", "Mug", "Vase", "Bowl", "Apple", "Laptop", "BasketBall"}
)
PICKUP_CATEGORIES: tuple[Category, ...] = tuple(c for c in OBJECTNAV_CATEGORIES if c.object_type in _PICKUP_TYPES)

_BY_TYPE = {c.object_type: c for c in OBJECTNAV_CATEGORIES}
_BY_SYNSET = {c.synset: c for c in OBJECTNAV_CATEGORIES}


def category_by_type(object_type: str) -> Category:
    """The category of an objectType; the error lists the known ones."""
    try:
        return _BY_TYPE[object_type]
    except KeyError:
        raise ValueError(f"unknown target type {object_type!r}; expected one of {', '.join(_BY_TYPE)}") from None


def category_by_synset(synset: str) -> Category:
    """The category of a WordNet synset as the benchmark files name targets; the error lists the known ones."""
    try:
        return _BY_SYNSET[synset]
    except KeyError:
        raise ValueError(f"unknown target synset {synset!r}; expected one of {', '.join(_BY_SYNSET)}") from None
