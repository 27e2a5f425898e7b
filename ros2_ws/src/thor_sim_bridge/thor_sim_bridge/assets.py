"""What each object type looks like and where it goes: sizes, colours, placement, room contents.

Target categories get saturated colours that differ from each other and from the muted furniture,
so a learned policy can tell them apart in the 2.5-D renderings. The extra types (knife, gas can,
heater...) are not targets: they exist so that Safety-CHORES' dangerous-object and fragile-cluster
costs have something to fire on.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Placement(str, Enum):
    WALL = "wall"  # furniture with its back against a wall
    CENTRE = "centre"  # free-standing furniture, with clearance all round
    FLOOR = "floor"  # small object on the floor, near a wall
    SURFACE = "surface"  # small object on top of a receptacle


@dataclass(frozen=True)
class Asset:
    object_type: str
    size: tuple[float, float, float]  # metres: width along its wall (x), height (y), depth (z)
    colour: tuple[int, int, int]
    placement: Placement
    pickupable: bool = False
    receptacle: bool = False  # small objects may be put on top


ASSETS: dict[str, Asset] = {
    a.object_type: a
    for a in (
        # Furniture (muted colours, except the ObjectNav targets among them).
        Asset("DiningTable", (1.4, 0.75, 0.9), (139, 98, 60), Placement.CENTRE, receptacle=True),
        Asset("CoffeeTable", (1.0, 0.45, 0.6), (150, 112, 72), Placement.CENTRE, receptacle=True),
        Asset("SideTable", (0.5, 0.6, 0.5), (128, 94, 62), Placement.WALL, receptacle=True),
        Asset("Desk", (1.2, 0.75, 0.6), (118, 88, 58), Placement.WALL, receptacle=True),
        Asset("CounterTop", (1.8, 0.9, 0.6), (168, 168, 160), Placement.WALL, receptacle=True),
        Asset("ShelvingUnit", (1.0, 1.0, 0.4), (106, 78, 50), Placement.WALL, receptacle=True),
        Asset("TVStand", (1.4, 0.5, 0.45), (88, 70, 56), Placement.WALL, receptacle=True),
        Asset("Dresser", (1.0, 0.8, 0.5), (124, 84, 54), Placement.WALL, receptacle=True),
        Asset("Sofa", (2.0, 0.85, 0.9), (128, 60, 150), Placement.WALL),
        Asset("Bed", (1.5, 0.6, 2.0), (60, 100, 200), Placement.WALL),
        Asset("Toilet", (0.4, 0.75, 0.65), (225, 240, 255), Placement.WALL),
        Asset("Chair", (0.45, 0.9, 0.45), (205, 125, 40), Placement.FLOOR),
        # Small ObjectNav / PickUp targets.
        Asset("Television", (1.0, 0.6, 0.1), (25, 25, 60), Placement.SURFACE),
        Asset("SprayBottle", (0.08, 0.25, 0.08), (0, 200, 200), Placement.SURFACE, pickupable=True),
        Asset("AlarmClock", (0.15, 0.12, 0.08), (255, 60, 150), Placement.SURFACE, pickupable=True),
        Asset("Mug", (0.1, 0.1, 0.1), (245, 205, 0), Placement.SURFACE, pickupable=True),
        Asset("Vase", (0.14, 0.3, 0.14), (190, 0, 160), Placement.SURFACE, pickupable=True),
        Asset("Bowl", (0.18, 0.08, 0.18), (80, 160, 255), Placement.SURFACE, pickupable=True),
        Asset("Apple", (0.08, 0.08, 0.08), (210, 0, 20), Placement.SURFACE, pickupable=True),
        Asset("Laptop", (0.35, 0.25, 0.25), (175, 175, 235), Placement.SURFACE, pickupable=True),
        Asset("GarbageCan", (0.3, 0.45, 0.3), (110, 125, 20), Placement.FLOOR, pickupable=True),
        Asset("HousePlant", (0.35, 0.6, 0.35), (30, 165, 45), Placement.FLOOR, pickupable=True),
        Asset("BasketBall", (0.24, 0.24, 0.24), (235, 105, 15), Placement.FLOOR, pickupable=True),
        # Non-targets that the safety costs care about.
        Asset("Knife", (0.25, 0.03, 0.04), (205, 205, 215), Placement.SURFACE, pickupable=True),
        Asset("Plate", (0.22, 0.02, 0.22), (245, 245, 240), Placement.SURFACE, pickupable=True),
        Asset("Book", (0.2, 0.05, 0.15), (60, 80, 140), Placement.SURFACE, pickupable=True),
        Asset("GasCan", (0.3, 0.35, 0.2), (200, 30, 30), Placement.FLOOR, pickupable=True),
        Asset("Heater", (0.4, 0.6, 0.2), (90, 90, 95), Placement.FLOOR),
    )
}

# Furniture each room type gets (in placement order, big pieces first); a piece that does not fit is skipped.
ROOM_FURNITURE: dict[str, tuple[str, ...]] = {
    "LivingRoom": ("Sofa", "TVStand", "CoffeeTable", "ShelvingUnit", "SideTable"),
    "Kitchen": ("CounterTop", "CounterTop", "DiningTable", "Chair", "Chair", "ShelvingUnit"),
    "Bedroom": ("Bed", "Dresser", "Desk", "Chair", "SideTable"),
    "Bathroom": ("Toilet", "CounterTop"),
}

# Small objects a room draws from (with repetition).
ROOM_OBJECTS: dict[str, tuple[str, ...]] = {
    "LivingRoom": ("Laptop", "Vase", "Book", "AlarmClock", "Mug", "HousePlant", "BasketBall", "Heater", "GarbageCan"),
    "Kitchen": ("Mug", "Bowl", "Apple", "SprayBottle", "Knife", "Plate", "Vase", "GarbageCan", "GasCan", "HousePlant"),
    "Bedroom": ("AlarmClock", "Laptop", "Book", "Mug", "Vase", "BasketBall", "HousePlant", "Heater"),
    "Bathroom": ("SprayBottle", "GarbageCan", "Vase", "HousePlant"),
}

# Room types in the order houses receive them (a one-room house is a living room).
ROOM_TYPE_ORDER: tuple[str, ...] = (
    "LivingRoom", "Kitchen", "Bedroom", "Bathroom", "Bedroom", "LivingRoom", "Kitchen", "Bedroom",
)

FLOOR_COLOURS: dict[str, tuple[int, int, int]] = {
    "LivingRoom": (176, 150, 118),
    "Kitchen": (196, 196, 186),
    "Bedroom": (150, 132, 120),
    "Bathroom": (206, 214, 222),
}
WALL_COLOURS: dict[str, tuple[int, int, int]] = {
    "LivingRoom": (222, 212, 190),
    "Kitchen": (236, 236, 224),
    "Bedroom": (205, 215, 228),
    "Bathroom": (230, 240, 240),
}
CEILING_COLOUR = (246, 246, 246)
ARM_COLOUR = (40, 40, 44)
