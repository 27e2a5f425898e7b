"""Read SafeVLA weights without executing code, load them strictly, save our own format.

Formats read:
- AllenAct ``.pt`` (SafeVLA's released ``safe_*.pt``, FLaRe RL): ``model_state_dict`` holds the policy at
  the top level plus two value-network copies under ``critic_tsfm.`` and ``c_critic_tsfm.``; deployment
  keeps the top-level copy.
- Lightning ``.ckpt`` (SPOC/FLaRe imitation learning): ``state_dict`` with keys under ``model.``, the actor
  as ``actor.weight/bias`` and DINOv2 under ``visual_encoder.image_encoder.model.*`` (ignored: DINOv2 comes
  from its own folder). It has no critic; the critic stays at its initial values and is reported so.
- Our folder: ``config.json`` + ``model.safetensors`` (+ ``dinov2/`` and ``tokenizer/`` when they apply).

``torch.load`` always runs with ``weights_only=True`` (design rule 6).
"""

from __future__ import annotations

import argparse
import logging
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from safevla_policy.configuration_safevla import CONFIG_FILE, SafeVLAConfig, make_config
from safevla_policy.modeling_safevla import DinoPatchFeatures, SafeVLAModel, build_dinov2
from safevla_policy.processor_safevla import (TOKENIZER_DIR, ByteTokenizer, HFTokenizer, SafeVLAProcessor,
                                              make_tokenizer)

log = logging.getLogger(__name__)

WEIGHTS_FILE = "model.safetensors"
DINO_DIR = "dinov2"
ALLENACT_VALUE_COPIES = ("critic_tsfm.", "c_critic_tsfm.")
LIGHTNING_PREFIX = "model."
LIGHTNING_IGNORED = ("visual_encoder.image_encoder.",)
LIGHTNING_RENAMES = {"actor.weight": "actor.linear.weight", "actor.bias": "actor.linear.bias"}
CRITIC_KEYS = ("critic.fc.weight", "critic.fc.bias")
T5_TIED = ("visual_encoder.text_encoder.shared.weight", "visual_encoder.text_encoder.encoder.embed_tokens.weight")
# Data-only numpy reconstructors that training loops leave in checkpoint metadata (e.g. numpy scalars).
NUMPY_DATA_GLOBALS = ("numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
                      "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar", "numpy.ndarray",
                      "numpy.dtype")


class CheckpointError(RuntimeError):
    """A model file that cannot be used; the message says what was expected, found, and what to do."""


class StateDictMismatchError(CheckpointError):
    """Keys or shapes differ between a checkpoint and the model; every offending key is named."""

    def __init__(self, source: str, missing: list[str], unexpected: list[str],
                 mismatched: list[tuple[str, tuple, tuple]], hint: str = "") -> None:
        self.missing, self.unexpected, self.mismatched = missing, unexpected, mismatched
        lines = [f"{source} does not match the model:"]
        if missing:
            lines.append(f"  missing ({len(missing)}): " + ", ".join(missing))
        if unexpected:
            lines.append(f"  unexpected ({len(unexpected)}): " + ", ".join(unexpected))
        for key, found, expected in mismatched:
            lines.append(f"  shape of {key}: checkpoint {found}, model {expected}")
        lines.append(hint or "  Is this the right config? Released SafeVLA/FLaRe checkpoints need config='safevla'.")
        super().__init__("\n".join(lines))


@dataclass
class PolicyState:
    """Policy tensors as our model names them, plus where they came from."""

    tensors: dict[str, torch.Tensor]
    fmt: str  # "allenact", "lightning", "state_dict" or "safetensors"
    source: str
    allow_missing: tuple[str, ...] = ()  # keys the format legitimately lacks (the IL critic)
    config: SafeVLAConfig | None = None  # from config.json beside safetensors weights


