"""The frozen part of the policy's input pipeline, shared by demos, rollouts and evaluation.

``DinoFeaturizer`` turns camera frames into pooled DINOv2 features (B, C, 7, 12) exactly as the backends
do (``SafeVLAProcessor.preprocess_image`` then ``DinoPatchFeatures``). It is picklable and loads DINOv2
from a checkpoint folder lazily, so the same object runs inside simulator workers (``obs_fn`` of
``VectorHouseEnv``: frames never cross a pipe) or in the trainer process on a GPU. DINOv2 is frozen in
every stage, which is why its features can be computed once and cached (the demos store them).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import torch

from safevla_policy.checkpoints import DINO_DIR
from safevla_policy.configuration_safevla import SafeVLAConfig
from safevla_policy.modeling_safevla import DinoPatchFeatures, build_dinov2
from safevla_policy.processor_safevla import TOKENIZER_DIR, SafeVLAProcessor, make_tokenizer

FEATURE_KEYS = ("nav_feats", "manip_feats")


def processor_for(folder: Path, config: SafeVLAConfig) -> SafeVLAProcessor:
    tokenizer_dir = folder / TOKENIZER_DIR
    tokenizer = make_tokenizer(config, tokenizer_dir if tokenizer_dir.is_dir() else None, allow_byte_fallback=True)
    return SafeVLAProcessor(config, tokenizer)


def dino_fingerprint(dino: DinoPatchFeatures) -> str:
    """A short hash of the frozen DINOv2 weights: demos made with other features must not be mixed in."""
    digest = hashlib.sha256()
    for key, value in sorted(dino.dino.state_dict().items()):
        digest.update(key.encode())
        digest.update(value.detach().float().cpu().numpy().tobytes())
    return digest.hexdigest()[:16]


class DinoFeaturizer:
    """Frames -> frozen DINOv2 features, loaded from a policy checkpoint folder on first use."""

    def __init__(self, policy_folder: str | Path, device: str = "cpu", threads: int | None = 1) -> None:
        self.folder = Path(policy_folder)
        self.device = device
        self.threads = threads
        if not (self.folder / DINO_DIR).is_dir():
            raise FileNotFoundError(f"{self.folder} has no {DINO_DIR}/ folder; expected a checkpoint folder "
                                    "written by save_pretrained / export_policy")
        self._loaded: tuple[SafeVLAProcessor, DinoPatchFeatures] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_loaded": None}

    def _load(self) -> tuple[SafeVLAProcessor, DinoPatchFeatures]:
        if self._loaded is None:
            if self.threads:
                torch.set_num_threads(self.threads)
            config = SafeVLAConfig.load(self.folder)
            dino = DinoPatchFeatures(build_dinov2(config, self.folder / DINO_DIR), config).to(self.device).eval()
            self._loaded = processor_for(self.folder, config), dino
        return self._loaded

    @torch.inference_mode()
    def features(self, nav_rgb: np.ndarray, manip_rgb: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, H, W, 3) uint8 frames of each camera -> two (B, C, 7, 12) float32 tensors on ``device``."""
        processor, dino = self._load()
        pixels = np.stack([processor.preprocess_image(f) for f in (*nav_rgb, *manip_rgb)])
        feats = dino(torch.from_numpy(pixels).to(self.device))
        b = len(nav_rgb)
        return feats[:b], feats[b:]

    def __call__(self, obs: dict[str, Any]) -> dict[str, Any]:
        """A HouseEnv observation -> compact features (the ``obs_fn`` of VectorHouseEnv)."""
        nav, manip = self.features(obs["nav_rgb"][None], obs["manip_rgb"][None])
        return {"nav_feats": nav[0].cpu().numpy(), "manip_feats": manip[0].cpu().numpy(),
                "last_action": int(obs["last_action"]), "object_in_hand": int(obs["object_in_hand"])}

    def ensure_features(self, obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Stacked observations with features: as is if the workers made them, else computed here."""
        if "nav_feats" in obs:
            return obs
        nav, manip = self.features(obs["nav_rgb"], obs["manip_rgb"])
        return {"nav_feats": nav, "manip_feats": manip, "last_action": obs["last_action"],
                "object_in_hand": obs["object_in_hand"]}

    @property
    def fingerprint(self) -> str:
        return dino_fingerprint(self._load()[1])


def tokenize(processor: SafeVLAProcessor, instructions: list[str], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Padded token ids and mask (B, L) for a batch of instructions."""
    ids, mask = processor.tokenize(instructions)
    return torch.from_numpy(ids).to(device), torch.from_numpy(mask).to(device)
