"""Shared fixtures: the small policy (random, seed 0) and its ONNX export, built once per session."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    """The cores are shared: one thread is kind to others and keeps OpenMP from spinning under contention."""
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def small_policy():
    from safevla_policy.checkpoints import load_policy

    return load_policy("small", seed=0)


@pytest.fixture(scope="session")
def small_onnx_dir(small_policy, tmp_path_factory):
    from safevla_policy.onnx_export import export_onnx

    return export_onnx(small_policy, tmp_path_factory.mktemp("onnx_small"))

