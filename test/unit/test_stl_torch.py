"""The torch evaluator: equal to numpy with exact min/max, differentiable, soft mode close."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch
from test_stl_gen import random_formula, random_trace

from cadence.stl import parse, robustness
from cadence.stl.torch_eval import robustness_torch


@pytest.mark.parametrize("seed", range(3))
def test_exact_mode_equals_numpy(seed: int) -> None:
    rng, nprng = random.Random(seed), np.random.default_rng(seed)
    for _ in range(25):
        phi = random_formula(rng)
        trace = random_trace(nprng, batch=3, length=int(nprng.integers(1, 30)))
        ours = robustness_torch(phi, {k: torch.from_numpy(v) for k, v in trace.items()}, dt=1.0)
        np.testing.assert_array_equal(ours.numpy(), robustness(phi, trace, dt=1.0), err_msg=str(phi))


def test_gradients_reach_the_deciding_samples() -> None:
    x = torch.tensor([0.0, 1.0, 3.0, 2.0, 0.5], dtype=torch.float64, requires_grad=True)
    rho = robustness_torch("eventually[0:4](x > 1)", {"x": x}, dt=1.0)
    rho[0].backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]  # the max sample decides


def test_soft_mode_is_smooth_and_close() -> None:
    x = torch.tensor(np.random.default_rng(0).normal(size=50), requires_grad=True)
    exact = robustness_torch("always[0:9](x < 2)", {"x": x}, dt=1.0).detach()
    for tau in (1.0, 0.1, 0.01):
        soft = robustness_torch("always[0:9](x < 2)", {"x": x}, dt=1.0, temperature=tau)
        # soft-min over w values is within tau * log(w) below the min
        gap = exact - soft.detach()
        assert torch.all(gap >= -1e-12) and torch.all(gap <= tau * math.log(10) + 1e-12)
    soft.sum().backward()
    assert torch.count_nonzero(x.grad) > 10  # every sample of a window gets gradient


def test_soft_until_and_nesting_run_and_are_finite() -> None:
    trace = {k: torch.tensor(v) for k, v in random_trace(np.random.default_rng(1), 2, 40).items()}
    phi = parse("always[0:10]((x > 0) until[1:5] (y > 1)) and eventually[0:20](z < 0)")
    soft = robustness_torch(phi, trace, dt=1.0, temperature=0.05)
    exact = robustness(phi, {k: v.numpy() for k, v in trace.items()}, dt=1.0)
    assert torch.isfinite(soft[:, 0]).all()
    assert np.max(np.abs(soft[:, 0].numpy() - exact[:, 0])) < 0.5


def test_bad_temperature_and_missing_signal() -> None:
    with pytest.raises(ValueError, match="temperature"):
        robustness_torch("x > 0", {"x": torch.zeros(3)}, dt=1.0, temperature=0.0)
    from cadence.stl import STLSignalError

    with pytest.raises(STLSignalError, match="missing signal"):
        robustness_torch("x > 0 and y > 0", {"x": torch.zeros(3)}, dt=1.0)