# --------------------------------------------------------------------------- reading files
def _numpy_data_globals() -> dict[str, Any]:
    """Numpy reconstructors and numeric dtypes that training loops leave in checkpoint metadata.

    They rebuild arrays and scalars of plain numbers; they cannot run code.
    """
    import importlib

    import numpy as np

    found = {}
    for name in NUMPY_DATA_GLOBALS:
        module, _, attr = name.rpartition(".")
        try:
            found[name] = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            continue
    for kind in ("Bool", "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64", "Float16",
                 "Float32", "Float64", "Complex64", "Complex128"):
        dtype = getattr(getattr(np, "dtypes", None), f"{kind}DType", None)
        if dtype is not None:
            found[f"numpy.dtypes.{kind}DType"] = dtype
    return found


def _torch_load(path: Path) -> Any:
    """``torch.load`` with ``weights_only=True``; numpy data-only globals are allowed, nothing else."""
    unreadable = (f"{path} is not a readable torch checkpoint (%s); expected a file written by torch.save "
                  "(truncated download?). Re-download or re-export it.")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, ValueError, OSError) as err:
        raise CheckpointError(unreadable % err) from None
    except pickle.UnpicklingError as err:
        first_error = err
    try:
        unsafe = set(torch.serialization.get_unsafe_globals_in_checkpoint(path))
    except (RuntimeError, ValueError, EOFError, OSError, pickle.UnpicklingError):
        raise CheckpointError(unreadable % first_error) from None
    allowed = _numpy_data_globals()
    if not unsafe <= set(allowed):
        raise CheckpointError(
            f"refused to load {path}: unpickling it would need these Python objects: "
            f"{', '.join(sorted(unsafe - set(allowed))) or first_error}. Model files must load without "
            "executing code (weights_only=True). Export the weights as tensors only (a state dict or "
            "safetensors) in the environment that made the file.") from None
    try:
        with torch.serialization.safe_globals(list(allowed.values())):
            return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, ValueError, EOFError) as err:
        raise CheckpointError(f"refused to load {path}: {err}") from None


def _read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except (SafetensorError, OSError) as err:
        raise CheckpointError(f"{path} is not a readable safetensors file ({err}); re-save it with "
                              "save_pretrained or re-download it.") from None


def _from_allenact(tensors: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v for k, v in tensors.items() if not k.startswith(ALLENACT_VALUE_COPIES)}


def _from_lightning(tensors: Mapping[str, torch.Tensor], source: str) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in tensors.items():
        if not key.startswith(LIGHTNING_PREFIX):
            raise CheckpointError(f"{source}: Lightning state_dict key {key!r} lacks the {LIGHTNING_PREFIX!r} "
                                  "prefix; expected a SPOC/FLaRe imitation-learning checkpoint")
        key = key[len(LIGHTNING_PREFIX):]
        if key.startswith(LIGHTNING_IGNORED):
            continue
        out[LIGHTNING_RENAMES.get(key, key)] = value
    return out


def _only_tensors(obj: Any, source: str, what: str) -> dict[str, torch.Tensor]:
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(f"{source}: {what} is not a mapping of names to tensors")
    return dict(obj)


