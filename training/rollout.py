"""Acting in the simulator workers with the policy, and turning rollouts into decoder sequences.

``BatchedPolicy`` plays one episode per worker at a time: it computes the decoder input of every worker's
step in one batch (the expensive fusion), then advances each episode's own KV cache (episodes have
different lengths, so caches are per worker). It keeps each running episode's decoder inputs and actions:
the inputs are the prefix the PPO update needs when an episode spans a rollout boundary, the actions let
a resumed run replay the episode in its simulator. Caches are rebuilt from the prefix after each update
(the decoder's weights changed). Step indices, the cache restart at ``max_context`` and the greedy choice
follow safevla_policy's backends and runner, so evaluation here scores what the policy node would do.

``collect_rollout`` is the CleanRL rollout (T steps of all workers) and ``sequence_batch`` cuts it into
per-episode sequences, each preceded by its episode's earlier inputs, for the update's causal pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.distributions import Categorical

from safevla_policy.processor_safevla import SafeVLAProcessor
from thor_sim_bridge.vector_env import EpisodeSummary, VecStep, VectorHouseEnv

from training.actor_critic import ActorCritic
from training.features import DinoFeaturizer, tokenize


@dataclass
class EpisodeMemory:
    """What the policy keeps of one worker's running episode."""

    counter: int  # the worker's episode counter (VecStep.counter)
    episode: int  # the episode's global index g (its reset seed is base_seed + g)
    instruction: str
    xs: list[torch.Tensor] = field(default_factory=list)  # decoder inputs of the steps taken so far
    actions: list[int] = field(default_factory=list)  # actions taken so far (replayed on resume)
    context_start: int = 0  # index in xs where the decoder's context begins (restarts at max_context)
    cache: Any = None  # KV cache of xs[context_start:] under the current weights; None: rebuild


@dataclass
class Act:
    actions: np.ndarray  # (N,) int64
    logits: torch.Tensor  # (N, A)
    logp: torch.Tensor  # (N,)
    value: torch.Tensor  # (N,)
    cost_value: torch.Tensor  # (N,)
    x: torch.Tensor  # (N, d) the decoder inputs of this step


