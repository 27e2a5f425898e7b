"""The monitor file: one safetensors file holding a fitted detector and its threshold band.

Tensors are the detector's arrays plus ``band`` (the conformal band, or a one-value constant);
the safetensors header carries JSON metadata: detector kind and settings, latent size, how the
features were made, label kind, alpha, and free-form training notes. Loading parses JSON and
raw arrays only: no code in the file is ever executed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import load_file, save_file

from safe_monitor.baselines import EmbeddingDistanceDetector, TokenUncertaintyDetector
from safe_monitor.detectors import Detector
from safe_monitor.rollouts import LABEL_KINDS, LabelKind
from safe_monitor.safe_detectors import SafeLSTMDetector, SafeMLPDetector

FORMAT = "safevla-safe-monitor"
VERSION = 1
META_KEY = "safe_monitor"
BAND = "band"
KINDS = {cls.kind: cls for cls in (SafeMLPDetector, SafeLSTMDetector, TokenUncertaintyDetector,
                                   EmbeddingDistanceDetector)}


class SavableDetector(Detector, Protocol):
    kind: str
    band: np.ndarray

    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]: ...


@dataclass(frozen=True)
class MonitorInfo:
    """What a monitor file says about itself (the JSON header)."""

    kind: str
    latent_dim: int | None
    feature: dict[str, Any]  # how the latent was produced, e.g. {"source": "safevla_belief"}
    label: str
    alpha: float | None  # None: the threshold is a constant, not a calibrated band
    detector: dict[str, Any]
    training: dict[str, Any]


def save_monitor(path: str | Path, detector: SavableDetector, *, feature: Mapping[str, Any],
                 label: LabelKind = "failure", alpha: float | None = None,
                 training: Mapping[str, Any] | None = None) -> None:
    """Write ``detector`` (with its current threshold band) to ``path``."""
    if detector.kind not in KINDS:
        raise ValueError(f"cannot save detector kind {detector.kind!r}; savable kinds: {sorted(KINDS)}")
    if label not in LABEL_KINDS:
        raise ValueError(f"label must be one of {LABEL_KINDS}, got {label!r}")
    if not np.isfinite(detector.band).all():
        raise ValueError("the detector has no finite threshold, so the monitor would never stop the robot; "
                         "calibrate a band (conformal.calibrate_band) or pass a constant to set_threshold first")
    config, tensors = detector.to_state()
    if BAND in tensors:
        raise ValueError(f"detector tensor name {BAND!r} is reserved for the threshold band")
    info = MonitorInfo(kind=detector.kind, latent_dim=detector.latent_dim, feature=dict(feature), label=label,
                       alpha=alpha, detector=config, training=dict(training or {}))
    arrays = {name: np.ascontiguousarray(value) for name, value in tensors.items()}
    arrays[BAND] = np.ascontiguousarray(detector.band, dtype=np.float64)
    header = json.dumps({"format": FORMAT, "version": VERSION, **asdict(info)})
    save_file(arrays, str(path), metadata={META_KEY: header})


def read_monitor_info(path: str | Path) -> MonitorInfo:
    """The header only (cheap): for logging what a node is about to load."""
    try:
        with safe_open(str(path), framework="numpy") as f:
            metadata = f.metadata() or {}
    except (SafetensorError, OSError) as err:
        raise ValueError(f"{path} is not a readable safetensors monitor file ({err}); "
                         "write one with safe_monitor.monitor_file.save_monitor") from None
    if META_KEY not in metadata:
        raise ValueError(f"{path} has no {META_KEY!r} header, so it is not a SAFE monitor file; "
                         "write one with save_monitor")
    header = json.loads(metadata[META_KEY])
    if header.pop("format", None) != FORMAT or header.pop("version", None) != VERSION:
        raise ValueError(f"{path}: expected a {FORMAT} v{VERSION} header; re-export the monitor with this version")
    return MonitorInfo(**header)


def load_monitor(path: str | Path, expected_latent_dim: int | None = None) -> Detector:
    """The detector stored in ``path``, ready for ``reset()`` / ``score()`` / ``threshold()``.

    ``expected_latent_dim`` is the size of the latents the policy publishes; a monitor fitted on
    another size is refused here rather than failing on the first step.
    """
    info = read_monitor_info(path)
    if info.kind not in KINDS:
        raise ValueError(f"{path}: unknown detector kind {info.kind!r} (known: {sorted(KINDS)}); "
                         "the file may come from a newer version of safe_monitor")
    if expected_latent_dim is not None and info.latent_dim not in (None, expected_latent_dim):
        raise ValueError(f"{path} was fitted on {info.latent_dim}-d latents ({info.feature}), but the policy "
                         f"publishes {expected_latent_dim}-d latents; fit a monitor on this policy's rollouts "
                         "or load the monitor that matches it")
    tensors = load_file(str(path))
    band = tensors.pop(BAND, None)
    if band is None:
        raise ValueError(f"{path} lacks the {BAND!r} tensor; the file is incomplete, re-export it")
    detector = KINDS[info.kind].from_state(info.detector, tensors)
    if detector.latent_dim != info.latent_dim:
        raise ValueError(f"{path}: header says latent_dim {info.latent_dim} but the weights take "
                         f"{detector.latent_dim}; the file is corrupt, re-export it")
    detector.set_threshold(band)
    return detector
