"""Declare a node's ROS parameters from its config dataclass and read them back validated.

The dataclasses live in :mod:`cadence.ros.config` (ROS-free). Parameters are declared with dynamic
typing so a YAML ``20`` for a float field is accepted and coerced by the dataclass check, which is
where every value is validated — once, with a message naming the key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node
from rclpy.parameter import Parameter

from cadence.ros.config import ROS_PARAMS, config_from_mapping

C = TypeVar("C")


def declare_config(node: Node, cls: type) -> None:
    """Declare one ROS parameter per field of `cls`, defaulting to the field's default."""
    for field in dataclasses.fields(cls):
        if not node.has_parameter(field.name):
            node.declare_parameter(
                field.name, field.default, ParameterDescriptor(name=field.name, dynamic_typing=True)
            )


def read_config(node: Node, cls: type[C]) -> C:
    """The node's current parameters as a validated `cls`.

    Raises:
        ParamError: naming ``<node>.<key>`` for a bad value.
    """
    values = {f.name: node.get_parameter(f.name).value for f in dataclasses.fields(cls)}
    return config_from_mapping(cls, values, where=node.get_name())


def parameter_overrides(values: Mapping[str, Any]) -> list[Parameter]:
    """Parameter values (e.g. one node's block of a profile YAML) as ``Node(parameter_overrides=...)``."""
    return [Parameter(name, value=value) for name, value in values.items()]


def config_overrides(config: Any) -> list[Parameter]:
    """A config dataclass as parameter overrides (so a node built in-process gets exactly it)."""
    return parameter_overrides(dataclasses.asdict(config))


__all__ = ["ROS_PARAMS", "config_overrides", "declare_config", "parameter_overrides", "read_config"]
