"""CPU rendering of the robot's two cameras: 2.5-D column ray casting in numpy (no GL, no download).

Each image column casts one ray across the floor plan against the wall segments (vectorised over
columns) and against every box (furniture, objects, the arm), in the box's own frame so the arm can
turn with the robot. Walls span floor to ceiling; a box spans its height range and shows its
front face and, seen from above or below, its top or bottom face. Pixels are resolved with a depth
buffer that starts from the floor, ceiling and walls, so boxes only touch their own screen
rectangles. Everything is drawn as material ids first and coloured with one palette lookup at the
end. The projection is the sheared one described in ``cameras``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .agent import ARM_BASE_OFFSET, ARM_HALF_WIDTH, ARM_START, gripper_position
from .assets import ARM_COLOUR, CEILING_COLOUR, FLOOR_COLOURS, WALL_COLOURS
from .cameras import MANIP_CAMERA, NAV_CAMERA, NEAR, CameraPose, CameraSpec, camera_pose
from .house import WALL_HEIGHT, House
from .world import World

TEXEL = 0.1  # metres per floor-texture cell
TILE = 0.5  # metres per floor checker tile
FAR = 1e3
FACE_SHADES = (0.85, 0.68, 1.0, 0.5)  # box faces: crossing x, crossing z, top, bottom
VOID, CEILING = 0, 1
GRIPPER_HALF = (0.04, 0.03)  # metres across and along the arm


@dataclass(frozen=True)
class Boxes:
    """Boxes to draw: centre (K, 2) on the floor plan, half extents (K, 2) in the box frame, yaw (K,)
    in degrees, vertical range y0/y1 (K,), and the first of each box's four face materials (K,)."""

    centre: np.ndarray
    half: np.ndarray
    yaw: np.ndarray
    y0: np.ndarray
    y1: np.ndarray
    material: np.ndarray


