"""`robustness()` rejects bad input with a clear, narrow error."""

from __future__ import annotations

import numpy as np
import pytest

from cadence.stl import STLBoundError, STLSignalError, STLTraceError, robustness


def test_missing_signal_names_it() -> None:
    with pytest.raises(STLSignalError, match=r"missing signal\(s\) y; given: x"):
        robustness("x > 0 and y > 0", {"x": [1.0, 2.0]}, dt=1.0)


def test_nan_is_refused() -> None:
    with pytest.raises(STLTraceError, match="'x' contains NaN"):
        robustness("x > 0", {"x": [1.0, float("nan")]}, dt=1.0)


@pytest.mark.parametrize(
    "columns",
    [
        {"x": np.zeros((2, 5)), "y": np.zeros((2, 6))},
        {"x": np.zeros((2, 5)), "y": np.zeros((3, 5))},
        {"x": np.zeros((2, 2, 5)), "y": np.zeros(5)},
        {"x": np.zeros(0), "y": np.zeros(0)},
    ],
)
def test_shapes_are_checked(columns: dict[str, np.ndarray]) -> None:
    with pytest.raises(STLTraceError):
        robustness("x > 0 and y > 0", columns, dt=1.0)


def test_shared_column_broadcasts_over_the_batch() -> None:
    out = robustness("x > y", {"x": np.array([[1.0, 2.0], [3.0, 4.0]]), "y": np.array([1.0, 1.0])}, dt=1.0)
    np.testing.assert_array_equal(out, [[0.0, 1.0], [2.0, 3.0]])


def test_dt_and_bounds() -> None:
    with pytest.raises(STLTraceError, match="dt"):
        robustness("x > 0", {"x": [1.0]}, dt=-1.0)
    with pytest.raises(STLBoundError, match=r"0\.25 s is not a whole number of sampling periods"):
        robustness("eventually[0:0.25](x > 0)", {"x": [1.0, 2.0]}, dt=0.1)
    # float round-off in seconds is fine: 0.3 s at dt = 0.1 s is 3 samples
    out = robustness("eventually[0:0.3](x > 0)", {"x": [0.0, 0.0, 0.0, 5.0, 0.0]}, dt=0.1)
    assert out[0] == 5.0 and out[1] == 5.0


def test_constant_formula_has_the_trace_length() -> None:
    np.testing.assert_array_equal(robustness("2 > 1", {"x": np.zeros(3)}, dt=1.0), [1.0, 1.0, 1.0])