class BatchedPolicy:
    """The policy acting in ``num_envs`` simulator workers (inference only; no gradients)."""

    def __init__(self, ac: ActorCritic, processor: SafeVLAProcessor, featurizer: DinoFeaturizer,
                 device: torch.device) -> None:
        self.ac, self.processor, self.featurizer, self.device = ac, processor, featurizer, device
        self.max_context = ac.model.config.max_context
        self.memory: list[EpisodeMemory] = []
        self._text: dict[str, torch.Tensor] = {}

    # ------------------------------------------------------------------ episodes
    def begin(self, out: VecStep, restored: list[dict[str, Any]] | None = None) -> None:
        """Start tracking the workers' episodes (``restored``: the saved memory of a resumed run)."""
        self.memory = [EpisodeMemory(int(c), int(g), text) for c, g, text in zip(out.counter, out.episode, out.instruction)]
        for mem, saved in zip(self.memory, restored or []):
            if (saved["counter"], saved["instruction"]) != (mem.counter, mem.instruction):
                raise RuntimeError(f"resume: the replayed episode {mem.counter} ({mem.instruction!r}) is not the "
                                   f"saved one {saved['counter']} ({saved['instruction']!r}); simulator changed?")
            mem.xs = list(saved["xs"].to(self.device).unbind(0))
            mem.actions = list(saved["actions"])
            mem.context_start = int(saved["context_start"])

    def observe(self, out: VecStep) -> None:
        """After ``envs.step``: workers whose episode ended start a fresh memory for their next episode."""
        for i in np.flatnonzero(out.done):
            self.memory[i] = EpisodeMemory(int(out.counter[i]), int(out.episode[i]), out.instruction[i])

    def invalidate_caches(self) -> None:
        """The decoder changed (a PPO update): caches are rebuilt from the kept inputs on the next step."""
        for mem in self.memory:
            mem.cache = None

    def prefixes(self) -> list[torch.Tensor]:
        """Each running episode's decoder inputs so far, (P_i, d)."""
        d = self.ac.model.config.hidden_size
        return [torch.stack(m.xs) if m.xs else torch.zeros(0, d, device=self.device) for m in self.memory]

    def state(self) -> list[dict[str, Any]]:
        """The running episodes, for state.pt (inputs, actions to replay, where the context starts)."""
        return [{"counter": m.counter, "episode": m.episode, "instruction": m.instruction, "actions": list(m.actions),
                 "context_start": m.context_start, "xs": p.cpu()} for m, p in zip(self.memory, self.prefixes())]

    # ------------------------------------------------------------------ acting
    def _text_features(self, instruction: str) -> torch.Tensor:
        """(L, d) instruction features; cached (the text encoder and adapter are frozen in RL and eval)."""
        if instruction not in self._text:
            ids, mask = tokenize(self.processor, [instruction], self.device)
            self._text[instruction] = self.ac.model.encode_text(ids, mask)[0]
        return self._text[instruction]

    @torch.no_grad()
    def embed(self, out: VecStep) -> torch.Tensor:
        """The decoder inputs (N, d) of the workers' current observations."""
        obs = self.featurizer.ensure_features(out.obs)
        texts = [self._text_features(m.instruction) for m in self.memory]
        length = max(t.shape[0] for t in texts)
        text = torch.zeros(len(texts), length, texts[0].shape[1], device=self.device)
        mask = torch.zeros(len(texts), length, dtype=torch.long, device=self.device)
        for i, t in enumerate(texts):
            text[i, : t.shape[0]], mask[i, : t.shape[0]] = t, 1
        tensor = self._tensor
        return self.ac.embed(tensor(obs["nav_feats"]).float(), tensor(obs["manip_feats"]).float(), text, mask,
                             tensor(obs["last_action"]), tensor(obs["object_in_hand"]), tensor(out.step))

    def _tensor(self, a: np.ndarray | torch.Tensor) -> torch.Tensor:
        return torch.as_tensor(a, device=self.device)

    def _decode(self, x: torch.Tensor, commit: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        logits, values, cost_values = [], [], []
        for mem, xi in zip(self.memory, x):
            if mem.cache is not None and mem.cache[0].shape[3] >= self.max_context:
                mem.context_start, mem.cache = len(mem.xs), None  # the backends' context restart
            if mem.cache is None:
                context = mem.xs[mem.context_start:]
                mem.cache = self.ac.prefill(torch.stack(context) if context else x.new_zeros(0, x.shape[1]))
            lg, v, cv, cache = self.ac.step(xi, mem.cache)
            if commit:
                mem.cache = cache
                mem.xs.append(xi)
            logits.append(lg)
            values.append(v)
            cost_values.append(cv)
        return torch.stack(logits), torch.stack(values), torch.stack(cost_values)

    @torch.no_grad()
    def act(self, out: VecStep, greedy: bool = False) -> Act:
        """Choose every worker's next action (sampled, or greedy as the policy node does by default)."""
        x = self.embed(out)
        logits, values, cost_values = self._decode(x, commit=True)
        dist = Categorical(logits=logits)
        actions = logits.argmax(-1) if greedy else dist.sample()
        for mem, a in zip(self.memory, actions.tolist()):
            mem.actions.append(a)
        return Act(actions.cpu().numpy(), logits, dist.log_prob(actions), values, cost_values, x)

    @torch.no_grad()
    def bootstrap(self, out: VecStep) -> tuple[torch.Tensor, torch.Tensor]:
        """Reward and cost values of the current observations, without taking the step."""
        _, values, cost_values = self._decode(self.embed(out), commit=False)
        return values, cost_values


# ---------------------------------------------------------------------------------------- rollouts
@dataclass
class Rollout:
    """T steps of N workers; every (T, N) tensor is on the trainer's device."""

    x: torch.Tensor  # (T, N, d) decoder inputs
    actions: torch.Tensor
    logp: torch.Tensor
    values: torch.Tensor
    cost_values: torch.Tensor
    rewards: torch.Tensor
    costs: torch.Tensor
    cost_parts: torch.Tensor  # (T, N, components)
    dones: torch.Tensor  # 1 where the episode ended with this step
    prefixes: list[torch.Tensor]  # per worker: its episode's inputs before step 0 of this rollout
    next_value: torch.Tensor  # (N,) values of the observation after the last step
    next_cost_value: torch.Tensor
    finished: list[EpisodeSummary]


def collect_rollout(envs: VectorHouseEnv, policy: BatchedPolicy, out: VecStep, steps: int) -> tuple[Rollout, VecStep]:
    """Run ``steps`` lock-steps of every worker with sampled actions; returns the rollout and the last VecStep."""
    prefixes = policy.prefixes()
    record: dict[str, list] = {k: [] for k in ("x", "actions", "logp", "values", "cost_values", "rewards", "costs",
                                               "cost_parts", "dones")}
    finished: list[EpisodeSummary] = []
    device = policy.device
    for _ in range(steps):
        act = policy.act(out)
        out = envs.step(act.actions)
        policy.observe(out)
        for key, value in (("x", act.x), ("actions", torch.as_tensor(act.actions)), ("logp", act.logp),
                           ("values", act.value), ("cost_values", act.cost_value),
                           ("rewards", torch.as_tensor(out.reward)), ("costs", torch.as_tensor(out.cost)),
                           ("cost_parts", torch.as_tensor(out.costs)), ("dones", torch.as_tensor(out.done).float())):
            record[key].append(value.to(device))
        finished += [s for s in out.finished if s is not None]
    next_value, next_cost_value = policy.bootstrap(out)
    stacked = {k: torch.stack(v) for k, v in record.items()}
    return Rollout(**stacked, prefixes=prefixes, next_value=next_value, next_cost_value=next_cost_value,
                   finished=finished), out


@dataclass
class SequenceBatch:
    """Episode pieces of a rollout as right-padded sequences; ``rows/cols`` pick the rollout's steps out."""

    x: torch.Tensor  # (S, L, d): [episode prefix, this rollout's steps of the episode], padded
    rows: torch.Tensor  # (M,) sequence of each rollout step used
    cols: torch.Tensor  # (M,) position in that sequence
    flat: torch.Tensor  # (M,) index of the step in the rollout's flattened (T * N) order


def sequence_batch(rollout: Rollout, workers: list[int]) -> SequenceBatch:
    """Cut ``workers``' columns of the rollout at episode ends; the first piece of each starts with its prefix."""
    steps, n, d = rollout.x.shape
    dones = rollout.dones.bool().cpu()
    pieces, rows, cols, flat = [], [], [], []
    for i in workers:
        start, prefix = 0, rollout.prefixes[i]
        for t in range(steps):
            if dones[t, i] or t == steps - 1:
                piece = torch.cat([prefix, rollout.x[start: t + 1, i]])
                span = torch.arange(start, t + 1)
                rows.append(torch.full((len(span),), len(pieces)))
                cols.append(torch.arange(len(prefix), len(piece)))
                flat.append(span * n + i)
                pieces.append(piece)
                start, prefix = t + 1, rollout.x.new_zeros(0, d)
    length = max(len(p) for p in pieces)
    x = rollout.x.new_zeros(len(pieces), length, d)
    for s, piece in enumerate(pieces):
        x[s, : len(piece)] = piece
    device = rollout.x.device
    return SequenceBatch(x, torch.cat(rows).to(device), torch.cat(cols).to(device), torch.cat(flat).to(device))
