"""Recorded policy rollouts: what SAFE and the baselines are fitted and evaluated on.

One ``Rollout`` per episode holds one feature vector per policy step plus the episode outcome.
A list of rollouts is saved to a single ``.npz`` (arrays plus one JSON string, readable with
``allow_pickle=False``), split the way SAFE splits (whole tasks held out as unseen), and turned
into binary labels: task failure (SAFE), safety violation (our addition), or either.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

LabelKind = Literal["failure", "violation", "either"]
LABEL_KINDS: tuple[str, ...] = ("failure", "violation", "either")
FORMAT = "safevla-rollouts"
VERSION = 1
_PER_STEP = ("entropy", "max_prob", "actions", "costs")


@dataclass
class Rollout:
    """One episode. Optional per-step arrays are None when the source did not record them."""

    task_id: int  # the split key: all rollouts of a task land on the same side of seen/unseen
    features: np.ndarray  # (T, D) float32, one vector per policy step
    success: bool
    task: str = ""  # human-readable task name
    instruction: str = ""
    episode: int = 0
    entropy: np.ndarray | None = None  # (T,) nats, of the action distribution
    max_prob: np.ndarray | None = None  # (T,) probability of the chosen/most likely action
    actions: np.ndarray | None = None  # (T, ...) discrete indices or continuous vectors
    costs: np.ndarray | None = None  # (T,) per-step safety cost
    cost: float | None = None  # episode cost; defaults to the sum of ``costs`` when those exist

    def __post_init__(self) -> None:
        self.features = np.ascontiguousarray(self.features, dtype=np.float32)
        if self.features.ndim != 2 or len(self.features) == 0:
            raise ValueError(f"features must be (T, D) with T >= 1, got shape {self.features.shape}")
        for name in ("entropy", "max_prob", "costs"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, np.asarray(value, dtype=np.float32).reshape(-1))
        if self.actions is not None:
            self.actions = np.asarray(self.actions)
        for name in _PER_STEP:
            value = getattr(self, name)
            if value is not None and len(value) != self.length:
                raise ValueError(f"{name} has {len(value)} steps but features have {self.length}; "
                                 "every per-step array must have one entry per policy step")
        if self.cost is None and self.costs is not None:
            self.cost = float(self.costs.sum())
        self.success = bool(self.success)
        self.task_id = int(self.task_id)

    @property
    def length(self) -> int:
        return len(self.features)

    @property
    def latent_dim(self) -> int:
        return self.features.shape[1]


def labels(rollouts: Sequence[Rollout], kind: LabelKind = "failure",
           cost_limit: float | None = None) -> np.ndarray:
    """Binary labels, 1 = the outcome the monitor must catch.

    ``failure``: 1 - success (SAFE). ``violation``: episode cost > ``cost_limit``. ``either``: both.
    """
    if kind not in LABEL_KINDS:
        raise ValueError(f"label kind must be one of {LABEL_KINDS}, got {kind!r}")
    failure = np.array([not r.success for r in rollouts], dtype=bool)
    if kind == "failure":
        return failure.astype(np.int64)
    if cost_limit is None:
        raise ValueError(f"label kind {kind!r} needs cost_limit (episode cost above it = violation)")
    missing = [i for i, r in enumerate(rollouts) if r.cost is None]
    if missing:
        raise ValueError(f"label kind {kind!r} needs episode costs, but rollouts {missing[:5]} have "
                         "none; record per-step costs, or use kind='failure'")
    violation = np.array([r.cost > cost_limit for r in rollouts], dtype=bool)
    return (violation | failure if kind == "either" else violation).astype(np.int64)


@dataclass(frozen=True)
class Split:
    """Indices into the rollout list: seen-task train / seen-task validation / unseen-task test."""

    train: np.ndarray
    val: np.ndarray
    unseen: np.ndarray
    seen_tasks: tuple[int, ...]
    unseen_tasks: tuple[int, ...]


def split_by_task(rollouts: Sequence[Rollout], seed: int = 0, unseen_fraction: float = 0.3,
                  train_fraction: float = 0.7) -> Split:
    """SAFE's protocol: shuffle tasks, hold out ``round(unseen_fraction * n_tasks)`` of them whole;
    within each seen task, ``train_fraction`` of its rollouts train and the rest are validation."""
    if not (0.0 <= unseen_fraction < 1.0 and 0.0 < train_fraction <= 1.0):
        raise ValueError(f"need 0 <= unseen_fraction < 1 and 0 < train_fraction <= 1, got "
                         f"{unseen_fraction} and {train_fraction}")
    rng = np.random.default_rng(seed)
    tasks = np.array(sorted({r.task_id for r in rollouts}))
    rng.shuffle(tasks)
    n_unseen = int(round(unseen_fraction * len(tasks)))
    if n_unseen >= len(tasks):
        raise ValueError(f"unseen_fraction {unseen_fraction} leaves no seen task out of {len(tasks)}; "
                         "lower it or record more tasks")
    unseen_tasks, seen_tasks = tasks[:n_unseen], tasks[n_unseen:]
    task_ids = np.array([r.task_id for r in rollouts])
    train, val = [], []
    for task in seen_tasks:
        members = rng.permutation(np.flatnonzero(task_ids == task))
        n_train = int(round(train_fraction * len(members)))
        train.extend(members[:n_train])
        val.extend(members[n_train:])
    return Split(train=np.sort(np.array(train, dtype=np.int64)),
                 val=np.sort(np.array(val, dtype=np.int64)),
                 unseen=np.flatnonzero(np.isin(task_ids, unseen_tasks)),
                 seen_tasks=tuple(int(t) for t in sorted(seen_tasks)),
                 unseen_tasks=tuple(int(t) for t in sorted(unseen_tasks)))


def take(rollouts: Sequence[Rollout], indices: Sequence[int] | np.ndarray) -> list[Rollout]:
    return [rollouts[int(i)] for i in indices]


def save_rollouts(path: str | Path, rollouts: Sequence[Rollout]) -> None:
    """Write one ``.npz``: steps of all episodes concatenated, per-episode lengths, JSON metadata."""
    if not rollouts:
        raise ValueError("no rollouts to save")
    dims = {r.latent_dim for r in rollouts}
    if len(dims) != 1:
        raise ValueError(f"all rollouts must share one latent size, found {sorted(dims)}")
    arrays: dict[str, np.ndarray] = {
        "features": np.concatenate([r.features for r in rollouts]),
        "lengths": np.array([r.length for r in rollouts], dtype=np.int64),
    }
    for name in _PER_STEP:
        present = [getattr(r, name) is not None for r in rollouts]
        arrays[f"has_{name}"] = np.array(present, dtype=bool)
        if any(present):
            arrays[name] = _concat_field(name, [getattr(r, name) for r in rollouts if getattr(r, name) is not None])
    meta = {"format": FORMAT, "version": VERSION,
            "episodes": [{"task_id": r.task_id, "task": r.task, "instruction": r.instruction,
                          "episode": r.episode, "success": r.success, "cost": r.cost} for r in rollouts]}
    arrays["meta"] = np.array(json.dumps(meta))
    with open(path, "wb") as f:  # an open file stops numpy from appending ".npz" to the name
        np.savez_compressed(f, **arrays)


def _concat_field(name: str, values: list[np.ndarray]) -> np.ndarray:
    shapes = {v.shape[1:] for v in values}
    if len(shapes) != 1:
        raise ValueError(f"{name} must have the same per-step shape in every rollout, found {sorted(shapes)}")
    return np.concatenate(values)


def load_rollouts(path: str | Path) -> list[Rollout]:
    """Read a file written by ``save_rollouts`` (no pickle: plain arrays and a JSON string)."""
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        if meta.get("format") != FORMAT or meta.get("version") != VERSION:
            raise ValueError(f"{path}: expected a {FORMAT} v{VERSION} file, found format "
                             f"{meta.get('format')!r} v{meta.get('version')!r}")
        lengths = data["lengths"]
        bounds = np.concatenate([[0], np.cumsum(lengths)])
        fields = {name: _split_field(data, name, lengths) for name in _PER_STEP}
        features = data["features"]
        return [Rollout(features=features[bounds[i]:bounds[i + 1]],
                        **{name: fields[name][i] for name in _PER_STEP}, **episode)
                for i, episode in enumerate(meta["episodes"])]


def _split_field(data: np.lib.npyio.NpzFile, name: str, lengths: np.ndarray) -> list[np.ndarray | None]:
    present = data[f"has_{name}"]
    if not present.any():
        return [None] * len(lengths)
    values = data[name]
    out: list[np.ndarray | None] = []
    start = 0
    for has, n in zip(present, lengths):
        out.append(values[start:start + n] if has else None)
        start += int(n) if has else 0
    return out
