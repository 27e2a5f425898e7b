"""The Stretch robot's two cameras: where they are mounted and what they can see.

Both cameras face the base's heading. Images are rendered with a sheared (2.5-D) projection:
columns are vertical world lines, and a camera's downward tilt moves the horizon instead of
rotating the image plane. The vertical scale is chosen so the image spans the same elevation
angles as AI2-THOR's tilted camera (``pitch +- vfov/2``). Visibility tests use the same model,
expressed in slopes so that they do not depend on the rendering resolution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .agent import AgentState
from .geometry import heading

NOMINAL_HEIGHT, NOMINAL_WIDTH = 224, 384  # SafeVLA's frames (AI2-THOR's 396 wide, 6 px cut each side)
NEAR = 0.05  # metres


@dataclass(frozen=True)
class CameraSpec:
    name: str
    pitch_deg: float  # downward tilt
    mount_height: float  # metres above the floor, or above the arm lift when ``on_lift``
    on_lift: bool = False
    vfov_deg: float = 59.0  # AI2-THOR's fieldOfView is vertical
    aspect: float = NOMINAL_WIDTH / NOMINAL_HEIGHT

    @property
    def lateral_limit(self) -> float:
        """Largest |lateral / forward| slope inside the image."""
        return self.aspect * math.tan(math.radians(self.vfov_deg / 2))

    @property
    def drop_limits(self) -> tuple[float, float]:
        """Slopes (drop / forward) of the image's top and bottom rows; drop = camera height - y."""
        half = self.vfov_deg / 2
        return math.tan(math.radians(self.pitch_deg - half)), math.tan(math.radians(self.pitch_deg + half))


NAV_CAMERA = CameraSpec("navigation", pitch_deg=27.0, mount_height=1.3)
# Rides on the lift, looking down along the arm so the gripper and what it reaches are in view.
MANIP_CAMERA = CameraSpec("manipulation", pitch_deg=33.0, mount_height=0.25, on_lift=True)


@dataclass(frozen=True)
class CameraPose:
    x: float
    y: float
    z: float
    yaw: float

    @property
    def eye(self) -> np.ndarray:
        return np.array([self.x, self.y, self.z])

    @property
    def forward(self) -> np.ndarray:
        return heading(self.yaw)

    @property
    def right(self) -> np.ndarray:
        return heading(self.yaw + 90.0)


def camera_pose(spec: CameraSpec, agent: AgentState) -> CameraPose:
    height = spec.mount_height + (agent.lift if spec.on_lift else 0.0)
    return CameraPose(agent.x, height, agent.z, agent.yaw)


def in_view(spec: CameraSpec, eyes: np.ndarray, forwards: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(P,) True where points (P, 3) project inside the image of a camera at ``eyes`` (P, 3 or 3,)
    looking along ``forwards`` (P, 2 or 2,) unit vectors on the floor plan."""
    eyes, forwards = np.broadcast_to(eyes, points.shape), np.broadcast_to(forwards, (len(points), 2))
    rel = points[:, [0, 2]] - eyes[:, [0, 2]]
    forward = (rel * forwards).sum(1)
    lateral = rel[:, 0] * forwards[:, 1] - rel[:, 1] * forwards[:, 0]
    drop = eyes[:, 1] - points[:, 1]
    top, bottom = spec.drop_limits
    safe = np.maximum(forward, NEAR)
    return (
        (forward > NEAR)
        & (np.abs(lateral) <= spec.lateral_limit * safe)
        & (drop >= top * safe)
        & (drop < bottom * safe)
    )
