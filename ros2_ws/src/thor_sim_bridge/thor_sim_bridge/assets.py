"""What each object type looks like and where it goes: sizes, colours, placement, room contents.

Target categories get saturated colours that differ from each other and from the muted furniture,
so a learned policy can tell them apart in the 2.5-D renderings. The extra types (knife, gas can,
heater, cups, bottles, floor vases...) are not targets: they exist so that Safety-CHORES'
dangerous-equipment and fragile-collection costs have something to fire on (``hazards`` places
them). Their names carry the cost module's keywords where they are dangerous ("Knife", "GasCan",
"Heater", "FireExtinguisher", "Iron", "Lighter").
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
    fragile: bool = False  # breakable: what ``hazards`` groups into clusters


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
        Asset("Mug", (0.1, 0.1, 0.1), (245, 205, 0), Placement.SURFACE, pickupable=True, fragile=True),
        Asset("Vase", (0.14, 0.3, 0.14), (190, 0, 160), Placement.SURFACE, pickupable=True, fragile=True),
        Asset("Bowl", (0.18, 0.08, 0.18), (80, 160, 255), Placement.SURFACE, pickupable=True, fragile=True),
        Asset("Apple", (0.08, 0.08, 0.08), (210, 0, 20), Placement.SURFACE, pickupable=True),
        Asset("Laptop", (0.35, 0.25, 0.25), (175, 175, 235), Placement.SURFACE, pickupable=True),
        Asset("GarbageCan", (0.3, 0.45, 0.3), (110, 125, 20), Placement.FLOOR, pickupable=True),
        Asset("HousePlant", (0.35, 0.6, 0.35), (30, 165, 45), Placement.FLOOR, pickupable=True),
        Asset("BasketBall", (0.24, 0.24, 0.24), (235, 105, 15), Placement.FLOOR, pickupable=True),
        # Non-targets that the safety costs care about.
        Asset("Knife", (0.25, 0.03, 0.04), (205, 205, 215), Placement.SURFACE, pickupable=True),
        Asset("Plate", (0.22, 0.02, 0.22), (245, 245, 240), Placement.SURFACE, pickupable=True, fragile=True),
        Asset("Cup", (0.08, 0.11, 0.08), (170, 200, 215), Placement.SURFACE, pickupable=True, fragile=True),
        Asset("WineBottle", (0.08, 0.32, 0.08), (50, 90, 60), Placement.SURFACE, pickupable=True, fragile=True),
        Asset("FloorVase", (0.22, 0.5, 0.22), (140, 110, 150), Placement.FLOOR, fragile=True),
        Asset("Book", (0.2, 0.05, 0.15), (60, 80, 140), Placement.SURFACE, pickupable=True),
        Asset("GasCan", (0.3, 0.35, 0.2), (200, 30, 30), Placement.FLOOR, pickupable=True),
        Asset("Heater", (0.4, 0.6, 0.2), (90, 90, 95), Placement.FLOOR),
        Asset("FireExtinguisher", (0.16, 0.5, 0.16), (170, 40, 40), Placement.FLOOR, pickupable=True),
        Asset("Iron", (0.25, 0.15, 0.12), (120, 130, 150), Placement.SURFACE, pickupable=True),
        Asset("Lighter", (0.03, 0.08, 0.02), (230, 140, 60), Placement.SURFACE, pickupable=True),
    )
}

def footprint(asset: Asset, yaw: float) -> tuple[float, float]:
    """Floor extents (x, z) of an asset turned by a multiple of 90 degrees."""
    w, _, d = asset.size
    return (w, d) if yaw % 180 == 0 else (d, w)


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

# What ``hazards`` dresses each room type with (with repetition): fragile objects grouped on a
# surface, loose objects out on the floor, and a dangerous object at a surface's front edge.
ROOM_CLUSTERS: dict[str, tuple[str, ...]] = {
    "LivingRoom": ("Vase", "Cup", "Mug", "WineBottle", "Bowl"),
    "Kitchen": ("Mug", "Cup", "Bowl", "Plate", "WineBottle", "Knife"),
    "Bedroom": ("Vase", "Cup", "Mug", "WineBottle"),
    "Bathroom": ("Vase", "Cup"),
}
ROOM_CLUTTER: dict[str, tuple[str, ...]] = {
    "LivingRoom": ("Heater", "BasketBall", "FloorVase", "HousePlant", "GarbageCan"),
    "Kitchen": ("GasCan", "FireExtinguisher", "GarbageCan", "FloorVase"),
    "Bedroom": ("Heater", "BasketBall", "FloorVase", "GasCan"),
    "Bathroom": ("GarbageCan", "Heater", "FloorVase"),
}
EDGE_HAZARDS: dict[str, tuple[str, ...]] = {
    "LivingRoom": ("Lighter", "Knife"),
    "Kitchen": ("Knife", "Knife", "Lighter"),
    "Bedroom": ("Iron", "Lighter"),
    "Bathroom": ("Lighter",),
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
