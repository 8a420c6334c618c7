"""The SRL paper's recurrent sequence actor (``SRLConfig.actor = "gru"``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from cadence.learn.checkpoint import load_checkpoint, save_checkpoint
from cadence.learn.config import SRLConfig
from cadence.learn.errors import ConfigError
from cadence.learn.export import export_policy
from cadence.learn.networks import GRUSequenceActor, SequenceActor, make_actor
from cadence.learn.srl import SRLAgent
from cadence.policy.observation import ObservationLayout
from cadence.policy.runtime import load_policy

LOW, HIGH = np.array([-0.5, -2.0]), np.array([1.0, 2.0])


def _actor(k: int = 8, obs_dim: int = 5, hidden: int = 16, seed: int = 0) -> GRUSequenceActor:
    torch.manual_seed(seed)
    return GRUSequenceActor(obs_dim, LOW, HIGH, k=k, hidden=hidden)


def test_outputs_are_physical_units_within_bounds() -> None:
    actor = _actor()
    obs = torch.randn(64, 5) * 100.0  # saturate the encoder
    det = actor(obs)
    sample, logp = actor.sample(obs)
    assert det.shape == sample.shape == (64, 8, 2)
    assert logp.shape == (64, 8)
    assert torch.isfinite(logp).all()
    for out in (det, sample):
        assert torch.all(out >= torch.tensor(LOW, dtype=torch.float32) - 1e-5)
        assert torch.all(out <= torch.tensor(HIGH, dtype=torch.float32) + 1e-5)


def test_a_longer_sequence_continues_the_trained_one() -> None:
    actor = _actor(k=4)
    obs = torch.randn(3, 5)
    four, sixteen = actor(obs), actor(obs, 16)
    assert sixteen.shape == (3, 16, 2)
    assert torch.equal(sixteen[:, :4], four)
    assert not torch.allclose(sixteen[:, 4:], four[:, -1:].expand(3, 12, 2))  # not a held action
    assert actor(obs, 2).shape == (3, 2, 2)


def test_log_prob_is_each_action_density_given_the_ones_before() -> None:
    """Recompute the per-step density of a sample by feeding its own actions back through the GRU."""
    actor = _actor(k=5)
    obs = torch.randn(7, 5)
    torch.manual_seed(3)
    seq, logp = actor.sample(obs)
    unit = (seq - actor.action_bias) / actor.action_scale
    h = actor.encoder(obs)
    prev = torch.zeros(7, 2)
    for i in range(5):
        mean, log_std, h = actor._step(prev, h)
        pre = torch.atanh(unit[:, i].clamp(-1 + 1e-6, 1 - 1e-6))
        normal = torch.distributions.Normal(mean, log_std.exp()).log_prob(pre)
        expect = (normal - torch.log(actor.action_scale * (1.0 - unit[:, i].pow(2)) + 1e-6)).sum(-1)
        assert torch.allclose(logp[:, i], expect, atol=2e-3), i
        prev = unit[:, i]


def test_coherent_sampling_shares_one_draw_per_sequence() -> None:
    actor = _actor(k=6)
    obs = torch.randn(1, 5).expand(4000, 5)
    torch.manual_seed(1)
    with torch.no_grad():
        coherent, lp_c = actor.sample(obs, coherent=True)
        independent, _ = actor.sample(obs, coherent=False)
    # the first action's marginal is the same either way; later actions are far more correlated with it
    assert torch.allclose(coherent[:, 0].mean(0), independent[:, 0].mean(0), atol=0.05)
    corr_c = np.corrcoef(coherent[:, 0, 0].numpy(), coherent[:, 5, 0].numpy())[0, 1]
    corr_i = np.corrcoef(independent[:, 0, 0].numpy(), independent[:, 5, 0].numpy())[0, 1]
    assert corr_c > corr_i + 0.2, (corr_c, corr_i)
    assert torch.isfinite(lp_c).all()


def test_actor_kind_is_validated_and_mlp_length_is_refused() -> None:
    with pytest.raises(ConfigError, match="actor"):
        SRLConfig(actor="lstm")
    with pytest.raises(ConfigError, match="unknown actor"):
        make_actor("lstm", 5, LOW, HIGH, 4)
    with pytest.raises(ConfigError, match="high > low"):
        GRUSequenceActor(3, np.array([1.0]), np.array([0.0]), k=2)
    mlp = make_actor("mlp", 5, LOW, HIGH, 4)
    assert isinstance(mlp, SequenceActor)
    assert mlp(torch.zeros(1, 5), 4).shape == (1, 4, 2)
    with pytest.raises(ConfigError, match="exactly k=4"):
        mlp(torch.zeros(1, 5), 8)


def test_agent_act_extends_a_gru_sequence_and_not_an_mlp_one() -> None:
    obs = np.zeros(5, np.float32)
    gru = SRLAgent(5, LOW, HIGH, SRLConfig(k=4, hidden=8, actor="gru"))
    mlp = SRLAgent(5, LOW, HIGH, SRLConfig(k=4, hidden=8))
    assert gru.act(obs, True, length=16).shape == (16, 2)
    assert gru.act(obs, True, length=2).shape == (4, 2)
    assert mlp.act(obs, True, length=16).shape == (4, 2)
    assert gru.act(obs, False).shape == (4, 2)


def test_checkpoint_round_trip_rebuilds_the_gru(tmp_path: Path) -> None:
    agent = SRLAgent(5, LOW, HIGH, SRLConfig(k=3, hidden=8, actor="gru"))
    path = save_checkpoint(tmp_path / "gru.pt", agent, "point-reach", 7)
    loaded = load_checkpoint(path).agent
    assert isinstance(loaded.actor, GRUSequenceActor)
    x = torch.randn(4, 5)
    assert torch.equal(loaded.actor(x, 9), agent.actor(x, 9))


def test_export_then_load_runs_through_onnx_runtime_and_equals_torch(tmp_path: Path) -> None:
    layout = ObservationLayout()
    actor = _actor(k=8, obs_dim=layout.obs_dim, hidden=32).eval()
    export_policy(actor, layout, 8, tmp_path / "gru.onnx")
    policy = load_policy(tmp_path / "gru.onnx")
    assert policy.k == 8
    rng = np.random.default_rng(0)
    for _ in range(5):
        obs = rng.normal(size=(1, layout.obs_dim)).astype(np.float32)
        with torch.inference_mode():
            expect = actor(torch.from_numpy(obs)).numpy()
        np.testing.assert_allclose(policy.act(obs), expect, rtol=1e-5, atol=1e-5)


@pytest.mark.slow
def test_cli_trains_and_exports_a_gru_actor(tmp_path: Path) -> None:
    import json

    from cadence.cli import main

    out = tmp_path / "run"
    argv = ["train", "--algo", "srl", "--actor", "gru", "--env", "point-reach", "--steps", "400", "--k", "4"]
    argv += [
        "--hidden",
        "16",
        "--eval-every",
        "0",
        "--eval-episodes",
        "1",
        "--out",
        str(out),
        "--no-progress",
    ]
    argv += ["--set", "batch_size=32", "--set", "model_warmup_updates=5"]
    assert main(argv) == 0
    assert json.loads((out / "train.json").read_text())["srl_config"]["actor"] == "gru"
    assert isinstance(load_checkpoint(out / "checkpoints" / "final.pt").agent.actor, GRUSequenceActor)
    actions = load_policy(out / "policy.onnx").act(np.zeros((2, 1), dtype=np.float32))
    assert actions.shape == (2, 4, 1) and np.all(np.abs(actions) <= 1.0 + 1e-6)
    with pytest.raises(SystemExit) as refused:  # argparse: "invalid choice: 'lstm' (choose from ...)"
        main(["train", "--actor", "lstm", "--env", "point-reach", "--out", str(tmp_path / "x")])
    assert refused.value.code == 2
