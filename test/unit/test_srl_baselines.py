"""SB3 baselines: the exportable sequence module reproduces SB3's own deterministic predict."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cadence.learn.baselines import SB3SequencePolicy, sb3_policy_fn, train_sb3
from cadence.learn.errors import ConfigError
from cadence.learn.toy import PointReach


@pytest.mark.slow
@pytest.mark.parametrize(("algo", "steps"), [("sac", 100), ("ppo", 260)])
def test_sequence_module_equals_sb3_predict(algo: str, steps: int) -> None:
    env = PointReach()
    overrides = {"learning_starts": 10} if algo == "sac" else {"n_steps": 128, "n_epochs": 2}
    model = train_sb3(algo, env, steps, seed=0, repeat=2, hidden=16, **overrides)
    module = SB3SequencePolicy(model, algo, env.action_space.low, env.action_space.high, repeat=2).eval()
    obs = np.linspace(-1.5, 1.5, 7, dtype=np.float32).reshape(7, 1)
    with torch.inference_mode():
        seq = module(torch.from_numpy(obs)).numpy()
    assert seq.shape == (7, 2, 1) and np.array_equal(seq[:, 0], seq[:, 1])
    expected = np.stack([sb3_policy_fn(model)(o)[0] for o in obs])
    assert np.allclose(seq[:, 0], expected, atol=1e-5)


def test_unknown_baseline_and_bad_budget_are_refused() -> None:
    with pytest.raises(ConfigError, match="valid: sac, ppo"):
        train_sb3("td3", PointReach(), 100, seed=0)
    with pytest.raises(ConfigError, match="repeat"):
        train_sb3("sac", PointReach(), 100, seed=0, repeat=0)
