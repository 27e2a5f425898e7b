"""Turn raw observations into model inputs: camera frames to normalised crops, instructions to token ids.

Numpy only, so the torch and the ONNX Runtime backends share it and a robot without torch can run it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

import numpy as np

from safevla_policy.configuration_safevla import SafeVLAConfig

log = logging.getLogger(__name__)

TOKENIZER_DIR = "tokenizer"


class TextTokenizer(Protocol):
    """What the processor needs from a tokenizer."""

    vocab_size: int
    pad_id: int

    def encode(self, text: str, max_length: int) -> list[int]:
        """Token ids, end-of-sequence included, at most ``max_length`` of them."""


class ByteTokenizer:
    """UTF-8 bytes shifted past T5's special ids (pad 0, eos 1, unk 2): deterministic, no files needed."""

    pad_id = 0
    eos_id = 1
    offset = 3
    vocab_size = 256 + offset

    def encode(self, text: str, max_length: int) -> list[int]:
        ids = [b + self.offset for b in text.encode("utf-8")][: max_length - 1]
        return ids + [self.eos_id]


class HFTokenizer:
    """A transformers tokenizer (SafeVLA's T5 tokenizer) read from a local folder, never downloaded."""

    def __init__(self, folder: str | Path) -> None:
        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"no tokenizer folder at {folder}: expected a local copy of the t5-small "
                                    "tokenizer (tokenizer.json or spiece.model + tokenizer_config.json)")
        from transformers import AutoTokenizer

        self._tok = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        self.folder = folder
        self.vocab_size = len(self._tok)
        self.pad_id = int(self._tok.pad_token_id or 0)

    def encode(self, text: str, max_length: int) -> list[int]:
        return list(self._tok(text, truncation=True, max_length=max_length)["input_ids"])

    def save(self, folder: str | Path) -> None:
        self._tok.save_pretrained(str(folder))


def make_tokenizer(config: SafeVLAConfig, tokenizer_path: str | Path | None, *,
                   allow_byte_fallback: bool = False) -> TextTokenizer:
    """The tokenizer the config asks for.

    A ``t5`` config without a tokenizer folder is an error, unless ``allow_byte_fallback`` (random weights:
    any deterministic tokenizer is as good as another) in which case the byte tokenizer is used and logged.
    """
    if config.tokenizer == "bytes":
        return ByteTokenizer()
    if tokenizer_path is not None:
        return HFTokenizer(tokenizer_path)
    if allow_byte_fallback:
        log.warning("config %r wants a T5 tokenizer but none was given; random weights, so using the "
                    "built-in byte tokenizer", config.name)
        return ByteTokenizer()
    raise ValueError(f"config {config.name!r} needs a T5 tokenizer: pass tokenizer_path=<local folder with the "
                     "t5-small tokenizer> (nothing is downloaded at run time)")


class SafeVLAProcessor:
    """Preprocessing exactly as SafeVLA does it: /255, CLIP mean/std, crop 3 px each side; T5 tokens."""

    def __init__(self, config: SafeVLAConfig, tokenizer: TextTokenizer) -> None:
        self.config = config
        self.tokenizer = tokenizer
        # Every uint8 value's normalised float per channel, (3, 256): the same numbers as
        # (x / 255 - mean) / std, looked up instead of recomputed for each pixel.
        levels = np.arange(256, dtype=np.float32)[:, None] / np.float32(255.0)
        mean = np.asarray(config.image_mean, dtype=np.float32)
        std = np.asarray(config.image_std, dtype=np.float32)
        self._table = np.ascontiguousarray(((levels - mean) / std).T)
        if tokenizer.vocab_size > int(config.text_encoder.get("vocab_size", tokenizer.vocab_size)):
            raise ValueError(f"tokenizer has {tokenizer.vocab_size} ids but the text encoder's vocabulary "
                             f"holds {config.text_encoder['vocab_size']}: wrong tokenizer for this config")

    def preprocess_image(self, rgb: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 -> (3, H, W - 2*crop) float32, normalised."""
        cfg = self.config
        expected = (cfg.image_height, cfg.image_width, 3)
        if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.shape != expected:
            found = f"{type(rgb).__name__} {getattr(rgb, 'dtype', '?')} {getattr(rgb, 'shape', '?')}"
            raise ValueError(f"camera frame must be a uint8 array of shape {expected}; got {found}")
        c = cfg.crop_each_side
        crop = rgb[:, c: cfg.image_width - c]
        return np.stack([np.take(self._table[ch], crop[..., ch]) for ch in range(3)])

    def preprocess_images(self, nav_rgb: np.ndarray, manip_rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Both cameras, each as a (1, 3, H, Wc) batch."""
        return self.preprocess_image(nav_rgb)[None], self.preprocess_image(manip_rgb)[None]

    def tokenize(self, instructions: str | list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Token ids and attention mask, (B, L) int64 each, right-padded to the longest instruction."""
        texts = [instructions] if isinstance(instructions, str) else list(instructions)
        if not texts or any(not isinstance(t, str) or not t.strip() for t in texts):
            raise ValueError(f"instructions must be non-empty strings; got {texts!r}")
        ids = [self.tokenizer.encode(t, self.config.text_max_length) for t in texts]
        length = max(len(i) for i in ids)
        input_ids = np.full((len(ids), length), self.tokenizer.pad_id, dtype=np.int64)
        mask = np.zeros((len(ids), length), dtype=np.int64)
        for row, seq in enumerate(ids):
            input_ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        return input_ids, mask
