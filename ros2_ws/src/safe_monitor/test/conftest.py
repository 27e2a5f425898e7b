"""Shared test settings for safe_monitor."""

import pytest


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models train faster on one thread, and do not stall when other work shares the CPU;
    the setting is restored after each test so other packages' tests are unaffected."""
    try:
        import torch
    except ImportError:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
