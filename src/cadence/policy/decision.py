"""One decision in one call: THE observation builder, the policy and the safety filter (issue 4).

:class:`Decider` is the executor's hot path. When the builder runs its compiled kernel and the
policy runs the compiled MLP (:mod:`cadence.policy.kernels`, backend ``"numba"``), one numba call
builds the observation into a preallocated buffer, decides whether it is finite (the safety filter's
criterion) and runs the network on it; Python then only feeds the safety filter. Otherwise it calls
:meth:`ObservationBuilder.build`, ``policy.act`` and :meth:`SafetyFilter.observe` in turn - the
results are the same either way (test/unit/test_decision.py).

:class:`cadence.policy.executor.ExecutorCore` uses :meth:`Decider.observe` for every observation.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from cadence.policy.observation import ObservationBuilder, ObservationError, RobotState, Scan, Targets
from cadence.policy.safety import Command, SafetyConfig, SafetyFilter

_CERTAIN_FINITE, _ASK_BLAS = 1, 2  # cadence.policy._jit.verdict


class Decider:
    """Observation -> policy -> safety filter for one robot (not reentrant: one per thread).

    Args:
        policy: Anything with ``act(obs[B, obs_dim]) -> [B, K, 2]`` and ``obs_dim``; fused when it
            is an :class:`~cadence.policy.runtime.OnnxPolicy` on the ``"numba"`` backend.
        builder: THE observation builder (default: a new one on the default layout).
        safety: The safety filter (default: the rover's limits).

    Raises:
        ObservationError: the builder's and the policy's observation widths differ.
    """

    def __init__(
        self, policy: Any, builder: ObservationBuilder | None = None, safety: SafetyFilter | None = None
    ) -> None:
        self.policy = policy
        self.builder = builder if builder is not None else ObservationBuilder()
        if self.builder.obs_dim != policy.obs_dim:
            raise ObservationError(
                f"policy expects obs_dim {policy.obs_dim}, this build's observation has {self.builder.obs_dim}"
            )
        self.safety = safety if safety is not None else SafetyFilter(SafetyConfig.for_robot())
        self.obs = np.zeros(self.builder.obs_dim, np.float32)  # the newest observation
        self._check: Any = None
        self._fused: Any = None
        self._kernel_args = self.builder.kernel_args  # bound once: decide runs cold, every lookup shows
        if self.builder.compiled:
            from cadence.policy import kernels

            module = kernels.load()
            if module is not None:
                self._check = module.build_checked
                net = getattr(policy, "kernel", None)
                if (
                    isinstance(net, kernels.MlpKernel)
                    and net.plan.n_in == self.builder.obs_dim
                    and len(net.plan.out_tail) == 2  # [K, n_actions]
                ):
                    self._fused = module.decide
                    self._net = (net.net_i, net.net_f)
                    self._shape = (1, *net.plan.out_tail)
                    why = self._check_fused()
                    if why is not None:
                        kernels.LOG.warning("decision: fused kernel not used (%s); separate calls", why)
                        self._fused = None

    def _check_fused(self) -> str | None:
        """Why the fused kernel differs from ``build_python`` + ``policy.act`` + the filter's
        finiteness test on probe inputs (bit for bit); None when it does not."""
        from cadence.policy.kernels import observation_probes

        obs = np.empty(self.builder.obs_dim, np.float32)
        with np.errstate(all="ignore"):
            for i, probe in enumerate(observation_probes(self.builder.layout.n_beams, 24, seed=1)):
                args = self.builder.kernel_args(*probe)
                if args is None:
                    continue
                actions = np.empty(self._shape, np.float32)
                verdict, v, w = self._fused(obs, actions, *args, *self._net)
                want = self.builder.build_python(*probe)
                want_actions = self.policy.act(want[None, :])
                finite = math.isfinite(want.dot(want))
                if not (
                    np.array_equal(obs.view(np.uint32), want.view(np.uint32))
                    and np.array_equal(actions, want_actions, equal_nan=True)
                    and (verdict == _ASK_BLAS or (verdict == _CERTAIN_FINITE) == finite)
                    and np.array_equal([v, w], want_actions[0, 0], equal_nan=True)
                ):
                    return f"probe {i} differs from the separate calls"
        return None

    @property
    def fused(self) -> bool:
        """Whether :meth:`decide` is one compiled call."""
        return self._fused is not None

    def observe(
        self,
        state: RobotState,
        scan: Scan,
        targets: Targets,
        time_remaining: float,
        last_command: tuple[float, float],
        stamp: float,
    ) -> bool:
        """Build the observation into :attr:`obs` and give it to the safety filter; returns finiteness.

        Raises:
            ObservationError: as :meth:`ObservationBuilder.build` does (the filter is not fed).
        """
        if self._check is not None:
            args = self._kernel_args(state, scan, targets, time_remaining, last_command)
            if args is not None:
                verdict = self._check(self.obs, *args)
                if verdict != _ASK_BLAS:
                    return self.safety.observe_checked(verdict == _CERTAIN_FINITE, stamp)
                return self.safety.observe(self.obs, stamp)
        self.builder.build(state, scan, targets, time_remaining, last_command, self.obs)
        return self.safety.observe(self.obs, stamp)

    def decide(
        self,
        state: RobotState,
        scan: Scan,
        targets: Targets,
        time_remaining: float,
        last_command: tuple[float, float],
        now: float,
    ) -> tuple[np.ndarray, Command]:
        """One decision at ``now``: observe, act, and filter the sequence's first command.

        Returns:
            ``(actions float32[1, K, 2], command)``: the policy's sequence (a fresh array) and its
            first command after the safety filter.

        Raises:
            ObservationError: as :meth:`ObservationBuilder.build` does.
        """
        fused = self._fused
        if fused is not None:
            args = self._kernel_args(state, scan, targets, time_remaining, last_command)
            if args is not None:
                actions = np.empty(self._shape, np.float32)
                verdict, v, w = fused(self.obs, actions, *args, *self._net)
                safety = self.safety
                if verdict != _ASK_BLAS:
                    safety.observe_checked(verdict == _CERTAIN_FINITE, now)
                else:
                    safety.observe(self.obs, now)
                return actions, safety.filter(v, w, now)
        obs = self.builder.build(state, scan, targets, time_remaining, last_command, self.obs)
        actions = self.policy.act(obs[None, :])
        self.safety.observe(obs, now)
        return actions, self.safety.filter(float(actions[0, 0, 0]), float(actions[0, 0, 1]), now)
