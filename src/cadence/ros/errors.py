"""Exceptions of the ROS layer (nodes, parameters, bringup, demo)."""

from __future__ import annotations


class RosError(Exception):
    """Base class of cadence.ros errors."""


class ParamError(RosError, ValueError):
    """A node parameter (or its YAML file) is missing, of the wrong type or out of range.

    The message always names the offending key (``executor_node.control_dt: must be > 0``).
    """


class ConversionError(RosError, ValueError):
    """A ROS message cannot be turned into a core type (wrong frame, NaN, bad layout)."""


class BringupError(RosError):
    """A bringup profile cannot be started (unknown node, bad YAML)."""
