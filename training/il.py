"""``train.py il``: imitation learning from the shortest-path expert, as SPOC/FLaRe pretrain SafeVLA.

1. The fresh policy is exported to ``run_dir/policy`` first: its frozen DINOv2 is what the demo workers
   (and later the policy node) compute features with.
2. Demos: ``demos.generate_demos`` (simulator workers in processes, tqdm).
3. Training: whole episodes through the model (fusion per step, then the causal decoder over the episode),
   cross-entropy against the expert's action at every step, AdamW (lr 1e-4). Trained: everything but the
   frozen DINOv2 and T5 encoder. With torchrun, each rank takes its share of every batch and gradients
   are averaged.
4. ``state.pt`` + ``policy/`` every ``save_every`` steps; ``--resume`` continues at the same batch of the
   same epoch (batch order is a pure function of seed and epoch).
5. Evaluation in the simulator (rank 0), TensorBoard, a rich summary table, ``eval.json``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from safevla_common.actions import NO_PREVIOUS_ACTION
from safevla_policy.checkpoints import load_policy
from safevla_policy.modeling_safevla import SafeVLAModel
from safevla_policy.processor_safevla import SafeVLAProcessor

from training import distributed, run_folder
from training.checkpointing import (POLICY_DIR, STATE_FILE, atomic_torch_save, check_world, export_policy, rng_state,
                                    seed_everything, set_rng_state, weights_digest)
from training.configs import ILConfig
from training.demos import generate_demos, load_demos
from training.evaluate import evaluate_stage
from training.features import tokenize


def il_loss(model: SafeVLAModel, processor: SafeVLAProcessor, batch: list[dict[str, Any]],
            device: torch.device, last_action_dropout: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Cross-entropy on the expert's actions over whole episodes, and the accuracy."""
    ids, mask = tokenize(processor, [e["instruction"] for e in batch], device)
    text = model.encode_text(ids, mask)
    lengths = torch.tensor([len(e["action"]) for e in batch])
    episode = torch.repeat_interleave(torch.arange(len(batch)), lengths).to(device)
    step = torch.cat([torch.arange(int(n)) for n in lengths]).to(device)
    cat = lambda key: torch.cat([e[key] for e in batch]).to(device)  # noqa: E731
    last_action = cat("last_action")
    if last_action_dropout > 0:
        hidden = torch.rand(last_action.shape, device=device) < last_action_dropout
        last_action = last_action.masked_fill(hidden, NO_PREVIOUS_ACTION)
    x = model.embed_steps(cat("nav").float(), cat("manip").float(), text[episode], last_action,
                          cat("object_in_hand"), step.float(), mask[episode])
    sequences = x.new_zeros(len(batch), int(lengths.max()), x.shape[-1])
    sequences[episode, step] = x
    logits = model.actor(model.decoder(sequences))[episode, step]
    labels = cat("action")
    return F.cross_entropy(logits, labels), (logits.argmax(-1) == labels).float().mean()


def train_il(cfg: ILConfig) -> dict[str, Any]:
    started = time.time()
    dist, why = distributed.init(cfg.device)
    torch.set_num_threads(cfg.torch_threads)
    state = run_folder.start(cfg, dist)
    folder, policy_dir = Path(cfg.run_dir), Path(cfg.run_dir) / POLICY_DIR
    policy = load_policy(None if cfg.init_checkpoint else cfg.model_config, cfg.init_checkpoint,
                         dino_path=cfg.dino_path, seed=cfg.seed)
    run_folder.validate(cfg, policy.config.max_context)
    if dist.main and state is None:
        export_policy(policy, policy_dir)
    distributed.barrier(dist)

    # ---- demos
    demo_dir = Path(cfg.demo_dir or folder / "demos")
    manifest = generate_demos(cfg, policy_dir, demo_dir, dist)
    episodes = load_demos(demo_dir, manifest)

    # ---- model and optimizer
    model = policy.model.to(dist.device).train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    step = 0
    if state is not None:
        check_world(state, dist)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step = int(state["counters"]["step"])
        set_rng_state(state["ranks"][dist.rank]["rng"])
    else:
        seed_everything(cfg.seed * 1000 + dist.rank)
    distributed.broadcast_parameters(model, dist)
    per_step = cfg.batch_episodes * dist.world
    batches_per_epoch = len(episodes) // per_step
    if batches_per_epoch < 1:
        raise ValueError(f"{len(episodes)} demo episodes cannot fill one batch of {cfg.batch_episodes} episodes "
                         f"x {dist.world} ranks; record more (--demo-episodes) or use a smaller --batch-episodes")
    total_steps = cfg.epochs * batches_per_epoch
    writer = run_folder.writer(cfg, dist, step)
    if dist.main:
        print(f"IL: {len(episodes)} demo episodes ({manifest['steps']} steps), {total_steps} optimizer steps, "
              f"{dist.world} rank(s), device {dist.device} ({why})")

    def save() -> None:
        ranks = distributed.gather({"rng": rng_state(), "weights": weights_digest(model)}, dist)
        if dist.main:
            atomic_torch_save({"stage": "il", "counters": {"step": step}, "model": model.state_dict(),
                               "optimizer": optimizer.state_dict(), "ranks": ranks, "world": dist.world},
                              folder / STATE_FILE)
            export_policy(policy, policy_dir)

    loss_sum, acc_sum, seen = 0.0, 0.0, 0
    bar = tqdm(total=total_steps, initial=step, desc="IL steps", disable=not dist.main)
    while step < total_steps:
        epoch, b = divmod(step, batches_per_epoch)
        order = np.random.default_rng([cfg.seed, epoch]).permutation(len(episodes))
        start = b * per_step + dist.rank * cfg.batch_episodes
        batch = [episodes[j] for j in order[start: start + cfg.batch_episodes]]
        loss, accuracy = il_loss(model, policy.processor, batch, dist.device, cfg.last_action_dropout)
        optimizer.zero_grad()
        loss.backward()
        distributed.allreduce_gradients(params, dist)
        grad_norm = torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
        optimizer.step()
        step += 1
        bar.update(1)
        loss_sum, acc_sum, seen = loss_sum + loss.item(), acc_sum + accuracy.item(), seen + 1
        if step % cfg.log_every == 0 or step == total_steps:
            scalars = {"il/loss": distributed.mean(loss_sum / seen, dist),
                       "il/accuracy": distributed.mean(acc_sum / seen, dist),
                       "il/grad_norm": float(grad_norm), "il/epoch": epoch + b / batches_per_epoch}
            run_folder.log_scalars(writer, scalars, step)
            bar.set_postfix(loss=f"{scalars['il/loss']:.3f}", acc=f"{scalars['il/accuracy']:.3f}")
            loss_sum, acc_sum, seen = 0.0, 0.0, 0
        if step % cfg.save_every == 0 or step == total_steps:
            save()
    bar.close()

    # ---- evaluation (rank 0) and the summary
    metrics: dict[str, Any] = {}
    if dist.main and cfg.eval_episodes > 0:
        model.eval()
        metrics = evaluate_stage(cfg, policy, policy_dir, dist.device)
        run_folder.log_scalars(writer, {f"eval/{k}": v for k, v in metrics.items() if isinstance(v, float)}, step)
    if dist.main:
        writer.close()
        run_folder.print_summary(f"IL {cfg.run_dir}", metrics, {
            "demo_episodes": len(episodes), "demo_steps": manifest["steps"], "optimizer_steps": step,
            "checkpoint": str(policy_dir), "wall_s": round(time.time() - started, 1)})
    distributed.barrier(dist)
    distributed.shutdown(dist)
    return metrics
