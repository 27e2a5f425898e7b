"""Codecs for the project's structured topics, carried in standard message types.

``policy/latent`` and ``safety/score`` are ``std_msgs/Float64MultiArray``: a few header values
sit in the leading ``data_offset`` elements (float64 holds step and episode counters exactly),
the payload follows, and ``layout.dim`` labels both so a generic viewer can read them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from std_msgs.msg import Float64MultiArray, MultiArrayDimension

from safevla_common.latent import LatentStep

LATENT_HEADER = ("episode", "step", "entropy", "max_prob")
SCORE_FIELDS = ("episode", "step", "score", "threshold")


def _layout(msg: Float64MultiArray, header: tuple[str, ...], payload: str, size: int) -> None:
    msg.layout.data_offset = len(header)
    msg.layout.dim = [MultiArrayDimension(label=payload, size=size, stride=size)]
    msg.layout.dim += [MultiArrayDimension(label=f"header:{name}", size=1, stride=1) for name in header]


def latent_to_msg(step: LatentStep) -> Float64MultiArray:
    msg = Float64MultiArray()
    _layout(msg, LATENT_HEADER, "latent", step.vector.size)
    header = [float(step.episode), float(step.step), float(step.entropy), float(step.max_prob)]
    msg.data = header + step.vector.astype(np.float64).tolist()
    return msg


def latent_from_msg(msg: Float64MultiArray) -> LatentStep:
    """Decode and validate; raises ValueError naming the defect."""
    n = len(LATENT_HEADER)
    if msg.layout.data_offset != n or len(msg.data) <= n:
        raise ValueError(f"latent message needs data_offset {n} and a payload, got offset "
                         f"{msg.layout.data_offset} with {len(msg.data)} values")
    data = np.asarray(msg.data, dtype=np.float64)
    episode, step, entropy, max_prob = data[:n]
    if not (np.isfinite(episode) and np.isfinite(step)) or episode != int(episode) or step != int(step):
        raise ValueError(f"episode/step must be integers, got {episode}, {step}")
    latent = LatentStep(int(episode), int(step), data[n:].astype(np.float32), float(entropy), float(max_prob))
    latent.validate()
    return latent


@dataclass(frozen=True)
class Score:
    episode: int
    step: int
    score: float
    threshold: float


def score_to_msg(score: Score) -> Float64MultiArray:
    msg = Float64MultiArray()
    msg.layout.dim = [MultiArrayDimension(label=name, size=1, stride=1) for name in SCORE_FIELDS]
    msg.data = [float(score.episode), float(score.step), float(score.score), float(score.threshold)]
    return msg


def score_from_msg(msg: Float64MultiArray) -> Score:
    if len(msg.data) != len(SCORE_FIELDS):
        raise ValueError(f"score message needs {len(SCORE_FIELDS)} values, got {len(msg.data)}")
    episode, step, score, threshold = msg.data
    return Score(int(episode), int(step), float(score), float(threshold))
