"""sensor_msgs/Image <-> numpy for rgb8, with the validation safety rule 4 asks for."""

from __future__ import annotations

import numpy as np
from sensor_msgs.msg import Image


class BadImage(ValueError):
    """An image message that must be dropped; the text says why."""


def to_msg(rgb: np.ndarray, stamp, frame_id: str) -> Image:
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) uint8 array, got {rgb.shape} {rgb.dtype}")
    msg = Image()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.height, msg.width = int(rgb.shape[0]), int(rgb.shape[1])
    msg.encoding = "rgb8"
    msg.is_bigendian = 0
    msg.step = msg.width * 3
    msg.data = np.ascontiguousarray(rgb).tobytes()
    return msg


def from_msg(msg: Image, expected_hw: tuple[int, int] | None = None) -> np.ndarray:
    """Decode an rgb8 image; raise BadImage naming the defect (encoding, size, truncation)."""
    if msg.encoding != "rgb8":
        raise BadImage(f"encoding {msg.encoding!r}, expected 'rgb8'")
    h, w = msg.height, msg.width
    if expected_hw is not None and (h, w) != tuple(expected_hw):
        raise BadImage(f"size {h}x{w}, expected {expected_hw[0]}x{expected_hw[1]}")
    if h == 0 or w == 0 or msg.step < w * 3:
        raise BadImage(f"bad geometry: {h}x{w}, step {msg.step}")
    if len(msg.data) != msg.step * h:
        raise BadImage(f"data has {len(msg.data)} bytes, expected step*height = {msg.step * h}")
    rows = np.frombuffer(msg.data, dtype=np.uint8).reshape(h, msg.step)
    return rows[:, : w * 3].reshape(h, w, 3)
