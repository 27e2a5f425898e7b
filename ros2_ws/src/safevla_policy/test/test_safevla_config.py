import pytest

from safevla_common.actions import NUM_ACTIONS
from safevla_policy.configuration_safevla import CONFIGS, SafeVLAConfig, make_config


def test_registered_configs_match_the_released_architecture():
    assert {"safevla", "small"} <= set(CONFIGS)
    cfg = make_config("safevla")
    assert (cfg.hidden_size, cfg.fusion_layers, cfg.fusion_heads, cfg.fusion_ffn_dim) == (512, 3, 8, 2048)
    assert (cfg.decoder_layers, cfg.decoder_heads, cfg.decoder_ffn_dim, cfg.max_context) == (3, 8, 1536, 500)
    assert (cfg.patch_grid, cfg.pooled_grid, cfg.dino_dim, cfg.text_dim) == ((16, 27), (7, 12), 384, 512)
    assert cfg.crop_width == 378 and cfg.num_actions == NUM_ACTIONS and cfg.norm_eps == 1e-5
    small = make_config("small")
    assert small.patch_grid == (16, 27) and small.pooled_grid == (7, 12) and small.hidden_size < 512


def test_unknown_keys_are_rejected_by_name():
    data = {**make_config("small").to_dict(), "hiden_size": 64}
    with pytest.raises(ValueError, match="unknown SafeVLA config keys: hiden_size"):
        SafeVLAConfig.from_dict(data)
    with pytest.raises(ValueError, match="hiden_size"):
        make_config("small", hiden_size=64)


def test_json_round_trip(tmp_path):
    cfg = make_config("small", max_context=7)
    cfg.save(tmp_path)
    assert SafeVLAConfig.load(tmp_path) == cfg
    assert make_config(tmp_path / "config.json") == cfg


def test_bad_names_and_values_say_what_is_valid(tmp_path):
    with pytest.raises(ValueError, match="safevla"):
        make_config("tiny")
    with pytest.raises(ValueError, match="divisible"):
        make_config("small", hidden_size=130)
    with pytest.raises(ValueError, match="tokenizer"):
        make_config("small", tokenizer="sentencepiece")
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        SafeVLAConfig.load(tmp_path)
