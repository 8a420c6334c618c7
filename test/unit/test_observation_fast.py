"""The tuned observation builder is bit-identical to the implementation it replaced.

``_ReferenceBuilder`` is a verbatim copy of ``ObservationBuilder.build`` (with ``_fill_lidar`` and
``_resample_plan``) as of commit 507a75e, before the hot-path work; thousands of random inputs —
poses, 36/360/720/odd-width and partial-FOV scans, float32/float64/int ranges with NaN, +-inf,
negative and out-of-range values, coincident waypoints, huge and non-finite velocities and
budgets — must give the same float32 bits, or the same error.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from cadence.policy.observation import (
    DEFAULT_LAYOUT,
    ObservationBuilder,
    ObservationError,
    ObservationLayout,
    RobotState,
    Scan,
    Targets,
)
from cadence.sim.robot import V_MAX, W_MAX


class _ReferenceBuilder:
    """``ObservationBuilder.build`` and its helpers as of commit 507a75e, verbatim (plan cache too)."""

    def __init__(self, layout: ObservationLayout = DEFAULT_LAYOUT) -> None:
        self.layout = layout
        self.obs_dim = layout.obs_dim
        sl = layout.slices
        self._lidar = sl["lidar"]
        self._scalars = np.r_[0 : sl["velocity"].stop, sl["time_remaining"].start : sl["last_command"].stop]
        self._resample_cache: dict[tuple[int, float, float], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def build(
        self,
        state: RobotState,
        scan: Scan,
        targets: Targets,
        time_remaining: float,
        last_command: tuple[float, float],
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        x, y, yaw = state.x, state.y, state.yaw
        if not (math.isfinite(x) and math.isfinite(y) and math.isfinite(yaw)):
            raise ObservationError(f"robot pose must be finite, got ({x}, {y}, {yaw})")
        o = np.empty(self.obs_dim, np.float32) if out is None else out
        c, s, clip = math.cos(yaw), math.sin(yaw), self.layout.dist_clip
        head: list[float] = []
        for wx, wy in (targets.current, targets.next, targets.goal):
            dx, dy = wx - x, wy - y
            lx, ly = c * dx + s * dy, c * dy - s * dx
            d = math.hypot(lx, ly)
            if d > 1e-9:
                head += (lx / d, ly / d, min(d, clip) / clip)
            else:
                head += (1.0, 0.0, 0.0)
        head += (state.v / V_MAX, state.omega / W_MAX)
        self._fill_lidar(scan, o[self._lidar])
        t = time_remaining / self.layout.time_scale
        head += (min(max(t, -1.0), 1.0), last_command[0] / V_MAX, last_command[1] / W_MAX)
        o[self._scalars] = head
        return o

    def _fill_lidar(self, scan: Scan, dst: np.ndarray) -> None:
        ranges = scan.ranges
        if ranges.ndim != 1 or ranges.shape[0] == 0:
            raise ObservationError(f"scan ranges must be a non-empty 1-D array, got shape {ranges.shape}")
        n, rmax = ranges.shape[0], self.layout.lidar_range
        key = (n, scan.angle_min, scan.angle_increment)
        plan = self._resample_cache.get(key)
        if plan is None:
            plan = self._resample_cache[key] = self._resample_plan(n, scan.angle_min, scan.angle_increment)
        order, starts, sectors = plan
        limit = min(rmax, scan.range_max) if scan.range_max > 0 else rmax
        if sectors is None:
            np.fmin(ranges, limit, out=dst, casting="unsafe")
        else:
            dst.fill(limit)
            pooled = np.minimum.reduceat(np.fmin(ranges[order], limit), starts)
            dst[sectors] = pooled
        np.maximum(dst, 0.0, out=dst)
        dst *= 1.0 / rmax

    def _resample_plan(
        self, n: int, angle_min: float, angle_increment: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        if not (math.isfinite(angle_min) and math.isfinite(angle_increment)):
            raise ObservationError(f"scan angles must be finite, got {angle_min}, {angle_increment}")
        width = 2.0 * math.pi / self.layout.n_beams
        angles = angle_min + angle_increment * np.arange(n)
        sector = np.round(angles / width).astype(np.int64) % self.layout.n_beams
        if n == self.layout.n_beams and np.array_equal(sector, np.arange(n)):
            return np.arange(n), np.arange(n), None
        order = np.argsort(sector, kind="stable")
        sorted_sec = sector[order]
        starts = np.flatnonzero(np.r_[True, sorted_sec[1:] != sorted_sec[:-1]])
        return order, starts, sorted_sec[starts]


def _reference_build(layout: ObservationLayout, *args: object, **kwargs: object) -> np.ndarray:
    """A fresh reference builder's output (no cache shared between cases)."""
    return _ReferenceBuilder(layout).build(*args, **kwargs)  # type: ignore[arg-type]


