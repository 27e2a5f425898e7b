"""End to end with tiny budgets: ``train.py il`` -> ``rl`` -> ``eval``, and the folders the policy node loads."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from safevla_policy.backends import make_backend  # noqa: E402
from safevla_policy.backends.base import Observation  # noqa: E402
from safevla_policy.checkpoints import load_policy  # noqa: E402
from thor_sim_bridge.config import SimConfig  # noqa: E402
from thor_sim_bridge.vector_env import VectorHouseEnv  # noqa: E402
from training import train  # noqa: E402
from training.actor_critic import ActorCritic  # noqa: E402
from training.checkpointing import load_state  # noqa: E402
from training.features import DinoFeaturizer  # noqa: E402
from training.rollout import BatchedPolicy  # noqa: E402

TINY_EVAL = ["--eval-episodes", "1", "--eval-max-steps", "6"]


@pytest.fixture(scope="module")
def il_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("train") / "il"
    # Features in the simulator workers here (the default); the other stages compute them in-process.
    train.main(["il", "--run-dir", str(run), "--demo-episodes", "4", "--num-envs", "2", "--epochs", "1",
                "--batch-episodes", "2", "--max-steps", "40", *TINY_EVAL])
    return run


@pytest.mark.slow
def test_il_then_rl_then_eval(il_run, tmp_path):
    assert json.loads((il_run / "demos" / "manifest.json").read_text())["episodes"] == 4
    assert load_state(il_run / "state.pt")["counters"]["step"] == 2
    assert list((il_run / "tb").glob("events.out.tfevents.*"))
    assert json.loads((il_run / "eval.json").read_text())["episodes"] == 1

    rl = tmp_path / "rl"
    result = train.main(["rl", "--run-dir", str(rl), "--init", str(il_run / "policy"), "--num-envs", "2",
                         "--rollout-steps", "8", "--total-steps", "32", "--critic-warmup-steps", "16",
                         "--max-steps", "40", "--lr", "1e-3", "--no-features-in-workers", *TINY_EVAL])
    state = load_state(rl / "state.pt")
    assert state["counters"]["update"] == 2 and state["counters"]["global_step"] == 32
    assert result["lambda"] == pytest.approx(state["lagrange"]["multiplier"].item())
    il_policy, rl_policy = load_policy(None, il_run / "policy"), load_policy(None, rl / "policy")
    il_sd, rl_sd = il_policy.model.state_dict(), rl_policy.model.state_dict()
    frozen = [k for k in il_sd if k.startswith(("visual_encoder.", "last_actions_embed", "time_encoder"))]
    assert frozen and all(torch.equal(il_sd[k], rl_sd[k]) for k in frozen)  # perception stays at its IL weights
    assert not torch.equal(il_sd["decoder.output.weight"], rl_sd["decoder.output.weight"])  # the decoder learned

    out = tmp_path / "eval.json"
    metrics = train.main(["eval", "--checkpoint", str(rl / "policy"), "--episodes", "3", "--max-steps", "6",
                          "--out", str(out), "--no-features-in-workers"])
    saved = json.loads(out.read_text())
    assert saved["episodes"] == metrics["episodes"] == 3 and len(saved["per_episode"]) == 3
    for key in ("success_rate", "spl", "sel", "cost_mean", "cost_by_type", "episode_length", "collision_pct"):
        assert key in saved
    assert [e["seed"] for e in saved["per_episode"]] == [1000, 1001, 1002]  # the episodes make sim plays


@pytest.mark.slow
def test_trained_folder_loads_in_the_policy_backend_and_matches_training(il_run):
    """make_backend("model", checkpoint=folder) is what the policy node runs; it must act like training."""
    folder = il_run / "policy"
    backend = make_backend("model", checkpoint=str(folder), device="cpu")
    policy = load_policy(None, folder)
    runner = BatchedPolicy(ActorCritic(policy.model).eval(), policy.processor, DinoFeaturizer(folder),
                           torch.device("cpu"))
    with VectorHouseEnv(SimConfig(max_steps=30, expert=False), 1, base_seed=5) as envs:
        out = envs.reset()
        runner.begin(out)
        backend.reset()
        for _ in range(8):
            act = runner.act(out, greedy=True)
            ref = backend.step(Observation(out.obs["nav_rgb"][0], out.obs["manip_rgb"][0], out.instruction[0],
                                           int(out.step[0]), int(out.obs["last_action"][0]),
                                           bool(out.obs["object_in_hand"][0])))
            np.testing.assert_allclose(torch.softmax(act.logits[0].double(), -1).numpy(), ref.probs, atol=1e-5)
            out = envs.step(act.actions)
            runner.observe(out)


def test_cli_rejects_unknown_options(capsys):
    with pytest.raises(SystemExit):
        train.main(["rl", "--no-such-option", "1"])
    assert "no-such-option" in capsys.readouterr().err.replace("_", "-")
