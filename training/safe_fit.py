"""``train.py safe``: fit SAFE on the policy's own rollouts, calibrate its band, compare, write a monitor.

1. Rollouts: collected from a policy checkpoint (``safe_rollouts``) or read from a saved file.
2. SAFE's split: whole target categories held out as unseen tasks; seen tasks split train/val.
3. SAFE-MLP and SAFE-LSTM, each selected on seen-val ROC-AUC over a small (lr, lambda) grid;
   baselines: action entropy, max probability, Mahalanobis, k-NN (Euclidean, cosine), PCA-KMeans.
4. Every detector's conformal band from the successful seen-val curves (alpha, default 0.15).
5. Report: ROC-AUC (seen val / unseen), TPR, TNR, balanced accuracy, detection time per detector;
   score curves with the band for successful and failed runs; the chosen detector as a monitor file
   the monitor node loads (``detector:=<file>``).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from rich.console import Console
from rich.table import Table

from safe_monitor.baselines import EmbeddingDistanceDetector, TokenUncertaintyDetector
from safe_monitor.conformal import ConformalBand, calibrate_band, thresholds
from safe_monitor.metrics import alarm_metrics, roc_auc
from safe_monitor.monitor_file import save_monitor
from safe_monitor.replay import score_curves
from safe_monitor.rollouts import Rollout, labels, load_rollouts, save_rollouts, split_by_task, take

SAFE_KINDS = ("safe_mlp", "safe_lstm")


@dataclass
class SafeConfig:
    """Fit and calibrate a SAFE failure monitor for a policy checkpoint."""

    checkpoint: str = "checkpoints/objectnav_small"
    """Policy checkpoint folder whose latents the monitor will watch."""
    task: Literal["ObjectNav", "PickUp", "Fetch"] = "ObjectNav"
    """Task family; its target categories are SAFE's tasks."""
    episodes: int = 600
    """Rollouts to collect (episode g targets category g mod 15; categories absent from the houses are skipped)."""
    max_steps: int = 150
    """Step limit per rollout (a failure that is not over by then is a timeout)."""
    seed: int = 50_000
    """Rollout g uses simulator seed seed + g (kept apart from training seeds)."""
    min_rooms: int = 1
    """Fewest rooms of a rollout's house (match what the policy was trained on: the small checkpoint, 1)."""
    max_rooms: int = 1
    """Most rooms of a rollout's house."""
    sampling: Literal["greedy", "sample"] = "sample"
    """How the policy picks actions in the rollouts: the same as the policy node will (its ``sampling``;
    ``make sim`` samples the committed checkpoint's actions)."""
    workers: int = 2
    """Simulator + policy worker processes."""
    rollouts: Path | None = None
    """Reuse a rollout file written by an earlier run instead of collecting."""
    label: Literal["failure", "violation", "either"] = "failure"
    """What counts as the outcome to catch: task failure (SAFE), cost over the limit, or either."""
    cost_limit: float = 2.31964
    """Episode cost above which a rollout is a violation (SafeVLA's ObjectNav limit)."""
    unseen_fraction: float = 0.3
    """Fraction of tasks (categories) held out entirely."""
    train_fraction: float = 0.7
    """Fraction of each seen task's rollouts used for training (the rest: validation + calibration)."""
    split_seed: int = 0
    """Seed of the task shuffle."""
    alpha: float = 0.15
    """Conformal miscoverage: the target false-alarm rate on successful runs like the seen ones."""
    epochs: int = 300
    """Passes over the training rollouts per grid point."""
    lrs: tuple[float, ...] = (1e-3, 3e-3)
    """Adam learning rates tried."""
    lambda_regs: tuple[float, ...] = (1e-3, 1e-2)
    """L2 weights tried."""
    save: Literal["best", "safe_mlp", "safe_lstm"] = "best"
    """Detector written to the monitor file: the better SAFE model on seen-val ROC-AUC, or a named one."""
    out_dir: Path = Path("runs/safe")
    """Where the report, plots, rollouts and monitor file go."""


@dataclass
class DetectorResult:
    name: str
    auc_seen: float
    auc_unseen: float
    tpr: float
    tnr: float
    balanced_accuracy: float
    detection_time: float
    tnr_seen: float = math.nan
    extra: dict = field(default_factory=dict)