def _scan(rng: np.random.Generator, n_beams: int) -> Scan:
    kind = rng.integers(6)
    if kind == 0:  # the sim's scan: the layout's beams, from straight ahead
        n, start, inc = n_beams, 0.0, 2 * math.pi / n_beams
    elif kind == 1:  # a 360-ray LaserScan from -pi
        n, start, inc = 360, -math.pi, 2 * math.pi / 360
    elif kind == 2:  # partial field of view, some sectors unseen
        n = int(rng.integers(1, 400))
        start, inc = float(rng.uniform(-math.pi, 0)), float(rng.uniform(0.001, 0.02))
    elif kind == 3:  # arbitrary width and start, possibly more than a turn
        n = int(rng.integers(1, 900))
        start, inc = float(rng.uniform(-4, 4)), float(rng.uniform(-0.05, 0.05))
    elif kind == 4:  # the layout's beams but rotated or reversed (not the identity plan)
        n, start = n_beams, float(rng.choice([math.pi, 2 * math.pi / n_beams]))
        inc = float(rng.choice([-1.0, 1.0])) * 2 * math.pi / n_beams
    else:
        n, start, inc = 720, -math.pi, 2 * math.pi / 720
    ranges = rng.uniform(-1.0, 12.0, n)
    for value in (np.nan, np.inf, -np.inf, 0.0, -0.0, 1e300):
        ranges[rng.random(n) < 0.03] = value
    dtype = rng.choice(["float64", "float32", "float64", "int64"])
    if dtype == "int64":
        ranges = np.nan_to_num(ranges, posinf=50, neginf=-50).astype(np.int64)
    else:
        with np.errstate(over="ignore"):
            ranges = ranges.astype(dtype)
    range_max = float(rng.choice([5.0, 3.7, 12.0, 0.0, -1.0, np.inf, np.nan, 4.99]))
    return Scan(ranges, start, inc, range_max)


def _scalar(rng: np.random.Generator, lo: float, hi: float) -> float:
    r = rng.random()
    if r < 0.03:
        return float(rng.choice([np.nan, np.inf, -np.inf, 1e300, -1e300, 0.0, -0.0]))
    return float(rng.uniform(lo, hi))


def _case(rng: np.random.Generator, n_beams: int) -> tuple:
    x, y = rng.uniform(-8, 8, 2)
    yaw = float(rng.uniform(-10, 10))
    pts = [(float(a), float(b)) for a, b in rng.uniform(-8, 8, (3, 2))]
    if rng.random() < 0.2:  # a waypoint on the robot: the degenerate bearing
        pts[int(rng.integers(3))] = (float(x), float(y))
    if rng.random() < 0.1:  # within the 1e-9 threshold, either side
        pts[0] = (float(x) + float(rng.choice([1e-10, 2e-9])), float(y))
    state = RobotState(float(x), float(y), yaw, _scalar(rng, -1, 1.5), _scalar(rng, -3, 3))
    command = (_scalar(rng, -1, 1.5), _scalar(rng, -3, 3))
    return state, _scan(rng, n_beams), Targets(*pts), _scalar(rng, -200, 200), command


