"""TD3+BC on the SRL actor (cadence.learn.offline): cloning, the Q term, input checks, ONNX weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from cadence.data.dataset import Transitions
from cadence.learn.errors import ConfigError, LearnError
from cadence.learn.export import export_policy
from cadence.learn.offline import (
    BaseModelError,
    OfflineConfig,
    actor_from_onnx,
    new_actor,
    train_td3bc,
)
from cadence.policy.observation import DEFAULT_LAYOUT
from cadence.sim import robot

OBS, K = 6, 2
LOW, HIGH = np.array([-1.0, -1.0]), np.array([1.0, 1.0])


def _bandit(n: int = 512, seed: int = 0) -> Transitions:
    """One-step data: half the sequences are all +0.5 (reward 1), half all -0.5 (reward 0)."""
    rng = np.random.default_rng(seed)
    obs = rng.standard_normal((n, OBS)).astype(np.float32)
    good = rng.random(n) < 0.5
    actions = np.where(good[:, None], 0.5, -0.5).astype(np.float32) * np.ones((n, 2 * K), np.float32)
    return Transitions(obs, actions, good.astype(np.float32), obs.copy(), np.ones(n, bool))


def _mean_action(actor: torch.nn.Module, data: Transitions) -> float:
    with torch.inference_mode():
        return float(actor(torch.from_numpy(data.obs)).mean())


def test_pure_cloning_matches_the_data_and_the_q_term_prefers_rewarded_sequences() -> None:
    data = _bandit()
    common = dict(steps=250, batch_size=64, hidden=32, gamma=0.0, actor_lr=3e-3, critic_lr=3e-3)
    bc = train_td3bc(data, OfflineConfig(alpha=0.0, **common), new_actor(OBS, LOW, HIGH, K, 32))
    rl = train_td3bc(data, OfflineConfig(alpha=2.5, **common), new_actor(OBS, LOW, HIGH, K, 32))
    # Cloning a 50/50 mix of +0.5 and -0.5 lands in the middle; the critic pulls towards +0.5.
    assert abs(_mean_action(bc.actor, data)) < 0.15
    assert _mean_action(rl.actor, data) > 0.3
    assert rl.stats.mean_q > bc.stats.mean_q - 1.0  # finite, reported
    assert all(np.isfinite(v) for v in rl.stats[1:])


def test_cloning_reduces_the_error_to_the_executed_sequence() -> None:
    rng = np.random.default_rng(1)
    obs = rng.standard_normal((300, OBS)).astype(np.float32)
    actions = np.tanh(obs[:, :1] * np.ones((1, 2 * K))).astype(np.float32) * 0.8
    data = Transitions(obs, actions, np.zeros(300, np.float32), obs, np.zeros(300, bool))
    actor = new_actor(OBS, LOW, HIGH, K, 32)
    before = float(((actor(torch.from_numpy(obs)).detach().reshape(300, -1).numpy() - actions) ** 2).mean())
    res = train_td3bc(data, OfflineConfig(steps=300, alpha=0.0, hidden=32, actor_lr=3e-3), actor)
    after = float(
        ((res.actor(torch.from_numpy(obs)).detach().reshape(300, -1).numpy() - actions) ** 2).mean()
    )
    assert after < 0.25 * before
    assert not res.actor.training
    # The input actor is not modified (a copy is trained).
    again = float(((actor(torch.from_numpy(obs)).detach().reshape(300, -1).numpy() - actions) ** 2).mean())
    assert again == pytest.approx(before)


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("obs", np.full((4, OBS), np.nan, np.float32), "NaN"),
        ("actions", np.zeros((4, 3), np.float32), "shape"),
        ("rewards", np.array([0, np.inf, 0, 0], np.float32), "NaN or inf"),
    ],
)
def test_bad_transitions_are_refused(field: str, value: np.ndarray, match: str) -> None:
    data = _bandit(4)._replace(**{field: value})
    with pytest.raises(LearnError, match=match):
        train_td3bc(data, OfflineConfig(steps=1), new_actor(OBS, LOW, HIGH, K, 8))


def test_empty_dataset_is_refused() -> None:
    z = np.zeros((0, OBS), np.float32)
    empty = Transitions(z, np.zeros((0, 2 * K), np.float32), np.zeros(0, np.float32), z, np.zeros(0, bool))
    with pytest.raises(LearnError, match="no transitions"):
        train_td3bc(empty, OfflineConfig(steps=1), new_actor(OBS, LOW, HIGH, K, 8))


@pytest.mark.parametrize(
    "kwargs", [{"steps": 0}, {"gamma": 1.0}, {"tau": 0.0}, {"alpha": -1.0}, {"actor_lr": 0.0}]
)
def test_config_validation(kwargs: dict) -> None:
    with pytest.raises(ConfigError, match=next(iter(kwargs))):
        OfflineConfig(**kwargs)


def test_actor_from_onnx_reproduces_the_exported_actor(tmp_path: Path) -> None:
    k = robot.DEFAULT_K
    actor = new_actor(DEFAULT_LAYOUT.obs_dim, robot.ACTION_LOW, robot.ACTION_HIGH, k, 24, seed=3)
    export_policy(actor, DEFAULT_LAYOUT, k, tmp_path / "p.onnx")
    again = actor_from_onnx(tmp_path / "p.onnx", robot.ACTION_LOW, robot.ACTION_HIGH, k)
    x = torch.randn(5, DEFAULT_LAYOUT.obs_dim)
    assert torch.equal(actor(x), again(x))
    assert again.trunk[0].out_features == 24


def test_actor_from_onnx_refuses_other_graphs(tmp_path: Path) -> None:
    class Other(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = torch.nn.Linear(DEFAULT_LAYOUT.obs_dim, 2 * robot.DEFAULT_K)

        def forward(self, obs: torch.Tensor) -> torch.Tensor:
            return torch.tanh(self.lin(obs)).view(-1, robot.DEFAULT_K, 2)

    export_policy(Other(), DEFAULT_LAYOUT, robot.DEFAULT_K, tmp_path / "o.onnx")
    with pytest.raises(BaseModelError, match="not an SRL SequenceActor"):
        actor_from_onnx(tmp_path / "o.onnx", robot.ACTION_LOW, robot.ACTION_HIGH, robot.DEFAULT_K)
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(BaseModelError, match="cannot read"):
        actor_from_onnx(tmp_path / "junk.onnx", robot.ACTION_LOW, robot.ACTION_HIGH, robot.DEFAULT_K)