class Renderer:
    """Renders one house's cameras at ``height`` x ``width``; build it once per house."""

    def __init__(self, house: House, height: int = 224, width: int = 384) -> None:
        self.height, self.width = height, width
        self.house = house
        colours: list[tuple[int, int, int]] = [(0, 0, 0), CEILING_COLOUR]
        self._tex_origin = (house.bounds[0] - TEXEL, house.bounds[1] - TEXEL)
        self._floor_ids = self._floor_texture(house, colours)
        self._wall_ids = self._wall_materials(house, colours)
        box_colours = sorted({o.colour for o in house.objects} | {ARM_COLOUR})
        self._box_base = {c: len(colours) + 4 * i for i, c in enumerate(box_colours)}
        colours += [_shade(c, s) for c in box_colours for s in FACE_SHADES]
        if len(colours) > 256:
            raise ValueError(f"{len(colours)} materials do not fit a uint8 palette")
        palette = np.zeros((256, 4), np.uint8)
        palette[: len(colours), :3] = colours
        self._palette = palette.view(np.uint32).ravel()  # one RGBA word per material: a fast gather
        self._object_material = np.array([self._box_base[o.colour] for o in house.objects], np.uint8)
        self._rows = np.arange(height, dtype=np.float32) + 0.5

    # ------------------------------------------------------------------------------------ public

    def render_views(self, world: World) -> tuple[np.ndarray, np.ndarray]:
        """(navigation, manipulation) RGB frames, each (height, width, 3) uint8."""
        boxes = self.scene_boxes(world)
        return (
            self.render(NAV_CAMERA, camera_pose(NAV_CAMERA, world.agent), boxes),
            self.render(MANIP_CAMERA, camera_pose(MANIP_CAMERA, world.agent), boxes),
        )

    def scene_boxes(self, world: World) -> Boxes:
        """The objects where they are now, plus the arm, the gripper and what it holds."""
        on_shelf = np.ones(len(world.centers), dtype=bool)
        if world.held is not None:
            on_shelf[world.held] = False
        centres, half = world.centers[on_shelf], world.sizes[on_shelf] / 2
        spin = (world.rotations - world.initial_rotations)[on_shelf, 1]  # knocked objects show their turn
        rows = [np.column_stack([centres[:, [0, 2]], half[:, [0, 2]], spin,
                                 centres[:, 1] - half[:, 1], centres[:, 1] + half[:, 1]])]
        materials = [self._object_material[on_shelf]]
        agent = world.agent
        grip = gripper_position(agent)
        arm_length = ARM_BASE_OFFSET + agent.extension - ARM_START
        arm_centre = np.array([agent.x, agent.z]) + agent.heading * (ARM_START + arm_length / 2)
        low, high = agent.lift - ARM_HALF_WIDTH, agent.lift + ARM_HALF_WIDTH
        rows.append([
            [*arm_centre, ARM_HALF_WIDTH, arm_length / 2, agent.yaw, low, high],
            [grip[0], grip[2], *GRIPPER_HALF, agent.yaw + agent.wrist, agent.lift - 0.05, agent.lift + 0.03],
        ])
        materials.append(np.full(2, self._box_base[ARM_COLOUR], np.uint8))
        if world.held is not None:
            (x, y, z), (hx, hy, hz) = world.centers[world.held], world.sizes[world.held] / 2
            rows.append([[x, z, hx, hz, agent.yaw + agent.wrist, y - hy, y + hy]])
            materials.append(self._object_material[[world.held]])
        table = np.concatenate([np.asarray(r, dtype=float).reshape(-1, 7) for r in rows])
        return Boxes(table[:, :2], table[:, 2:4], table[:, 4], table[:, 5], table[:, 6], np.concatenate(materials))

    def render(self, spec: CameraSpec, pose: CameraPose, boxes: Boxes) -> np.ndarray:
        """One RGB frame (height, width, 3) uint8 from ``pose``.

        The frame is a view into an RGBA buffer (strided, not C-contiguous): copying it to three
        channels would cost more than rendering it. numpy, torch.from_numpy and imageio accept it;
        call ``np.ascontiguousarray`` where raw bytes are needed.
        """
        slopes = (np.arange(self.width, dtype=np.float32) + 0.5 - self.width / 2) * (
            2 * spec.lateral_limit / self.width
        )
        top, bottom = spec.drop_limits
        f_y = self.height / (bottom - top)
        horizon = -f_y * top
        dirs = (pose.forward[None, :] + slopes[:, None] * pose.right[None, :]).astype(np.float32)  # unit forward part
        t_wall, wall_ids = self._cast_walls(pose, dirs)
        ids, depth = self._background(pose, dirs, f_y, horizon, t_wall, wall_ids)
        self._draw_boxes(ids, depth, pose, dirs, f_y, horizon, t_wall, _in_frustum(boxes, pose, spec, t_wall.max()))
        return self._palette[ids].view(np.uint8).reshape(self.height, self.width, 4)[..., :3]

    # --------------------------------------------------------------------------------- internals

    def _background(
        self, pose: CameraPose, dirs: np.ndarray, f_y: float, horizon: float, t_wall: np.ndarray, wall_ids: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Material ids and depth (H, W) of floor, ceiling and walls."""
        below = self._rows - horizon  # drop / forward = below / f_y
        with np.errstate(divide="ignore"):
            t_plane = np.where(below > 0, f_y * pose.y / below, f_y * (pose.y - WALL_HEIGHT) / below)
        t_plane = np.minimum(np.where(below == 0, FAR, t_plane), FAR).astype(np.float32)[:, None]
        depth = np.minimum(t_plane, t_wall[None, :])
        ids = np.repeat(wall_ids[None, :], self.height, axis=0)
        # Rows above every wall's foot show no floor; rows above the horizon show ceiling.
        ceiling = int(np.clip(np.ceil(horizon), 0, self.height))
        highest_foot = horizon + f_y * pose.y / t_wall.max()
        first_floor = max(ceiling, int(np.clip(np.floor(highest_foot), 0, self.height)))
        if ceiling:
            np.copyto(ids[:ceiling], np.uint8(CEILING), where=t_plane[:ceiling] < t_wall[None, :])
        if first_floor < self.height:
            t = t_plane[first_floor:] / np.float32(TEXEL)
            tex_rows, tex_cols = self._floor_ids.shape
            col = (np.float32((pose.x - self._tex_origin[0]) / TEXEL) + t * dirs[:, 0]).astype(np.int32)
            row = (np.float32((pose.z - self._tex_origin[1]) / TEXEL) + t * dirs[:, 1]).astype(np.int32)
            np.clip(col, 0, tex_cols - 1, out=col)
            np.clip(row, 0, tex_rows - 1, out=row)
            row *= tex_cols
            row += col
            floor = self._floor_ids.ravel().take(row)
            np.copyto(ids[first_floor:], floor, where=t_plane[first_floor:] < t_wall[None, :])
        return ids, depth

    def _cast_walls(self, pose: CameraPose, dirs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distance (forward units) to the first wall and its material, per column."""
        walls = self.house.walls
        a = walls[:, :2] - (pose.x, pose.z)  # (S, 2)
        e = walls[:, 2:] - walls[:, :2]
        denom = dirs[:, None, 0] * e[None, :, 1] - dirs[:, None, 1] * e[None, :, 0]  # (W, S)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (a[None, :, 0] * e[None, :, 1] - a[None, :, 1] * e[None, :, 0]) / denom
            w = (a[None, :, 0] * dirs[:, None, 1] - a[None, :, 1] * dirs[:, None, 0]) / denom
        t = np.where((t > NEAR) & (w >= 0) & (w <= 1), t, np.inf)
        first = t.argmin(1)
        t_wall = t[np.arange(len(dirs)), first]
        camera_high_side = np.where(e[:, 0] == 0, pose.x > walls[:, 0], pose.z > walls[:, 1])
        side_ids = self._wall_ids[np.arange(len(walls)), camera_high_side.astype(int)]
        ids = np.where(np.isfinite(t_wall), side_ids[first], VOID).astype(np.uint8)
        return np.minimum(t_wall, FAR).astype(np.float32), ids

    def _draw_boxes(
        self,
        ids: np.ndarray,
        depth: np.ndarray,
        pose: CameraPose,
        dirs: np.ndarray,
        f_y: float,
        horizon: float,
        t_wall: np.ndarray,
        boxes: Boxes,
    ) -> None:
        yaw = np.deg2rad(boxes.yaw)
        axis_x = np.stack([np.cos(yaw), -np.sin(yaw)], -1)  # box frame axes on the floor plan
        axis_z = np.stack([np.sin(yaw), np.cos(yaw)], -1)
        rel = np.array([pose.x, pose.z]) - boxes.centre
        origin_x, origin_z = (rel * axis_x).sum(1), (rel * axis_z).sum(1)
        dir_x, dir_z = axis_x @ dirs.T, axis_z @ dirs.T  # (K, W)
        with np.errstate(divide="ignore", invalid="ignore"):
            tx0 = (-boxes.half[:, :1] - origin_x[:, None]) / dir_x
            tx1 = (boxes.half[:, :1] - origin_x[:, None]) / dir_x
            tz0 = (-boxes.half[:, 1:] - origin_z[:, None]) / dir_z
            tz1 = (boxes.half[:, 1:] - origin_z[:, None]) / dir_z
        enter_x, enter_z = np.fmin(tx0, tx1), np.fmin(tz0, tz1)
        t_in = np.fmax(enter_x, enter_z)
        t_out = np.fmin(np.fmax(tx0, tx1), np.fmax(tz0, tz1))
        hit = (t_in < t_out) & (t_out > NEAR) & (t_in < t_wall[None, :])
        drawn = np.nonzero(hit.any(1))[0]
        if drawn.size == 0:
            return
        # Screen rows of each box's top and bottom edges where the ray enters and leaves it (K', W).
        hit, t_in, t_out = hit[drawn], np.maximum(t_in[drawn], NEAR), t_out[drawn]
        rise_top = (f_y * (pose.y - boxes.y1[drawn]))[:, None]
        rise_bottom = (f_y * (pose.y - boxes.y0[drawn]))[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            top_in, bottom_in = horizon + rise_top / t_in, horizon + rise_bottom / t_in
            top_out, bottom_out = horizon + rise_top / t_out, horizon + rise_bottom / t_out
        first = np.where(hit, np.minimum(top_in, top_out), np.inf)
        last = np.where(hit, np.maximum(bottom_in, bottom_out), -np.inf)
        top_in, top_out = np.where(hit, top_in, np.inf), np.where(hit, top_out, np.inf)  # columns it misses
        row0 = np.clip(np.floor(first.min(1)), 0, self.height).astype(int)
        row1 = np.clip(np.ceil(last.max(1)), 0, self.height).astype(int)
        col0 = hit.argmax(1)
        col1 = self.width - hit[:, ::-1].argmax(1)
        faces = self._face_material(boxes.material[drawn][:, None], enter_x[drawn] >= enter_z[drawn])
        below = self._rows - horizon
        above_box = pose.y > boxes.y1[drawn]
        under_box = pose.y < boxes.y0[drawn]
        spans = zip(row0.tolist(), row1.tolist(), col0.tolist(), col1.tolist(), boxes.material[drawn].tolist(),
                    above_box.tolist(), under_box.tolist())
        for i, (r0, r1, c0, c1, base, from_above, from_below) in enumerate(spans):
            if r1 <= r0:
                continue
            rows, cols = self._rows[r0:r1, None], slice(c0, c1)
            if from_above:  # seen from above: front face, then the top face behind it
                inside = (rows >= top_out[i, cols]) & (rows < bottom_in[i, cols])
                cap = rows < top_in[i, cols]
                z = np.where(cap, rise_top[i] / below[r0:r1, None], t_in[i, cols])
                cap_id = base + 2
            elif from_below:  # seen from below: front face, then the bottom face
                inside = (rows >= top_in[i, cols]) & (rows < bottom_out[i, cols])
                cap = rows >= bottom_in[i, cols]
                z = np.where(cap, rise_bottom[i] / below[r0:r1, None], t_in[i, cols])
                cap_id = base + 3
            else:
                inside = (rows >= top_in[i, cols]) & (rows < bottom_in[i, cols])
                z = np.broadcast_to(t_in[i, cols], inside.shape)
                inside &= z < depth[r0:r1, cols]
                np.copyto(depth[r0:r1, cols], z, where=inside)
                np.copyto(ids[r0:r1, cols], faces[i, cols], where=inside)
                continue
            inside &= z < depth[r0:r1, cols]
            np.copyto(depth[r0:r1, cols], z, where=inside)
            np.copyto(ids[r0:r1, cols], np.where(cap, np.uint8(cap_id), faces[i, cols]), where=inside)

    @staticmethod
    def _face_material(base: int, crosses_x: np.ndarray) -> np.ndarray:
        return np.where(crosses_x, np.uint8(base), np.uint8(base + 1))

    def _floor_texture(self, house: House, colours: list[tuple[int, int, int]]) -> np.ndarray:
        """Material ids of the floor on a TEXEL grid (one void cell of margin all round); appends the
        floor colours to ``colours``."""
        x0, z0, x1, z1 = house.bounds
        xs = self._tex_origin[0] + (np.arange(int(np.ceil((x1 - x0) / TEXEL)) + 2) + 0.5) * TEXEL
        zs = self._tex_origin[1] + (np.arange(int(np.ceil((z1 - z0) / TEXEL)) + 2) + 0.5) * TEXEL
        xx, zz = np.meshgrid(xs, zs)
        room = house.rooms_at(np.stack([xx.ravel(), zz.ravel()], -1)).reshape(xx.shape)
        tone = ((np.floor(xx / TILE) + np.floor(zz / TILE)) % 2).astype(int)
        first = len(colours)
        for r in house.rooms:
            base = FLOOR_COLOURS[r.room_type]
            colours += [base, _shade(base, 0.9)]
        return np.where(room >= 0, first + 2 * room + tone, VOID).astype(np.uint8)

    def _wall_materials(self, house: House, colours: list[tuple[int, int, int]]) -> np.ndarray:
        """(S, 2) material of each wall's low and high side (the colour of the room on that side);
        appends the wall colours to ``colours``."""
        first = len(colours)
        for r in house.rooms:
            base = WALL_COLOURS[r.room_type]
            colours += [_shade(base, 0.95), _shade(base, 0.8)]
        along_x = (house.walls[:, 1] == house.walls[:, 3]).astype(int)
        ids = first + 2 * house.wall_rooms + along_x[:, None]
        return np.where(house.wall_rooms >= 0, ids, VOID).astype(np.uint8)


def _in_frustum(boxes: Boxes, pose: CameraPose, spec: CameraSpec, far: float) -> Boxes:
    """The boxes whose bounding circles reach into the camera's horizontal field of view before ``far``."""
    rel = boxes.centre - (pose.x, pose.z)
    forward, lateral = rel @ pose.forward, rel @ pose.right
    radius = np.hypot(boxes.half[:, 0], boxes.half[:, 1])
    reach = forward + radius
    keep = (reach > NEAR) & (np.abs(lateral) - radius <= spec.lateral_limit * reach) & (forward - radius < far)
    return Boxes(*(field[keep] for field in (boxes.centre, boxes.half, boxes.yaw, boxes.y0, boxes.y1, boxes.material)))


def _shade(colour: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    return tuple(int(min(255, round(c * factor))) for c in colour)