def read_checkpoint(path: str | Path) -> PolicyState:
    """Read any supported checkpoint into our key names (nothing loaded into a model yet)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}: expected a SafeVLA .pt, a Lightning .ckpt, a "
                                f".safetensors file or a folder with {CONFIG_FILE} + {WEIGHTS_FILE}")
    if path.is_dir():
        weights = path / WEIGHTS_FILE
        if not weights.is_file():
            raise CheckpointError(f"folder {path} has no {WEIGHTS_FILE}; expected a folder written by "
                                  "save_pretrained (config.json + model.safetensors)")
        config = SafeVLAConfig.load(path) if (path / CONFIG_FILE).is_file() else None
        return PolicyState(_read_safetensors(weights), "safetensors", str(path), config=config)
    if path.suffix == ".safetensors":
        config = SafeVLAConfig.load(path.parent) if (path.parent / CONFIG_FILE).is_file() else None
        return PolicyState(_read_safetensors(path), "safetensors", str(path), config=config)

    obj = _torch_load(path)
    source = str(path)
    if isinstance(obj, Mapping) and "model_state_dict" in obj:
        raw = _only_tensors(obj["model_state_dict"], source, "model_state_dict")
        return PolicyState(_from_allenact(raw), "allenact", source)
    if isinstance(obj, Mapping) and "state_dict" in obj:
        raw = _only_tensors(obj["state_dict"], source, "state_dict")
        return PolicyState(_from_lightning(raw, source), "lightning", source, allow_missing=CRITIC_KEYS)
    if isinstance(obj, Mapping) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return PolicyState(dict(obj), "state_dict", source)
    found = sorted(obj)[:20] if isinstance(obj, Mapping) else type(obj).__name__
    raise CheckpointError(f"{source}: unrecognised checkpoint layout (found {found}); expected an AllenAct dict "
                          "with 'model_state_dict', a Lightning dict with 'state_dict', or a plain state dict")


# --------------------------------------------------------------------------- strict loading
def check_state_dict(model: nn.Module, state: PolicyState) -> None:
    """Raise StateDictMismatchError unless keys and shapes match exactly (allowed gaps aside)."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state.tensors and k not in state.allow_missing]
    unexpected = [k for k in state.tensors if k not in expected]
    mismatched = [(k, tuple(v.shape), tuple(expected[k].shape)) for k, v in state.tensors.items()
                  if k in expected and v.shape != expected[k].shape]
    if missing or unexpected or mismatched:
        raise StateDictMismatchError(state.source, missing, unexpected, mismatched)


def load_into(model: SafeVLAModel, state: PolicyState, *, assign: bool = False) -> list[str]:
    """Load strictly; returns the allowed-missing keys left at their initial values."""
    check_state_dict(model, state)
    a, b = (state.tensors.get(k) for k in T5_TIED)
    if a is not None and b is not None and not a.is_meta and not torch.equal(a.float(), b.float()):
        log.warning("%s: T5 shared and embed_tokens weights differ; the model ties them (embed_tokens wins)",
                    state.source)
    result = model.load_state_dict(state.tensors, strict=False, assign=assign)
    assert not result.unexpected_keys, result.unexpected_keys  # check_state_dict saw to that
    return list(result.missing_keys)


# --------------------------------------------------------------------------- whole policy
@dataclass
class LoadedPolicy:
    """What a backend needs: the checkpointed network, the frozen DINOv2, the preprocessing."""

    config: SafeVLAConfig
    model: SafeVLAModel
    dino: DinoPatchFeatures
    processor: SafeVLAProcessor
    source: str  # where the weights came from ("random (seed N)" when none)
    has_critic: bool = True


def _resolve_config(config: str | Path | SafeVLAConfig | None, state: PolicyState | None) -> SafeVLAConfig:
    """A checkpoint's own config.json wins; otherwise the requested one (default per docstring)."""
    if state is not None and state.config is not None:
        if config is not None:
            asked = config if isinstance(config, SafeVLAConfig) else make_config(config)
            if asked != state.config:
                log.warning("%s carries its own config %r; ignoring the requested %r",
                            state.source, state.config.name, asked.name)
        return state.config
    if isinstance(config, SafeVLAConfig):
        return config
    if config is not None:
        return make_config(config)
    return make_config("small" if state is None else "safevla")


