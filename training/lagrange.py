"""The Lagrange multiplier of PPO-Lagrangian, as a small reusable piece (OmniSafe's ``Lagrange``).

Constrained RL maximises reward subject to J_c <= d. The multiplier lambda >= 0 is learned by gradient
descent on ``-lambda * (J_c - d)``: when the measured cost J_c exceeds the limit d the gradient is negative,
so lambda grows and the policy weights cost more; below the limit it shrinks, and the projection keeps it
at >= 0 (and at most ``upper_bound`` if one is given). SafeVLA: init 0.001, Adam with lr 0.035.
"""

from __future__ import annotations

from typing import Any

import torch


class Lagrange:
    """lambda, its optimizer and its projection; ``state_dict`` makes it part of a checkpoint."""

    def __init__(self, cost_limit: float, init: float = 0.001, lr: float = 0.035,
                 upper_bound: float | None = None, optimizer: str = "Adam") -> None:
        if init < 0:
            raise ValueError(f"the multiplier's initial value must be >= 0, got {init}")
        if upper_bound is not None and upper_bound < init:
            raise ValueError(f"upper_bound ({upper_bound}) is below the initial value ({init})")
        if not hasattr(torch.optim, optimizer):
            raise ValueError(f"unknown torch optimizer {optimizer!r} for the Lagrange multiplier")
        self.cost_limit = float(cost_limit)
        self.upper_bound = upper_bound
        self.multiplier = torch.nn.Parameter(torch.tensor(float(init)))
        self.optimizer: torch.optim.Optimizer = getattr(torch.optim, optimizer)([self.multiplier], lr=lr)

    @property
    def value(self) -> float:
        """The current lambda (always within [0, upper_bound])."""
        return float(self.multiplier.detach())

    def loss(self, mean_cost: float) -> torch.Tensor:
        """``-lambda * (J_c - d)``: minimising it raises lambda while the cost is over the limit."""
        return -self.multiplier * (float(mean_cost) - self.cost_limit)

    def update(self, mean_cost: float) -> float:
        """One optimizer step on the loss from the measured cost J_c, then the projection; returns lambda."""
        self.optimizer.zero_grad()
        self.loss(mean_cost).backward()
        self.optimizer.step()
        with torch.no_grad():
            self.multiplier.clamp_(min=0.0, max=self.upper_bound)
        return self.value

    def state_dict(self) -> dict[str, Any]:
        return {"multiplier": self.multiplier.detach().clone(), "optimizer": self.optimizer.state_dict(),
                "cost_limit": self.cost_limit}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        with torch.no_grad():
            self.multiplier.copy_(state["multiplier"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.cost_limit = float(state["cost_limit"])
