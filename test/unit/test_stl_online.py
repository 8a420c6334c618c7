"""Online monitor: sound intervals that contain the final offline value and collapse at the horizon."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from test_stl_gen import SIGNALS, random_formula

from cadence.stl import STLBoundError, STLSignalError, STLTraceError, parse, robustness
from cadence.stl.online import OnlineMonitor


def _sample(trace: dict[str, np.ndarray], i: int) -> dict[str, float]:
    return {k: float(v[i]) for k, v in trace.items()}


@pytest.mark.parametrize("seed", range(4))
def test_interval_contains_final_value_and_collapses(seed: int) -> None:
    rng, nprng = random.Random(seed), np.random.default_rng(seed)
    checked = 0
    while checked < 15:
        phi = random_formula(rng, depth=3, max_bound=5)
        if not math.isfinite(phi.horizon):
            continue
        needed = int(phi.horizon) + 1
        base = {k: np.round(nprng.normal(0, 1.5, needed + 3), 1) for k in SIGNALS}
        # Two different completions of the same prefix: the interval must contain both final values.
        completions = [base, {k: v.copy() for k, v in base.items()}]
        for k in SIGNALS:
            completions[1][k][needed // 2 :] = np.round(nprng.normal(0, 3, needed + 3 - needed // 2), 1)
        finals = [robustness(phi, c, dt=1.0)[0] for c in completions]
        monitor = OnlineMonitor(phi, dt=1.0)
        for i in range(needed + 3):
            lo, hi = monitor.update(_sample(base, i))
            assert lo <= hi
            # the completion that agrees with what has been seen so far must be inside
            for c, final in zip(completions, finals, strict=True):
                if all(np.array_equal(c[k][: i + 1], base[k][: i + 1]) for k in SIGNALS):
                    assert lo <= final <= hi, (str(phi), i, lo, final, hi)
            # the truncated (rtamt) value of the prefix is inside too
            if i < needed:
                prefix = {k: v[: i + 1] for k, v in base.items()}
                assert lo <= robustness(phi, prefix, dt=1.0)[0] <= hi
        assert monitor.done
        assert monitor.interval == (finals[0], finals[0])
        checked += 1


def test_eventually_tightens_then_decides() -> None:
    monitor = OnlineMonitor("eventually[0:2](x > 1)", dt=0.5)
    assert monitor.needed == 5
    steps = [monitor.update({"x": v}) for v in (0.0, 3.0, 0.5, 0.0, 0.0)]
    assert steps[0] == (-1.0, math.inf)
    assert steps[1] == (2.0, math.inf)
    assert steps[-1] == (2.0, 2.0) and monitor.done
    assert monitor.update({"x": 100.0}) == (2.0, 2.0)  # past the horizon nothing changes


def test_always_invariant_upper_bound_drops_at_violation() -> None:
    monitor = OnlineMonitor("always[0:10](lab < 0)", dt=1.0)
    assert monitor.update({"lab": -2.0}) == (-math.inf, 2.0)
    assert monitor.update({"lab": 0.5}) == (-math.inf, -0.5)  # violated: can only get worse


def test_unbounded_never_decides_and_offline_matches() -> None:
    phi = parse("always(x > 0) or eventually(y > 3)")
    monitor = OnlineMonitor(phi, dt=1.0)
    xs, ys = [1.0, 2.0, 0.5, 1.5], [0.0, 1.0, 2.0, 0.0]
    for x, y in zip(xs, ys, strict=True):
        lo, hi = monitor.update({"x": x, "y": y})
    assert not monitor.done and hi == math.inf
    assert monitor.offline() == robustness(phi, {"x": xs, "y": ys}, dt=1.0)[0]
    assert lo <= monitor.offline() <= hi


def test_bad_samples_and_bounds() -> None:
    monitor = OnlineMonitor("x > 0 and y < 1", dt=1.0)
    with pytest.raises(STLSignalError, match="'y'"):
        monitor.update({"x": 1.0})
    with pytest.raises(STLTraceError, match="NaN"):
        monitor.update({"x": 1.0, "y": float("nan")})
    with pytest.raises(STLTraceError, match="not a number"):
        monitor.update({"x": "fast", "y": 0.0})
    assert monitor.samples == 0  # rejected samples are not recorded
    with pytest.raises(STLBoundError, match="multiple"):
        OnlineMonitor("eventually[0:0.25](x > 0)", dt=0.1)
    with pytest.raises(STLTraceError, match="dt"):
        OnlineMonitor("x > 0", dt=0.0)
