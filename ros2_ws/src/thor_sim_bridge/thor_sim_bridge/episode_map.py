"""A top-down picture of one episode: where the robot went and where each safety cost fired.

``draw_episode_map`` works from what every backend records (the ``StepEvent`` sequence and the
per-step Safety-CHORES costs), plus the house when there is one to draw rooms and walls from (the
embedded simulator); without it the map shows objects and the path on a blank floor. Objects that
ended the episode somewhere else are drawn where they started (outline) with an arrow to where
they ended. Each step with a cost gets one marker per cost type, at the robot's position after
the step, in the type's colour; the legend counts them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .costs import COST_COMPONENTS
from .events import StepEvent
from .scene import House

COST_COLOURS: dict[str, str] = {
    "corner": "#ff7f0e",
    "blind_spot": "#9467bd",
    "fragile_collection": "#17becf",
    "critical_point": "#d62728",
    "dangerous_equipment": "#2ca02c",
}
FLOOR_COLOUR = "#ece6da"
PATH_COLOUR = "#1f5fd6"
MARGIN = 0.5  # metres around what is drawn
DEFAULT_SIZE = 0.15  # metres: objects of unknown size (no house)
MOVED_M = 0.05  # an object that ended farther than this from its start gets an arrow


def draw_episode_map(
    events: Sequence[StepEvent],
    costs: Sequence[Mapping[str, int]],
    house: House | None = None,
    *,
    target_type: str | None = None,
    title: str = "",
    pixels_per_metre: int = 40,
) -> np.ndarray:
    """RGB image (H, W, 3) uint8 of an episode. ``events[0]`` is the reset event and ``costs[i]`` the
    costs of the step that produced ``events[i + 1]``."""
    if not events:
        raise ValueError("no events to draw: pass the episode's events, the reset event first")
    if len(costs) != len(events) - 1:
        raise ValueError(f"need one cost dict per step: {len(events) - 1} steps after the reset event, "
                         f"got {len(costs)} cost dicts")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path = np.array([[e["agent"]["position"]["x"], e["agent"]["position"]["z"]] for e in events])
    x0, z0, x1, z1 = _extent(path, events, house)
    dpi = 100
    figure = Figure(figsize=((x1 - x0) * pixels_per_metre / dpi + 2.6, (z1 - z0) * pixels_per_metre / dpi + 0.6),
                    dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.02, 0.02, (x1 - x0) * pixels_per_metre / dpi / figure.get_figwidth() * 0.98, 0.9))
    axes.set_xlim(x0, x1)
    axes.set_ylim(z0, z1)
    axes.set_aspect("equal")
    axes.set_axis_off()
    if title:
        axes.set_title(title, fontsize=9, loc="left")
    _draw_house(axes, house)
    _draw_objects(axes, events[0], events[-1], house, target_type)
    handles = _draw_path(axes, path)
    handles += _draw_costs(axes, path, costs)
    figure.legend(handles=handles, loc="upper right", fontsize=8, frameon=False)
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba())[..., :3].copy()


def _extent(path: np.ndarray, events: Sequence[StepEvent], house: House | None) -> tuple[float, float, float, float]:
    if house is not None:
        x0, z0, x1, z1 = house.bounds
    else:
        points = np.concatenate([path, [[o["position"]["x"], o["position"]["z"]] for o in events[0]["objects"]]])
        (x0, z0), (x1, z1) = points.min(0), points.max(0)
    return x0 - MARGIN, z0 - MARGIN, x1 + MARGIN, z1 + MARGIN


def _draw_house(axes, house: House | None) -> None:
    from matplotlib.patches import Rectangle

    if house is None:
        return
    for room in house.rooms:
        rx0, rz0, rx1, rz1 = room.bounds
        axes.add_patch(Rectangle((rx0, rz0), rx1 - rx0, rz1 - rz0, color=FLOOR_COLOUR, zorder=0))
        axes.text((rx0 + rx1) / 2, rz1 - 0.25, room.room_type, ha="center", fontsize=7, color="#888888", zorder=1)
    for ax_, az, bx, bz in house.walls:
        axes.plot([ax_, bx], [az, bz], color="#333333", linewidth=2.5, solid_capstyle="butt", zorder=2)


def _draw_objects(axes, first: StepEvent, last: StepEvent, house: House | None, target_type: str | None) -> None:
    from matplotlib.patches import Rectangle

    known = {o.object_id: o for o in house.objects} if house is not None else {}
    final = {o["objectId"]: o["position"] for o in last["objects"]}
    for o in first["objects"]:
        scene = known.get(o["objectId"])
        sx, sz = (scene.size[0], scene.size[2]) if scene else (DEFAULT_SIZE, DEFAULT_SIZE)
        colour = np.array(scene.colour) / 255 if scene else (0.6, 0.6, 0.6)
        start = np.array([o["position"]["x"], o["position"]["z"]])
        end_pos = final.get(o["objectId"], o["position"])
        end = np.array([end_pos["x"], end_pos["z"]])
        target = o["objectType"] == target_type
        edge = "#ff0000" if target else "#000000"
        moved = np.linalg.norm(end - start) > MOVED_M
        axes.add_patch(Rectangle(end - (sx / 2, sz / 2), sx, sz, facecolor=colour, edgecolor=edge,
                                 linewidth=1.5 if target else 0.4, zorder=3 + (scene is None or scene.parent is not None)))
        if moved:
            axes.add_patch(Rectangle(start - (sx / 2, sz / 2), sx, sz, fill=False, edgecolor="#777777",
                                     linestyle="--", linewidth=0.6, zorder=3))
            axes.annotate("", xy=end, xytext=start, zorder=5,
                          arrowprops={"arrowstyle": "->", "color": "#555555", "linewidth": 0.8})


def _draw_path(axes, path: np.ndarray) -> list:
    line = axes.plot(path[:, 0], path[:, 1], color=PATH_COLOUR, linewidth=1.5, alpha=0.8, zorder=6, label="path")
    start = axes.scatter(*path[0], marker="o", s=50, color=PATH_COLOUR, edgecolor="white", zorder=7, label="start")
    end = axes.scatter(*path[-1], marker="s", s=50, color="#0b2a66", edgecolor="white", zorder=7, label="end")
    return [line[0], start, end]


def _draw_costs(axes, path: np.ndarray, costs: Sequence[Mapping[str, int]]) -> list:
    handles = []
    for k, name in enumerate(COST_COMPONENTS):
        steps = [i for i, step in enumerate(costs) if step.get(name, 0)]
        angle = 2 * np.pi * k / len(COST_COMPONENTS)  # several costs at one step fan out around it
        where = path[[i + 1 for i in steps]].reshape(-1, 2) + 0.08 * np.array([np.cos(angle), np.sin(angle)])
        handles.append(axes.scatter(where[:, 0], where[:, 1], marker="X", s=60, color=COST_COLOURS[name],
                                    edgecolor="black", linewidth=0.5, zorder=8,
                                    label=f"{name.replace('_', ' ')} ({len(steps)})"))
    return handles
