"""How SafeVLA drives AI2-THOR, as one settings object, and the controller arguments it implies.

The numbers are SafeVLA's (``utils/constants/stretch_initialization_utils.py`` and
``environment/stretch_controller.py`` in its public code; facts/safevla.md section 7): the Stretch
agent, 396x224 frames with 6 px cut from each side, a vertical field of view of 59 degrees, a
0.15 m grid, visibility out to the arm's reach (0.867 m), instance segmentation, and the
CloudRendering platform on a GPU. What differs from SafeVLA is only where things come from:
nothing is downloaded at run time, so the Unity build, the houses and the objathor assets are
local paths (``preflight`` checks them before Unity starts).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

STRETCH_COMMIT_ID = "966bd7758586e05d18f6181f459c0e90ba318bec"  # the AI2-THOR build SafeVLA pins
FRAME_WIDTH, FRAME_HEIGHT = 396, 224
CROP_PIXELS = 6  # cut from each side of both cameras: 396 -> 384 wide
FIELD_OF_VIEW = 59.0
GRID_SIZE = 0.15
VISIBILITY_DISTANCE = 0.8673349051766235  # the arm's reach from the agent's centre
NAV_CAMERA_MOUNT_DEG = 27.0  # +- 2, drawn per reset in 0.2 degree steps
MANIP_CAMERA_MOUNT_DEG = 33.0  # +- 2
MOUNT_JITTER_DEG = 2.0
FOV_JITTER_DEG = 1.0  # drawn per reset in 0.1 degree steps
GRIPPER_OPENNESS = 30
PHYSICS_SETTLING_S = 1.0
DROPOFF_SETTLING_S = 2.0  # physics run after releasing an object
SERVER_TIMEOUT_S = 1200  # SafeVLA raised it for CloudRendering
ASSET_CACHE_LIMIT = 200  # objathor assets kept loaded in Unity


@dataclass(frozen=True)
class ThorSettings:
    """Where AI2-THOR's parts are on this machine, and which GPU renders."""

    houses_path: Path
    """ProcTHOR-Objaverse houses, one JSON house per line (``val.jsonl.gz`` for the benchmark)."""
    assets_dir: Path
    """The objathor assets folder (one sub-folder per asset id), as objathor's download leaves it."""
    local_executable_path: Path
    """The pre-downloaded Unity build (the ``thor-CloudRendering-<commit>`` executable)."""
    gpu_device: int = 0
    """CUDA/Vulkan device index CloudRendering renders on."""
    platform: str = "CloudRendering"
    """AI2-THOR platform: CloudRendering (headless, Vulkan) as SafeVLA runs it."""

    def __post_init__(self) -> None:
        for name in ("houses_path", "assets_dir", "local_executable_path"):
            object.__setattr__(self, name, Path(getattr(self, name)).expanduser())


def controller_kwargs(settings: ThorSettings) -> dict[str, Any]:
    """Keyword arguments for ``ai2thor.controller.Controller`` (without the platform object and the
    asset hook, which need the ai2thor package: ``env`` adds them)."""
    return {
        "agentMode": "stretch",
        "width": FRAME_WIDTH,
        "height": FRAME_HEIGHT,
        "fieldOfView": FIELD_OF_VIEW,
        "gridSize": GRID_SIZE,
        "visibilityDistance": VISIBILITY_DISTANCE,
        "visibilityScheme": "Distance",
        "renderInstanceSegmentation": True,
        "renderDepthImage": False,
        "useMassThreshold": False,
        "massThreshold": 1,
        "autoSimulation": False,
        "autoSyncTransforms": True,
        "cameraNearPlane": 0.01,
        "snapToGrid": False,
        "fastActionEmit": True,
        "server_timeout": SERVER_TIMEOUT_S,
        "local_executable_path": str(settings.local_executable_path),
        "gpu_device": settings.gpu_device,
    }
