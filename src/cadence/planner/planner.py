"""The planner: task -> back end intent -> grounded, timed, validated :class:`Plan` (issue 5).

``Planner(scene, backend).plan(task, pose, image=None)`` asks the back end for an intent (feeding a
rejection back for up to ``backend.max_attempts`` tries), grounds it on the scene's graph,
allocates deadlines, writes the STL and runs the validator; a back end that keeps failing hands over
to its ``fallback`` (``rules``). ``replan(plan, pose, satisfied, reason, elapsed)`` re-grounds, re-times
and re-validates the subgoals not yet satisfied from the current pose, without asking the back end
again (the task has been read; the plan keeps its back end's name). Both are synchronous and may block on the
network: call them from a worker thread, never from a ROS callback (STYLE.md 8). A Planner keeps
caches; use one per thread.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from cadence.planner import stlgen
from cadence.planner.backends import Backend, PlanRequest, make_backend
from cadence.planner.errors import (
    BackendError,
    InfeasibleDeadline,
    PlannerError,
    PlanRefused,
    PlanRejected,
    SceneError,
)
from cadence.planner.grounding import Roadmap, ground
from cadence.planner.image import to_jpeg
from cadence.planner.intent import Intent, Step
from cadence.planner.plan import Invariant, Limits, Plan, Subgoal
from cadence.planner.scene import Pose2D, Scene
from cadence.planner.scene_text import scene_text
from cadence.planner.timing import (
    AllocationScorer,
    LegTiming,
    TimingConfig,
    allocate,
    ceil_to,
    control_dt,
    floor_to,
    rover_limits,
)
from cadence.planner.validator import ValidatorConfig, check_limits, looks_like_code, validate

MAX_TASK_CHARS = 2000  # the plan schema's limit on "task"
PoseLike = Pose2D | tuple[float, float, float] | tuple[float, float] | None


class Planner:
    """Plans tasks in one scene with one back end.

    Args:
        scene: The scene.
        backend: A back end, or its registry name (default ``rules``).
        timing: Time allocation settings (default: the rover's limits).
        validator: Validator envelope (default: the rover's limits).
        scorer: Allocation scorer for the Metropolis-Hastings refinement (e.g. a critic's).
    """

    def __init__(
        self,
        scene: Scene,
        backend: Backend | str = "rules",
        *,
        timing: TimingConfig | None = None,
        validator: ValidatorConfig | None = None,
        scorer: AllocationScorer | None = None,
    ) -> None:
        v, w = rover_limits()
        self.scene = scene
        self.backend = make_backend(backend) if isinstance(backend, str) else backend
        self.timing = timing or TimingConfig(v_max=v, omega_max=w)
        self.validator = validator or ValidatorConfig(v_max=v, omega_max=w, time_step=control_dt())
        self.scorer = scorer
        self.roadmap = Roadmap(scene)

    def plan(self, task: str, pose: PoseLike = None, image: Any = None) -> Plan:
        """Plan a task from a pose (default: the scene's start).

        Args:
            task: The user's words.
            pose: (x, y[, yaw]) or a Pose2D.
            image: Optional camera frame: JPEG bytes or a uint8 (H, W[, 3]) array.

        Raises:
            TaskNotUnderstood: the rules back end could not read the task.
            PlanRejected: no valid plan (InfeasibleDeadline, PlanRefused, validation failures).
            BackendError: the back end failed and there is no fallback.
        """
        t0 = time.perf_counter()
        if not isinstance(task, str) or not task.strip() or len(task) > MAX_TASK_CHARS:
            raise PlanRejected(f"the task must be non-empty text of at most {MAX_TASK_CHARS} characters")
        request = PlanRequest(task, self.scene, scene_text(self.scene), _pose(pose, self.scene), None)
        if image is not None:
            request = replace(request, image_jpeg=to_jpeg(image))
        return self._run(self.backend, request, t0, None, ())

    def replan(
        self,
        plan: Plan,
        pose: PoseLike,
        satisfied: int | Iterable[int],
        reason: str,
        elapsed: float = 0.0,
    ) -> Plan:
        """A new plan for the subgoals not yet satisfied, from `pose`; its clock starts now.

        Requested deadlines move by `elapsed`; one that has passed or can no longer be met is
        re-allocated, and a note in the new plan says so (the executor then runs late rather than
        stopping).

        Args:
            plan: The plan being executed.
            pose: Current pose.
            satisfied: Number of leading subgoals done, or the indices of the satisfied ones.
            reason: Why (``stagnation``, ``regression``, ``deadline`` ... from the critic).
            elapsed: Seconds since `plan` started.

        Raises:
            PlanRejected: when nothing is left to do, or no valid plan exists.
        """
        t0 = time.perf_counter()
        if not (isinstance(elapsed, (int, float)) and math.isfinite(elapsed) and elapsed >= 0):
            raise PlanRejected(f"elapsed must be a finite number of seconds >= 0, got {elapsed!r}")
        reason = reason if len(reason) <= 200 else reason[:197] + "..."  # the schema's limit for a label
        done = set(range(satisfied)) if isinstance(satisfied, int) else set(satisfied)
        left = [sg for i, sg in enumerate(plan.subgoals) if i not in done]
        if not left:
            raise PlanRejected("every subgoal of the plan is satisfied; nothing to replan")
        notes: list[str] = []
        steps = []
        for sg in left:
            deadline = None if sg.requested_deadline is None else sg.requested_deadline - elapsed
            if deadline is not None and deadline <= 0:
                notes.append(
                    f"the requested deadline for {sg.region} ({sg.requested_deadline:g} s) has passed"
                )
                deadline = None
            steps.append(Step(sg.options, deadline, sg.hold))
        intent = Intent(tuple(steps), tuple(i.region for i in plan.invariants), plan.limits.v_max)
        start = _pose(pose, self.scene)
        request = PlanRequest(plan.task, self.scene, scene_text(self.scene), start, None)
        try:
            out = self._build(intent, request, plan.backend, reason, tuple(notes))
        except InfeasibleDeadline as err:
            notes.append(f"requested deadlines dropped: {err.reason}")
            relaxed = Intent(tuple(Step(s.regions, None, s.hold) for s in steps), intent.avoid, intent.v_max)
            out = self._build(relaxed, request, plan.backend, reason, tuple(notes))
        return _stamp(out, t0)

    # ------------------------------------------------------------------ internals
    def _run(
        self, backend: Backend, request: PlanRequest, t0: float, prior: str | None, notes: tuple[str, ...]
    ) -> Plan:
        feedback: str | None = None
        error: PlannerError | None = None
        for _ in range(max(1, backend.max_attempts)):
            try:
                intent = backend.propose(request, feedback)
                return _stamp(self._build(intent, request, backend.name, None, notes), t0)
            except PlanRefused:
                raise
            except BackendError as err:
                error = err
                break  # transport already retried inside the back end
            except PlannerError as err:
                error, feedback = err, str(err)
        fallback = getattr(backend, "fallback", None)
        if fallback is None or prior is not None:
            raise error if error is not None else PlanRejected("no plan")
        note = f"{backend.name} back end failed ({_why(error)}); planned with {fallback.name}"
        return self._run(fallback, request, t0, backend.name, (note,))

    def _build(
        self,
        intent: Intent,
        request: PlanRequest,
        backend: str,
        reason: str | None,
        notes: tuple[str, ...] = (),
    ) -> Plan:
        if intent.refusal:
            raise PlanRefused(f"the {backend} back end refused the task: {intent.refusal}")
        if not intent.steps:
            raise PlanRejected("the intent has no steps")
        # every time a multiple of the resolution (0.1 s, a multiple of the control period) so the STL
        # bounds are whole numbers of samples: deadlines round down (never later than asked), holds up
        res = self.timing.resolution_s
        intent = replace(
            intent,
            steps=tuple(
                Step(
                    s.regions, None if s.deadline is None else floor_to(s.deadline, res), ceil_to(s.hold, res)
                )
                for s in intent.steps
            ),
        )
        for name in [r for s in intent.steps for r in s.regions] + list(intent.avoid):
            try:
                self.scene.region(name)
            except ValueError as err:
                raise PlanRejected(str(err)) from err
        limits = Limits(
            self.validator.v_max if intent.v_max is None else intent.v_max, self.validator.omega_max
        )
        check_limits(limits, self.validator)
        try:
            legs = ground(self.roadmap, request.pose, intent.steps)
        except SceneError as err:
            raise PlanRejected(f"cannot ground the task: {err}") from err
        timing = [
            LegTiming(
                leg.region,
                leg.length,
                leg.length / limits.v_max + leg.turn / limits.omega_max,
                s.hold,
                s.deadline,
            )
            for leg, s in zip(legs, intent.steps, strict=False)
        ]
        deadlines = allocate(timing, replace(self.timing, v_max=limits.v_max), self.scorer)
        windows = stlgen.windows(deadlines, [s.hold for s in intent.steps])
        waypoints: list[tuple[float, float]] = []
        subgoals = []
        for leg, step, window in zip(legs, intent.steps, windows, strict=False):
            for p in leg.points:
                if not waypoints or waypoints[-1] != p:
                    waypoints.append((float(p[0]), float(p[1])))
            options = (leg.region, *[r for r in step.regions if r != leg.region])
            subgoals.append(
                Subgoal(leg.region, options, window, step.hold, step.deadline, len(waypoints) - 1)
            )
        horizon = stlgen.horizon(subgoals)
        invariants = tuple(Invariant("keep_out", r, (0.0, horizon)) for r in intent.avoid)
        plan = Plan(
            task=request.task,
            scene=self.scene.name,
            spec=stlgen.spec(subgoals, invariants),
            subgoals=tuple(subgoals),
            invariants=invariants,
            limits=limits,
            start=request.pose,
            waypoints=tuple(waypoints),
            horizon=horizon,
            backend=backend,
            replan_reason=reason,
            notes=notes,
        )
        return validate(plan, self.scene, self.validator)


def _stamp(plan: Plan, t0: float) -> Plan:
    return replace(plan, latency_ms=round((time.perf_counter() - t0) * 1e3, 3))


def _why(err: Exception | None, n: int = 160) -> str:
    """A short reason for a plan note: server URLs removed, model text that looks like code withheld."""
    text = re.sub(r"https?://\S+", "the server", str(err) if err is not None else "no reply")
    text = text if len(text) <= n else text[: n - 3] + "..."
    return f"{type(err).__name__}" if looks_like_code(text) else text


def _pose(pose: PoseLike, scene: Scene) -> tuple[float, float, float]:
    if pose is None:
        return (scene.start.x, scene.start.y, scene.start.yaw)
    if isinstance(pose, Pose2D):
        pose = (pose.x, pose.y, pose.yaw)
    try:
        vals = tuple(float(v) for v in pose)
    except (TypeError, ValueError) as err:
        raise PlanRejected(f"pose must be (x, y) or (x, y, yaw) numbers, got {pose!r}") from err
    if len(vals) not in (2, 3) or not all(math.isfinite(v) for v in vals):
        raise PlanRejected(f"pose must be (x, y) or (x, y, yaw) finite numbers, got {pose!r}")
    return (vals[0], vals[1], vals[2] if len(vals) == 3 else 0.0)
