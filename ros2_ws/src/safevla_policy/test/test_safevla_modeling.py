import math

import pytest
import torch
import torch.nn.functional as F

from safevla_common.actions import NUM_ACTIONS, PADDING_ACTION
from safevla_policy.configuration_safevla import make_config
from safevla_policy.modeling_safevla import AdaptiveAvgPool, DinoPatchFeatures, SafeVLAModel, TimeEncoder

# Shapes named in shared/facts/safevla.md for the released network.
RELEASED_SHAPES = {
    "visual_encoder.fusion_token": (512,),
    "visual_encoder.visual_sensor_token_raw_navigation_camera": (512,),
    "visual_encoder.visual_sensor_token_raw_manipulation_camera": (512,),
    "time_encoder.div_term": (256,),
    "last_actions_embed.weight": (22, 512),
    "object_in_hand_embed.weight": (3, 512),
    "visual_encoder.visual_compressor.0.weight": (512, 384, 1, 1),
    "visual_encoder.visual_compressor.2.weight": (512, 512, 1, 1),
    "visual_encoder.text_adapter.0.weight": (512, 512),
    "visual_encoder.fusion_xformer.layers.2.linear1.weight": (2048, 512),
    "decoder.layers.0.attention.wq.weight": (512, 512),
    "decoder.layers.2.attention.wo.weight": (512, 512),
    "decoder.layers.1.feed_forward.w1.weight": (1536, 512),
    "decoder.layers.1.feed_forward.w3.weight": (1536, 512),
    "decoder.layers.1.feed_forward.w2.weight": (512, 1536),
    "decoder.norm.weight": (512,),
    "decoder.output.weight": (512, 512),
    "actor.linear.weight": (20, 512),
    "critic.fc.weight": (1, 512),
    "visual_encoder.text_encoder.shared.weight": (32128, 512),
    "visual_encoder.text_encoder.encoder.embed_tokens.weight": (32128, 512),
}


def episode_inputs(cfg, batch=2, steps=50, text_len=9, seed=0):
    g = torch.Generator().manual_seed(seed)
    feats = lambda: torch.randn(batch, steps, cfg.dino_dim, *cfg.pooled_grid, generator=g)  # noqa: E731
    ids = torch.randint(3, 250, (batch, text_len), generator=g)
    actions = torch.randint(0, NUM_ACTIONS, (batch, steps), generator=g)
    last = torch.cat([torch.full((batch, 1), NUM_ACTIONS), actions[:, :-1]], dim=1)
    in_hand = torch.randint(0, 2, (batch, steps), generator=g)
    times = torch.arange(steps, dtype=torch.float32).expand(batch, steps)
    return feats(), feats(), ids, torch.ones_like(ids), last, in_hand, times


def test_released_key_layout():
    with torch.device("meta"):
        model = SafeVLAModel(make_config("safevla"))
    state = model.state_dict()
    assert len(state) == 139
    assert sum(k.startswith("visual_encoder.text_encoder.") for k in state) == 52
    for key, shape in RELEASED_SHAPES.items():
        assert tuple(state[key].shape) == shape, key
    assert sum(k.startswith("visual_encoder.fusion_xformer.layers.") for k in state) == 36
    assert not any("bias" in k for k in state if k.startswith("decoder."))
    assert model.last_actions_embed.padding_idx == PADDING_ACTION


def test_pooling_matches_adaptive_avg_pool():
    x = torch.randn(3, 5, 16, 27)
    torch.testing.assert_close(AdaptiveAvgPool((16, 27), (7, 12))(x), F.adaptive_avg_pool2d(x, (7, 12)))


def test_time_encoding_interleaves_sin_and_cos():
    enc = TimeEncoder(8)
    steps = torch.tensor([[0.0, 3.0, 499.0]])
    pe = enc(steps)
    div = torch.exp(torch.arange(0, 8, 2).float() * (-math.log(10000.0) / 8))
    torch.testing.assert_close(pe[..., 0::2], torch.sin(steps[..., None] * div))
    torch.testing.assert_close(pe[..., 1::2], torch.cos(steps[..., None] * div))


def test_dino_patch_tokens_pooled_as_transformers_computes_them():
    cfg = make_config("small", dino_pos_interpolation="hf")
    torch.manual_seed(0)
    dino = DinoPatchFeatures.from_config(cfg)
    pixels = torch.randn(2, 3, 224, 378)
    with torch.no_grad():
        ours = dino(pixels)
        tokens = dino.dino(pixel_values=pixels).last_hidden_state[:, 1:]
    grid = tokens.transpose(1, 2).reshape(2, cfg.dino_dim, 16, 27)
    assert ours.shape == (2, cfg.dino_dim, 7, 12)
    torch.testing.assert_close(ours, F.adaptive_avg_pool2d(grid, (7, 12)), atol=1e-5, rtol=1e-5)
    hub = DinoPatchFeatures(dino.dino, make_config("small"))  # torch.hub resize: close, not identical
    gap = (hub.pos_embed - dino.pos_embed).abs().max()
    assert 0 < gap < dino.pos_embed.abs().max()


def _assert_stepping_matches_full_sequence(cfg, steps, batch):
    torch.manual_seed(0)
    model = SafeVLAModel(cfg).eval()
    nav, manip, ids, mask, last, in_hand, times = episode_inputs(cfg, batch=batch, steps=steps)
    with torch.no_grad():
        full = model(nav, manip, ids, mask, last, in_hand, times)
        text = model.encode_text(ids, mask)
        cache = model.empty_cache(batch)
        for t in range(steps):
            out, cache = model.step(nav[:, t], manip[:, t], text, last[:, t], in_hand[:, t], times[:, t], *cache)
            assert (out.logits - full.logits[:, t]).abs().max() < 1e-4, t
            assert (out.beliefs - full.beliefs[:, t]).abs().max() < 1e-4, t
            assert (out.values - full.values[:, t]).abs().max() < 1e-4, t
    assert cache[0].shape == (cfg.decoder_layers, batch, cfg.decoder_heads, steps, cfg.head_dim)


def test_kv_cached_steps_equal_full_sequence_small():
    _assert_stepping_matches_full_sequence(make_config("small"), steps=50, batch=2)


@pytest.mark.slow
def test_kv_cached_steps_equal_full_sequence_safevla():
    _assert_stepping_matches_full_sequence(make_config("safevla"), steps=50, batch=1)


def test_training_updates_adapters_not_the_frozen_text_encoder():
    cfg = make_config("small")
    model = SafeVLAModel(cfg).train()
    nav, manip, ids, mask, last, in_hand, times = episode_inputs(cfg, steps=4)
    out = model(nav, manip, ids, mask, last, in_hand, times)
    F.cross_entropy(out.logits.flatten(0, 1), last.flatten().clamp(max=NUM_ACTIONS - 1)).backward()
    assert all(p.grad is None for p in model.visual_encoder.text_encoder.parameters())
    assert model.visual_encoder.text_adapter[0].weight.grad is not None
    assert model.decoder.layers[0].attention.wq.weight.grad is not None


def test_compressor_as_linear_equals_the_conv_stack():
    encoder = SafeVLAModel(make_config("small")).visual_encoder
    feats = torch.randn(3, 48, 7, 12)
    with torch.no_grad():
        reference = encoder.visual_compressor(feats).flatten(2).transpose(1, 2)
        reference = encoder.visual_adapter(reference) + encoder.visual_sensor_token_raw_manipulation_camera
        torch.testing.assert_close(encoder.encode_camera(feats, "raw_manipulation_camera"), reference)
