"""``train.py rl``: PPO-Lagrangian as SafeVLA runs it, and plain PPO (``--algo ppo``) from the same loop.

Per update, top to bottom in ``train_rl``: (1) a 128-step rollout of every simulator worker, (2) the
Lagrange multiplier's one Adam step on -lambda * (J_c - d), J_c = the rollout's summed cost per worker
averaged over all workers of all ranks, (3) GAE for reward and for cost and A = (A_r - lambda A_c)/(1+lambda)
(lambda = 0 for PPO), (4) 4 PPO epochs (clip 0.1, value coef 0.5, entropy coef 0, grad norm 0.5); during the
critic warm-up only the two value heads learn, (5) TensorBoard, and state.pt + policy/ every N updates.

Engineering choices for speed (the SafeVLA recipe is otherwise unchanged):
- Perception and fusion stay frozen at their IL weights; RL trains the temporal decoder and the heads.
  The rollout keeps every step's decoder input, so the update reruns only the causal decoder over each
  episode's cached inputs (see actor_critic.py): the policy that acted and the one being updated are the
  same function, and a step of the update costs a small fraction of a rollout step.
- The cost critic is a second value head on the shared belief, not a separate network copy.
- Episodes that span a rollout boundary keep their earlier inputs as a prefix of the update's sequence.
- DINOv2 features are computed inside the simulator worker processes (``--features-in-workers``).
Resume is exact: state.pt holds the weights, both optimizers, the multiplier, the counters, every rank's
RNG states and running episodes (replayed in the simulator on resume: it is deterministic).
"""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.distributions import Categorical
from tqdm import tqdm

from safevla_policy.checkpoints import LoadedPolicy, load_policy
from thor_sim_bridge.costs import COST_COMPONENTS

from training import distributed, run_folder
from training.actor_critic import ActorCritic
from training.advantages import combine_advantages, gae
from training.checkpointing import (POLICY_DIR, STATE_FILE, atomic_torch_save, check_world, export_policy,
                                    rng_state, seed_everything, set_rng_state, weights_digest)
from training.configs import RLConfig
from training.envs import make_envs, sim_config
from training.distributed import Dist
from training.evaluate import evaluate_stage, summarize
from training.features import DinoFeaturizer
from training.lagrange import Lagrange
from training.rollout import BatchedPolicy, Rollout, collect_rollout, sequence_batch


def ppo_update(ac: ActorCritic, optimizer: torch.optim.Optimizer, rollout: Rollout, advantages: torch.Tensor,
               returns: torch.Tensor, cost_returns: torch.Tensor, cfg: RLConfig, warmup: bool,
               dist: Dist) -> dict[str, float]:
    """The PPO epochs on one rollout; during warm-up only the value heads get gradients."""
    n = rollout.x.shape[1]
    groups = np.array_split(np.arange(n), cfg.num_minibatches)
    batches = [sequence_batch(rollout, group.tolist()) for group in groups if len(group)]
    flat = lambda t: t.reshape(-1)  # noqa: E731  (T, N) -> T * N in the order SequenceBatch.flat uses
    old_logp, adv, ret, cost_ret = flat(rollout.logp), flat(advantages), flat(returns), flat(cost_returns)
    actions = flat(rollout.actions)
    params = ac.rl_parameters()
    stats: dict[str, list[float]] = {k: [] for k in ("policy", "value", "cost_value", "entropy", "approx_kl",
                                                     "clipfrac", "grad_norm")}
    for _ in range(cfg.update_epochs):
        for mb in batches:
            logits, values, cost_values = (out[mb.rows, mb.cols] for out in ac.sequences(mb.x, detach_belief=warmup))
            idx = mb.flat
            v_loss = 0.5 * (values - ret[idx]).pow(2).mean()
            c_loss = 0.5 * (cost_values - cost_ret[idx]).pow(2).mean()
            dist_ = Categorical(logits=logits)
            logratio = dist_.log_prob(actions[idx]) - old_logp[idx]
            ratio = logratio.exp()
            mb_adv = adv[idx]
            if cfg.norm_adv and mb_adv.numel() > 1:
                mb_adv = (mb_adv - mb_adv.mean()) / (mb_adv.std() + 1e-8)
            pg_loss = torch.max(-mb_adv * ratio, -mb_adv * ratio.clamp(1 - cfg.clip_coef, 1 + cfg.clip_coef)).mean()
            entropy = dist_.entropy().mean()
            loss = cfg.vf_coef * (v_loss + c_loss)
            if not warmup:
                loss = loss + pg_loss - cfg.ent_coef * entropy
            optimizer.zero_grad()
            loss.backward()
            distributed.allreduce_gradients(params, dist)
            grad_norm = torch.nn.utils.clip_grad_norm_([p for p in params if p.grad is not None], cfg.max_grad_norm)
            optimizer.step()
            with torch.no_grad():
                for key, value in (("policy", pg_loss), ("value", v_loss), ("cost_value", c_loss),
                                   ("entropy", entropy), ("approx_kl", ((ratio - 1) - logratio).mean()),
                                   ("clipfrac", ((ratio - 1).abs() > cfg.clip_coef).float().mean()),
                                   ("grad_norm", grad_norm)):
                    stats[key].append(float(value))
    return {f"losses/{k}": float(np.mean(v)) for k, v in stats.items()}


