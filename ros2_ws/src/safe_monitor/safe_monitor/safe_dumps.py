"""Readers for the rollout dumps SAFE published (OpenVLA and openpi), into ``Rollout``s.

The dumps are pickles of plain data. They are read with an unpickler that can only rebuild numpy
arrays (bfloat16 through ml_dtypes), torch tensors (through ``torch.load(weights_only=True)``)
and a few builtin containers: a dump that names any other global is refused, never executed.
Per-step token features (n, d) are reduced to one vector: first, last, mean, or first & last.
"""

from __future__ import annotations

import csv
import io
import pickle
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from safe_monitor.rollouts import Rollout

Reduction = Literal["first", "last", "mean", "first_last"]
TokenStat = Literal["max", "mean"]
OPENPI_FEATURES = ("pre_logits", "encoded", "pre_velocity", "logits")

_NUMPY = {("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")} | {
    (f"numpy.{core}.{module}", name) for core in ("core", "_core")
    for module, name in (("multiarray", "_reconstruct"), ("multiarray", "scalar"), ("numeric", "_frombuffer"))}
_BUILTINS = {("builtins", n) for n in ("complex", "set", "frozenset", "bytearray", "slice", "range")} | {
    ("collections", "OrderedDict")}
_ALLOWED = _NUMPY | _BUILTINS | {("torch._utils", "_rebuild_tensor_v2")}
_ML_DTYPES = {"bfloat16", "float8_e4m3fn", "float8_e5m2", "float8_e4m3b11fnuz", "float8_e4m3fnuz", "float8_e5m2fnuz"}
_DUMP_NAME = re.compile(r"task(\d+)--ep(\d+)--succ([01])")


def _load_storage(data: bytes) -> Any:
    import torch

    return torch.load(io.BytesIO(data), weights_only=True)


