"""THE observation builder (DEVELOPERS.md, "Observation"; STYLE.md 4).

One function turns what a robot knows - its odometry, a laser scan as a ``LaserScan`` carries it,
the route's waypoints, the time left in the subgoal's budget and the last command - into the vector
a policy sees. The MuJoCo env, the executor ROS node and the bag converter all call it, so training
and deployment cannot disagree (mujoco_playground's sim2sim player rebuilds its observation by hand;
that skew is what this module exists to prevent).

Which waypoint is "current" is decided here too, by :class:`WaypointTracker`, so the env and the
executor advance along a route identically.

ROS-free and MuJoCo-free: numpy and the rover constants only. :meth:`ObservationBuilder.build` is in
the executor's hot loop, so it works on Python floats and one preallocated buffer; for float inputs
into a float32 buffer it runs a compiled kernel (:mod:`cadence.policy.kernels`) that is bit-identical
to the Python code below (checked when the builder is created; the Python code runs otherwise).
"""

from __future__ import annotations

import itertools
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from math import cos, hypot, isfinite, sin
from typing import Any, NamedTuple

import numpy as np

from cadence.policy.errors import PolicyError
from cadence.sim.robot import LIDAR_BEAMS, LIDAR_RANGE, V_MAX, W_MAX

LAYOUT_VERSION = 1
DIST_CLIP = 5.0  # metres: waypoint distances saturate here (the lidar range)
TIME_SCALE = 60.0  # seconds: time remaining is divided by this and clipped to [-1, 1]
WAYPOINT_RADIUS = 0.4  # metres: a waypoint counts as reached inside this radius


class ObservationError(PolicyError, ValueError):
    """An observation input is malformed (wrong shape, non-finite pose, empty route, ...)."""


@dataclass(frozen=True)
class RobotState:
    """Pose and body velocity as odometry gives them (map frame, SI units)."""

    x: float
    y: float
    yaw: float
    v: float = 0.0
    omega: float = 0.0


@dataclass(frozen=True)
class Scan:
    """A planar laser scan, fields as in ``sensor_msgs/LaserScan`` (angles in the robot frame)."""

    ranges: np.ndarray
    angle_min: float
    angle_increment: float
    range_max: float


@dataclass(frozen=True)
class Targets:
    """The route state: current waypoint, the one after it (the goal when none) and the final goal."""

    current: tuple[float, float]
    next: tuple[float, float]
    goal: tuple[float, float]


