"""SAFE's score models and their training (torch; offline only).

SAFE-MLP scores each step independently and accumulates (s_t = sum of per-step sigmoids); its loss
pushes the accumulated score down on successes and up on failures. SAFE-LSTM reads the episode so
far and is trained with per-step BCE against the episode label. Labels are 1 = failure (or
violation): the outcome to catch. ``to_detector`` exports a trained model to the numpy streaming
detector the monitor node runs.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from safe_monitor.metrics import roc_auc
from safe_monitor.rollouts import Rollout
from safe_monitor.safe_detectors import SafeLSTMDetector, SafeMLPDetector

ModelKind = Literal["safe_mlp", "safe_lstm"]


class SafeMLP(nn.Module):
    """Per step Linear(D, H) -> ReLU -> Linear(H, 1) -> sigmoid; score = cumulative sum."""

    kind = "safe_mlp"

    def __init__(self, dim: int, hidden: int = 256) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("scale", torch.ones(dim))
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, T, D), (B, T) -> (B, T) scores; padded steps add nothing."""
        probs = torch.sigmoid(self.net((x - self.mean) / self.scale).squeeze(-1))
        return torch.cumsum(probs * mask, dim=1)

    def step_losses(self, x: torch.Tensor, mask: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """s_t on successes, -s_t on failures."""
        scores = self(x, mask)
        return torch.where(y[:, None] > 0.5, -scores, scores)


class SafeLSTM(nn.Module):
    """LSTM(D, H, 1 layer) -> Linear(H, 1) -> sigmoid; score = that sigmoid at each step."""

    kind = "safe_lstm"

    def __init__(self, dim: int, hidden: int = 256) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("scale", torch.ones(dim))
        self.lstm = nn.LSTM(dim, hidden, num_layers=1, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm((x - self.mean) / self.scale)
        return self.head(out).squeeze(-1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, T, D), (B, T) -> (B, T) scores (causal, so end padding cannot leak backwards)."""
        return torch.sigmoid(self.logits(x))

    def step_losses(self, x: torch.Tensor, mask: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """BCE of every step's score against the episode label."""
        logits = self.logits(x)
        return F.binary_cross_entropy_with_logits(logits, y[:, None].expand_as(logits), reduction="none")


SafeModel = SafeMLP | SafeLSTM
_MODELS: dict[str, type[SafeMLP] | type[SafeLSTM]] = {"safe_mlp": SafeMLP, "safe_lstm": SafeLSTM}


@dataclass
class FitConfig:
    """Training settings. SAFE trains 1000 epochs; the default suits a few hundred rollouts."""

    epochs: int = 300
    """passes over the training rollouts"""
    lr: float = 1e-3
    """Adam learning rate (SAFE's grid: 1e-5 .. 3e-3)"""
    lambda_reg: float = 1e-3
    """weight of the sum of squared non-bias weights (SAFE's grid: 1e-3 .. 1)"""
    batch_size: int | None = None
    """rollouts per batch; None: 64 below 512 training rollouts, else 512 (as SAFE)"""
    hidden: int = 256
    """hidden width of the MLP / LSTM"""
    standardize: bool = True
    """scale features to zero mean, unit variance over the training steps (folded into the export)"""
    seed: int = 0
    """seeds initialisation and batch order"""
    progress: bool = True
    """show a tqdm bar"""


def pad_batch(rollouts: Sequence[Rollout]) -> tuple[torch.Tensor, torch.Tensor]:
    """Features (B, T_max, D) zero-padded at the end, and the mask (B, T_max) of real steps."""
    x = nn.utils.rnn.pad_sequence([torch.from_numpy(r.features) for r in rollouts], batch_first=True)
    lengths = torch.tensor([r.length for r in rollouts])
    mask = (torch.arange(x.shape[1])[None, :] < lengths[:, None]).float()
    return x, mask


def class_weights(labels: np.ndarray) -> tuple[float, float]:
    """1 / frequency of each class (success, failure) over the whole training set."""
    n_fail = int(np.sum(labels))
    n_ok = len(labels) - n_fail
    if n_fail == 0 or n_ok == 0:
        raise ValueError(f"training needs both outcomes, got {n_ok} negatives and {n_fail} positives; "
                         "record more rollouts or choose another split seed")
    return len(labels) / n_ok, len(labels) / n_fail


def safe_loss(model: SafeModel, x: torch.Tensor, mask: torch.Tensor, y: torch.Tensor,
              weights: tuple[float, float], lambda_reg: float) -> torch.Tensor:
    """Mean over each rollout's steps, class-weighted sum over rollouts / batch size, + L2 on weights."""
    per_rollout = (model.step_losses(x, mask, y) * mask).sum(1) / mask.sum(1)
    w = torch.where(y > 0.5, weights[1], weights[0])
    reg = sum((p ** 2).sum() for name, p in model.named_parameters() if "bias" not in name)
    return (w * per_rollout).sum() / len(y) + lambda_reg * reg


def fit(kind: ModelKind, rollouts: Sequence[Rollout], labels: np.ndarray,
        config: FitConfig | None = None) -> SafeModel:
    """Train a SAFE score model with Adam on padded, masked batches of whole rollouts."""
    config = config or FitConfig()
    if kind not in _MODELS:
        raise ValueError(f"model kind must be one of {sorted(_MODELS)}, got {kind!r}")
    labels = np.asarray(labels)
    if len(labels) != len(rollouts):
        raise ValueError(f"got {len(labels)} labels for {len(rollouts)} rollouts")
    weights = class_weights(labels)
    torch.manual_seed(config.seed)
    model = _MODELS[kind](rollouts[0].latent_dim, config.hidden)
    if config.standardize:
        steps = np.concatenate([r.features for r in rollouts])
        model.mean.copy_(torch.from_numpy(steps.mean(0)))
        model.scale.copy_(torch.from_numpy(steps.std(0) + 1e-6))
    batch = config.batch_size or (64 if len(rollouts) < 512 else 512)
    y_all = torch.as_tensor(labels, dtype=torch.float32)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    generator = torch.Generator().manual_seed(config.seed)
    bar = tqdm(range(config.epochs), desc=f"fit {kind}", disable=not config.progress, leave=False)
    for _ in bar:
        for idx in torch.randperm(len(rollouts), generator=generator).split(batch):
            x, mask = pad_batch([rollouts[i] for i in idx])
            loss = safe_loss(model, x, mask, y_all[idx], weights, config.lambda_reg)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        bar.set_postfix(loss=f"{loss.item():.4f}")
    return model.eval()


@torch.no_grad()
def batch_scores(model: SafeModel, rollouts: Sequence[Rollout], batch: int = 256) -> list[np.ndarray]:
    """Score curves (T_i,) for each rollout, computed in padded batches."""
    curves: list[np.ndarray] = []
    for start in range(0, len(rollouts), batch):
        chunk = rollouts[start:start + batch]
        x, mask = pad_batch(chunk)
        scores = model(x, mask).double().numpy()
        curves.extend(scores[i, :r.length] for i, r in enumerate(chunk))
    return curves


@torch.no_grad()
def to_detector(model: SafeModel) -> SafeMLPDetector | SafeLSTMDetector:
    """The numpy streaming detector with this model's weights (standardisation folded in)."""
    inv = 1.0 / model.scale
    if isinstance(model, SafeMLP):
        first, last = model.net[0], model.net[2]
        w1 = first.weight * inv
        return SafeMLPDetector(w1.numpy(), (first.bias - w1 @ model.mean).numpy(),
                               last.weight[0].numpy(), last.bias.numpy())
    lstm = model.lstm
    w_ih = lstm.weight_ih_l0 * inv
    bias = lstm.bias_ih_l0 + lstm.bias_hh_l0 - w_ih @ model.mean
    return SafeLSTMDetector(w_ih.numpy(), lstm.weight_hh_l0.numpy(), bias.numpy(),
                            model.head.weight[0].numpy(), model.head.bias.numpy())


@dataclass
class Selection:
    """The model with the best seen-task validation ROC-AUC, and every grid point's result."""

    model: SafeModel
    config: FitConfig
    val_auc: float
    table: list[tuple[float, float, float]]  # (lr, lambda_reg, val ROC-AUC)


def select_model(kind: ModelKind, train: Sequence[Rollout], train_labels: np.ndarray,
                 val: Sequence[Rollout], val_labels: np.ndarray,
                 lrs: Sequence[float] = (3e-4, 1e-3, 3e-3), lambda_regs: Sequence[float] = (1e-3, 1e-2, 1e-1),
                 config: FitConfig | None = None) -> Selection:
    """Fit one model per (lr, lambda_reg) and keep the one with the best validation ROC-AUC."""
    if not lrs or not lambda_regs:
        raise ValueError(f"the grid is empty: lrs={list(lrs)}, lambda_regs={list(lambda_regs)}")
    config = config or FitConfig()
    val_tasks = np.array([r.task_id for r in val])
    results = []
    for lr, lam in itertools.product(lrs, lambda_regs):
        candidate = replace(config, lr=lr, lambda_reg=lam)
        model = fit(kind, train, train_labels, candidate)
        results.append((roc_auc(batch_scores(model, val), val_labels, val_tasks), candidate, model))
    auc, best, model = max(results, key=lambda result: result[0])
    return Selection(model, best, auc, [(c.lr, c.lambda_reg, a) for a, c, _ in results])
