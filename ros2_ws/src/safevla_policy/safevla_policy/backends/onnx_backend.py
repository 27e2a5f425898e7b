"""The SafeVLA policy in ONNX Runtime: CUDA provider when usable, else CPU; KV cache fed back per step.

Runs an exported folder (``onnx_export``) with no torch at run time, or exports one first from a config
or checkpoint (that needs torch once).
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

import numpy as np

from safevla_policy.backends.common import CachedPolicyBackend
from safevla_policy.configuration_safevla import SafeVLAConfig
from safevla_policy.onnx_export import META_FILE, STEP_FILE, TEXT_FILE
from safevla_policy.processor_safevla import TOKENIZER_DIR, SafeVLAProcessor, make_tokenizer

log = logging.getLogger(__name__)

NVIDIA_DRIVER = Path("/proc/driver/nvidia/version")


def select_providers(device: str = "auto") -> tuple[list[str], str]:
    """Execution providers to ask for, in order, and why."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    if device == "cpu":
        return ["CPUExecutionProvider"], "requested"
    if "CUDAExecutionProvider" not in available:
        if device.startswith("cuda"):
            raise RuntimeError(f"device {device!r} requested but this onnxruntime has no CUDA provider "
                               f"(available: {available}); install onnxruntime-gpu or use device='cpu'")
        return ["CPUExecutionProvider"], "this onnxruntime build has no CUDA provider"
    if device == "auto" and not NVIDIA_DRIVER.exists():
        return ["CPUExecutionProvider"], f"no NVIDIA driver ({NVIDIA_DRIVER} missing)"
    return ["CUDAExecutionProvider", "CPUExecutionProvider"], "CUDA provider available"


def _session(path: Path, providers: list[str], num_threads: int | None, spin: bool):
    """A session with full graph optimisation; idle threads sleep unless ``spin`` (cores are shared)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    if num_threads:
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=providers)


class OnnxBackend(CachedPolicyBackend):
    """``make_backend("onnx", onnx_dir=..., device="auto")`` or with the torch backend's arguments.

    Args:
        onnx_dir: a folder written by ``onnx_export`` (step.onnx, text.onnx, config.json). If it has no
            step.onnx, the policy described by the other arguments is exported into it first; None: into a
            temporary folder.
        config, checkpoint, seed, dino_path, tokenizer_path, allow_random_dino: as for the torch backend,
            used only when exporting (a ``checkpoint`` folder holding step.onnx is used as ``onnx_dir``).
        device: ``auto`` (CUDA provider when usable, else CPU), ``cpu`` or ``cuda``.
        num_threads: ONNX Runtime intra-op threads (None: its default).
        spin: let idle worker threads spin (lower latency on dedicated cores; much higher when the cores are
            shared with other processes: 33 vs 11 ms per ``small`` step on 2 busy cores).
    """

    name = "onnx"

    def __init__(self, config: str | Path | SafeVLAConfig | None = None, checkpoint: str | Path | None = None,
                 device: str = "auto", seed: int = 0, onnx_dir: str | Path | None = None,
                 dino_path: str | Path | None = None, tokenizer_path: str | Path | None = None,
                 num_threads: int | None = None, spin: bool = False, allow_random_dino: bool = False) -> None:
        if onnx_dir is None and checkpoint is not None and (Path(checkpoint) / STEP_FILE).is_file():
            onnx_dir, checkpoint = checkpoint, None  # an exported folder passed as the checkpoint
        if onnx_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="safevla_onnx_")
            onnx_dir = self._tmp.name
        folder = Path(onnx_dir)
        if not (folder / STEP_FILE).is_file():
            from safevla_policy.checkpoints import load_policy
            from safevla_policy.onnx_export import export_onnx

            policy = load_policy(config, checkpoint, dino_path=dino_path, tokenizer_path=tokenizer_path,
                                 seed=seed, allow_random_dino=allow_random_dino)
            export_onnx(policy, folder)
        meta = json.loads((folder / META_FILE).read_text())
        cfg = SafeVLAConfig.load(folder)
        if tokenizer_path is None and (folder / TOKENIZER_DIR).is_dir():
            tokenizer_path = folder / TOKENIZER_DIR
        tokenizer = make_tokenizer(cfg, tokenizer_path, allow_byte_fallback=meta["source"].startswith("random"))

        providers, why = select_providers(device)
        self.step_session = _session(folder / STEP_FILE, providers, num_threads, spin)
        self.text_session = _session(folder / TEXT_FILE, providers, num_threads, spin)
        self.providers = self.step_session.get_providers()
        if providers[0] not in self.providers:
            why = f"{providers[0]} could not be initialised (see onnxruntime's message); fell back"
            if device.startswith("cuda"):
                raise RuntimeError(f"device {device!r} requested but {why}")
        log.info("onnx backend: %s on %s (%s), weights: %s, folder %s", cfg.name, self.providers[0], why,
                 meta["source"], folder)
        self.folder = folder
        super().__init__(SafeVLAProcessor(cfg, tokenizer), bool(meta.get("has_critic", True)))

    def _encode_text(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        return self.text_session.run(None, {"input_ids": input_ids, "attention_mask": attention_mask})[0]

    def _empty_cache(self) -> tuple[np.ndarray, np.ndarray]:
        cfg = self.config
        shape = (cfg.decoder_layers, 1, cfg.decoder_heads, 0, cfg.head_dim)
        return np.zeros(shape, np.float32), np.zeros(shape, np.float32)

    def _run_step(self, nav: np.ndarray, manip: np.ndarray, text: np.ndarray, last_action: int,
                  object_in_hand: int, step: int, cache: tuple[np.ndarray, np.ndarray]
                  ) -> tuple[np.ndarray, float, np.ndarray, tuple[np.ndarray, np.ndarray]]:
        feeds = {"nav_pixels": nav, "manip_pixels": manip, "text_feats": text,
                 "last_action": np.array([last_action], np.int64),
                 "object_in_hand": np.array([object_in_hand], np.int64),
                 "time_step": np.array([step], np.float32), "past_keys": cache[0], "past_values": cache[1]}
        logits, value, belief, keys, values = self.step_session.run(None, feeds)
        return logits[0], float(value[0]), belief[0], (keys, values)

