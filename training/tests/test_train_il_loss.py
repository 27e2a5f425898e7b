"""The imitation loss: last-action dropout hides the previous action, and only when asked."""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from safevla_common.actions import NO_PREVIOUS_ACTION  # noqa: E402
from safevla_policy.configuration_safevla import make_config  # noqa: E402
from safevla_policy.modeling_safevla import SafeVLAModel  # noqa: E402
from safevla_policy.processor_safevla import SafeVLAProcessor, make_tokenizer  # noqa: E402
from training.il import il_loss  # noqa: E402


def _episode(steps: int, c: int, generator: torch.Generator) -> dict:
    return {"instruction": "find a mug",
            "nav": torch.randn(steps, c, 7, 12, generator=generator),
            "manip": torch.randn(steps, c, 7, 12, generator=generator),
            "last_action": torch.randint(0, 20, (steps,), generator=generator),
            "object_in_hand": torch.zeros(steps, dtype=torch.long),
            "action": torch.randint(0, 20, (steps,), generator=generator)}


def test_last_action_dropout_replaces_the_history_with_no_previous_action():
    torch.manual_seed(0)
    config = make_config("small")
    model = SafeVLAModel(config).eval()
    torch.nn.init.normal_(model.last_actions_embed.weight, std=1.0)  # make the history's effect large
    processor = SafeVLAProcessor(config, make_tokenizer(config, None, allow_byte_fallback=True))
    g = torch.Generator().manual_seed(1)
    batch = [_episode(5, config.dino_dim, g), _episode(3, config.dino_dim, g)]
    hidden = [{**e, "last_action": torch.full_like(e["last_action"], NO_PREVIOUS_ACTION)} for e in batch]
    cpu = torch.device("cpu")
    with torch.no_grad():
        plain, _ = il_loss(model, processor, batch, cpu)
        all_hidden, _ = il_loss(model, processor, hidden, cpu)
        dropped, _ = il_loss(model, processor, batch, cpu, last_action_dropout=1.0)
        kept, _ = il_loss(model, processor, batch, cpu, last_action_dropout=0.0)
    assert torch.allclose(dropped, all_hidden)
    assert torch.equal(kept, plain)
    assert not torch.allclose(plain, all_hidden)  # the previous action does reach the model
