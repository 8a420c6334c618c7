"""Tiny strict JSON-shape checks shared by the manifest and the configs (errors name the key)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


class SchemaError(ValueError):
    """A value has the wrong type, is missing, unknown or out of range; the message names the key."""


def obj(
    value: Any, where: str, required: Sequence[str] | None = None, optional: Sequence[str] = ()
) -> dict[str, Any]:
    """A JSON object. With ``required`` given, keys outside ``required + optional`` are refused.

    Without it the object is free-form (any string keys).
    """
    if not isinstance(value, dict):
        raise SchemaError(f"{where} must be an object, got {type(value).__name__}")
    if any(not isinstance(k, str) for k in value):
        raise SchemaError(f"{where} keys must be strings")
    if required is None:
        return dict(value)
    missing = [k for k in required if k not in value]
    if missing:
        raise SchemaError(f"{where} is missing {', '.join(repr(k) for k in missing)}")
    allowed = set(required) | set(optional)
    unknown = sorted(k for k in value if k not in allowed)
    if unknown:
        raise SchemaError(
            f"{where} has unknown key(s) {', '.join(repr(k) for k in unknown)} "
            f"(valid: {', '.join(sorted(allowed))})"
        )
    return dict(value)


def lst(value: Any, where: str, nonempty: bool = False) -> list[Any]:
    if not isinstance(value, list):
        raise SchemaError(f"{where} must be a list, got {type(value).__name__}")
    if nonempty and not value:
        raise SchemaError(f"{where} must not be empty")
    return value


def string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise SchemaError(f"{where} must be a non-empty string, got {value!r}")
    return value


def integer(value: Any, where: str, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SchemaError(f"{where} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise SchemaError(f"{where} must be >= {minimum}, got {value}")
    return value


def number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SchemaError(f"{where} must be a finite number, got {value!r}")
    return float(value)


def dim(value: Any, where: str) -> int | str:
    """A tensor dimension: a positive integer or a symbolic name such as ``"batch"``."""
    if isinstance(value, str) and value:
        return value
    return integer(value, where, minimum=1)


def choice(value: Any, where: str, valid: Sequence[str]) -> str:
    if value not in valid:
        raise SchemaError(f"{where} must be one of {', '.join(valid)}, got {value!r}")
    return value
