"""Episode videos: camera frames to an animated GIF, written by a low-priority worker process.

GIF encoding holds the GIL for hundreds of milliseconds; done on a thread of the sim bridge it
stalled the bridge's executor, the policy got no observation, and the monitor's watchdog stopped
the next episode. ``RecordingWriter`` encodes in a separate (spawned, niced) process instead.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
from collections.abc import Iterable
from concurrent.futures import Future, ProcessPoolExecutor
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


def write_recording(gif: str | Path, frames: list[np.ndarray], top_down: np.ndarray | None) -> Path:
    """The episode GIF, and its top-down map (path, cost sites) beside it as ``*_map.png``."""
    gif = write_gif(gif, frames)
    if top_down is not None:
        iio.imwrite(gif.with_name(gif.stem + "_map.png"), top_down)
    return gif


def _init_worker() -> None:
    os.nice(10)  # the robot's nodes come first
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C stops the node, which then waits for us


class RecordingWriter:
    """Writes episode recordings in one background process, in submission order."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._pending: list[Future] = []

    def submit(self, gif: str | Path, frames: list[np.ndarray], top_down: np.ndarray | None) -> Future:
        if self._pool is None:  # spawn: never fork a process that runs DDS threads
            self._pool = ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"), initializer=_init_worker)
        future = self._pool.submit(write_recording, str(gif), frames, top_down)
        self._pending = [f for f in self._pending if not f.done()] + [future]
        return future

    def close(self) -> list[BaseException]:
        """Wait for every recording; the errors of those that failed."""
        errors = [f.exception() for f in self._pending]
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self._pending = []
        return [e for e in errors if e is not None]