def run_safe(cfg: SafeConfig) -> dict:
    console = Console()
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    rollouts = gather(cfg)
    y = labels(rollouts, cfg.label, cost_limit=cfg.cost_limit)
    if y.min() == y.max():
        outcome = cfg.label if y[0] else f"free of {cfg.label}"
        raise SystemExit(f"all {len(rollouts)} rollouts are {outcome}: SAFE learns from both outcomes. "
                         f"Use a policy that succeeds some of the time, more --episodes or --max-steps, or another --label.")
    split = split_by_task(rollouts, seed=cfg.split_seed, unseen_fraction=cfg.unseen_fraction,
                          train_fraction=cfg.train_fraction)
    train, val, unseen = (take(rollouts, idx) for idx in (split.train, split.val, split.unseen))
    y_train, y_val, y_unseen = y[split.train], y[split.val], y[split.unseen]
    console.print(f"{len(rollouts)} rollouts, {y.mean():.0%} {cfg.label}; train {len(train)}, seen-val {len(val)}, "
                  f"unseen {len(unseen)} (tasks held out: {[rollouts[i].task for i in _firsts(rollouts, split.unseen_tasks)]})")

    detectors = fit_detectors(cfg, train, y_train, val, y_val)
    results, bands, curves = {}, {}, {}
    for name, detector in detectors.items():
        val_curves, unseen_curves = score_curves(detector, val), score_curves(detector, unseen)
        band = calibrate_band([c for c, yy in zip(val_curves, y_val) if not yy], alpha=cfg.alpha, seed=cfg.split_seed)
        detector.set_threshold(band)
        results[name] = evaluate(name, val_curves, y_val, val, unseen_curves, y_unseen, unseen, band)
        bands[name], curves[name] = band, unseen_curves
    best = max(SAFE_KINDS, key=lambda k: results[k].auc_seen) if cfg.save == "best" else cfg.save
    monitor = cfg.out_dir / "monitor.safetensors"
    save_monitor(monitor, detectors[best], feature={"source": "safevla_belief", "checkpoint": cfg.checkpoint,
                                                    "latent_dim": int(rollouts[0].features.shape[1])},
                 label=cfg.label, alpha=cfg.alpha,
                 training={"rollouts": len(rollouts), "task": cfg.task, "val_auc": results[best].auc_seen})
    plot_curves(cfg.out_dir / "score_curves.png", best, curves[best], y_unseen, bands[best])
    report = {"config": _jsonable(asdict(cfg)), "rollouts": len(rollouts), "label_rate": float(y.mean()),
              "seen_tasks": len(split.seen_tasks), "unseen_tasks": len(split.unseen_tasks),
              "counts": {"train": len(train), "seen_val": len(val), "unseen": len(unseen)},
              "chosen": best, "monitor": str(monitor), "results": {k: asdict(v) for k, v in results.items()}}
    (cfg.out_dir / "report.json").write_text(json.dumps(report, indent=2))
    (cfg.out_dir / "report.md").write_text(markdown(report))
    console.print(results_table(results, best, cfg))
    console.print(f"monitor file: {monitor}  (run it: make sim SIM_ARGS='--detector {monitor}')\n"
                  f"report: {cfg.out_dir / 'report.md'}, plot: {cfg.out_dir / 'score_curves.png'}")
    return report


def gather(cfg: SafeConfig) -> list[Rollout]:
    if cfg.rollouts is not None:
        return load_rollouts(cfg.rollouts)
    from training.safe_rollouts import CollectJob, collect_rollouts

    rollouts = collect_rollouts(CollectJob(cfg.checkpoint, cfg.task, cfg.max_steps, cfg.seed,
                                                  rooms=(cfg.min_rooms, cfg.max_rooms), sampling=cfg.sampling), cfg.episodes, cfg.workers)
    save_rollouts(cfg.out_dir / "rollouts.npz", rollouts)
    return rollouts