def load_policy(config: str | Path | SafeVLAConfig | None = None, checkpoint: str | Path | None = None, *,
                dino_path: str | Path | None = None, t5_path: str | Path | None = None,
                tokenizer_path: str | Path | None = None, seed: int = 0,
                allow_random_dino: bool = False) -> LoadedPolicy:
    """Build a policy: weights from ``checkpoint`` if given, else random from ``seed``.

    ``config`` is a registered name (``safevla``, ``small``) or a config.json/folder. A checkpoint
    folder's own config.json takes precedence; None means ``safevla`` for a checkpoint file and ``small``
    without one. DINOv2 comes from ``dino_path`` or ``<checkpoint folder>/dinov2``; a checkpoint without
    DINOv2 is an error unless ``allow_random_dino`` (tests). ``t5_path`` (local HF T5 folder) seeds the text
    encoder when there is no checkpoint. The tokenizer comes from ``tokenizer_path`` or
    ``<checkpoint folder>/tokenizer``.
    """
    state = read_checkpoint(checkpoint) if checkpoint is not None else None
    cfg = _resolve_config(config, state)
    folder = Path(checkpoint) if checkpoint is not None and Path(checkpoint).is_dir() else None
    if dino_path is None and folder is not None and (folder / DINO_DIR).is_dir():
        dino_path = folder / DINO_DIR
    if tokenizer_path is None and folder is not None and (folder / TOKENIZER_DIR).is_dir():
        tokenizer_path = folder / TOKENIZER_DIR
    if state is not None and dino_path is None and not allow_random_dino:
        raise CheckpointError(f"{state.source} holds no DINOv2 weights (SafeVLA keeps DINOv2 frozen and outside "
                              "its checkpoints): pass dino_path=<local Hugging Face folder of dinov2-small>")

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = SafeVLAModel(cfg)
        dino = DinoPatchFeatures(build_dinov2(cfg, dino_path), cfg)
    has_critic = True
    if state is not None:
        left = load_into(model, state)
        has_critic = not any(k in left for k in CRITIC_KEYS)
        log.info("loaded %s weights from %s (%d tensors)", state.fmt, state.source, len(state.tensors))
    elif t5_path is not None:
        from transformers import T5EncoderModel

        t5 = T5EncoderModel.from_pretrained(str(t5_path), local_files_only=True)
        model.visual_encoder.text_encoder.load_state_dict(t5.state_dict(), strict=True)
    tokenizer = make_tokenizer(cfg, tokenizer_path, allow_byte_fallback=state is None)
    source = state.source if state is not None else f"random (seed {seed})"
    return LoadedPolicy(cfg, model.eval(), dino.eval(), SafeVLAProcessor(cfg, tokenizer), source, has_critic)


def save_pretrained(policy: LoadedPolicy, folder: str | Path) -> Path:
    """Write config.json, model.safetensors (the checkpoint key layout), dinov2/ and tokenizer/ if HF."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    policy.config.save(folder)
    seen: set[int] = set()
    tensors = {}
    for key, value in policy.model.state_dict().items():  # tied T5 weights share storage: store each copy
        ptr = value.data_ptr()
        tensors[key] = value.detach().clone().contiguous() if ptr in seen else value.detach().contiguous()
        seen.add(ptr)
    save_file(tensors, str(folder / WEIGHTS_FILE), metadata={"format": "pt", "config": policy.config.name})
    policy.dino.dino.save_pretrained(str(folder / DINO_DIR))
    if isinstance(policy.processor.tokenizer, HFTokenizer):
        policy.processor.tokenizer.save(folder / TOKENIZER_DIR)
    elif not isinstance(policy.processor.tokenizer, ByteTokenizer):
        log.warning("tokenizer %s not saved", type(policy.processor.tokenizer).__name__)
    return folder


def main(argv: list[str] | None = None) -> None:
    """``python -m safevla_policy.checkpoints SRC DST``: convert a released checkpoint to our folder."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("src", help="AllenAct .pt, Lightning .ckpt, .safetensors or checkpoint folder")
    parser.add_argument("dst", help="output folder (config.json, model.safetensors, dinov2/, tokenizer/)")
    parser.add_argument("--config", default=None, help="config name or path (default: safevla for files)")
    parser.add_argument("--dino-path", required=True, help="local Hugging Face DINOv2 folder")
    parser.add_argument("--tokenizer-path", default=None, help="local T5 tokenizer folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    policy = load_policy(args.config, args.src, dino_path=args.dino_path, tokenizer_path=args.tokenizer_path)
    print(f"wrote {save_pretrained(policy, args.dst)}")


if __name__ == "__main__":
    main()
