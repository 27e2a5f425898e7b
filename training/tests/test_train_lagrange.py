"""The Lagrange multiplier: the sign of its update, Adam's steps, the projection to [0, upper], state."""

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from training.configs import COST_LIMITS  # noqa: E402
from training.lagrange import Lagrange  # noqa: E402


def test_over_the_limit_raises_lambda_by_adam_steps():
    lag = Lagrange(cost_limit=2.0, init=0.001, lr=0.035)
    # Adam's first step is lr * sign(gradient); the gradient of -lambda (Jc - d) is -(5 - 2) < 0.
    assert lag.update(5.0) == pytest.approx(0.001 + 0.035)
    # Second step by hand: g1 = -3, g2 = -1, beta = (0.9, 0.999), eps = 1e-8.
    m = 0.9 * 0.1 * -3 + 0.1 * -1
    v = 0.999 * 0.001 * 9 + 0.001 * 1
    step = 0.035 * (m / (1 - 0.9**2)) / (math.sqrt(v / (1 - 0.999**2)) + 1e-8)
    assert lag.update(3.0) == pytest.approx(0.036 - step, rel=1e-5)


def test_under_the_limit_lowers_lambda_and_clamps_at_zero():
    lag = Lagrange(cost_limit=2.0, init=0.001, lr=0.035)
    assert lag.update(0.5) == 0.0
    assert lag.multiplier.item() == 0.0  # the projection is applied to the parameter itself
    assert lag.loss(3.0).item() == pytest.approx(0.0)


def test_upper_bound_and_state_dict_round_trip():
    lag = Lagrange(cost_limit=0.2, init=0.01, lr=0.5, upper_bound=0.3)
    for _ in range(3):
        lag.update(10.0)
    assert lag.value == pytest.approx(0.3)
    other = Lagrange(cost_limit=9.0, init=0.0, lr=0.5, upper_bound=0.3)
    other.load_state_dict(lag.state_dict())
    assert other.value == lag.value and other.cost_limit == 0.2
    for cost in (0.0, 5.0, 0.0, 0.0):  # the same Adam moments: the same steps
        assert other.update(cost) == lag.update(cost) <= 0.3 + 1e-6  # float32


def test_invalid_settings_and_cost_limit_table():
    with pytest.raises(ValueError, match=">= 0"):
        Lagrange(1.0, init=-1.0)
    with pytest.raises(ValueError, match="upper_bound"):
        Lagrange(1.0, init=1.0, upper_bound=0.5)
    assert COST_LIMITS == {"ObjectNav": 2.31964, "PickUp": 0.2, "Fetch": 4.0}