class _DataUnpickler(pickle.Unpickler):
    """Rebuilds arrays, tensors and builtin containers; refuses every other global."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:  # numpy 1.x pickles name numpy.core, numpy 2 moved it to _core
            return super().find_class(module.replace("numpy.core.", "numpy._core."), name)
        if module == "ml_dtypes" and name in _ML_DTYPES:
            try:
                import ml_dtypes
            except ImportError:
                raise pickle.UnpicklingError(f"this dump holds {name} arrays; install ml_dtypes to read it") from None
            return getattr(ml_dtypes, name)
        if (module, name) == ("torch.storage", "_load_from_bytes"):  # torch's own would load unsafely
            return _load_storage
        raise pickle.UnpicklingError(
            f"refusing to load global {module}.{name}: a SAFE dump should hold only arrays and plain data. "
            "If the file is trusted, convert it to .npz or our rollout file first")


def load_dump(path: str | Path) -> dict[str, Any]:
    """One dump file as a dict, arrays as numpy (tensors and bfloat16 widened to float32)."""
    with open(path, "rb") as f:
        data = _DataUnpickler(f).load()
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a pickled dict, found {type(data).__name__}")
    return {key: _to_numpy(value) for key, value in data.items()}


def _to_numpy(value: Any) -> Any:
    if type(value).__module__.startswith("torch"):  # a tensor: only _rebuild_tensor_v2 makes these
        return value.detach().float().numpy() if value.is_floating_point() else value.numpy()
    if isinstance(value, np.ndarray) and value.dtype.type.__module__.startswith("ml_dtypes"):
        return value.astype(np.float32)
    return value


def reduce_tokens(x: np.ndarray, how: Reduction | Sequence[Reduction] = "mean") -> np.ndarray:
    """Reduce one step's features (..., n, d) to a vector by reducing axis -2 until 1-D.

    ``how`` may list one reduction per axis, innermost first (pi0's (flow steps, horizon, d):
    horizon, then flow steps); a single reduction is used for every axis.
    """
    hows = [how] if isinstance(how, str) else list(how)
    x = np.asarray(x, dtype=np.float32)
    if x.ndim < 2:
        raise ValueError(f"token features must be (..., n_tokens, dim), got shape {x.shape}")
    for axis in range(x.ndim - 1):
        x = _reduce_once(x, hows[min(axis, len(hows) - 1)])
    return x


def _reduce_once(x: np.ndarray, how: str) -> np.ndarray:
    if how == "first":
        return x[..., 0, :]
    if how == "last":
        return x[..., -1, :]
    if how == "mean":
        return x.mean(axis=-2)
    if how == "first_last":
        return np.concatenate([x[..., 0, :], x[..., -1, :]], axis=-1)
    raise ValueError(f"reduction must be first, last, mean or first_last, got {how!r}")


def _token_stats(entropy: np.ndarray, prob: np.ndarray, over: TokenStat) -> tuple[np.ndarray, np.ndarray]:
    """(T, K) per-token entropy and chosen-token probability -> per-step (entropy, max_prob).

    The step's ``max_prob`` is exp(-reduced -log p), so -log(max_prob) is the max or mean over
    tokens of -log p, as in SAFE's token-uncertainty baselines.
    """
    if over not in ("max", "mean"):
        raise ValueError(f"token statistics reduce by 'max' or 'mean', got {over!r}")
    reduce = np.max if over == "max" else np.mean
    neg_log_p = -np.log(np.clip(prob, 1e-12, 1.0))
    return reduce(entropy, axis=-1), np.exp(-reduce(neg_log_p, axis=-1))


def _dump_key(path: Path) -> tuple[int, int]:
    match = _DUMP_NAME.search(path.name)
    if match is None:
        raise ValueError(f"{path.name}: expected a name like task3--ep12--succ1.pkl")
    return int(match.group(1)), int(match.group(2))


def _episode_index(record: dict[str, Any]) -> int:
    return int(record.get("episode_idx", record.get("eposide_idx", 0)))  # SAFE's dumps spell it "eposide"


def read_openvla_dumps(folder: str | Path, reduction: Reduction = "mean",
                       token_stat: TokenStat = "max") -> list[Rollout]:
    """OpenVLA dumps ``task{t}--ep{e}--succ{s}.pkl`` (hidden_states (T, 7, d)); a CSV with the
    same name, if present, gives per-token probabilities/entropies and the 7-D action deltas."""
    paths = sorted(Path(folder).glob("task*--ep*--succ*.pkl"), key=_dump_key)
    if not paths:
        raise FileNotFoundError(f"no task*--ep*--succ*.pkl files in {folder}")
    rollouts = []
    for path in paths:
        record = load_dump(path)
        hidden = np.asarray(record["hidden_states"])
        features = np.stack([reduce_tokens(h, reduction) for h in hidden])
        extra = _openvla_csv(path.with_suffix(".csv"), len(features), token_stat)
        rollouts.append(Rollout(task_id=int(record["task_id"]), features=features,
                                success=bool(record["episode_success"]),
                                task=f"{record.get('task_suite_name', '')}/task{record['task_id']}",
                                instruction=str(record.get("task_description", "")),
                                episode=_episode_index(record), **extra))
    return rollouts


def _openvla_csv(path: Path, steps: int, token_stat: TokenStat) -> dict[str, np.ndarray]:
    if not path.exists():
        return {}
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if len(rows) != steps:
        raise ValueError(f"{path}: {len(rows)} rows but the pickle has {steps} steps; the CSV and the "
                         "pickle must come from the same episode")
    columns = rows[0].keys() if rows else ()
    out: dict[str, np.ndarray] = {}
    n_tokens = sum(1 for c in columns if re.fullmatch(r"action/token_\d+_prob", c))
    if n_tokens:
        def table(suffix: str) -> np.ndarray:
            return np.array([[float(r[f"action/token_{i}_{suffix}"]) for i in range(n_tokens)] for r in rows])
        out["entropy"], out["max_prob"] = _token_stats(table("entropy"), table("prob"), token_stat)
    action_columns = [f"action/{c}" for c in ("dx", "dy", "dz", "droll", "dpitch", "dyaw", "dgripper")]
    if all(c in columns for c in action_columns):
        out["actions"] = np.array([[float(r[c]) for c in action_columns] for r in rows], dtype=np.float32)
    return out


def read_openpi_dumps(root: str | Path, feature: str = "pre_logits",
                      reduction: Reduction | Sequence[Reduction] = "mean",
                      token_stat: TokenStat = "max") -> list[Rollout]:
    """openpi dumps: ``env_records/task{t}--ep{e}--succ{s}.pkl`` per episode and
    ``policy_records/step_{global}--...--meta.pkl`` per inference, in run order: episodes in
    (task, episode) order each own the next ``model_infer_times`` policy records.
    Token statistics come from ``logits`` when the records carry them (pi0-FAST)."""
    if feature not in OPENPI_FEATURES:
        raise ValueError(f"feature must be one of {OPENPI_FEATURES}, got {feature!r}")
    root = Path(root)
    episode_paths = sorted((root / "env_records").glob("task*--ep*--succ*.pkl"), key=_dump_key)
    step_paths = sorted((root / "policy_records").glob("step_*meta.pkl"), key=_step_number)
    episodes = [load_dump(p) for p in episode_paths]
    needed = [int(env["model_infer_times"]) for env in episodes]
    if not episodes or sum(needed) != len(step_paths):
        raise ValueError(f"{root}: {len(episodes)} env records need {sum(needed)} policy records, found "
                         f"{len(step_paths)}; the two folders must come from the same run")
    rollouts, start = [], 0
    for env, n in zip(episodes, needed):
        rollouts.append(_openpi_episode(env, step_paths[start:start + n], feature, reduction, token_stat))
        start += n
    return rollouts


def _step_number(path: Path) -> int:
    match = re.match(r"step_(\d+)", path.name)
    if match is None:
        raise ValueError(f"{path.name}: expected a name like step_123--...--meta.pkl")
    return int(match.group(1))


def _openpi_episode(env: dict[str, Any], step_paths: Sequence[Path], feature: str,
                    reduction: Reduction | Sequence[Reduction], token_stat: TokenStat) -> Rollout:
    records = [load_dump(p) for p in step_paths]
    missing = [p.name for p, r in zip(step_paths, records) if feature not in r]
    if missing:
        raise ValueError(f"policy records {missing[:3]} lack feature {feature!r}; choose one they hold "
                         f"(of {OPENPI_FEATURES})")
    extra = {"actions": np.stack([np.asarray(r["actions"], dtype=np.float32).reshape(-1) for r in records])}
    if all("logits" in r for r in records):
        stats = [_token_stats(*_logit_stats(r["logits"]), token_stat) for r in records]
        extra["entropy"] = np.array([e for e, _ in stats])
        extra["max_prob"] = np.array([p for _, p in stats])
    return Rollout(task_id=int(env["task_id"]), success=bool(env["episode_success"]),
                   features=np.stack([reduce_tokens(r[feature], reduction) for r in records]),
                   task=f"{env.get('task_suite_name', '')}/task{env['task_id']}",
                   instruction=str(env.get("task_description", "")), episode=_episode_index(env), **extra)


def _logit_stats(logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n_tokens, vocab) logits -> per-token entropy and greedy-token probability."""
    z = np.asarray(logits, dtype=np.float64)
    log_p = z - z.max(-1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(-1, keepdims=True))
    p = np.exp(log_p)
    return -(p * log_p).sum(-1), p.max(-1)
