"""What a back end returns: the task's structure, before grounding and time allocation.

Every back end (the rules parser, a chat model, a local GGUF model) produces an :class:`Intent`:
ordered steps (regions to reach, optional deadline, dwell), regions to keep out of, an optional
speed limit, or a refusal. The :class:`~cadence.planner.planner.Planner` grounds it on the scene's
graph, allocates deadlines, writes the STL and validates the result, so no back end can put
waypoints, numbers or STL of its own into a plan. For models, :func:`intent_schema` is the JSON
schema of a reply (region names as an enum) and :func:`intent_from_json` its strict parser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cadence.planner import schema as js
from cadence.planner.errors import PlanFormatError

MAX_STEPS = 16


@dataclass(frozen=True)
class Step:
    """Reach one of ``regions`` (either/or), optionally by ``deadline`` s after the start, then dwell."""

    regions: tuple[str, ...]
    deadline: float | None = None
    hold: float = 0.0


@dataclass(frozen=True)
class Intent:
    """A back end's reading of a task.

    Attributes:
        steps: Ordered steps.
        avoid: Regions to keep out of for the whole plan.
        v_max: Requested speed limit in m/s, or None for the rover's limit.
        refusal: Why the back end declines the task, or None.
    """

    steps: tuple[Step, ...]
    avoid: tuple[str, ...] = ()
    v_max: float | None = None
    refusal: str | None = None


def intent_schema(region_names: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """JSON schema of a model's reply for a scene with these regions."""
    region = {"type": "string", "enum": list(region_names)}
    step = js.obj(
        {
            "regions": {"type": "array", "items": region, "minItems": 1, "maxItems": 4},
            "deadline_s": js.number(minimum=0.0, nullable=True),
            "hold_s": js.number(minimum=0.0),
        }
    )
    return js.obj(
        {
            "steps": {"type": "array", "items": step, "maxItems": MAX_STEPS},
            "avoid": {"type": "array", "items": region, "maxItems": 8},
            "max_speed_mps": js.number(minimum=0.0, nullable=True),
            "refusal": {"type": ["string", "null"], "maxLength": 300},
        }
    )


def intent_from_dict(data: Any, region_names: tuple[str, ...] | list[str]) -> Intent:
    """Check a model's reply against :func:`intent_schema` and build the intent.

    Raises:
        PlanFormatError: naming the offending key (unknown regions, extra keys, NaN ...).
    """
    js.check(data, intent_schema(region_names), "reply")
    steps = tuple(
        Step(
            tuple(s["regions"]),
            None if s["deadline_s"] is None else float(s["deadline_s"]),
            float(s["hold_s"]),
        )
        for s in data["steps"]
    )
    refusal = data["refusal"]
    if not steps and not refusal:
        raise PlanFormatError("reply: 'steps' is empty and there is no 'refusal'")
    speed = data["max_speed_mps"]
    return Intent(steps, tuple(data["avoid"]), None if speed is None else float(speed), refusal or None)


def intent_from_json(text: str | bytes, region_names: tuple[str, ...] | list[str]) -> Intent:
    """Strictly parse a model's JSON reply (NaN, extra keys, unknown regions rejected)."""
    return intent_from_dict(js.loads_strict(text), region_names)


def intent_to_dict(intent: Intent) -> dict[str, Any]:
    """The reply a perfect model would give for `intent` (used in prompts' example and tests)."""
    return {
        "steps": [
            {"regions": list(s.regions), "deadline_s": s.deadline, "hold_s": s.hold} for s in intent.steps
        ],
        "avoid": list(intent.avoid),
        "max_speed_mps": intent.v_max,
        "refusal": intent.refusal,
    }
