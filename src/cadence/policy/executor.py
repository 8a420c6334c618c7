"""The executor's control step, ROS-free: observation -> decision (when due) -> playback -> safety.

:class:`ExecutorCore` is what ``executor_node`` calls at every control tick; it only composes the
policy runtime (:mod:`cadence.policy`: observation builder, ``Player``, ``SafetyFilter``,
``BackupSwitch``) with :class:`~cadence.policy.mission.PlanFollower`. Everything takes the current time
as an argument, so the node (ROS time, sim time) and tests drive the same code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cadence.planner.plan import Plan
from cadence.planner.scene import Scene
from cadence.policy.backup import BackupPolicy, BackupSwitch
from cadence.policy.decision import Decider
from cadence.policy.mission import PlanFollower
from cadence.policy.observation import ObservationBuilder, ObservationError, RobotState, Scan
from cadence.policy.playback import ActionSequence, PlaybackConfig, Player
from cadence.policy.safety import HOLD_NAN_OUTPUT, Command, SafetyConfig, SafetyFilter

HOLD_NO_PLAN = "no plan"
HOLD_DONE = "plan complete"
_NAN_OBS = np.array([math.nan], dtype=np.float32)


@dataclass(frozen=True)
class Step:
    """The outcome of one control tick.

    Attributes:
        command: The filtered command to send (``held`` and ``reason`` say why it may be zero).
        sequence: The new decision's sequence when one was made this tick, else None.
        controller: ``policy`` or ``backup`` (who made the current sequence).
    """

    command: Command
    sequence: ActionSequence | None
    controller: str


class ExecutorCore:
    """One robot's executor: the learned policy with the backup law and the safety filter.

    Args:
        policy: Anything with ``act(obs[B, obs_dim]) -> [B, K, 2]`` and a manifest.
        stale_timeout: Seconds after which an observation is stale (hold).
        backup: The backup policy (default: :class:`BackupPolicy` on the policy's layout).
    """

    def __init__(self, policy, stale_timeout: float = 0.5, backup=None) -> None:
        action = policy.manifest.action
        self.policy = policy
        self.backup = backup or (policy if isinstance(policy, BackupPolicy) else BackupPolicy())
        self.control_dt = float(action.control_dt)
        self.builder = ObservationBuilder()
        self.player = Player(
            PlaybackConfig(control_dt=self.control_dt, decision_period=action.k * self.control_dt)
        )
        self.safety = SafetyFilter(
            SafetyConfig.for_robot(obs_timeout=stale_timeout, control_dt=self.control_dt)
        )
        self.switch = BackupSwitch()
        # builds each observation into its buffer and feeds the filter (one compiled call when it can)
        self.decider = Decider(policy, self.builder, self.safety)
        self._obs = self.decider.obs
        self.follower: PlanFollower | None = None
        self.last_command = (0.0, 0.0)
        self._obs_ok, self._obs_stamp = False, -math.inf
        self.decisions = 0
        self.last_time = 0.0
        self._decision_id = 0

    # ------------------------------------------------------------------ inputs
    def set_plan(self, plan: Plan, scene: Scene, now: float) -> None:
        """Follow `plan` (in `scene`) from `now`; a new decision is made at the next tick."""
        self.follower = PlanFollower(plan, scene, now)
        self.player.request("plan")

    def reset_sequence(self) -> None:
        """Drop the sequence and the filter state (deactivation): nothing old is replayed; the next
        decision waits for a fresh observation. The plan is kept."""
        self.player.reset()
        self.safety.reset()
        self.last_command = (0.0, 0.0)
        self._obs_ok, self._obs_stamp = False, -math.inf

    def observe(self, state: RobotState | None, scan: Scan | None, stamp: float) -> bool:
        """Record the newest sensor data (None = invalid: NaN odometry); returns whether it is usable."""
        self._obs_ok = False
        if state is None or scan is None or self.follower is None:
            if state is None:
                self.safety.observe(_NAN_OBS, stamp)
            return False
        self._obs_stamp = stamp
        self.follower.update(state.x, state.y, stamp)
        try:
            self._obs_ok = self.decider.observe(
                state,
                scan,
                self.follower.targets(),
                self.follower.time_remaining(stamp),
                self.last_command,
                stamp,
            )
        except ObservationError:
            self.safety.observe(_NAN_OBS, stamp)
            return False
        return self._obs_ok

    # ------------------------------------------------------------------ control
    def step(self, now: float) -> Step:
        """One control tick at `now`: maybe decide, then play and filter."""
        self.last_time = now
        if self.follower is None:
            return self._hold(now, HOLD_NO_PLAN)
        if self.follower.done:
            return self._hold(now, HOLD_DONE)
        sequence = None
        fresh = self._obs_ok and now - self._obs_stamp <= self.safety.config.obs_timeout
        if fresh and self.player.due(now) is not None:  # never decide on a stale or broken observation
            sequence = self._decide(now)
        cmd = self.player.command(now)
        v, w = cmd if cmd is not None else (0.0, 0.0)
        out = self.safety.filter(v, w, now)
        self.switch.on_step(out.reason == HOLD_NAN_OUTPUT, now)
        self.last_command = (out.v, out.omega)
        return Step(out, sequence, self.switch.active)

    def _decide(self, now: float) -> ActionSequence:
        trigger = self.player.due(now) or "time"
        active = self.switch.active
        actions = (self.policy if active == "policy" else self.backup).act(self._obs[None, :])[0]
        if active == "policy":
            active = self.switch.on_decision(actions, now)
            if active == "backup":
                actions = self.backup.act(self._obs[None, :])[0]
        self._decision_id += 1
        self.decisions += 1
        seq = ActionSequence(actions, now, self.control_dt, self._decision_id, trigger)
        self.player.start(seq, now)
        return seq

    def _hold(self, now: float, reason: str) -> Step:
        self.player.reset()
        self.last_command = (0.0, 0.0)
        return Step(Command(0.0, 0.0, True, reason), None, self.switch.active)
