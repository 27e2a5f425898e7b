"""Rollout-time and update-time policies agree: KV-cached steps == the causal pass over cut sequences."""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from safevla_policy.configuration_safevla import make_config  # noqa: E402
from safevla_policy.modeling_safevla import SafeVLAModel  # noqa: E402
from training.actor_critic import ActorCritic  # noqa: E402
from training.rollout import Rollout, sequence_batch  # noqa: E402


def test_sequences_over_rollout_pieces_match_cached_steps():
    torch.manual_seed(0)
    ac = ActorCritic(SafeVLAModel(make_config("small", decoder_layers=2))).eval()
    steps, workers, d = 7, 3, ac.model.config.hidden_size
    x = torch.randn(steps, workers, d)
    dones = torch.zeros(steps, workers)
    dones[2, 0] = dones[5, 0] = dones[0, 1] = 1  # worker 0: three episodes; worker 1: one that ends at once
    prefixes = [torch.randn(4, d), torch.randn(2, d), torch.zeros(0, d)]  # episodes begun in earlier rollouts

    # What the rollout computed: per worker, KV-cached steps that restart at each episode end.
    expected = torch.zeros(steps, workers, ac.model.config.num_actions)
    with torch.no_grad():
        for i in range(workers):
            cache = ac.prefill(prefixes[i])
            for t in range(steps):
                expected[t, i], _, _, cache = ac.step(x[t, i], cache)
                if dones[t, i]:
                    cache = ac.prefill(x.new_zeros(0, d))

    zeros = torch.zeros(steps, workers)
    rollout = Rollout(x=x, actions=zeros.long(), logp=zeros, values=zeros, cost_values=zeros, rewards=zeros,
                      costs=zeros, cost_parts=torch.zeros(steps, workers, 5), dones=dones, prefixes=prefixes,
                      next_value=torch.zeros(workers), next_cost_value=torch.zeros(workers), finished=[])
    batch = sequence_batch(rollout, [0, 1, 2])
    assert batch.x.shape[0] == 3 + 2 + 1  # pieces: worker 0 three, worker 1 two, worker 2 one
    with torch.no_grad():
        logits, _, _ = ac.sequences(batch.x)
    got = torch.zeros(steps * workers, ac.model.config.num_actions)
    got[batch.flat] = logits[batch.rows, batch.cols]
    assert sorted(batch.flat.tolist()) == list(range(steps * workers))
    torch.testing.assert_close(got.view(steps, workers, -1), expected, atol=1e-5, rtol=1e-5)


def test_rl_freezes_everything_but_the_decoder_and_heads():
    ac = ActorCritic(SafeVLAModel(make_config("small")))
    ac.freeze_for_rl()
    trainable = {n.split(".")[0] if not n.startswith("model.") else n.split(".")[1]
                 for n, p in ac.named_parameters() if p.requires_grad}
    assert trainable == {"decoder", "actor", "critic", "cost_critic"}
    assert not ac.model.visual_encoder.training
