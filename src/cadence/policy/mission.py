"""Following a plan in the executor: which subgoal is current, its route and its time budget (ROS-free).

The policy is trained goal-conditioned on one route and one time budget (``cadence.sim.env``); a
plan is a sequence of them. :class:`PlanFollower` cuts the plan's waypoints into one route per
subgoal (up to ``Subgoal.waypoint``), feeds the current one to the observation builder's
:class:`~cadence.policy.observation.WaypointTracker` (so waypoint switching is the env's) and moves
to the next subgoal once the robot is inside one of the subgoal's regions for its hold time (TGPO's
timed subgoals). The time remaining is the subgoal's deadline minus the time since the plan started.
"""

from __future__ import annotations

import math

from cadence.planner.plan import Plan
from cadence.planner.scene import Scene
from cadence.policy.observation import Targets, WaypointTracker

INSIDE_MARGIN = 0.3  # metres inside a region before it counts as reached: the spec's robustness margin


class PlanFollower:
    """Tracks progress through a plan's subgoals.

    Args:
        plan: The plan being executed.
        scene: Its scene (regions for the "inside" test).
        t0: Time (any clock, the one passed to :meth:`update`) at which the plan started; None until
            the caller knows it (set ``t0`` before the first :meth:`update`).
    """

    def __init__(self, plan: Plan, scene: Scene, t0: float | None) -> None:
        self.plan = plan
        self.scene = scene
        self.t0 = t0
        self.routes: list[list[tuple[float, float]]] = []
        prev = -1
        for sg in plan.subgoals:
            pts = list(plan.waypoints[prev + 1 : sg.waypoint + 1]) or [plan.waypoints[sg.waypoint]]
            self.routes.append([(float(x), float(y)) for x, y in pts])
            prev = max(prev, sg.waypoint)
        self._boxes = [
            [(*scene.region(r).center, *scene.region(r).half_extents) for r in sg.options]
            for sg in plan.subgoals
        ]
        self.stage = 0
        self._inside_since: float | None = None
        self.tracker = WaypointTracker(self.routes[0])

    @property
    def done(self) -> bool:
        """Every subgoal has been met."""
        return self.stage >= len(self.plan.subgoals)

    def _inside(self, x: float, y: float) -> bool:
        # Plain floats, not Box.signed_distance (numpy): this runs at the control rate. Inside a box,
        # the signed distance is the distance to the nearest edge.
        for cx, cy, hx, hy in self._boxes[self.stage]:
            if min(hx - abs(x - cx), hy - abs(y - cy)) > INSIDE_MARGIN:
                return True
        return False

    def update(self, x: float, y: float, now: float) -> int:
        """Advance the waypoint tracker and, when a subgoal is met, the stage; returns the stage."""
        while not self.done:
            sg = self.plan.subgoals[self.stage]
            self.tracker.update(x, y)
            elapsed = now - self.t0
            if not self._inside(x, y) or elapsed < sg.window[0]:
                self._inside_since = None
                break
            if self._inside_since is None:
                self._inside_since = now
            if now - self._inside_since < sg.hold:
                break
            self.stage += 1
            self._inside_since = None
            if not self.done:
                self.tracker.reset(self.routes[self.stage])
        return self.stage

    def targets(self) -> Targets:
        """Current waypoint, next and goal of the current subgoal's route (the last one when done)."""
        return self.tracker.targets()

    def time_remaining(self, now: float) -> float:
        """Seconds to the current subgoal's deadline (negative when late; 0 when done)."""
        if self.done:
            return 0.0
        deadline = self.plan.subgoals[self.stage].window[1]
        return deadline - (now - self.t0) if math.isfinite(deadline) else self.plan.horizon
