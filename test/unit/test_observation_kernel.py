"""THE builder's compiled kernel is bit-identical to its Python path (and so to the reference copy).

``test_observation_fast.py`` compares ``ObservationBuilder.build`` (compiled when numba is here) with
the pre-tuning reference on thousands of random inputs; this file checks the kernel really runs
for float inputs, compares it with the builder's own Python path, and covers its fallbacks.
"""

from __future__ import annotations

import logging
import math
import warnings

import numba  # noqa: F401  (a pinned requirement: a missing numba fails here, it does not skip)
import numpy as np
import pytest
from test_observation_fast import _case, _same_bits

from cadence.policy import kernels
from cadence.policy.observation import (
    DEFAULT_LAYOUT,
    ObservationBuilder,
    ObservationError,
    ObservationLayout,
    RobotState,
    Scan,
    Targets,
)


@pytest.fixture
def fresh_kernels():  # type: ignore[no-untyped-def]
    kernels.reset_for_tests()
    yield
    kernels.reset_for_tests()


def test_the_kernel_runs_for_float_inputs() -> None:
    builder = ObservationBuilder()
    assert builder.compiled
    state = RobotState(0.5, -1.0, 0.3, 0.2, -0.1)
    scan = Scan(np.full(360, 3.0), -math.pi, 2 * math.pi / 360, 5.0)
    targets = Targets((2.0, 0.0), (2.0, 2.0), (4.0, 4.0))
    assert builder.kernel_args(state, scan, targets, 12.0, (0.1, 0.2)) is not None
    # anything but floats takes the Python path: ints, np.float32 (Python rounds those in float32)
    assert builder.kernel_args(RobotState(0, 0, 0), scan, targets, 12.0, (0.1, 0.2)) is None
    f32_targets = Targets((np.float32(2.0), 0.0), (2.0, 2.0), (4.0, 4.0))
    assert builder.kernel_args(state, scan, f32_targets, 12.0, (0.1, 0.2)) is None
    int_scan = Scan(np.full(360, 3), -math.pi, 2 * math.pi / 360, 5.0)
    assert builder.kernel_args(state, int_scan, targets, 12.0, (0.1, 0.2)) is None


@pytest.mark.parametrize("layout", [DEFAULT_LAYOUT, ObservationLayout(n_beams=24, lidar_range=3.5)])
def test_kernel_is_bit_identical_to_the_python_path(layout: ObservationLayout) -> None:
    rng = np.random.default_rng(100 + layout.n_beams)
    builder = ObservationBuilder(layout)
    assert builder.compiled
    got = np.empty(layout.obs_dim, np.float32)
    used = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for _ in range(4000):
            case = _case(rng, layout.n_beams)
            if rng.random() < 0.5:  # float32 scans (LaserScan's own dtype) as often as float64
                ranges = case[1].ranges
                with np.errstate(over="ignore"):
                    case = (case[0], Scan(ranges.astype(np.float32), *[getattr(case[1], f) for f in
                            ("angle_min", "angle_increment", "range_max")]), *case[2:])  # fmt: skip
            used += builder.kernel_args(*case) is not None
            want = builder.build_python(*case)
            _same_bits(builder.build(*case, out=got), want)
            _same_bits(builder.build(*case), want)
    assert used > 2500  # the int64 scans of the fuzz go the Python way


def test_probe_check_catches_a_wrong_kernel(monkeypatch: pytest.MonkeyPatch, caplog, fresh_kernels) -> None:  # type: ignore[no-untyped-def]
    module = kernels.load()
    assert module is not None
    real = module.build_obs

    def off_by_one_ulp(out, *args):  # type: ignore[no-untyped-def]
        real(out, *args)
        out[20] = np.nextafter(out[20], np.float32(2.0))

    monkeypatch.setattr(module, "build_obs", off_by_one_ulp)
    with caplog.at_level(logging.WARNING, logger="cadence.policy.kernels"):
        builder = ObservationBuilder()
    assert not builder.compiled
    assert "compiled kernel not used (probe" in caplog.text
    with pytest.raises(ObservationError, match="differs from the Python builder"):
        ObservationBuilder(compiled=True)


def test_fallback_when_disabled(monkeypatch: pytest.MonkeyPatch, caplog, fresh_kernels) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(kernels.ENV_SWITCH, "0")
    with caplog.at_level(logging.WARNING, logger="cadence.policy.kernels"):
        builder = ObservationBuilder()
    assert not builder.compiled
    assert "compiled decision kernels unavailable (CADENCE_JIT=0); using the numpy path" in caplog.text
    case = _case(np.random.default_rng(0), DEFAULT_LAYOUT.n_beams)
    _same_bits(builder.build(*case), ObservationBuilder(compiled=False).build_python(*case))
    with pytest.raises(ObservationError, match="numba kernels unavailable"):
        ObservationBuilder(compiled=True)


def test_read_only_and_strided_scans_use_the_kernel() -> None:
    """Bag readers hand out read-only buffers; a view may be strided: both are kernel inputs."""
    builder = ObservationBuilder()
    rng = np.random.default_rng(5)
    state, targets = RobotState(0.5, -1.0, 0.3, 0.2, -0.1), Targets((2.0, 0.0), (2.0, 2.0), (4.0, 4.0))
    for ranges in (
        np.frombuffer(rng.uniform(0, 6, 360).astype(np.float32).tobytes(), np.float32),
        rng.uniform(0, 6, 720)[::2],
    ):
        scan = Scan(ranges, -math.pi, 2 * math.pi / 360, 5.0)
        assert builder.kernel_args(state, scan, targets, 12.0, (0.1, 0.2)) is not None
        _same_bits(builder.build(state, scan, targets, 12.0, (0.1, 0.2)),
                   builder.build_python(state, scan, targets, 12.0, (0.1, 0.2)))  # fmt: skip
