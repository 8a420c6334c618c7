"""Strict JSON for plans and model replies: no NaN/Infinity, no extra keys, typed values.

``json.loads`` accepts ``NaN``, ``Infinity`` and ``1e999`` (which becomes ``inf``); a plan that carries
one would put a non-finite number into the executor. :func:`loads_strict` rejects the constants and
:func:`check` rejects every non-finite float, every key a schema does not list, and every value whose
type or enum does not match. The checker understands the subset of JSON Schema the planner's schemas
use (``type`` incl. lists, ``properties``, ``required``, ``additionalProperties: false``, ``items``,
``minItems``/``maxItems``, ``enum``, ``minimum``/``maximum``, ``maxLength``), so the schema that is
sent to a model for structured output is the same one that checks its reply.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from cadence.planner.errors import PlanFormatError

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "null": (type(None),),
}


def _reject_constant(name: str) -> float:
    raise PlanFormatError(f"non-finite number {name} is not allowed")


def loads_strict(text: str | bytes) -> Any:
    """Parse JSON, rejecting NaN, Infinity and numbers that overflow to infinity.

    Raises:
        PlanFormatError: for malformed JSON or a non-finite number.
    """
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        raise PlanFormatError(f"malformed JSON: {err}") from err
    except RecursionError as err:
        raise PlanFormatError("malformed JSON: nested too deeply") from err


def _type_ok(value: Any, name: str) -> bool:
    if isinstance(value, bool) and name in ("number", "integer"):
        return False
    return isinstance(value, _TYPES[name])


def check(value: Any, schema: Mapping[str, Any], where: str = "$") -> None:
    """Check `value` against `schema` (the subset described in the module docstring).

    Raises:
        PlanFormatError: naming the JSON path of the first offending value.
    """
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else list(types)
        if not any(_type_ok(value, n) for n in names):
            raise PlanFormatError(f"{where}: expected {' or '.join(names)}, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise PlanFormatError(f"{where}: non-finite number {value!r} is not allowed")
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(str(v) for v in schema["enum"])
        raise PlanFormatError(f"{where}: {value!r} is not one of: {allowed}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            raise PlanFormatError(f"{where}: {value} is below the minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            raise PlanFormatError(f"{where}: {value} is above the maximum {schema['maximum']}")
    if isinstance(value, str) and "maxLength" in schema and len(value) > schema["maxLength"]:
        raise PlanFormatError(f"{where}: string longer than {schema['maxLength']} characters")
    if isinstance(value, dict):
        _check_object(value, schema, where)
    elif isinstance(value, list):
        _check_array(value, schema, where)


def _check_object(value: dict[str, Any], schema: Mapping[str, Any], where: str) -> None:
    props: Mapping[str, Any] = schema.get("properties", {})
    if schema.get("additionalProperties", True) is False:
        extra = sorted(k for k in value if k not in props)
        if extra:
            raise PlanFormatError(f"{where}: unexpected key(s) {', '.join(map(repr, extra))}")
    missing = [k for k in schema.get("required", ()) if k not in value]
    if missing:
        raise PlanFormatError(f"{where}: missing key(s) {', '.join(map(repr, missing))}")
    for key, sub in props.items():
        if key in value:
            check(value[key], sub, f"{where}.{key}")


def _check_array(value: list[Any], schema: Mapping[str, Any], where: str) -> None:
    if "minItems" in schema and len(value) < schema["minItems"]:
        raise PlanFormatError(f"{where}: needs at least {schema['minItems']} item(s), got {len(value)}")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        raise PlanFormatError(f"{where}: at most {schema['maxItems']} item(s) allowed, got {len(value)}")
    items = schema.get("items")
    if items is None:
        return
    if items.get("type") == "number" and len(items) == 1:  # fast path: waypoints, windows
        for i, item in enumerate(value):
            if type(item) not in (int, float) or not math.isfinite(item):
                check(item, items, f"{where}[{i}]")  # raises with the path and the reason
        return
    for i, item in enumerate(value):
        check(item, items, f"{where}[{i}]")


def number(minimum: float | None = None, maximum: float | None = None, nullable: bool = False) -> dict:
    """Schema of a (finite) number, optionally bounded and nullable."""
    out: dict[str, Any] = {"type": ["number", "null"] if nullable else "number"}
    if minimum is not None:
        out["minimum"] = minimum
    if maximum is not None:
        out["maximum"] = maximum
    return out


def obj(properties: Mapping[str, Any], optional: tuple[str, ...] = ()) -> dict:
    """Schema of a closed object whose keys are all required except `optional`."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [k for k in properties if k not in optional],
        "properties": dict(properties),
    }


def pair() -> dict:
    """Schema of an [x, y] pair of finite numbers."""
    return {"type": "array", "items": number(), "minItems": 2, "maxItems": 2}