def episode_scalars(finished: list) -> dict[str, float]:
    """TensorBoard scalars of the episodes that ended in this rollout (all ranks)."""
    if not finished:
        return {}
    m = summarize(finished)
    out = {"episodes/reward": m["reward_mean"], "episodes/cost": m["cost_mean"], "episodes/success": m["success_rate"],
           "episodes/length": m["episode_length"], "episodes/spl": m["spl"], "episodes/count": float(m["episodes"])}
    out.update({f"episodes/cost_{c}": v for c, v in m["cost_by_type"].items()})
    return out


def build_policy(cfg: RLConfig) -> LoadedPolicy:
    if cfg.init is not None:
        return load_policy(None, cfg.init)
    return load_policy(cfg.model_config, None, seed=cfg.seed)


def train_rl(cfg: RLConfig) -> dict[str, Any]:
    started = time.time()
    dist, why = distributed.init(cfg.device)
    torch.set_num_threads(cfg.torch_threads)
    state = run_folder.start(cfg, dist)
    folder, policy_dir = Path(cfg.run_dir), Path(cfg.run_dir) / POLICY_DIR
    policy = build_policy(cfg)
    run_folder.validate(cfg, policy.config.max_context)
    if dist.main and state is None:
        export_policy(policy, policy_dir)  # the frozen DINOv2 the workers load, and a loadable folder from the start
    distributed.barrier(dist)

    # ---- the trainable actor-critic, optimizers, multiplier
    seed_everything(cfg.seed)
    ac = ActorCritic(policy.model).to(dist.device)
    ac.freeze_for_rl()
    optimizer = torch.optim.Adam(ac.rl_parameters(), lr=cfg.lr, eps=1e-5)
    lagrange = Lagrange(cfg.resolved_cost_limit(), cfg.lagrange_init, cfg.lagrange_lr, cfg.lagrange_max)
    counters = {"update": 0, "global_step": 0, "episodes": 0}

    # ---- simulator workers (each rank its own episodes) and the acting policy
    featurizer = DinoFeaturizer(policy_dir, device="cpu" if cfg.features_in_workers else str(dist.device))
    sim = sim_config(cfg, max_steps=cfg.max_steps, expert=False)
    envs = make_envs(sim, cfg.num_envs, base_seed=cfg.env_seed, first_episode=dist.rank * cfg.num_envs,
                     stride=dist.world * cfg.num_envs, featurizer=featurizer if cfg.features_in_workers else None)
    runner = BatchedPolicy(ac, policy.processor, featurizer, dist.device)
    if state is None:
        seed_everything(cfg.seed * 1000 + dist.rank)
        out = envs.reset()
        runner.begin(out)
    else:
        check_world(state, dist)
        ac.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        lagrange.load_state_dict(state["lagrange"])
        counters = dict(state["counters"])
        mine = state["ranks"][dist.rank]
        set_rng_state(mine["rng"])
        out = envs.replay([m["counter"] for m in mine["episodes"]], [m["actions"] for m in mine["episodes"]])
        runner.begin(out, mine["episodes"])
    distributed.broadcast_parameters(ac, dist)

    steps_per_update = cfg.rollout_steps * cfg.num_envs * dist.world
    num_updates = cfg.total_steps // steps_per_update
    if num_updates < 1:
        raise ValueError(f"total_steps={cfg.total_steps} is less than one update ({cfg.rollout_steps} steps x "
                         f"{cfg.num_envs} workers x {dist.world} ranks)")
    writer = run_folder.writer(cfg, dist, counters["global_step"])
    recent: deque = deque(maxlen=100)

    def save() -> None:
        ranks = distributed.gather({"rng": rng_state(), "episodes": runner.state(), "weights": weights_digest(ac),
                                    "lambda": lagrange.value}, dist)
        if dist.main:
            atomic_torch_save({"stage": "rl", "algo": cfg.algo, "counters": dict(counters), "model": ac.state_dict(),
                               "optimizer": optimizer.state_dict(), "lagrange": lagrange.state_dict(),
                               "ranks": ranks, "world": dist.world}, folder / STATE_FILE)
            export_policy(policy, policy_dir, metadata={"algo": cfg.algo, "global_step": str(counters["global_step"])})

    if dist.main:
        print(f"RL ({cfg.algo}): {num_updates} updates of {steps_per_update} steps, cost limit "
              f"{lagrange.cost_limit}, {dist.world} rank(s) x {cfg.num_envs} workers, device {dist.device} ({why})")
    bar = tqdm(total=num_updates * steps_per_update, initial=counters["global_step"], desc=f"{cfg.algo} env steps",
               unit="step", disable=not dist.main)
    while counters["update"] < num_updates:
        tick = time.time()
        # 1. Rollout: 128 steps of every worker (episodes continue across rollouts).
        rollout, out = collect_rollout(envs, runner, out, cfg.rollout_steps)
        counters["global_step"] += steps_per_update
        warmup = counters["global_step"] <= cfg.critic_warmup_steps

        # 2. Lagrange multiplier, once per rollout and before the PPO epochs.
        jc = distributed.mean(rollout.costs.sum(0).mean().item(), dist)
        multiplier = lagrange.update(jc) if cfg.algo == "ppo-lag" else 0.0

        # 3. Advantages: GAE for reward and for cost, combined from the raw advantages.
        adv_r, returns = gae(rollout.rewards, rollout.values, rollout.dones, rollout.next_value, cfg.gamma, cfg.gae_lambda)
        adv_c, cost_returns = gae(rollout.costs, rollout.cost_values, rollout.dones, rollout.next_cost_value,
                                  cfg.gamma, cfg.gae_lambda)
        advantages = combine_advantages(adv_r, adv_c, multiplier)

        # 4. PPO epochs over the decoder sequences; then the acting caches follow the new weights.
        losses = ppo_update(ac, optimizer, rollout, advantages, returns, cost_returns, cfg, warmup, dist)
        runner.invalidate_caches()
        counters["update"] += 1

        # 5. Log (rank 0, episodes of all ranks) and save.
        finished = [s for rank in distributed.gather(rollout.finished, dist) or [] for s in rank]
        counters["episodes"] += int(distributed.total(len(rollout.finished), dist))
        if dist.main:
            recent.extend(finished)
            scalars = {"rollout/Jc": jc, "lagrange/lambda": multiplier, "rollout/cost_per_step": rollout.costs.mean().item(),
                       "rollout/warmup": float(warmup), "perf/steps_per_s": steps_per_update / (time.time() - tick),
                       **{f"rollout/cost_{c}": v for c, v in zip(COST_COMPONENTS,
                                                                 rollout.cost_parts.sum(0).mean(0).tolist())},
                       **losses, **episode_scalars(finished)}
            run_folder.log_scalars(writer, scalars, counters["global_step"])
            bar.update(steps_per_update)
            bar.set_postfix(Jc=f"{jc:.2f}", lam=f"{multiplier:.3f}",
                            success=f"{np.mean([e.success for e in recent]) if recent else 0:.2f}")
        if counters["update"] % cfg.save_every == 0 or counters["update"] == num_updates:
            save()
    bar.close()
    envs.close()

    # ---- evaluation (rank 0) and the summary
    metrics: dict[str, Any] = {}
    if dist.main and cfg.eval_episodes > 0:
        ac.eval()
        metrics = evaluate_stage(cfg, policy, policy_dir, dist.device, algo=cfg.algo)
        run_folder.log_scalars(writer, {f"eval/{k}": v for k, v in metrics.items() if isinstance(v, float)},
                               counters["global_step"])
    if dist.main:
        writer.close()
        train_tail = summarize(list(recent))
        run_folder.print_summary(f"{cfg.algo} {cfg.run_dir}", metrics, {
            "updates": counters["update"], "env_steps": counters["global_step"],
            "lambda": lagrange.value if cfg.algo == "ppo-lag" else 0.0,
            "train_success_last100": train_tail.get("success_rate", float("nan")),
            "train_cost_last100": train_tail.get("cost_mean", float("nan")),
            "checkpoint": str(policy_dir), "wall_s": round(time.time() - started, 1)})
    distributed.barrier(dist)
    distributed.shutdown(dist)
    return {"counters": counters, "lambda": lagrange.value if cfg.algo == "ppo-lag" else 0.0, **metrics}
