import numpy as np
import pytest
import torch

from safevla_policy.checkpoints import (CheckpointError, PolicyState, StateDictMismatchError, check_state_dict,
                                        load_into, load_policy, read_checkpoint, save_pretrained)
from safevla_policy.configuration_safevla import make_config
from safevla_policy.modeling_safevla import SafeVLAModel


def released_layout(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """model_state_dict as SafeVLA's safe RL model saves it: the policy plus two value-network copies."""
    return {**state, **{f"critic_tsfm.{k}": v for k, v in state.items()},
            **{f"c_critic_tsfm.{k}": v for k, v in state.items()}}


def allenact_file(path, state, **extra):
    torch.save({"model_state_dict": released_layout(state), "total_steps": 1_000_000,
                "optimizer_state_dict": {"state": {}, "param_groups": [{"lr": 2e-5, "params": [0, 1]}]},
                "training_pipeline_state_dict": {"stage": 2, **extra}, "trainer_seed": 7}, path)
    return path


def test_released_layout_loads_strictly_into_the_safevla_config():
    with torch.device("meta"):
        source = SafeVLAModel(make_config("safevla")).state_dict()
        target = SafeVLAModel(make_config("safevla"))
    layout = released_layout(source)
    assert len(layout) == 417
    from safevla_policy.checkpoints import _from_allenact

    state = PolicyState(_from_allenact(layout), "allenact", "safe_objnav.pt")
    assert len(state.tensors) == 139 and not any("critic_tsfm" in k for k in state.tensors)
    assert load_into(target, state, assign=True) == []


def test_mismatch_names_missing_unexpected_and_reshaped_keys():
    with torch.device("meta"):
        model = SafeVLAModel(make_config("safevla"))
    tensors = dict(model.state_dict())
    del tensors["decoder.layers.1.attention.wk.weight"]
    tensors["decoder.layers.3.attention.wk.weight"] = torch.empty(512, 512, device="meta")
    tensors["actor.linear.weight"] = torch.empty(21, 512, device="meta")
    with pytest.raises(StateDictMismatchError) as info:
        check_state_dict(model, PolicyState(tensors, "allenact", "bad.pt"))
    err = info.value
    assert err.missing == ["decoder.layers.1.attention.wk.weight"]
    assert err.unexpected == ["decoder.layers.3.attention.wk.weight"]
    assert err.mismatched == [("actor.linear.weight", (21, 512), (20, 512))]
    for text in ("bad.pt", "decoder.layers.1.attention.wk.weight", "decoder.layers.3.attention.wk.weight",
                 "shape of actor.linear.weight: checkpoint (21, 512), model (20, 512)"):
        assert text in str(err)


def test_allenact_file_keeps_the_top_level_copy(tmp_path, small_policy):
    state = {k: v.clone() for k, v in small_policy.model.state_dict().items()}
    path = allenact_file(tmp_path / "safe_objnav.pt", state, progress=np.float64(0.5), count=np.int64(3))
    read = read_checkpoint(path)
    assert read.fmt == "allenact" and set(read.tensors) == set(state)
    loaded = load_policy("small", path, seed=123, allow_random_dino=True)
    for key, value in loaded.model.state_dict().items():
        torch.testing.assert_close(value, state[key], rtol=0, atol=0, msg=key)
    assert loaded.has_critic


def test_lightning_checkpoint_mapping(tmp_path, small_policy):
    state = small_policy.model.state_dict()
    lightning = {}
    for key, value in state.items():
        if key.startswith("critic."):
            continue  # imitation learning trains no critic
        key = {"actor.linear.weight": "actor.weight", "actor.linear.bias": "actor.bias"}.get(key, key)
        lightning[f"model.{key}"] = value.clone()
    lightning["model.visual_encoder.image_encoder.model.blocks.0.attn.qkv.weight"] = torch.zeros(3, 3)
    torch.save({"state_dict": lightning, "epoch": 3, "global_step": 50000}, tmp_path / "FLaRe_IL_50000.ckpt")
    loaded = load_policy("small", tmp_path / "FLaRe_IL_50000.ckpt", seed=5, allow_random_dino=True)
    torch.testing.assert_close(loaded.model.actor.linear.weight, state["actor.linear.weight"])
    assert not loaded.has_critic
    torch.save({"state_dict": {"actor.weight": torch.zeros(1)}}, tmp_path / "unprefixed.ckpt")
    with pytest.raises(CheckpointError, match="lacks the 'model.' prefix"):
        read_checkpoint(tmp_path / "unprefixed.ckpt")


def test_safetensors_round_trip(tmp_path, small_policy):
    folder = save_pretrained(small_policy, tmp_path / "ckpt")
    assert {p.name for p in folder.iterdir()} >= {"config.json", "model.safetensors", "dinov2"}
    from safetensors.torch import load_file

    saved = load_file(folder / "model.safetensors")
    assert set(saved) == set(small_policy.model.state_dict())  # tied T5 copies both stored
    again = load_policy(checkpoint=folder)
    assert again.config == small_policy.config
    for a, b in zip(small_policy.model.state_dict().values(), again.model.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    for a, b in zip(small_policy.dino.state_dict().values(), again.dino.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_pickled_code_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            import os

            return os.makedirs, (str(marker),)

    torch.save({"model_state_dict": {"x": torch.zeros(1)}, "extra": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match="refused to load .*makedirs"):
        read_checkpoint(tmp_path / "evil.pt")
    assert not marker.exists()


def test_missing_corrupt_and_unknown_files_say_what_to_do(tmp_path, small_policy):
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        read_checkpoint(tmp_path / "nope.pt")
    (tmp_path / "garbage.pt").write_bytes(b"\x00not a checkpoint" * 10)
    with pytest.raises(CheckpointError, match="not a readable torch checkpoint"):
        read_checkpoint(tmp_path / "garbage.pt")
    good = allenact_file(tmp_path / "good.pt", small_policy.model.state_dict())
    (tmp_path / "truncated.pt").write_bytes(good.read_bytes()[:5000])
    with pytest.raises(CheckpointError, match="Re-download"):
        read_checkpoint(tmp_path / "truncated.pt")
    torch.save({"weights": 1}, tmp_path / "odd.pt")
    with pytest.raises(CheckpointError, match="unrecognised checkpoint layout"):
        read_checkpoint(tmp_path / "odd.pt")
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(CheckpointError, match="has no model.safetensors"):
        read_checkpoint(tmp_path / "empty_dir")
    (tmp_path / "broken.safetensors").write_bytes(b"{}")
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        read_checkpoint(tmp_path / "broken.safetensors")
    with pytest.raises(CheckpointError, match="dino_path"):
        load_policy("small", good)
    with torch.device("meta"):
        released = SafeVLAModel(make_config("safevla"))
    with pytest.raises(StateDictMismatchError, match="config='safevla'"):
        check_state_dict(released, read_checkpoint(good))
