"""The SafeVLA policy in eager PyTorch: CUDA when there is one, else CPU; KV cache kept per episode."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from safevla_policy.backends.common import CachedPolicyBackend
from safevla_policy.checkpoints import load_policy
from safevla_policy.configuration_safevla import SafeVLAConfig
from safevla_policy.modeling_safevla import KVCache, SafeVLAStepModule

log = logging.getLogger(__name__)


def select_device(device: str = "auto") -> tuple[torch.device, str]:
    """The torch device to run on and why (``auto``: CUDA if usable, else CPU)."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda"), f"CUDA device found ({torch.cuda.get_device_name(0)})"
        why = "this torch build has no CUDA" if torch.version.cuda is None else "no CUDA device is visible"
        return torch.device("cpu"), f"{why}; running on CPU"
    chosen = torch.device(device)
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} requested but CUDA is not available (torch {torch.__version__}, "
                           f"CUDA build: {torch.version.cuda}); use device='cpu' or 'auto'")
    return chosen, "requested"


class TorchBackend(CachedPolicyBackend):
    """``make_backend("model", config=..., checkpoint=..., device="auto", seed=0, ...)``.

    Args:
        config: registered config name (``small``, ``safevla``) or config.json/folder; None: the
            checkpoint folder's, else ``safevla`` for checkpoint files and ``small`` without one.
        checkpoint: SafeVLA ``.pt``, Lightning ``.ckpt``, ``.safetensors`` or a save_pretrained folder;
            None: random weights from ``seed``.
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        seed: seed of the random weights (ignored for weights read from a checkpoint).
        dino_path, tokenizer_path, t5_path: local Hugging Face folders (nothing is downloaded).
        num_threads: CPU threads for torch (None: torch's default).
        allow_random_dino: accept a checkpoint without DINOv2 weights (tests only).
    """

    name = "model"

    def __init__(self, config: str | Path | SafeVLAConfig | None = None, checkpoint: str | Path | None = None,
                 device: str = "auto", seed: int = 0, dino_path: str | Path | None = None,
                 tokenizer_path: str | Path | None = None, t5_path: str | Path | None = None,
                 num_threads: int | None = None, allow_random_dino: bool = False) -> None:
        self.device, why = select_device(device)
        if num_threads:
            torch.set_num_threads(num_threads)
        policy = load_policy(config, checkpoint, dino_path=dino_path, t5_path=t5_path,
                             tokenizer_path=tokenizer_path, seed=seed, allow_random_dino=allow_random_dino)
        log.info("torch backend: %s on %s (%s), weights: %s", policy.config.name, self.device, why, policy.source)
        self.policy = policy
        self.module = SafeVLAStepModule(policy.dino, policy.model).to(self.device).eval()
        super().__init__(policy.processor, policy.has_critic)

    def _tensor(self, x: np.ndarray | list) -> torch.Tensor:
        return torch.as_tensor(np.asarray(x)).to(self.device)

    @torch.inference_mode()
    def _encode_text(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> torch.Tensor:
        return self.policy.model.encode_text(self._tensor(input_ids), self._tensor(attention_mask))

    def _empty_cache(self) -> KVCache:
        return self.policy.model.empty_cache(1)

    @torch.inference_mode()
    def _run_step(self, nav: np.ndarray, manip: np.ndarray, text: torch.Tensor, last_action: int,
                  object_in_hand: int, step: int, cache: KVCache
                  ) -> tuple[np.ndarray, float, np.ndarray, KVCache]:
        logits, value, belief, keys, values = self.module(
            self._tensor(nav), self._tensor(manip), text, self._tensor([last_action]),
            self._tensor([object_in_hand]), self._tensor(np.array([step], dtype=np.float32)), *cache)
        return logits[0].float().cpu().numpy(), float(value[0]), belief[0].float().cpu().numpy(), (keys, values)