@dataclass(frozen=True)
class ObservationLayout:
    """Named slices of the observation vector; serialised into every model manifest.

    Attributes:
        n_beams: Lidar beams after resampling (evenly over 360 degrees, beam 0 straight ahead).
        lidar_range: Metres that normalise lidar ranges to [0, 1].
        dist_clip: Metres at which waypoint distances saturate.
        time_scale: Seconds that normalise the time remaining.
        version: Layout version; a model trained on another version is refused.
    """

    n_beams: int = LIDAR_BEAMS
    lidar_range: float = LIDAR_RANGE
    dist_clip: float = DIST_CLIP
    time_scale: float = TIME_SCALE
    version: int = LAYOUT_VERSION
    fields: tuple[tuple[str, int], ...] = field(init=False)

    def __post_init__(self) -> None:
        if self.n_beams < 4 or self.lidar_range <= 0 or self.dist_clip <= 0 or self.time_scale <= 0:
            raise ObservationError(f"invalid observation layout {self!r}")
        fields = (
            ("waypoint", 3),  # cos(bearing), sin(bearing), distance / dist_clip
            ("next_waypoint", 3),
            ("goal", 3),
            ("velocity", 2),  # v / V_MAX, omega / W_MAX
            ("lidar", self.n_beams),  # range / lidar_range in [0, 1]
            ("time_remaining", 1),  # seconds / time_scale, clipped to [-1, 1]
            ("last_command", 2),  # v / V_MAX, omega / W_MAX
        )
        object.__setattr__(self, "fields", fields)

    @property
    def obs_dim(self) -> int:
        return sum(n for _, n in self.fields)

    @property
    def slices(self) -> dict[str, slice]:
        out, start = {}, 0
        for name, n in self.fields:
            out[name] = slice(start, start + n)
            start += n
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (the manifest's ``observation`` block)."""
        return {
            "version": self.version,
            "obs_dim": self.obs_dim,
            "n_beams": self.n_beams,
            "lidar_range": self.lidar_range,
            "dist_clip": self.dist_clip,
            "time_scale": self.time_scale,
            "fields": [
                {"name": n, "start": s.start, "size": s.stop - s.start} for n, s in self.slices.items()
            ],
        }

    @classmethod
    def from_dict(cls, data: Any) -> ObservationLayout:
        """Rebuild a layout from :meth:`to_dict` output and check it is self-consistent.

        Raises:
            ObservationError: naming the field that does not match.
        """
        if not isinstance(data, dict):
            raise ObservationError(f"observation layout must be a mapping, got {type(data).__name__}")
        try:
            layout = cls(
                n_beams=int(data["n_beams"]),
                lidar_range=float(data["lidar_range"]),
                dist_clip=float(data["dist_clip"]),
                time_scale=float(data["time_scale"]),
                version=int(data["version"]),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ObservationError(f"observation layout: missing or bad key {err}") from err
        if layout.to_dict() != data:
            raise ObservationError(f"observation layout {data!r} is not consistent with {layout.to_dict()!r}")
        return layout

    def mismatch(self, other: dict[str, Any]) -> str | None:
        """Why a manifest's layout differs from this one (None when identical)."""
        mine = self.to_dict()
        for key in [*mine, *sorted(set(other) - set(mine))]:  # scalars first, the long field list last
            if mine.get(key) != other.get(key):
                return (
                    f"observation.{key}: model has {other.get(key)!r}, this build expects {mine.get(key)!r}"
                )
        return None


DEFAULT_LAYOUT = ObservationLayout()
obs_dim = DEFAULT_LAYOUT.obs_dim


class WaypointTracker:
    """Which waypoint of a route is current; shared by the env and the executor.

    The current waypoint advances when the robot is within ``radius`` of it, or when the robot is
    closer to the following waypoint than the current one is (it has passed the current one, so
    turning back to it would be wrong). The last waypoint (the goal) is never passed.
    """

    def __init__(
        self,
        waypoints: Sequence[Sequence[float]],
        radius: float = WAYPOINT_RADIUS,
        start: Sequence[float] | None = None,
    ) -> None:
        if radius <= 0:
            raise ObservationError(f"waypoint radius must be positive, got {radius}")
        self.radius = radius
        self.reset(waypoints, start)

    def reset(self, waypoints: Sequence[Sequence[float]], start: Sequence[float] | None = None) -> None:
        """Start a new route (index 0).

        ``start`` (x, y) is where the robot joins the route; when None, the first position given to
        :meth:`update` is taken (the env and the bag converter both leave it None, so they agree).
        """
        pts = [(float(p[0]), float(p[1])) for p in waypoints]
        if not pts:
            raise ObservationError("a route needs at least one waypoint")
        if not all(math.isfinite(c) for p in pts for c in p):
            raise ObservationError(f"waypoints must be finite, got {pts}")
        self.waypoints = pts
        self.index = 0
        self._seg = [math.dist(a, b) for a, b in itertools.pairwise(pts)]
        self._start = None if start is None else (float(start[0]), float(start[1]))

    @property
    def done(self) -> bool:
        """Whether the current waypoint is the last one."""
        return self.index == len(self.waypoints) - 1

    def update(self, x: float, y: float) -> int:
        """Advance past every waypoint the robot at (x, y) has reached; return the current index.

        "Passed" needs both: the robot is closer to the next waypoint than the current one is, and
        it is beyond the current waypoint along the segment that leads to it (so a robot still on
        the far side of a doorway does not cut the corner through the wall).
        """
        pts, last = self.waypoints, len(self.waypoints) - 1
        if self._start is None:
            self._start = (x, y)
        while self.index < last:
            i = self.index
            cx, cy = pts[i]
            nx_, ny_ = pts[i + 1]
            if math.hypot(cx - x, cy - y) < self.radius:
                self.index += 1
                continue
            prev = pts[i - 1] if i > 0 else self._start
            beyond = (x - cx) * (cx - prev[0]) + (y - cy) * (cy - prev[1]) > 0.0
            if beyond and math.hypot(nx_ - x, ny_ - y) < self._seg[i]:
                self.index += 1
            else:
                break
        return self.index

    def remaining_length(self, x: float, y: float) -> float:
        """Path length from (x, y) through the current waypoint to the goal (the progress measure)."""
        cx, cy = self.waypoints[self.index]
        return math.hypot(cx - x, cy - y) + sum(self._seg[self.index :])

    def targets(self) -> Targets:
        """The current waypoint, the one after it and the goal."""
        pts, i = self.waypoints, self.index
        return Targets(pts[i], pts[min(i + 1, len(pts) - 1)], pts[-1])


class ObservationBuilder:
    """Builds observation vectors for one :class:`ObservationLayout`.

    Args:
        layout: The observation layout.
        compiled: Use the compiled kernel (numba) for float inputs: None (default) when it loads
            and reproduces the Python builder bit for bit on probe inputs, False never, True
            required (:class:`ObservationError` when unavailable or not identical).

    Example:
        >>> builder = ObservationBuilder()
        >>> tracker = WaypointTracker([(2.0, 0.0), (2.0, 2.0)])
        >>> scan = Scan(np.full(36, 5.0), 0.0, 2 * math.pi / 36, 5.0)
        >>> builder.build(RobotState(0.0, 0.0, 0.0), scan, tracker.targets(), 30.0, (0.0, 0.0)).shape
        (50,)
    """

    def __init__(self, layout: ObservationLayout = DEFAULT_LAYOUT, compiled: bool | None = None) -> None:
        self.layout = layout
        self.obs_dim = layout.obs_dim
        sl = layout.slices
        self._lidar = sl["lidar"]
        self._lo, self._hi = sl["lidar"].start, sl["lidar"].stop
        self._clip, self._tscale, self._inv_range = (
            layout.dist_clip,
            layout.time_scale,
            1.0 / layout.lidar_range,
        )
        # every scalar (waypoints, velocity, time, last command) is written with two struct packs
        # into a float32 buffer (C float casts, as numpy's); other buffers get one fancy assignment
        self._scalars = np.r_[0 : sl["velocity"].stop, sl["time_remaining"].start : sl["last_command"].stop]
        self._pack_head = struct.Struct(f"{sl['velocity'].stop}f").pack_into
        self._pack_tail = struct.Struct("3f").pack_into
        self._tail_offset = 4 * sl["time_remaining"].start
        self._resample_cache: dict[tuple[int, float, float], _Plan] = {}
        # the kernel's float64 inputs (cadence.policy._jit S_*): 15 per call, then the constants
        self._scal = np.zeros(23)
        self._scal[15:] = (
            layout.dist_clip,
            V_MAX,
            W_MAX,
            layout.time_scale,
            float(np.float32(1.0 / layout.lidar_range)),
            self._lo,
            sl["time_remaining"].start,
            layout.n_beams,
        )
        self._pack_scal = struct.Struct("15d").pack_into  # one C call, not 15 kernel arguments
        self._rmax = layout.lidar_range
        self._last_n, self._last_min, self._last_inc, self._last_plan = -1, 0.0, 0.0, None
        self._kernel: Any = None
        if compiled is not False:
            self._kernel = self._load_kernel(required=compiled is True)

    @property
    def compiled(self) -> bool:
        """Whether float inputs go through the compiled kernel."""
        return self._kernel is not None

    def _load_kernel(self, required: bool) -> Any:
        from cadence.policy import kernels

        module = kernels.load()
        why = "numba kernels unavailable" if module is None else None
        if module is not None and self._lo != 11:  # the kernel writes waypoints + velocity at 0..10
            why = f"unexpected layout {self.layout.fields}"
        if why is None:
            self._kernel = module.build_obs
            why = kernels.check_builder(self)
            self._kernel = None
        if why is None:
            return module.build_obs
        if required:
            raise ObservationError(f"compiled observation builder unavailable: {why}")
        if module is not None:  # (kernels.load has logged why it has no module, once)
            kernels.LOG.warning("observation builder: compiled kernel not used (%s); Python path", why)
        return None

    def build(
        self,
        state: RobotState,
        scan: Scan,
        targets: Targets,
        time_remaining: float,
        last_command: tuple[float, float],
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """One observation vector (float32, shape ``(obs_dim,)``).

        Args:
            state: Robot pose and body velocity.
            scan: Laser ranges; resampled to the layout's beams by minimum per sector.
            targets: From :meth:`WaypointTracker.targets`.
            time_remaining: Seconds left in the subgoal's time budget (negative when overdue).
            last_command: The (v, omega) command most recently sent.
            out: Optional buffer of shape ``(obs_dim,)`` to fill (avoids an allocation); float32
                and contiguous is the fast path.

        Raises:
            ObservationError: for a non-finite pose or a scan whose shape does not fit its fields.
        """
        if self._kernel is not None and (out is None or out.__class__ is np.ndarray):
            args = self.kernel_args(state, scan, targets, time_remaining, last_command)
            if args is not None:
                if out is None:
                    out = np.empty(self.obs_dim, np.float32)
                    self._kernel(out, *args)
                    return out
                if out.dtype == _F32 and out.flags.c_contiguous and out.shape == (self.obs_dim,):
                    self._kernel(out, *args)
                    return out
        return self.build_python(state, scan, targets, time_remaining, last_command, out)

    def kernel_args(
        self,
        state: RobotState,
        scan: Scan,
        targets: Targets,
        time_remaining: float,
        last_command: tuple[float, float],
    ) -> tuple[Any, ...] | None:
        """The compiled kernel's arguments after ``out`` (:func:`cadence.policy._jit.build_obs`): the
        inputs packed as float64 into the builder's scratch (so this is not thread-safe: one builder
        per thread), the ranges, and the sector table.

        None when the kernel is off or the inputs are anything but floats (np.float64 included)
        and a 1-D float32/float64 scan: e.g. np.float32 targets make the Python code round in
        float32, and malformed inputs must raise the Python code's errors, in its order.

        Raises:
            ObservationError: for a non-finite pose, or scan angles that are not finite.
        """
        x, y, yaw = state.x, state.y, state.yaw
        if not (isfinite(x) and isfinite(y) and isfinite(yaw)):
            raise ObservationError(f"robot pose must be finite, got ({x}, {y}, {yaw})")
        if self._kernel is None:
            return None
        try:
            cx, cy = targets.current
            nx, ny = targets.next
            gx, gy = targets.goal
            v, w = state.v, state.omega
            c0, c1 = last_command[0], last_command[1]
            ranges = scan.ranges
        except Exception:
            return None
        # exact floats: bytecode-only checks (this runs cold, once per decision); then subclasses
        if not (
            type(x) is float and type(y) is float and type(yaw) is float and type(v) is float
            and type(w) is float and type(cx) is float and type(cy) is float and type(nx) is float
            and type(ny) is float and type(gx) is float and type(gy) is float
            and type(time_remaining) is float and type(c0) is float and type(c1) is float
        ) and not all(map(_is_float, (x, y, yaw, v, w, cx, cy, nx, ny, gx, gy, time_remaining, c0, c1))):  # fmt: skip
            return None
        if type(ranges) is not np.ndarray or ranges.ndim != 1:
            return None
        dtype = ranges.dtype  # identity, not dtype equality (numpy's comparison is slow when cold)
        if dtype is not _F64 and dtype is not _F32:
            return None
        n = len(ranges)
        if n == self._last_n and scan.angle_min == self._last_min and scan.angle_increment == self._last_inc:
            plan = self._last_plan  # the same scan geometry as last time (the usual case)
        else:
            if not n:
                return None
            plan = self._last_plan = self._plan(scan, n)
            self._last_n, self._last_min, self._last_inc = n, scan.angle_min, scan.angle_increment
        rmax, range_max = self._rmax, scan.range_max
        limit = (range_max if range_max < rmax else rmax) if range_max > 0 else rmax  # min(rmax, range_max)
        scal = self._scal
        self._pack_scal(scal, 0, x, y, yaw, v, w, cx, cy, nx, ny, gx, gy, time_remaining, c0, c1, limit)
        return scal, ranges, plan.csr

    def build_python(
        self,
        state: RobotState,
        scan: Scan,
        targets: Targets,
        time_remaining: float,
        last_command: tuple[float, float],
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """:meth:`build` without the compiled kernel (the reference the kernel is checked against)."""
        x, y, yaw = state.x, state.y, state.yaw
        if not (isfinite(x) and isfinite(y) and isfinite(yaw)):
            raise ObservationError(f"robot pose must be finite, got ({x}, {y}, {yaw})")
        if out is None:
            o, fast = np.empty(self.obs_dim, np.float32), True
        else:
            o = out
            fast = o.dtype == _F32 and o.flags.c_contiguous and o.shape == (self.obs_dim,)
        c, s, clip = cos(yaw), sin(yaw), self._clip
        # the three targets, unrolled; same expressions (and so the same roundings) as ever
        wx, wy = targets.current
        dx, dy = wx - x, wy - y
        lx, ly = c * dx + s * dy, c * dy - s * dx
        d = hypot(lx, ly)
        a0, a1, a2 = (lx / d, ly / d, min(d, clip) / clip) if d > 1e-9 else (1.0, 0.0, 0.0)
        wx, wy = targets.next
        dx, dy = wx - x, wy - y
        lx, ly = c * dx + s * dy, c * dy - s * dx
        d = hypot(lx, ly)
        b0, b1, b2 = (lx / d, ly / d, min(d, clip) / clip) if d > 1e-9 else (1.0, 0.0, 0.0)
        wx, wy = targets.goal
        dx, dy = wx - x, wy - y
        lx, ly = c * dx + s * dy, c * dy - s * dx
        d = hypot(lx, ly)
        g0, g1, g2 = (lx / d, ly / d, min(d, clip) / clip) if d > 1e-9 else (1.0, 0.0, 0.0)
        v, w = state.v / V_MAX, state.omega / W_MAX
        self._fill_lidar(scan, o[self._lo : self._hi], fast)
        t = time_remaining / self._tscale
        t = min(max(t, -1.0), 1.0)
        c0, c1 = last_command[0] / V_MAX, last_command[1] / W_MAX
        if fast:
            try:
                self._pack_head(o, 0, a0, a1, a2, b0, b1, b2, g0, g1, g2, v, w)
                self._pack_tail(o, self._tail_offset, t, c0, c1)
                return o
            except OverflowError:  # a finite value beyond float32: numpy's cast makes it inf
                pass
        o[self._scalars] = (a0, a1, a2, b0, b1, b2, g0, g1, g2, v, w, t, c0, c1)
        return o

    def _fill_lidar(self, scan: Scan, dst: np.ndarray, fast: bool = False) -> None:
        ranges = scan.ranges
        if ranges.ndim != 1 or ranges.shape[0] == 0:
            raise ObservationError(f"scan ranges must be a non-empty 1-D array, got shape {ranges.shape}")
        n, rmax = ranges.shape[0], self.layout.lidar_range
        plan = self._plan(scan, n)
        # NaN (invalid) and inf (no return) read as "nothing within range": fmin ignores NaN.
        range_max = scan.range_max
        limit = min(rmax, range_max) if range_max > 0 else rmax
        if plan.sectors is None:  # the scan already has the builder's beams, in order
            np.fmin(ranges, limit, out=dst, casting="unsafe")
        elif fast and ranges.dtype in _POOL_DTYPES:
            # min over each sector's rays (a padded index table; repeats do not change a minimum),
            # computed in float32: rounding is monotone, so min-then-round == round-then-min
            np.fmin.reduce(ranges.take(plan.table), axis=0, initial=limit, out=dst)
            if plan.unseen is not None:
                dst[plan.unseen] = limit
        else:
            dst.fill(limit)
            pooled = np.minimum.reduceat(np.fmin(ranges[plan.order], limit), plan.starts)
            dst[plan.sectors] = pooled
        np.maximum(dst, 0.0, out=dst)
        dst *= self._inv_range

    def _plan(self, scan: Scan, n: int) -> _Plan:
        key = (n, scan.angle_min, scan.angle_increment)
        plan = self._resample_cache.get(key)
        if plan is None:
            plan = self._resample_cache[key] = self._resample_plan(n, scan.angle_min, scan.angle_increment)
        return plan

    def _resample_plan(self, n: int, angle_min: float, angle_increment: float) -> _Plan:
        """Map scan rays to builder sectors (sector j is centred on angle 2*pi*j/n_beams)."""
        if not (math.isfinite(angle_min) and math.isfinite(angle_increment)):
            raise ObservationError(f"scan angles must be finite, got {angle_min}, {angle_increment}")
        n_beams = self.layout.n_beams
        width = 2.0 * math.pi / n_beams
        angles = angle_min + angle_increment * np.arange(n)
        sector = np.round(angles / width).astype(np.int64) % n_beams
        if n == n_beams and np.array_equal(sector, np.arange(n)):
            ident = np.arange(n, dtype=np.int64)
            csr = np.r_[np.arange(n + 1), ident].astype(np.int64)
            return _Plan(ident, ident, None, np.zeros((1, n), np.intp), None, csr)
        order = np.argsort(sector, kind="stable")
        sorted_sec = sector[order]
        starts = np.flatnonzero(np.r_[True, sorted_sec[1:] != sorted_sec[:-1]])
        sectors = sorted_sec[starts]
        # table[:, j]: the rays of sector j, padded by repeating its first ray (0 when it has none)
        counts = np.bincount(sector, minlength=n_beams)
        table = np.zeros((int(counts.max()), n_beams), np.intp)
        for j, (lo, hi) in zip(sectors, itertools.pairwise([*starts, n]), strict=True):
            rays = order[lo:hi]
            table[:, j] = rays[0]
            table[: hi - lo, j] = rays
        unseen = np.flatnonzero(counts == 0)
        csr = np.r_[0, np.cumsum(counts), order].astype(np.int64)  # for the kernel: order is by sector
        return _Plan(order, starts, sectors, table, unseen if unseen.size else None, csr)


_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_is_float = float.__instancecheck__
_POOL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class _Plan(NamedTuple):
    """How a scan geometry maps onto the builder's sectors (cached per (n, angle_min, increment))."""

    order: np.ndarray  # ray indices sorted by sector
    starts: np.ndarray  # where each seen sector's run starts in ``order``
    sectors: np.ndarray | None  # the seen sectors; None when the scan is already the layout's beams
    table: np.ndarray  # (max rays per sector, n_beams) ray indices, padded with repeats
    unseen: np.ndarray | None  # sectors no ray falls in (they read as free), None when all are seen
    csr: np.ndarray  # int64 ptr (n_beams + 1) then rays: sector j's are rays[ptr[j]:ptr[j+1]] (kernel)
