"""STL exceptions: one base class, narrow subclasses (DEVELOPERS.md "Errors")."""

from __future__ import annotations


class STLError(Exception):
    """Base class of every error raised by :mod:`cadence.stl`."""


def caret(text: str, pos: int) -> str:
    """Return ``text`` with a caret under column ``pos`` (two lines, indented)."""
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    return f"  {line}\n  {' ' * (pos - line_start)}^"


class STLSyntaxError(STLError):
    """The specification text does not parse; names the column and shows a caret under it."""

    def __init__(self, message: str, text: str, pos: int) -> None:
        self.message = message
        self.text = text
        self.pos = pos
        super().__init__(f"{message} (column {pos + 1}):\n{caret(text, pos)}")


class STLSignalError(STLError):
    """A formula names a signal that is not available (unknown name or missing trace column)."""


class STLBoundError(STLError):
    """A time bound is negative, inverted, or not a whole number of sampling periods."""


class STLTraceError(STLError):
    """Trace data are unusable: NaN, wrong shape, mismatched lengths, non-uniform time."""


class STLDecompositionError(STLError):
    """A specification is outside the fragment that decomposes into subgoals and invariants."""
