"""The fused decision (one compiled call) gives what the public calls give, bit for bit.

Reference: THE builder's Python path, ``policy.act`` and a second :class:`SafetyFilter` fed with
:meth:`SafetyFilter.observe` - the unfused decision of the executor before issue 4's kernels.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numba  # noqa: F401  (a pinned requirement: a missing numba fails here, it does not skip)
import numpy as np
import pytest
import torch
from test_observation_fast import _case, _same_bits

from cadence.learn.export import export_policy
from cadence.learn.networks import SequenceActor
from cadence.policy import kernels
from cadence.policy.decision import Decider
from cadence.policy.executor import ExecutorCore
from cadence.policy.observation import DEFAULT_LAYOUT, ObservationBuilder, RobotState, Scan, Targets
from cadence.policy.runtime import OnnxPolicy, load_policy
from cadence.policy.safety import SafetyConfig, SafetyFilter
from cadence.sim.robot import V_MAX

K = 8


@pytest.fixture(scope="module")
def policy_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(5)
    actor = SequenceActor(DEFAULT_LAYOUT.obs_dim, np.array([-0.5, -2.0]), np.array([1.0, 2.0]), K, hidden=64)
    path = tmp_path_factory.mktemp("decision") / "actor.onnx"
    export_policy(actor, DEFAULT_LAYOUT, K, path)
    return path


def _reference(policy: OnnxPolicy, ref: SafetyFilter, case: tuple, now: float):  # type: ignore[no-untyped-def]
    obs = ObservationBuilder(compiled=False).build_python(*case)
    actions = policy.act(obs[None, :])
    ref.observe(obs, now)
    return obs, actions, ref.filter(float(actions[0, 0, 0]), float(actions[0, 0, 1]), now)


def test_fused_decision_equals_the_public_calls(policy_path: Path) -> None:
    policy = load_policy(policy_path, backend="numba")
    decider = Decider(policy, ObservationBuilder(), SafetyFilter(SafetyConfig.for_robot()))
    assert decider.fused
    ort = load_policy(policy_path, backend="onnxruntime")
    ref = SafetyFilter(SafetyConfig.for_robot())
    rng = np.random.default_rng(11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for i in range(1500):
            case = _case(rng, DEFAULT_LAYOUT.n_beams)
            now = 0.05 * i
            if rng.random() < 0.05:
                now += 1.0  # stale for the reference too: both hold
            try:
                obs, actions, command = _reference(policy, ref, case, now)  # type: ignore[arg-type]
            except Exception as err:
                with pytest.raises(type(err)):
                    decider.decide(*case, now)
                continue
            got_actions, got_command = decider.decide(*case, now)
            _same_bits(decider.obs, obs)
            np.testing.assert_array_equal(got_actions, actions)
            assert got_actions.shape == (1, K, 2) and got_actions.dtype == np.float32
            assert got_command == command
            if np.isfinite(obs).all():
                np.testing.assert_allclose(got_actions, ort.act(obs[None, :]), rtol=1e-5, atol=1e-6)
    assert decider.safety.counters == ref.counters
    assert ref.counters.nan_obs > 0 and ref.counters.clamped + ref.counters.accel_limited > 0


@pytest.mark.parametrize("speed", [0.5, 1e17, 1e18, 1.5e19, 2e19, 1e30, math.inf, math.nan])
def test_finiteness_verdict_is_the_filters(policy_path: Path, speed: float) -> None:
    """Huge finite entries: the kernel asks BLAS, as SafetyFilter.observe does (obs . obs overflows)."""
    policy = load_policy(policy_path, backend="numba")
    decider = Decider(policy)
    ref = SafetyFilter(SafetyConfig.for_robot())
    case = (
        RobotState(1.0, 2.0, 0.3, speed * V_MAX, 0.1),
        Scan(np.full(360, 3.0), -math.pi, 2 * math.pi / 360, 5.0),
        Targets((3.0, 1.0), (4.0, 2.0), (5.0, 5.0)),
        30.0,
        (0.0, 0.0),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        obs, _, command = _reference(policy, ref, case, 1.0)
        assert decider.observe(*case, 1.0) == ref.observe(obs, 1.0)
        _, got = decider.decide(*case, 1.0)
    assert got == command


def test_executor_core_builds_through_the_decider(policy_path: Path) -> None:
    from cadence.planner.planner import Planner
    from cadence.planner.scene import load_scene

    scene = load_scene("apartment")
    plan = Planner(scene, "rules").plan("Go to the kitchen", (4.0, 4.0, 0.0))
    policy = load_policy(policy_path, backend="numba")
    core = ExecutorCore(policy, stale_timeout=0.25)
    assert core.decider.fused and core.decider.builder is core.builder and core.decider.safety is core.safety
    core.set_plan(plan, scene, 0.0)
    scan = Scan(np.linspace(0.5, 4.0, 360), -math.pi, 2 * math.pi / 360, 5.0)
    state = RobotState(4.0, 4.0, 0.2, 0.1, 0.0)
    assert core.observe(state, scan, 0.05)
    want = ObservationBuilder(compiled=False).build_python(
        state,
        scan,
        core.follower.targets(),
        core.follower.time_remaining(0.05),
        (0.0, 0.0),  # type: ignore[union-attr]
    )
    _same_bits(core.decider.obs, want)
    step = core.step(0.05)
    assert step.sequence is not None
    np.testing.assert_array_equal(step.sequence.actions, policy.act(want[None, :])[0])


def test_without_kernels_the_decider_calls_the_public_api(
    policy_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kernels.reset_for_tests()
    try:
        monkeypatch.setenv(kernels.ENV_SWITCH, "0")
        policy = load_policy(policy_path)
        decider = Decider(policy)
        assert not decider.fused and not decider.builder.compiled
        ref = SafetyFilter(SafetyConfig.for_robot())
        rng = np.random.default_rng(3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            for i in range(200):
                case = _case(rng, DEFAULT_LAYOUT.n_beams)
                try:
                    obs, actions, command = _reference(policy, ref, case, 0.05 * i)  # type: ignore[arg-type]
                except Exception:
                    continue
                got_actions, got_command = decider.decide(*case, 0.05 * i)
                _same_bits(decider.obs, obs)
                np.testing.assert_array_equal(got_actions, actions)
                assert got_command == command
    finally:
        kernels.reset_for_tests()


def test_a_wrong_fused_kernel_is_not_used(policy_path: Path, monkeypatch: pytest.MonkeyPatch, caplog) -> None:  # type: ignore[no-untyped-def]
    module = kernels.load()
    assert module is not None
    real = module.decide

    def wrong(obs, actions, *args):  # type: ignore[no-untyped-def]
        verdict, v, w = real(obs, actions, *args)
        actions[0, 3, 1] += np.float32(1e-3)  # a later action: the first command is still right
        return verdict, v, w

    monkeypatch.setattr(module, "decide", wrong)
    policy = load_policy(policy_path, backend="numba")
    with caplog.at_level("WARNING", logger="cadence.policy.kernels"):
        decider = Decider(policy)
    assert not decider.fused
    assert "fused kernel not used (probe" in caplog.text and "differs from the separate calls" in caplog.text
    case = _case(np.random.default_rng(1), DEFAULT_LAYOUT.n_beams)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        actions, _ = decider.decide(*case, 0.0)
        want = policy.act(ObservationBuilder(compiled=False).build_python(*case)[None, :])
    np.testing.assert_array_equal(actions, want)
