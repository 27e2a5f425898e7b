"""Export a SafeVLA policy to ONNX: one graph per control step, one per instruction.

``step.onnx``: DINOv2 on both cameras + fusion + ONE decoder step. The KV cache is explicit: the graph
takes ``past_keys``/``past_values`` (layers, batch, heads, T, head_dim), T >= 0, and returns them with
T + 1 steps; the caller feeds them back. ``text.onnx``: T5 encoder + adapter, run once per episode.
The folder also gets ``config.json`` and, for a T5 tokenizer, ``tokenizer/``: everything the ONNX backend
needs without torch.

    python -m safevla_policy.onnx_export OUT_DIR --config small
    python -m safevla_policy.onnx_export OUT_DIR --checkpoint ckpt_dir
"""

from __future__ import annotations

import argparse
import json
import logging
import warnings
from pathlib import Path

import torch

from safevla_policy.checkpoints import LoadedPolicy, load_policy
from safevla_policy.modeling_safevla import SafeVLAStepModule, SafeVLATextModule
from safevla_policy.processor_safevla import TOKENIZER_DIR, HFTokenizer

log = logging.getLogger(__name__)

STEP_FILE, TEXT_FILE, META_FILE = "step.onnx", "text.onnx", "onnx_meta.json"
STEP_INPUTS = ("nav_pixels", "manip_pixels", "text_feats", "last_action", "object_in_hand", "time_step",
               "past_keys", "past_values")
STEP_OUTPUTS = ("logits", "value", "belief", "present_keys", "present_values")
TEXT_INPUTS = ("input_ids", "attention_mask")
TEXT_OUTPUTS = ("text_feats",)


def example_step_inputs(policy: LoadedPolicy, batch: int = 1, text_len: int = 7, past: int = 3
                        ) -> tuple[torch.Tensor, ...]:
    """Inputs for tracing/testing the step graph (sizes > 1 so no dimension is specialised)."""
    cfg = policy.config
    pixels = torch.zeros(batch, 3, cfg.image_height, cfg.crop_width)
    cache = (cfg.decoder_layers, batch, cfg.decoder_heads, past, cfg.head_dim)
    return (pixels, pixels.clone(), torch.zeros(batch, text_len, cfg.hidden_size),
            torch.zeros(batch, dtype=torch.long), torch.zeros(batch, dtype=torch.long),
            torch.zeros(batch), torch.zeros(cache), torch.zeros(cache))


def _export(module: torch.nn.Module, args: tuple, path: Path, input_names, output_names, dynamic_shapes) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # exporter chatter; failures still raise
        program = torch.onnx.export(module, args, dynamo=True, input_names=list(input_names),
                                    output_names=list(output_names), dynamic_shapes=dynamic_shapes,
                                    optimize=True, verbose=False)
    program.save(str(path))


def export_step(policy: LoadedPolicy, path: str | Path) -> Path:
    """Write the per-step graph (batch, instruction length and cache length dynamic)."""
    from torch.export import Dim

    batch, text, past = Dim("batch", min=1, max=1024), Dim("text", min=1, max=4096), Dim("past", min=0, max=1_000_000)
    shapes = ({0: batch}, {0: batch}, {0: batch, 1: text}, {0: batch}, {0: batch}, {0: batch},
              {1: batch, 3: past}, {1: batch, 3: past})
    module = SafeVLAStepModule(policy.dino, policy.model).eval()
    _export(module, example_step_inputs(policy), Path(path), STEP_INPUTS, STEP_OUTPUTS, shapes)
    return Path(path)


def export_text(policy: LoadedPolicy, path: str | Path) -> Path:
    """Write the instruction graph: token ids and mask (batch, L) -> text features (batch, L, hidden)."""
    from torch.export import Dim

    batch, length = Dim("batch", min=1, max=1024), Dim("text", min=1, max=4096)
    ids = torch.full((1, 7), 5, dtype=torch.long)
    args = (ids, torch.ones_like(ids))
    module = SafeVLATextModule(policy.model).eval()
    _export(module, args, Path(path), TEXT_INPUTS, TEXT_OUTPUTS, ({0: batch, 1: length}, {0: batch, 1: length}))
    return Path(path)


def export_onnx(policy: LoadedPolicy, folder: str | Path) -> Path:
    """Export both graphs plus config (and tokenizer) into ``folder``; returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        export_step(policy, folder / STEP_FILE)
        export_text(policy, folder / TEXT_FILE)
    policy.config.save(folder)
    if isinstance(policy.processor.tokenizer, HFTokenizer):
        policy.processor.tokenizer.save(folder / TOKENIZER_DIR)
    meta = {"source": policy.source, "has_critic": policy.has_critic, "torch": torch.__version__,
            "step_inputs": STEP_INPUTS, "step_outputs": STEP_OUTPUTS,
            "text_inputs": TEXT_INPUTS, "text_outputs": TEXT_OUTPUTS}
    (folder / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    log.info("exported %s to %s", policy.source, folder)
    return folder


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Export a SafeVLA policy to ONNX (step.onnx + text.onnx).")
    parser.add_argument("out", help="output folder")
    parser.add_argument("--config", default=None, help="config name or path (default: checkpoint's, else small)")
    parser.add_argument("--checkpoint", default=None, help="checkpoint file or folder (default: random weights)")
    parser.add_argument("--dino-path", default=None, help="local Hugging Face DINOv2 folder")
    parser.add_argument("--tokenizer-path", default=None, help="local T5 tokenizer folder")
    parser.add_argument("--seed", type=int, default=0, help="seed for random weights")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    policy = load_policy(args.config, args.checkpoint, dino_path=args.dino_path,
                         tokenizer_path=args.tokenizer_path, seed=args.seed)
    print(f"wrote {export_onnx(policy, args.out)}")


if __name__ == "__main__":
    main()
