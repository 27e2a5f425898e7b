"""The SafeVLA network ("DINOv2 ViT-S TSFM"), with parameter names that match the released checkpoints.

``SafeVLAModel`` is exactly what the checkpoints hold (139 tensors for the ``safevla`` config): text
encoder + adapters, fusion transformer, step embeddings, temporal decoder, actor and critic. It takes
pooled DINOv2 features, as SafeVLA's own model does; the frozen DINOv2 lives in ``DinoPatchFeatures``,
outside the checkpoint. ``SafeVLAStepModule`` joins the two into one control step from pixels (what the
backends run and what ONNX export traces).

Two ways to run the decoder give the same numbers: ``SafeVLAModel.forward`` over whole sequences
(training) and ``SafeVLAModel.step`` with an explicit KV cache (deployment).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from safevla_common.actions import NUM_PREVIOUS_ACTION_TOKENS, PADDING_ACTION
from safevla_policy.configuration_safevla import SafeVLAConfig

CAMERAS = ("raw_navigation_camera", "raw_manipulation_camera")
KVCache = tuple[torch.Tensor, torch.Tensor]  # keys, values: (layers, batch, heads, steps, head_dim) each


# --------------------------------------------------------------------------- frozen image encoder
def _pool_matrix(n_in: int, n_out: int) -> torch.Tensor:
    """Rows that average the same input ranges as ``adaptive_avg_pool1d(n_in -> n_out)``."""
    m = torch.zeros(n_out, n_in)
    for i in range(n_out):
        start, end = (i * n_in) // n_out, -((-(i + 1) * n_in) // n_out)
        m[i, start:end] = 1.0 / (end - start)
    return m


class AdaptiveAvgPool(nn.Module):
    """``adaptive_avg_pool2d`` to a fixed grid as two small matmuls (it is separable); exports to any ONNX."""

    def __init__(self, in_hw: tuple[int, int], out_hw: tuple[int, int]) -> None:
        super().__init__()
        self.register_buffer("rows", _pool_matrix(in_hw[0], out_hw[0]), persistent=False)
        self.register_buffer("cols", _pool_matrix(in_hw[1], out_hw[1]), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("bchw,ph,qw->bcpq", x, self.rows, self.cols)


def build_dinov2(config: SafeVLAConfig, path: str | Path | None = None) -> nn.Module:
    """A transformers ``Dinov2Model``: from a local HF folder if given (never downloaded), else random."""
    from transformers import Dinov2Config, Dinov2Model

    if path is None:
        return Dinov2Model(Dinov2Config(**config.dino))
    path = Path(path)
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"no DINOv2 at {path}: expected a local Hugging Face folder (config.json + "
                                "model.safetensors), e.g. a saved copy of facebook/dinov2-small")
    model = Dinov2Model.from_pretrained(str(path), local_files_only=True)
    if model.config.hidden_size != config.dino_dim or model.config.patch_size != config.patch_size:
        raise ValueError(f"DINOv2 at {path} has width {model.config.hidden_size} and patch "
                         f"{model.config.patch_size}; config {config.name!r} expects {config.dino_dim} and "
                         f"{config.patch_size}")
    return model


class DinoPatchFeatures(nn.Module):
    """Frozen DINOv2: normalised, cropped frames (B, 3, 224, 378) -> pooled patch tokens (B, C, 7, 12).

    Patch tokens only (CLS dropped), after the final LayerNorm ("x_norm_patchtokens"), reshaped to the
    16x27 grid and average-pooled. The position embeddings are resized once for that grid.
    """

    def __init__(self, dino: nn.Module, config: SafeVLAConfig) -> None:
        super().__init__()
        self.dino = dino.eval().requires_grad_(False)
        self.grid = config.patch_grid
        self.interpolation = config.dino_pos_interpolation
        self.pool = AdaptiveAvgPool(self.grid, config.pooled_grid)
        self.register_buffer("pos_embed", self._resized_pos_embed(), persistent=False)
        self.register_load_state_dict_post_hook(lambda module, _: module.refresh_pos_embed())

    @classmethod
    def from_config(cls, config: SafeVLAConfig, path: str | Path | None = None) -> DinoPatchFeatures:
        return cls(build_dinov2(config, path), config)

    def refresh_pos_embed(self) -> None:
        """Recompute the resized position embeddings (after DINOv2's weights change)."""
        self.pos_embed = self._resized_pos_embed().to(self.pos_embed.device)

    @torch.no_grad()
    def _resized_pos_embed(self) -> torch.Tensor:
        table = self.dino.embeddings.position_embeddings.float()
        n = table.shape[1] - 1
        side = int(math.isqrt(n))
        patches = table[:, 1:].reshape(1, side, side, -1).permute(0, 3, 1, 2)
        h, w = self.grid
        if self.interpolation == "hub":  # torch.hub DINOv2: scale factor with a 0.1 offset
            resize = dict(scale_factor=((h + 0.1) / side, (w + 0.1) / side))
        else:
            resize = dict(size=(h, w))
        patches = F.interpolate(patches, mode="bicubic", align_corners=False, **resize)
        assert patches.shape[-2:] == (h, w), patches.shape
        return torch.cat([table[:, :1], patches.permute(0, 2, 3, 1).reshape(1, h * w, -1)], dim=1)

    def train(self, mode: bool = True) -> DinoPatchFeatures:
        return super().train(False)  # frozen: always in eval mode

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        emb = self.dino.embeddings
        x = emb.patch_embeddings(pixels)
        x = torch.cat([emb.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed.to(x.dtype)
        for layer in self.dino.encoder.layer:
            x = layer(x)
        x = self.dino.layernorm(x)[:, 1:]
        grid = x.transpose(1, 2).reshape(x.shape[0], x.shape[2], *self.grid)
        return self.pool(grid)


# --------------------------------------------------------------------------- visual-text encoder
def _post_norm_encoder_layer(layer: nn.TransformerEncoderLayer, x: torch.Tensor,
                             keep: torch.Tensor | None) -> torch.Tensor:
    """``nn.TransformerEncoderLayer`` (post-norm, ReLU) written out, so eager, export and ONNX agree.

    ``keep`` is a boolean (B, 1, 1, S) mask of keys that may be attended to (None: all).
    """
    attn = layer.self_attn
    b, s, d = x.shape
    q, k, v = F.linear(x, attn.in_proj_weight, attn.in_proj_bias).chunk(3, dim=-1)
    q, k, v = (t.reshape(b, s, attn.num_heads, d // attn.num_heads).transpose(1, 2) for t in (q, k, v))
    a = F.scaled_dot_product_attention(q, k, v, attn_mask=keep, dropout_p=attn.dropout if layer.training else 0.0)
    a = attn.out_proj(a.transpose(1, 2).reshape(b, s, d))
    x = layer.norm1(x + layer.dropout1(a))
    ff = layer.linear2(layer.dropout(F.relu(layer.linear1(x))))
    return layer.norm2(x + layer.dropout2(ff))


class SafeVLAVisualEncoder(nn.Module):
    """Text-conditioned fusion of the two cameras into one vector per step (``visual_encoder.*``)."""

    def __init__(self, config: SafeVLAConfig) -> None:
        super().__init__()
        from transformers import T5Config, T5EncoderModel

        d = config.hidden_size
        self.text_encoder = T5EncoderModel(T5Config(**config.text_encoder)).requires_grad_(False)
        self.text_adapter = nn.Sequential(nn.Linear(config.text_dim, d), nn.LayerNorm(d), nn.ReLU())
        self.fusion_token = nn.Parameter(0.1 * torch.rand(d))
        for camera in CAMERAS:
            setattr(self, f"visual_sensor_token_{camera}", nn.Parameter(0.1 * torch.rand(d)))
        self.visual_compressor = nn.Sequential(
            nn.Conv2d(config.dino_dim, d, 1), nn.ReLU(), nn.Conv2d(d, d, 1), nn.ReLU())
        self.visual_adapter = nn.Sequential(nn.Linear(d, d), nn.LayerNorm(d), nn.ReLU())
        layer = nn.TransformerEncoderLayer(d, config.fusion_heads, config.fusion_ffn_dim, config.fusion_dropout,
                                           activation="relu", batch_first=True, norm_first=False)
        self.fusion_xformer = nn.TransformerEncoder(layer, config.fusion_layers, enable_nested_tensor=False)

    def encode_text(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """(B, L) token ids -> (B, L, d) adapted T5 features (T5 frozen, the adapter trains)."""
        with torch.no_grad():
            feats = self.text_encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.text_adapter(feats)

    def encode_camera(self, feats: torch.Tensor, camera: str) -> torch.Tensor:
        """(N, C, 7, 12) pooled DINOv2 features -> (N, 84, d) tokens tagged with the camera's vector.

        The 1x1 convolutions of ``visual_compressor`` are applied as per-token linear maps: the same
        arithmetic, without a convolution kernel's overhead on an 84-pixel map.
        """
        x = feats.flatten(2).transpose(1, 2)
        for layer in self.visual_compressor:
            x = F.linear(x, layer.weight.flatten(1), layer.bias) if isinstance(layer, nn.Conv2d) else layer(x)
        return self.visual_adapter(x) + getattr(self, f"visual_sensor_token_{camera}")

    def forward(self, nav_feats: torch.Tensor, manip_feats: torch.Tensor, text_feats: torch.Tensor,
                text_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Fuse N steps: features (N, C, 7, 12) x2, text (N, L, d) -> (N, d), the fusion token's output."""
        n = nav_feats.shape[0]
        tokens = torch.cat([self.fusion_token.view(1, 1, -1).expand(n, 1, -1),
                            self.encode_camera(nav_feats, CAMERAS[0]),
                            self.encode_camera(manip_feats, CAMERAS[1]), text_feats], dim=1)
        keep = None
        if text_mask is not None:  # padded instructions in a batch: never attend to the padding
            visual = torch.ones(n, tokens.shape[1] - text_mask.shape[1], dtype=torch.bool, device=tokens.device)
            keep = torch.cat([visual, text_mask.bool()], dim=1)[:, None, None, :]
        for layer in self.fusion_xformer.layers:
            tokens = _post_norm_encoder_layer(layer, tokens, keep)
        return tokens[:, 0]


# --------------------------------------------------------------------------- temporal decoder
class TimeEncoder(nn.Module):
    """Sinusoidal encoding of the episode step (sin at even, cos at odd channels); the only position signal."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.register_buffer("div_term", torch.exp(torch.arange(0, dim, 2).float() * (-math.log(10000.0) / dim)))

    def forward(self, steps: torch.Tensor) -> torch.Tensor:
        angles = steps.float().unsqueeze(-1) * self.div_term
        return torch.stack([angles.sin(), angles.cos()], dim=-1).flatten(-2)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).type_as(x) * self.weight


class Attention(nn.Module):
    """Multi-head causal self-attention without bias and without RoPE."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.wq, self.wk, self.wv, self.wo = (nn.Linear(dim, dim, bias=False) for _ in range(4))

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(x.shape[0], x.shape[1], self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x: torch.Tensor, past_k: torch.Tensor | None = None,
                past_v: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Without a cache: causal over x's steps. With one: x's single step attends to the past and itself.
        Returns the output and the keys/values of all steps seen (what the next call's cache is)."""
        q, k, v = self._split(self.wq(x)), self._split(self.wk(x)), self._split(self.wv(x))
        if past_k is None:
            out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            k, v = torch.cat([past_k, k], dim=2), torch.cat([past_v, v], dim=2)
            out = F.scaled_dot_product_attention(q, k, v)
        return self.wo(out.transpose(1, 2).reshape(x.shape)), k, v


class FeedForward(nn.Module):
    """SwiGLU: w2(silu(w1 x) * w3 x)."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.w1 = nn.Linear(dim, hidden, bias=False)
        self.w2 = nn.Linear(hidden, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class DecoderBlock(nn.Module):
    def __init__(self, config: SafeVLAConfig) -> None:
        super().__init__()
        self.attention = Attention(config.hidden_size, config.decoder_heads)
        self.feed_forward = FeedForward(config.hidden_size, config.decoder_ffn_dim)
        self.attention_norm = RMSNorm(config.hidden_size, config.norm_eps)
        self.ffn_norm = RMSNorm(config.hidden_size, config.norm_eps)

    def forward(self, x: torch.Tensor, past_k: torch.Tensor | None = None,
                past_v: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        a, k, v = self.attention(self.attention_norm(x), past_k, past_v)
        h = x + a
        return h + self.feed_forward(self.ffn_norm(h)), k, v


class TemporalDecoder(nn.Module):
    """LLaMA-style causal transformer over the episode; ``output`` gives the belief (``decoder.*``)."""

    def __init__(self, config: SafeVLAConfig) -> None:
        super().__init__()
        self.layers = nn.ModuleList(DecoderBlock(config) for _ in range(config.decoder_layers))
        self.norm = RMSNorm(config.hidden_size, config.norm_eps)
        self.output = nn.Linear(config.hidden_size, config.hidden_size, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, d) step embeddings -> (B, T, d) beliefs, each step seeing only itself and the past."""
        for layer in self.layers:
            x, _, _ = layer(x)
        return self.output(self.norm(x))

    def step(self, x: torch.Tensor, past_k: torch.Tensor, past_v: torch.Tensor
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One step (B, 1, d) with the cache (layers, B, heads, T, head_dim) -> belief, cache with T + 1."""
        keys, values = [], []
        for i, layer in enumerate(self.layers):
            x, k, v = layer(x, past_k[i], past_v[i])
            keys.append(k)
            values.append(v)
        return self.output(self.norm(x)), torch.stack(keys), torch.stack(values)


# --------------------------------------------------------------------------- heads and the whole policy
class ActorHead(nn.Module):
    """Logits of the categorical policy over the actions (``actor.linear``)."""

    def __init__(self, dim: int, num_actions: int) -> None:
        super().__init__()
        self.linear = nn.Linear(dim, num_actions)
        nn.init.orthogonal_(self.linear.weight, gain=0.01)
        nn.init.zeros_(self.linear.bias)

    def forward(self, belief: torch.Tensor) -> torch.Tensor:
        return self.linear(belief)


class CriticHead(nn.Module):
    """State value (``critic.fc``)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.fc = nn.Linear(dim, 1)
        nn.init.orthogonal_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)

    def forward(self, belief: torch.Tensor) -> torch.Tensor:
        return self.fc(belief).squeeze(-1)


@dataclass
class SafeVLAOutput:
    logits: torch.Tensor  # (..., num_actions)
    values: torch.Tensor  # (...)
    beliefs: torch.Tensor  # (..., hidden): the latent the SAFE monitor watches


class SafeVLAModel(nn.Module):
    """The checkpointed SafeVLA policy: pooled DINOv2 features + instruction + step inputs -> action logits."""

    def __init__(self, config: SafeVLAConfig) -> None:
        super().__init__()
        self.config = config
        d = config.hidden_size
        self.visual_encoder = SafeVLAVisualEncoder(config)
        self.object_in_hand_embed = nn.Embedding(3, d)
        self.last_actions_embed = nn.Embedding(NUM_PREVIOUS_ACTION_TOKENS, d, padding_idx=PADDING_ACTION)
        with torch.no_grad():
            self.object_in_hand_embed.weight.uniform_(-0.01, 0.01)
            self.last_actions_embed.weight.uniform_(-0.01, 0.01)
        self.time_encoder = TimeEncoder(d)
        self.decoder = TemporalDecoder(config)
        self.actor = ActorHead(d, config.num_actions)
        self.critic = CriticHead(d)

    def encode_text(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Instruction features (B, L, d); constant over an episode, so the backends compute them once."""
        return self.visual_encoder.encode_text(input_ids, attention_mask)

    def embed_steps(self, nav_feats: torch.Tensor, manip_feats: torch.Tensor, text_feats: torch.Tensor,
                    last_actions: torch.Tensor, object_in_hand: torch.Tensor, time_steps: torch.Tensor,
                    text_mask: torch.Tensor | None = None) -> torch.Tensor:
        """N steps' decoder inputs: fused observation + previous action + object in hand + time, (N, d)."""
        fused = self.visual_encoder(nav_feats, manip_feats, text_feats, text_mask)
        return (fused + self.last_actions_embed(last_actions) + self.object_in_hand_embed(object_in_hand)
                + self.time_encoder(time_steps))

    def forward(self, nav_feats: torch.Tensor, manip_feats: torch.Tensor, input_ids: torch.Tensor,
                attention_mask: torch.Tensor, last_actions: torch.Tensor, object_in_hand: torch.Tensor,
                time_steps: torch.Tensor) -> SafeVLAOutput:
        """Whole sequences (training): features (B, T, C, 7, 12) x2, tokens (B, L), step inputs (B, T)."""
        b, t = last_actions.shape
        text = self.encode_text(input_ids, attention_mask)
        l = text.shape[1]
        x = self.embed_steps(nav_feats.flatten(0, 1), manip_feats.flatten(0, 1),
                             text.unsqueeze(1).expand(b, t, l, -1).flatten(0, 1),
                             last_actions.flatten(), object_in_hand.long().flatten(), time_steps.flatten(),
                             attention_mask.unsqueeze(1).expand(b, t, l).flatten(0, 1))
        beliefs = self.decoder(x.view(b, t, -1))
        return SafeVLAOutput(self.actor(beliefs), self.critic(beliefs), beliefs)

    def step(self, nav_feats: torch.Tensor, manip_feats: torch.Tensor, text_feats: torch.Tensor,
             last_action: torch.Tensor, object_in_hand: torch.Tensor, time_step: torch.Tensor,
             past_k: torch.Tensor, past_v: torch.Tensor) -> tuple[SafeVLAOutput, KVCache]:
        """One step for B episodes: features (B, C, 7, 12) x2, text (B, L, d), inputs (B,), cache -> outputs."""
        x = self.embed_steps(nav_feats, manip_feats, text_feats, last_action, object_in_hand.long(), time_step)
        belief, keys, values = self.decoder.step(x.unsqueeze(1), past_k, past_v)
        belief = belief.squeeze(1)
        return SafeVLAOutput(self.actor(belief), self.critic(belief), belief), (keys, values)

    def empty_cache(self, batch: int = 1) -> KVCache:
        """A KV cache holding no steps: the start of an episode."""
        cfg = self.config
        p = self.decoder.output.weight
        shape = (cfg.decoder_layers, batch, cfg.decoder_heads, 0, cfg.head_dim)
        return p.new_zeros(shape), p.new_zeros(shape)


class SafeVLAStepModule(nn.Module):
    """One control step from pixels: DINOv2 on both cameras, fusion, one cached decoder step, heads.

    Plain tensors in and out (logits, value, belief, keys, values) so it traces to ONNX as is.
    """

    def __init__(self, dino: DinoPatchFeatures, model: SafeVLAModel) -> None:
        super().__init__()
        self.dino = dino
        self.model = model

    def forward(self, nav_pixels: torch.Tensor, manip_pixels: torch.Tensor, text_feats: torch.Tensor,
                last_action: torch.Tensor, object_in_hand: torch.Tensor, time_step: torch.Tensor,
                past_k: torch.Tensor, past_v: torch.Tensor) -> tuple[torch.Tensor, ...]:
        b = nav_pixels.shape[0]
        feats = self.dino(torch.cat([nav_pixels, manip_pixels], dim=0))
        out, (keys, values) = self.model.step(feats[:b], feats[b:], text_feats, last_action, object_in_hand,
                                              time_step, past_k, past_v)
        return out.logits, out.values, out.beliefs, keys, values


class SafeVLATextModule(nn.Module):
    """Instruction tokens -> adapted text features, run once per episode (exported as its own graph)."""

    def __init__(self, model: SafeVLAModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model.encode_text(input_ids, attention_mask)
