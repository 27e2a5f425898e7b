"""GAE against a hand-computed example, and PPO-Lagrangian's advantage combination."""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from training.advantages import combine_advantages, gae  # noqa: E402


def test_gae_hand_computed():
    # One worker, three steps; the episode ends with step 1, so step 2 starts a new one.
    rewards = torch.tensor([[1.0], [0.0], [2.0]])
    values = torch.tensor([[0.5], [0.4], [0.3]])
    dones = torch.tensor([[0.0], [1.0], [0.0]])
    adv, ret = gae(rewards, values, dones, next_value=torch.tensor([0.2]), gamma=0.9, lam=0.8)
    # t=2: 2 + 0.9 * 0.2 - 0.3 = 1.88 (bootstraps from next_value)
    # t=1: 0 - 0.4 = -0.4 (episode ended: no bootstrap, no carry)
    # t=0: 1 + 0.9 * 0.4 - 0.5 = 0.86, plus 0.9 * 0.8 * -0.4 = 0.572
    assert adv[:, 0].tolist() == pytest.approx([0.572, -0.4, 1.88])
    assert ret[:, 0].tolist() == pytest.approx([1.072, 0.0, 2.18])


def test_gae_workers_are_independent_and_lambda_one_is_monte_carlo():
    rewards = torch.tensor([[0.0, 1.0], [0.0, 0.0], [10.0, 0.0]])
    values = torch.zeros(3, 2)
    dones = torch.tensor([[0.0, 1.0], [0.0, 0.0], [1.0, 0.0]])
    adv, _ = gae(rewards, values, dones, next_value=torch.tensor([5.0, 0.0]), gamma=0.5, lam=1.0)
    assert adv[:, 0].tolist() == pytest.approx([2.5, 5.0, 10.0])  # discounted return, next_value ignored (done)
    assert adv[:, 1].tolist() == pytest.approx([1.0, 0.0, 0.0])


def test_combined_advantage_formula():
    a_r, a_c = torch.tensor([1.0, -2.0, 3.0]), torch.tensor([2.0, 1.0, 0.0])
    assert combine_advantages(a_r, a_c, 0.0).tolist() == a_r.tolist()  # plain PPO
    assert combine_advantages(a_r, a_c, 0.5).tolist() == pytest.approx([0.0, -2.5 / 1.5, 2.0])
    assert combine_advantages(a_r, a_c, 1e6).tolist() == pytest.approx((-a_c).tolist(), abs=1e-5)  # cost dominates