def _same_bits(a: np.ndarray, b: np.ndarray) -> None:
    assert a.dtype == b.dtype == np.float32 and a.shape == b.shape
    np.testing.assert_array_equal(a.view(np.uint32), b.view(np.uint32))


@pytest.mark.parametrize("layout", [DEFAULT_LAYOUT, ObservationLayout(n_beams=24, lidar_range=3.5)])
def test_build_is_bit_identical_to_the_reference(layout: ObservationLayout) -> None:
    rng = np.random.default_rng(layout.n_beams)
    builder = ObservationBuilder(layout)
    buf = np.full((2, layout.obs_dim), np.nan, np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # 1e300 -> float32 inf warns in both
        for _ in range(3000):
            case = _case(rng, layout.n_beams)
            want = _reference_build(layout, *case)
            _same_bits(builder.build(*case), want)
            got = builder.build(*case, out=buf[1])  # a view into a batch row, as the executor does
            assert got.base is buf
            _same_bits(buf[1], want)


def test_float64_and_strided_out_buffers_match_the_reference() -> None:
    rng = np.random.default_rng(7)
    builder = ObservationBuilder()
    wide = np.zeros((DEFAULT_LAYOUT.obs_dim, 2), np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for _ in range(300):
            case = _case(rng, DEFAULT_LAYOUT.n_beams)
            want = _reference_build(DEFAULT_LAYOUT, *case)
            want64 = _reference_build(DEFAULT_LAYOUT, *case, out=np.zeros(DEFAULT_LAYOUT.obs_dim))
            out64 = np.zeros(DEFAULT_LAYOUT.obs_dim)
            assert builder.build(*case, out=out64) is out64
            np.testing.assert_array_equal(out64.view(np.uint64), want64.view(np.uint64))
            builder.build(*case, out=wide[:, 1])
            _same_bits(np.ascontiguousarray(wide[:, 1]), want)


@pytest.mark.parametrize(
    ("state", "scan"),
    [
        (RobotState(math.nan, 0, 0), None),
        (RobotState(0, -math.inf, 0), None),
        (RobotState(0, 0, math.nan), None),
        (None, Scan(np.zeros((2, 3)), 0.0, 0.1, 5.0)),
        (None, Scan(np.zeros(0), 0.0, 0.1, 5.0)),
        (None, Scan(np.ones(10), math.nan, 0.1, 5.0)),
        (None, Scan(np.ones(10), 0.0, math.inf, 5.0)),
    ],
)
def test_errors_are_the_same(state: RobotState | None, scan: Scan | None) -> None:
    state = state or RobotState(0.0, 0.0, 0.0)
    scan = scan or Scan(np.ones(36), 0.0, 2 * math.pi / 36, 5.0)
    args = (state, scan, Targets((1.0, 0.0), (1.0, 1.0), (2.0, 2.0)), 3.0, (0.0, 0.0))
    with pytest.raises(ObservationError) as want:
        _reference_build(DEFAULT_LAYOUT, *args)
    builder = ObservationBuilder()
    for _ in range(2):  # the second call may hit a cache: still the same error
        with pytest.raises(ObservationError) as got:
            builder.build(*args)
        assert str(got.value) == str(want.value)


@pytest.mark.parametrize(
    "targets",
    [
        Targets((1.0, 0.0, 0.0), (1.0, 1.0), (2.0, 2.0)),
        Targets((1.0, 0.0), (1.0,), (2.0, 2.0)),
        Targets(1, 2, 3),
    ],  # type: ignore[arg-type]
)
def test_malformed_targets_raise_the_same_error(targets: Targets) -> None:
    args = (
        RobotState(0.0, 0.0, 0.0),
        Scan(np.ones(36), 0.0, 2 * math.pi / 36, 5.0),
        targets,
        3.0,
        (0.0, 0.0),
    )
    with pytest.raises((TypeError, ValueError)) as want:
        _reference_build(DEFAULT_LAYOUT, *args)
    with pytest.raises(want.type) as got:
        ObservationBuilder().build(*args)
    assert str(got.value) == str(want.value)
