"""Episode videos: camera frames to an animated GIF."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import imageio.v3 as iio
import numpy as np


def write_gif(path: str | Path, frames: Iterable[np.ndarray], fps: float = 10.0) -> Path:
    """Write RGB frames (H, W, 3) uint8 to ``path`` as a looping GIF (path first, as in imageio)."""
    frames = [np.asarray(f) for f in frames]
    first = frames[0] if frames else np.zeros(0)
    rgb = first.ndim == 3 and first.shape[2] == 3 and first.dtype == np.uint8
    if not rgb or any(f.shape != first.shape for f in frames):
        raise ValueError(f"expected a non-empty sequence of same-size (H, W, 3) uint8 frames, got {len(frames)} "
                         f"starting with {first.dtype} {first.shape}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(path, np.stack(frames), extension=".gif", duration=1000.0 / fps, loop=0)
    return path
