"""SafeVLA's architecture as a dataclass, registered by name, saved as JSON beside the weights.

Two configs share one code path: ``safevla`` is the released "DINOv2 ViT-S TSFM" network (see
shared/facts/safevla.md section 1) and ``small`` is a tiny variant with the same structure (same
16x27 patch grid and 7x12 pooling) that runs fast on a laptop CPU for tests and smoke training.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from safevla_common.actions import NUM_ACTIONS

CONFIG_FILE = "config.json"

# CLIP statistics: SafeVLA normalises its camera frames with these before DINOv2.
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass
class SafeVLAConfig:
    """Everything that fixes the shapes and the numerics of a SafeVLA policy."""

    name: str = "safevla"
    """Registry name this config was made from (informational once saved)."""

    # --- cameras and the frozen image encoder (DINOv2, not part of the policy checkpoint) ---
    image_height: int = 224
    """Camera frame height in pixels (the simulator renders 224)."""
    image_width: int = 384
    """Camera frame width in pixels, after the simulator's 6 px side cuts (396 -> 384)."""
    crop_each_side: int = 3
    """Pixels cut from the left and right before DINOv2 so the width (378) is a multiple of 14."""
    image_mean: tuple[float, float, float] = CLIP_MEAN
    """Per-channel mean subtracted after scaling to [0, 1]."""
    image_std: tuple[float, float, float] = CLIP_STD
    """Per-channel standard deviation divided after subtracting the mean."""
    pooled_grid: tuple[int, int] = (7, 12)
    """Adaptive average pooling of the 16x27 patch grid: 84 visual tokens per camera."""
    dino: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments of ``transformers.Dinov2Config`` (random weights unless a local folder is given)."""
    dino_pos_interpolation: str = "hub"
    """How the 37x37 position embeddings are resized to 16x27: ``hub`` reproduces torch.hub DINOv2
    (scale factor with the 0.1 offset, what SafeVLA was trained with); ``hf`` uses transformers' size-based
    resize."""

    # --- instruction text ---
    tokenizer: str = "t5"
    """``t5``: a T5 tokenizer from a local folder; ``bytes``: the built-in UTF-8 byte tokenizer (no files)."""
    text_max_length: int = 64
    """Instructions are truncated to this many tokens (end-of-sequence token included)."""
    text_encoder: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments of ``transformers.T5Config`` for the frozen T5 encoder (stored in the checkpoint)."""

    # --- fusion of cameras and text (one vector per step) ---
    hidden_size: int = 512
    """Width of the fusion transformer, the decoder and the belief (the SAFE latent)."""
    fusion_layers: int = 3
    """Post-norm ``nn.TransformerEncoder`` layers over [fusion token, nav, manip, text]."""
    fusion_heads: int = 8
    """Attention heads of the fusion transformer."""
    fusion_ffn_dim: int = 2048
    """Feed-forward width of each fusion layer (ReLU)."""
    fusion_dropout: float = 0.1
    """Dropout inside the fusion layers (active in training only)."""

    # --- temporal decoder (LLaMA-style, causal over the episode) ---
    decoder_layers: int = 3
    """Decoder blocks."""
    decoder_heads: int = 8
    """Attention heads per block (head dim = hidden_size / decoder_heads)."""
    decoder_ffn_dim: int = 1536
    """SwiGLU hidden width (LLaMA rounding of 2/3 * 4 * 512 up to a multiple of 256)."""
    norm_eps: float = 1e-5
    """RMSNorm epsilon."""
    max_context: int = 500
    """Steps the KV cache holds; at this many the context restarts (the original counter reset)."""

    num_actions: int = NUM_ACTIONS
    """Actor outputs; must match safevla_common.actions."""

    def __post_init__(self) -> None:
        self.image_mean = tuple(self.image_mean)
        self.image_std = tuple(self.image_std)
        self.pooled_grid = tuple(self.pooled_grid)
        self.validate()

    # --- derived shapes ---
    @property
    def crop_width(self) -> int:
        return self.image_width - 2 * self.crop_each_side

    @property
    def patch_size(self) -> int:
        return int(self.dino.get("patch_size", 14))

    @property
    def patch_grid(self) -> tuple[int, int]:
        return self.image_height // self.patch_size, self.crop_width // self.patch_size

    @property
    def dino_dim(self) -> int:
        return int(self.dino.get("hidden_size", 384))

    @property
    def text_dim(self) -> int:
        return int(self.text_encoder.get("d_model", 512))

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.decoder_heads

    def validate(self) -> None:
        """Raise ValueError naming the inconsistent fields."""
        problems = []
        if self.num_actions != NUM_ACTIONS:
            problems.append(f"num_actions={self.num_actions} but safevla_common defines {NUM_ACTIONS}")
        if self.hidden_size % self.decoder_heads or self.hidden_size % self.fusion_heads:
            problems.append(f"hidden_size={self.hidden_size} is not divisible by the head counts")
        if self.hidden_size % 2:
            problems.append("hidden_size must be even (sinusoidal time encoding)")
        if self.image_height % self.patch_size or self.crop_width % self.patch_size:
            problems.append(f"cropped frame {self.image_height}x{self.crop_width} is not a multiple of "
                            f"the patch size {self.patch_size}")
        if self.tokenizer not in ("t5", "bytes"):
            problems.append(f"tokenizer={self.tokenizer!r}, expected 't5' or 'bytes'")
        if self.dino_pos_interpolation not in ("hub", "hf"):
            problems.append(f"dino_pos_interpolation={self.dino_pos_interpolation!r}, expected 'hub' or 'hf'")
        if self.max_context < 1 or self.text_max_length < 2:
            problems.append("max_context must be >= 1 and text_max_length >= 2")
        if problems:
            raise ValueError("invalid SafeVLA config: " + "; ".join(problems))

    # --- serialisation ---
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SafeVLAConfig:
        """Build from a dict; unknown keys are an error, not silently dropped."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown SafeVLA config keys: {', '.join(unknown)}; "
                             f"valid keys are: {', '.join(sorted(known))}")
        return cls(**data)

    def save(self, folder: str | Path) -> Path:
        """Write ``config.json`` into ``folder`` (created if needed)."""
        path = Path(folder) / CONFIG_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path) -> SafeVLAConfig:
        """Read a config from a JSON file or from a folder holding ``config.json``."""
        path = Path(path)
        if path.is_dir():
            path = path / CONFIG_FILE
        if not path.is_file():
            raise FileNotFoundError(f"no SafeVLA config at {path}: expected a {CONFIG_FILE} written by "
                                    f"SafeVLAConfig.save (or use a registered name: {', '.join(CONFIGS)})")
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} is not valid JSON ({err}); expected a SafeVLA config") from None
        return cls.from_dict(data)


CONFIGS: dict[str, Callable[[], SafeVLAConfig]] = {}


def register_config(name: str) -> Callable[[Callable[[], SafeVLAConfig]], Callable[[], SafeVLAConfig]]:
    """Decorator: make a config factory available under ``name``."""

    def wrap(factory: Callable[[], SafeVLAConfig]) -> Callable[[], SafeVLAConfig]:
        if name in CONFIGS:
            raise ValueError(f"config {name!r} is already registered")
        CONFIGS[name] = factory
        return factory

    return wrap


def make_config(name_or_path: str | Path, **overrides: Any) -> SafeVLAConfig:
    """A registered config by name, or one read from a JSON file/folder; ``overrides`` replace fields."""
    if str(name_or_path) in CONFIGS:
        config = CONFIGS[str(name_or_path)]()
    elif Path(name_or_path).exists():
        config = SafeVLAConfig.load(name_or_path)
    else:
        raise ValueError(f"unknown SafeVLA config {str(name_or_path)!r}: expected a registered name "
                         f"({', '.join(CONFIGS)}) or a path to a config.json / checkpoint folder")
    if overrides:
        config = SafeVLAConfig.from_dict({**config.to_dict(), **overrides})
    return config


@register_config("safevla")
def safevla_config() -> SafeVLAConfig:
    """The released architecture: DINOv2 ViT-S/14, T5-small encoder, 512-d fusion and decoder."""
    return SafeVLAConfig(
        name="safevla",
        dino=dict(hidden_size=384, num_hidden_layers=12, num_attention_heads=6, mlp_ratio=4,
                  patch_size=14, image_size=518, layerscale_value=1.0, layer_norm_eps=1e-6),
        tokenizer="t5",
        text_max_length=64,
        text_encoder=dict(vocab_size=32128, d_model=512, d_kv=64, d_ff=2048, num_layers=6, num_heads=8,
                          relative_attention_num_buckets=32, relative_attention_max_distance=128,
                          dropout_rate=0.1, layer_norm_epsilon=1e-6, feed_forward_proj="relu",
                          pad_token_id=0, eos_token_id=1),
    )


@register_config("small")
def small_config() -> SafeVLAConfig:
    """A tiny network with the same structure and input sizes, for CPU tests and smoke training."""
    return SafeVLAConfig(
        name="small",
        dino=dict(hidden_size=48, num_hidden_layers=2, num_attention_heads=3, mlp_ratio=2,
                  patch_size=14, image_size=224, layerscale_value=1.0, layer_norm_eps=1e-6),
        tokenizer="bytes",
        text_max_length=48,
        text_encoder=dict(vocab_size=259, d_model=64, d_kv=16, d_ff=128, num_layers=2, num_heads=4,
                          relative_attention_num_buckets=32, relative_attention_max_distance=128,
                          dropout_rate=0.1, layer_norm_epsilon=1e-6, feed_forward_proj="relu",
                          pad_token_id=0, eos_token_id=1),
        hidden_size=128,
        fusion_layers=2,
        fusion_heads=4,
        fusion_ffn_dim=256,
        decoder_layers=2,
        decoder_heads=4,
        decoder_ffn_dim=384,
    )
