"""The plan: an STL spec, its timed subgoals and invariants, and grounded waypoints (issue 5).

A :class:`Plan` is plain data. It travels as JSON (``std_msgs/String`` on the latched ``plan`` topic,
``plan.json`` in episode records) in a versioned schema, :data:`PLAN_SCHEMA`; :meth:`Plan.from_json`
refuses anything the schema does not describe (extra keys, NaN, wrong types), so a plan read back is
exactly a plan that was written. Times are seconds since the plan started, distances metres.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cadence.planner import schema as js
from cadence.planner.errors import PlanFormatError

PLAN_SCHEMA_VERSION = 1
_NAME = {"type": "string", "maxLength": 64}
_WINDOW = js.pair()

#: JSON schema (a draft 2020-12 subset, see :mod:`cadence.planner.schema`) of a serialised plan.
PLAN_SCHEMA: dict[str, Any] = js.obj(
    {
        "schema_version": {"type": "integer", "enum": [PLAN_SCHEMA_VERSION]},
        "task": {"type": "string", "maxLength": 2000},
        "scene": _NAME,
        "spec": {"type": "string", "maxLength": 8000},
        "subgoals": {
            "type": "array",
            "minItems": 1,
            "maxItems": 32,
            "items": js.obj(
                {
                    "region": _NAME,
                    "options": {"type": "array", "items": _NAME, "minItems": 1, "maxItems": 8},
                    "window": _WINDOW,
                    "hold": js.number(minimum=0.0),
                    "requested_deadline": js.number(minimum=0.0, nullable=True),
                    "waypoint": {"type": "integer", "minimum": 0},
                }
            ),
        },
        "invariants": {
            "type": "array",
            "maxItems": 32,
            "items": js.obj(
                {"kind": {"type": "string", "enum": ["keep_out"]}, "region": _NAME, "window": _WINDOW}
            ),
        },
        "limits": js.obj({"v_max": js.number(minimum=0.0), "omega_max": js.number(minimum=0.0)}),
        "start": {"type": "array", "items": js.number(), "minItems": 3, "maxItems": 3},
        "waypoints": {"type": "array", "items": js.pair(), "minItems": 1, "maxItems": 512},
        "horizon": js.number(minimum=0.0),
        "backend": _NAME,
        "latency_ms": js.number(minimum=0.0),
        "replan_reason": {"type": ["string", "null"], "maxLength": 200},
        "notes": {"type": "array", "items": {"type": "string", "maxLength": 300}, "maxItems": 16},
    }
)


@dataclass(frozen=True)
class Subgoal:
    """Reach a region inside a time window and stay there for ``hold`` seconds.

    Attributes:
        region: The region the waypoints lead to.
        options: Every region that satisfies this subgoal ("either the kitchen or the office");
            ``region`` is the one grounding chose.
        window: (earliest, deadline) in seconds since the plan started.
        hold: Dwell time in seconds once inside.
        requested_deadline: The deadline the task asked for, or None when it was allocated.
        waypoint: Index into :attr:`Plan.waypoints` of the waypoint inside ``region``.
    """

    region: str
    options: tuple[str, ...]
    window: tuple[float, float]
    hold: float = 0.0
    requested_deadline: float | None = None
    waypoint: int = 0

    @property
    def deadline(self) -> float:
        return self.window[1]


@dataclass(frozen=True)
class Invariant:
    """Something that must hold over a window; ``keep_out``: stay out of ``region``."""

    kind: str
    region: str
    window: tuple[float, float]


@dataclass(frozen=True)
class Limits:
    """Speed limits the plan asks for (never above the rover's)."""

    v_max: float
    omega_max: float


@dataclass(frozen=True)
class Plan:
    """A validated plan (see :func:`cadence.planner.validator.validate`).

    Attributes:
        task: The task text as given.
        scene: Scene name.
        spec: STL specification (rtamt syntax; signals are region names, signed distances).
        subgoals: Ordered timed subgoals.
        invariants: Keep-out regions and their windows.
        limits: Speed limits.
        start: (x, y, yaw) the plan starts from.
        waypoints: (x, y) after the start through every subgoal, along the topological graph.
        horizon: Seconds the spec looks ahead (last deadline plus its hold).
        backend: Name of the back end that produced the intent.
        latency_ms: Planning time, grounding and validation included.
        replan_reason: Why this plan replaced another, or None.
        notes: Short human-readable remarks (fallbacks, chosen alternatives).
    """

    task: str
    scene: str
    spec: str
    subgoals: tuple[Subgoal, ...]
    invariants: tuple[Invariant, ...]
    limits: Limits
    start: tuple[float, float, float]
    waypoints: tuple[tuple[float, float], ...]
    horizon: float
    backend: str
    latency_ms: float = 0.0
    replan_reason: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def regions(self) -> tuple[str, ...]:
        """Every region the plan names (subgoal options and invariants)."""
        names = [o for s in self.subgoals for o in s.options] + [i.region for i in self.invariants]
        return tuple(dict.fromkeys(names))

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": PLAN_SCHEMA_VERSION,
            "task": self.task,
            "scene": self.scene,
            "spec": self.spec,
            "subgoals": [
                {
                    "region": s.region,
                    "options": list(s.options),
                    "window": [float(s.window[0]), float(s.window[1])],
                    "hold": float(s.hold),
                    "requested_deadline": s.requested_deadline,
                    "waypoint": int(s.waypoint),
                }
                for s in self.subgoals
            ],
            "invariants": [
                {"kind": i.kind, "region": i.region, "window": [float(i.window[0]), float(i.window[1])]}
                for i in self.invariants
            ],
            "limits": {"v_max": float(self.limits.v_max), "omega_max": float(self.limits.omega_max)},
            "start": [float(v) for v in self.start],
            "waypoints": [[float(x), float(y)] for x, y in self.waypoints],
            "horizon": float(self.horizon),
            "backend": self.backend,
            "latency_ms": float(self.latency_ms),
            "replan_reason": self.replan_reason,
            "notes": list(self.notes),
        }

    def to_json(self, indent: int | None = None) -> str:
        """Serialise; ``allow_nan=False`` so a non-finite number fails here, not in a consumer."""
        try:
            return json.dumps(self.to_dict(), indent=indent, allow_nan=False)
        except ValueError as err:
            raise PlanFormatError(f"plan has a non-finite number: {err}") from err

    @classmethod
    def from_dict(cls, data: Any) -> Plan:
        """Build a plan from its JSON mapping, checked against :data:`PLAN_SCHEMA`.

        Raises:
            PlanFormatError: naming the offending key.
        """
        if isinstance(data, dict) and data.get("schema_version") not in (None, PLAN_SCHEMA_VERSION):
            raise PlanFormatError(
                f"plan schema_version {data.get('schema_version')!r} is not supported "
                f"(this cadence reads {PLAN_SCHEMA_VERSION})"
            )
        js.check(data, PLAN_SCHEMA, "plan")
        return cls(
            task=data["task"],
            scene=data["scene"],
            spec=data["spec"],
            subgoals=tuple(
                Subgoal(
                    region=s["region"],
                    options=tuple(s["options"]),
                    window=(float(s["window"][0]), float(s["window"][1])),
                    hold=float(s["hold"]),
                    requested_deadline=None
                    if s["requested_deadline"] is None
                    else float(s["requested_deadline"]),
                    waypoint=int(s["waypoint"]),
                )
                for s in data["subgoals"]
            ),
            invariants=tuple(
                Invariant(i["kind"], i["region"], (float(i["window"][0]), float(i["window"][1])))
                for i in data["invariants"]
            ),
            limits=Limits(float(data["limits"]["v_max"]), float(data["limits"]["omega_max"])),
            start=tuple(float(v) for v in data["start"]),  # type: ignore[arg-type]
            waypoints=tuple((float(x), float(y)) for x, y in data["waypoints"]),
            horizon=float(data["horizon"]),
            backend=data["backend"],
            latency_ms=float(data["latency_ms"]),
            replan_reason=data["replan_reason"],
            notes=tuple(data["notes"]),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Plan:
        """Parse a plan; NaN/Infinity, extra keys and wrong types raise :class:`PlanFormatError`."""
        return cls.from_dict(js.loads_strict(text))
