import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch
from safevla_episodes import random_observations

from safevla_common.actions import NUM_ACTIONS
from safevla_policy.backends import BACKENDS, make_backend
from safevla_policy.configuration_safevla import make_config
from safevla_policy.modeling_safevla import SafeVLAStepModule


def test_registry_names_and_lazy_imports():
    assert {"model", "onnx"} <= set(BACKENDS)
    with pytest.raises(ValueError, match="unknown policy backend 'tensorrt'; expected one of"):
        make_backend("tensorrt")
    code = "import sys, safevla_policy.backends; print('torch' in sys.modules, 'onnxruntime' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


@pytest.fixture(scope="module")
def torch_backend():
    return make_backend("model", config="small", device="auto", seed=0)


def test_torch_backend_outputs(torch_backend):
    assert torch_backend.name == "model" and torch_backend.device.type in ("cpu", "cuda")
    torch_backend.reset()
    for obs in random_observations(3):
        out = torch_backend.step(obs)
        assert out.probs.shape == (NUM_ACTIONS,) and abs(out.probs.sum() - 1) < 1e-9 and (out.probs >= 0).all()
        assert out.latent.shape == (torch_backend.latent_dim,) == (128,) and out.latent.dtype == np.float32
        assert isinstance(out.value, float) and np.isfinite(out.latent).all()
    assert torch_backend.timings()["step"]["count"] == 3


def test_new_episode_and_seeds(torch_backend):
    obs = random_observations(4)
    torch_backend.reset()
    first = torch_backend.step(obs[0])
    for o in obs[1:]:
        later = torch_backend.step(o)
    assert not np.allclose(later.latent, first.latent)
    again = torch_backend.step(obs[0])  # step 0 starts a new episode without an explicit reset
    np.testing.assert_allclose(again.latent, first.latent, atol=1e-6)
    other = make_backend("model", config="small", seed=1)
    assert not np.allclose(other.step(obs[0]).latent, first.latent)


def test_context_restarts_when_full():
    cfg = replace(make_config("small"), max_context=3)
    obs = random_observations(4)
    full = make_backend("model", config=cfg, seed=0)
    outputs = [full.step(o) for o in obs]
    fresh = make_backend("model", config=cfg, seed=0)
    np.testing.assert_allclose(fresh.step(obs[3]).latent, outputs[3].latent, atol=1e-6)


def test_malformed_observations_are_rejected(torch_backend):
    obs = random_observations(1)[0]
    for bad, match in ((replace(obs, nav_rgb=obs.nav_rgb[:, :300]), "uint8 array"),
                       (replace(obs, last_action=25), "last_action"),
                       (replace(obs, step=-1), "step"),
                       (replace(obs, instruction=""), "non-empty")):
        with pytest.raises(ValueError, match=match):
            torch_backend.step(bad)


@pytest.mark.slow
def test_onnx_step_graph_matches_torch_with_the_cache(small_policy, small_onnx_dir):
    import onnxruntime as ort

    session = ort.InferenceSession(str(small_onnx_dir / "step.onnx"), providers=["CPUExecutionProvider"])
    module = SafeVLAStepModule(small_policy.dino, small_policy.model).eval()
    ids, mask = small_policy.processor.tokenize("go to a sofa")
    with torch.no_grad():
        text = small_policy.model.encode_text(torch.from_numpy(ids), torch.from_numpy(mask))
    cache = small_policy.model.empty_cache(1)
    ort_cache = tuple(c.numpy() for c in cache)
    for obs in random_observations(4, seed=3):
        nav, manip = small_policy.processor.preprocess_images(obs.nav_rgb, obs.manip_rgb)
        inputs = (nav, manip, text.numpy(), np.array([obs.last_action]), np.array([int(obs.object_in_hand)]),
                  np.array([obs.step], np.float32))
        with torch.no_grad():
            expected = module(*(torch.from_numpy(x) for x in inputs), *cache)
        got = session.run(None, dict(zip([i.name for i in session.get_inputs()], (*inputs, *ort_cache))))
        for name, e, g in zip(("logits", "value", "belief", "keys", "values"), expected, got):
            assert e.shape == g.shape and np.abs(e.numpy() - g).max() < 1e-4, name
        cache, ort_cache = expected[3:], got[3:]
    assert ort_cache[0].shape[3] == 4


@pytest.mark.slow
def test_onnx_backend_matches_torch_backend(small_onnx_dir, torch_backend):
    onnx = make_backend("onnx", checkpoint=small_onnx_dir, device="auto")
    assert onnx.name == "onnx" and "CPUExecutionProvider" in onnx.providers and onnx.latent_dim == 128
    torch_backend.reset()
    for obs in random_observations(6, seed=5):
        a, b = torch_backend.step(obs), onnx.step(obs)
        assert np.abs(a.probs - b.probs).max() < 1e-4
        assert np.abs(a.latent - b.latent).max() < 1e-4
        assert abs(a.value - b.value) < 1e-4