def fit_detectors(cfg: SafeConfig, train: list[Rollout], y_train: np.ndarray, val: list[Rollout],
                  y_val: np.ndarray) -> dict:
    from safe_monitor.score_models import FitConfig, select_model, to_detector

    found = {}
    for kind in SAFE_KINDS:
        selection = select_model(kind, train, y_train, val, y_val, lrs=cfg.lrs, lambda_regs=cfg.lambda_regs,
                                 config=FitConfig(epochs=cfg.epochs, seed=cfg.split_seed))
        found[kind] = to_detector(selection.model)
    found["entropy"] = TokenUncertaintyDetector("entropy", "mean")
    found["neg_log_max_prob"] = TokenUncertaintyDetector("neg_log_prob", "mean")
    for metric in ("mahalanobis", "knn_euclidean", "knn_cosine", "pca_kmeans"):
        found[metric] = EmbeddingDistanceDetector.fit(metric, train, y_train, seed=cfg.split_seed)
    return found


def evaluate(name: str, val_curves, y_val, val, unseen_curves, y_unseen, unseen, band: ConformalBand) -> DetectorResult:
    alarms = alarm_metrics(unseen_curves, y_unseen, band)
    seen_alarms = alarm_metrics(val_curves, y_val, band)
    return DetectorResult(name, _auc(val_curves, y_val, val), _auc(unseen_curves, y_unseen, unseen), alarms.tpr,
                          alarms.tnr, alarms.balanced_accuracy, alarms.detection_time, tnr_seen=seen_alarms.tnr)


def _auc(curves, y, rollouts) -> float:
    try:
        return roc_auc(curves, y, [r.task_id for r in rollouts])
    except ValueError:  # one class only in this set
        return math.nan


def results_table(results: dict[str, DetectorResult], best: str, cfg: SafeConfig) -> Table:
    table = Table(title=f"failure detection ({cfg.label}), alpha {cfg.alpha}: ROC-AUC seen-val / unseen; "
                        f"alarms on unseen tasks")
    for column in ("detector", "AUC seen", "AUC unseen", "TPR", "TNR", "bal. acc", "T-det", "false alarms (seen succ.)"):
        table.add_column(column, justify="left" if column == "detector" else "right")
    for name, r in results.items():
        style = "bold green" if name == best else ""
        table.add_row(f"[{style}]{name}[/]" if style else name, *(f"{v:.3f}" for v in (
            r.auc_seen, r.auc_unseen, r.tpr, r.tnr, r.balanced_accuracy, r.detection_time, 1.0 - r.tnr_seen)))
    return table


def markdown(report: dict) -> str:
    lines = [f"# SAFE monitor report", "",
             f"{report['rollouts']} rollouts ({report['counts']}), label rate {report['label_rate']:.2f}, "
             f"{report['seen_tasks']} seen / {report['unseen_tasks']} unseen tasks; chosen: **{report['chosen']}**.", "",
             "| detector | ROC-AUC seen-val | ROC-AUC unseen | TPR | TNR | balanced acc | T-det | false alarms on seen successes |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, r in report["results"].items():
        lines.append(f"| {name} | {r['auc_seen']:.3f} | {r['auc_unseen']:.3f} | {r['tpr']:.3f} | {r['tnr']:.3f} | "
                     f"{r['balanced_accuracy']:.3f} | {r['detection_time']:.3f} | {1 - r['tnr_seen']:.3f} |")
    lines += ["", "![score curves](score_curves.png)", ""]
    return "\n".join(lines)


def plot_curves(path: Path, name: str, curves: list[np.ndarray], y: np.ndarray, band: ConformalBand) -> None:
    """Unseen-task score curves, successes and failures, against the conformal band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    horizon = max(len(c) for c in curves)
    upper = thresholds(band, horizon)
    for ax, failed, title in ((axes[0], False, "successful runs"), (axes[1], True, "failed runs")):
        for c, yy in zip(curves, y):
            if bool(yy) == failed:
                ax.plot(c, color="tab:red" if failed else "tab:blue", alpha=0.35, lw=1)
        ax.plot(upper, color="black", lw=2, label=f"conformal band (alpha {band.alpha})")
        ax.set_title(f"{name}: {title} (unseen tasks)")
        ax.set_xlabel("step")
    axes[0].set_ylabel("failure score")
    axes[0].legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _firsts(rollouts: list[Rollout], task_ids) -> list[int]:
    wanted = set(task_ids)
    seen, out = set(), []
    for i, r in enumerate(rollouts):
        if r.task_id in wanted and r.task_id not in seen:
            seen.add(r.task_id)
            out.append(i)
    return out


def _jsonable(d: dict) -> dict:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in d.items()}
