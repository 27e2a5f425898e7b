"""What PPO(-Lagrangian) trains: the SafeVLA model plus a cost value head, split at the decoder input.

The RL split (why it is fast on a CPU and still exact). In RL the perception and fusion stack
(DINOv2, text encoder and adapter, camera compressor, fusion transformer, step embeddings) stays frozen
at its IL weights, so each step's decoder input ``x_t = embed_steps(...)`` is a constant: the rollout
computes it once, keeps it, and the PPO update only reruns the causal decoder and the heads over each
episode's cached inputs. Rollout-time and update-time policies are therefore the same function (the
rollout uses the KV cache, the update the full causal pass: equal to rounding).

The cost critic is a second value head on the shared belief (SafeVLA trains two separate network copies,
``critic_tsfm`` and ``c_critic_tsfm``; one trunk with three heads is a third of the compute). Only the
model (actor, reward critic) goes into the exported checkpoint; the cost head lives in state.pt.
"""

from __future__ import annotations

import torch
from torch import nn

from safevla_policy.modeling_safevla import CriticHead, KVCache, SafeVLAModel


class ActorCritic(nn.Module):
    def __init__(self, model: SafeVLAModel) -> None:
        super().__init__()
        self.model = model
        self.cost_critic = CriticHead(model.config.hidden_size)

    # ------------------------------------------------------------------ parameter groups
    def rl_parameters(self) -> list[nn.Parameter]:
        """What RL trains: the temporal decoder, actor, reward critic and cost critic."""
        m = self.model
        return [*m.decoder.parameters(), *m.actor.parameters(), *m.critic.parameters(),
                *self.cost_critic.parameters()]

    def value_head_parameters(self) -> list[nn.Parameter]:
        """What the critic warm-up trains."""
        return [*self.model.critic.parameters(), *self.cost_critic.parameters()]

    def freeze_for_rl(self) -> None:
        """Freeze everything but ``rl_parameters`` (perception/fusion keep their IL weights, eval mode)."""
        self.requires_grad_(False)
        for p in self.rl_parameters():
            p.requires_grad_(True)
        self.model.visual_encoder.eval()

    # ------------------------------------------------------------------ pieces of a forward pass
    def embed(self, nav_feats: torch.Tensor, manip_feats: torch.Tensor, text: torch.Tensor, text_mask: torch.Tensor,
              last_action: torch.Tensor, object_in_hand: torch.Tensor, step: torch.Tensor) -> torch.Tensor:
        """N steps' decoder inputs (N, d) from features, per-step text (N, L, d) and the step inputs."""
        return self.model.embed_steps(nav_feats, manip_feats, text, last_action.long(), object_in_hand.long(),
                                      step.float(), text_mask)

    def heads(self, belief: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Action logits, reward value and cost value of beliefs (..., d)."""
        return self.model.actor(belief), self.model.critic(belief), self.cost_critic(belief)

    def sequences(self, x: torch.Tensor, detach_belief: bool = False
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Right-padded episodes (B, T, d) through the causal decoder and the heads (padding never leaks back)."""
        belief = self.model.decoder(x)
        return self.heads(belief.detach() if detach_belief else belief)

    def prefill(self, x: torch.Tensor) -> KVCache:
        """The KV cache (layers, 1, heads, T, head_dim) x2 after the steps x (T, d), with the current weights."""
        if x.shape[0] == 0:
            return self.model.empty_cache(1)
        h, keys, values = x.unsqueeze(0), [], []
        for layer in self.model.decoder.layers:
            h, k, v = layer(h)
            keys.append(k)
            values.append(v)
        return torch.stack(keys), torch.stack(values)

    def step(self, x: torch.Tensor, cache: KVCache) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, KVCache]:
        """One step (d,) of one episode with its cache -> logits (A,), value, cost value, the cache with it."""
        belief, keys, values = self.model.decoder.step(x.view(1, 1, -1), *cache)
        logits, value, cost_value = self.heads(belief[0, 0])
        return logits, value, cost_value, (keys, values)
