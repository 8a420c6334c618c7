"""Signal Temporal Logic: parser, robustness (numpy batched; torch in ``cadence.stl.torch_eval``),
online monitor and decomposition into timed subgoals and invariants.

Kept light for the CLI: importing :mod:`cadence.stl` loads numpy but never torch.
"""

from __future__ import annotations

from cadence.stl.ast import Formula, Interval
from cadence.stl.decompose import Decomposition, Invariant, Reach, Subgoal, decompose, nnf
from cadence.stl.errors import (
    STLBoundError,
    STLDecompositionError,
    STLError,
    STLSignalError,
    STLSyntaxError,
    STLTraceError,
)
from cadence.stl.online import OnlineMonitor
from cadence.stl.parser import parse
from cadence.stl.robustness import robustness, robustness_at_zero

__all__ = [
    "Decomposition",
    "Formula",
    "Interval",
    "Invariant",
    "OnlineMonitor",
    "Reach",
    "STLBoundError",
    "STLDecompositionError",
    "STLError",
    "STLSignalError",
    "STLSyntaxError",
    "STLTraceError",
    "Subgoal",
    "decompose",
    "nnf",
    "parse",
    "robustness",
    "robustness_at_zero",
]
