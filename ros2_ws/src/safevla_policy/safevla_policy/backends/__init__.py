"""Inference backends by name; a backend's module (and its heavy dependencies) is imported only when asked for.

    from safevla_policy.backends import make_backend
    policy = make_backend("model", config="small", device="auto", seed=0)   # eager torch
    policy = make_backend("onnx", config="small", onnx_dir="runs/onnx_small")  # ONNX Runtime
    out = policy.step(observation)                                           # probs (20,), latent (D,)
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from safevla_policy.backends.base import Observation, PolicyBackend, PolicyOutput

# name -> "module:Class". The one place to add a backend (e.g. "expert" for the simulator's planner).
BACKENDS: dict[str, str] = {
    "model": "safevla_policy.backends.torch_backend:TorchBackend",
    "onnx": "safevla_policy.backends.onnx_backend:OnnxBackend",
    "expert": "safevla_policy.backends.expert:ExpertBackend",
}
DEFAULT_BACKEND = "model"

# Idle OpenMP threads (torch's CPU pool) sleep instead of spinning, unless the environment says otherwise.
# A robot shares its cores with other nodes; spinning at every barrier while they run made a ``small`` step
# 660 ms instead of 17 ms on 2 busy cores. libgomp reads this when torch loads, so it is set here, before
# any backend imports torch (the ONNX backend's equivalent is its ``spin`` option).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "Observation", "PolicyBackend", "PolicyOutput", "available_backends",
           "make_backend"]


def available_backends() -> list[str]:
    return sorted(BACKENDS)


def make_backend(name: str = DEFAULT_BACKEND, **params: Any) -> PolicyBackend:
    """Construct the backend registered as ``name`` with its keyword parameters."""
    try:
        target = BACKENDS[name]
    except KeyError:
        known = ", ".join(available_backends())
        raise ValueError(f"unknown policy backend {name!r}; expected one of {known}") from None
    module_name, _, class_name = target.partition(":")
    return getattr(importlib.import_module(module_name), class_name)(**params)
