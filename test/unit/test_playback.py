"""Playback of K-action sequences: per-step commands, preemption and decision triggers (issue 4)."""

from __future__ import annotations

import numpy as np
import pytest

from cadence.policy.errors import ConfigError, PolicyError
from cadence.policy.playback import ActionSequence, PlaybackConfig, Player

DT = 0.05


def _seq(start: float, k: int = 4, decision_id: int = 1, base: float = 0.0) -> ActionSequence:
    actions = np.stack([base + 0.1 * np.arange(k), -0.1 * np.arange(k)], axis=1)
    return ActionSequence(actions, start, DT, decision_id)


def test_sequence_becomes_one_command_per_control_step() -> None:
    seq = _seq(10.0)
    got = [seq.command_at(10.0 + i * DT) for i in range(4)]
    assert got == [(pytest.approx(0.1 * i), pytest.approx(-0.1 * i)) for i in range(4)]
    assert seq.command_at(10.0 + 0.5 * DT) == got[0]  # mid-step: still step 0
    assert seq.command_at(9.0) == got[0]  # before the start: the first action
    assert seq.command_at(seq.end_time) is None  # exhausted
    assert seq.end_time == pytest.approx(10.0 + 4 * DT)


def test_sequence_is_a_frozen_copy() -> None:
    buf = np.zeros((3, 2))
    seq = ActionSequence(buf, 0.0, DT)
    buf[:] = 9.0  # the policy reuses its output buffer
    assert seq.command_at(0.0) == (0.0, 0.0)
    with pytest.raises(ValueError):
        seq.actions[0, 0] = 1.0


@pytest.mark.parametrize("actions", [np.zeros((0, 2)), np.zeros((3, 3)), np.zeros(4)])
def test_bad_sequence_shape(actions: np.ndarray) -> None:
    with pytest.raises(PolicyError, match=r"\[K, 2\]"):
        ActionSequence(actions, 0.0, DT)


def test_new_decision_preempts_the_rest_of_the_old_one() -> None:
    player = Player(PlaybackConfig(control_dt=DT, decision_period=1.0))
    player.start(_seq(0.0, k=8, decision_id=1), 0.0)
    assert player.command(2 * DT + 1e-4) == (pytest.approx(0.2), pytest.approx(-0.2))
    player.start(_seq(3 * DT, k=8, decision_id=2, base=5.0), 3 * DT)
    assert player.command(3 * DT) == (pytest.approx(5.0), pytest.approx(0.0))
    assert player.preempted_steps == 5  # steps 3..7 of the first sequence were dropped
    assert player.decisions == 2


def test_older_decision_never_preempts_a_newer_one() -> None:
    player = Player()
    assert player.start(_seq(0.0, decision_id=5), 0.0)
    assert not player.start(_seq(0.01, decision_id=4, base=9.0), 0.01)
    assert player.command(0.01) == (0.0, 0.0) and player.ignored == 1


def test_triggers_initial_time_exhausted_event() -> None:
    player = Player(PlaybackConfig(control_dt=DT, decision_period=0.1))
    assert player.due(0.0) == "initial"
    assert player.command(0.0) is None  # nothing to play: the caller holds
    player.start(_seq(0.0, k=4), 0.0)
    assert player.due(0.05) is None
    assert player.due(0.1) == "time"
    player.request("critic: stagnation")
    assert player.due(0.01) == "event"
    player.start(_seq(0.01, k=4, decision_id=2), 0.01)
    assert player.due(0.02) is None  # starting a sequence clears the event

    slow = Player(PlaybackConfig(control_dt=DT, decision_period=10.0, lookahead=DT))
    slow.start(_seq(0.0, k=4), 0.0)
    assert slow.due(2 * DT) is None
    assert slow.due(3 * DT) == "exhausted"  # one step of lookahead before the end
    assert slow.command(4 * DT) is None


def test_reset_drops_sequence_and_event() -> None:
    player = Player()
    player.start(_seq(0.0), 0.0)
    player.request("plan")
    player.reset()
    assert player.command(0.0) is None and player.due(0.0) == "initial"


@pytest.mark.parametrize(
    ("key", "value"), [("control_dt", 0.0), ("decision_period", -1.0), ("lookahead", -0.1)]
)
def test_bad_config_names_the_key(key: str, value: float) -> None:
    with pytest.raises(ConfigError, match=key):
        PlaybackConfig(**{key: value})
