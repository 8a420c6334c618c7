"""Online monitoring: feed samples one at a time, get the interval the final robustness lies in.

After ``n`` samples the robustness at t = 0 of the eventual full trace is unknown, but bounded:
:class:`OnlineMonitor` evaluates the formula twice over the samples seen so far, once with every
future sample of every predicate at ``-inf`` (lower bound) and once at ``+inf`` (upper bound),
negation swapping the two (the interval semantics of Deshmukh et al., "Robust online monitoring
of signal temporal logic", FMSD 2017). Every STL operator is monotone in its operands, so the
interval is sound: it always contains the final offline value -- whether the trace is later
completed with any values, or ends and is evaluated with rtamt's truncated windows. It is exact
per predicate (what is known is known, the future is unconstrained); it can be loose only when
one signal appears in several places (``x > 0 or x <= 0``). Once ``horizon / dt + 1`` samples are
in, the value at t = 0 no longer depends on the future and the interval collapses to it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np

from cadence.stl.ast import Formula, Interval, Predicate
from cadence.stl.errors import STLSignalError, STLTraceError
from cadence.stl.parser import parse
from cadence.stl.robustness import evaluate, predicate_values, to_steps


class OnlineMonitor:
    """Incremental robustness bounds of ``formula`` at t = 0.

    Args:
        formula: parsed formula or its text.
        dt: sampling period in seconds; samples are assumed to arrive every ``dt``.

    Example:
        >>> m = OnlineMonitor("eventually[0:2](x > 1)", dt=1.0)
        >>> m.update({"x": 0.0})
        (-1.0, inf)
        >>> m.update({"x": 3.0})
        (2.0, inf)
        >>> m.update({"x": 0.5})
        (2.0, 2.0)
    """

    def __init__(self, formula: Formula | str, dt: float) -> None:
        self.formula = parse(formula) if isinstance(formula, str) else formula
        if not dt > 0 or not math.isfinite(dt):
            raise STLTraceError(f"sampling period dt must be a positive number of seconds, got {dt!r}")
        self.dt = float(dt)
        to_steps_all(self.formula, dt)  # reject bounds that are not multiples of dt now, not at sample 1
        horizon = self.formula.horizon
        # Samples that decide the value at t = 0 (None: an unbounded operator never decides).
        self.needed: int | None = (
            to_steps(Interval(0.0, horizon), dt)[1] + 1 if math.isfinite(horizon) else None
        )
        self._names = sorted(self.formula.signals)
        self._data = np.empty((len(self._names), 16))
        self._n = 0
        self._interval = (-math.inf, math.inf)

    @property
    def samples(self) -> int:
        """Number of samples fed so far."""
        return self._n

    @property
    def interval(self) -> tuple[float, float]:
        """Current ``(lower, upper)`` bounds of the final robustness at t = 0."""
        return self._interval

    @property
    def done(self) -> bool:
        """True once the value at t = 0 is decided (the interval has collapsed)."""
        return self.needed is not None and self._n >= self.needed

    def update(self, sample: Mapping[str, float]) -> tuple[float, float]:
        """Add the next sample (signal name -> value) and return the updated ``(lower, upper)``.

        Raises:
            STLSignalError: a signal of the formula is missing from ``sample``.
            STLTraceError: a value is NaN or not a number.
        """
        row = np.empty(len(self._names))
        for i, name in enumerate(self._names):
            if name not in sample:
                raise STLSignalError(
                    f"sample lacks signal {name!r}; the formula reads {', '.join(self._names)}"
                )
            try:
                row[i] = float(sample[name])
            except (TypeError, ValueError) as err:
                raise STLTraceError(f"signal {name!r}: {sample[name]!r} is not a number") from err
            if math.isnan(row[i]):
                raise STLTraceError(f"signal {name!r} is NaN at sample {self._n}")
        if self.done:  # decided: later samples cannot change the value at t = 0
            self._n += 1
            return self._interval
        if self._n == self._data.shape[1]:
            self._data = np.concatenate([self._data, np.empty_like(self._data)], axis=1)
        self._data[:, self._n] = row
        self._n += 1
        self._interval = self._bounds()
        return self._interval

    def _leaf(self) -> Callable[[Predicate, bool], np.ndarray]:
        """Predicate values over the samples so far, time-major ``(n, 1)``."""
        n = self._n
        env = {name: self._data[i, :n].reshape(n, 1) for i, name in enumerate(self._names)}
        return lambda pred, _polarity: predicate_values(pred, env, (n, 1))

    def _bounds(self) -> tuple[float, float]:
        leaf, unknown = self._leaf(), not self.done
        lower = evaluate(self.formula, leaf, self.dt, polarity=True, unknown_future=unknown)
        upper = evaluate(self.formula, leaf, self.dt, polarity=False, unknown_future=unknown)
        return float(lower[0, 0]), float(upper[0, 0])

    def offline(self) -> float:
        """Robustness at t = 0 of the samples seen so far with rtamt's offline (truncated) semantics.

        Use it when the trace has ended before the horizon: it is the value ``cadence stl
        robustness`` and rtamt give on that trace, and it lies inside :attr:`interval`.
        """
        if self._n == 0:
            raise STLTraceError("no samples yet")
        return float(evaluate(self.formula, self._leaf(), self.dt)[0, 0])


def to_steps_all(formula: Formula, dt: float) -> None:
    """Check every time bound of ``formula`` is a whole number of sampling periods."""
    interval = getattr(formula, "interval", None)
    if interval is not None:
        to_steps(interval, dt)
    for child in formula.children:
        to_steps_all(child, dt)
