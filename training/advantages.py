"""Generalised advantage estimation and PPO-Lagrangian's advantage combination.

Both the reward and the cost get their own GAE (same gamma and lambda); the policy is then trained on
``A = (A_r - lambda * A_c) / (1 + lambda)`` computed from the raw (unnormalised) advantages, as SafeVLA
does. Dividing by 1 + lambda keeps the advantage's scale bounded as lambda grows.
"""

from __future__ import annotations

import torch


def gae(rewards: torch.Tensor, values: torch.Tensor, dones: torch.Tensor, next_value: torch.Tensor,
        gamma: float, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Advantages and returns for a (T, N) rollout.

    ``dones[t]`` is 1 where the episode ended with step t (so ``values[t + 1]`` belongs to a new episode
    and is not bootstrapped from); ``next_value`` (N,) is the value of the observation after the last step.
    Episodes cut by the step limit count as ended, as in SafeVLA's AllenAct training.
    """
    steps = rewards.shape[0]
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(next_value)
    for t in reversed(range(steps)):
        following = next_value if t == steps - 1 else values[t + 1]
        live = 1.0 - dones[t].to(rewards.dtype)
        delta = rewards[t] + gamma * following * live - values[t]
        running = delta + gamma * lam * live * running
        advantages[t] = running
    return advantages, advantages + values


def combine_advantages(reward_adv: torch.Tensor, cost_adv: torch.Tensor, multiplier: float) -> torch.Tensor:
    """PPO-Lagrangian's policy advantage: (A_r - lambda * A_c) / (1 + lambda); lambda = 0 gives plain PPO."""
    return (reward_adv - multiplier * cost_adv) / (1.0 + multiplier)
