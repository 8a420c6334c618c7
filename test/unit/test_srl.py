"""SRL networks, wrappers, buffer and a short training run that must improve the return."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from cadence.learn.buffer import ReplayBuffer
from cadence.learn.config import SRLConfig
from cadence.learn.errors import ConfigError, EnvironmentSpecError
from cadence.learn.evaluation import evaluate, play_interval
from cadence.learn.networks import SequenceActor
from cadence.learn.srl import SRLAgent
from cadence.learn.toy import PointReach
from cadence.learn.trainer import train_srl
from cadence.learn.wrappers import ActionRepeat, SequenceWrapper

LOW, HIGH = np.array([-0.5, -2.0]), np.array([1.0, 2.0])


def test_actor_outputs_physical_units_within_bounds() -> None:
    torch.manual_seed(0)
    actor = SequenceActor(5, LOW, HIGH, k=8, hidden=16)
    obs = torch.randn(64, 5) * 100.0  # drive tanh into saturation
    det = actor(obs)
    sample, logp = actor.sample(obs)
    assert det.shape == sample.shape == (64, 8, 2)
    assert logp.shape == (64, 8)
    for out in (det, sample):
        assert torch.all(out >= torch.tensor(LOW, dtype=torch.float32) - 1e-5)
        assert torch.all(out <= torch.tensor(HIGH, dtype=torch.float32) + 1e-5)
    assert torch.isfinite(logp).all()


def test_actor_rejects_bad_bounds() -> None:
    with pytest.raises(ConfigError, match="high > low"):
        SequenceActor(3, np.array([1.0]), np.array([0.0]), k=2)


def test_config_validation_names_the_field() -> None:
    with pytest.raises(ConfigError, match="gamma"):
        SRLConfig(gamma=1.5)
    with pytest.raises(ConfigError, match="unknown SRLConfig field"):
        SRLConfig().replace(learning_rate=1.0)
    assert SRLConfig(k=4).actor_period == 4
    with pytest.raises(ConfigError, match="n_step"):
        SRLConfig(n_step=0)


def test_sequence_wrapper_plays_k_actions_and_reports_transitions() -> None:
    env = SequenceWrapper(PointReach(horizon=10), k=4)
    obs, _ = env.reset(seed=3)
    seq = np.full((4, 1), 1.0, dtype=np.float32)
    next_obs, reward, _terminated, truncated, info = env.step(seq)
    ts = info["transitions"]
    assert len(ts) == 4
    assert np.allclose(ts[0].obs, obs) and np.allclose(ts[-1].next_obs, next_obs)
    for a, b in itertools.pairwise(ts):
        assert np.allclose(a.next_obs, b.obs)
    assert np.isclose(next_obs[0], obs[0] - 0.4, atol=1e-5)
    assert np.isclose(reward, sum(t.reward for t in ts))
    # the third sequence runs out of episode after 2 of its 4 actions
    env.step(seq)
    *_, truncated, info = env.step(seq)
    assert truncated and len(info["transitions"]) == 2
    with pytest.raises(EnvironmentSpecError, match="shape"):
        env.step(np.zeros((3, 1), dtype=np.float32))


def test_action_repeat_sums_rewards() -> None:
    env = ActionRepeat(PointReach(horizon=10), repeat=3)
    obs, _ = env.reset(seed=0)
    obs2, _reward, *_ = env.step(np.array([0.5], dtype=np.float32))
    assert np.isclose(obs2[0], obs[0] - 0.15, atol=1e-5)
    with pytest.raises(EnvironmentSpecError):
        ActionRepeat(PointReach(), 0)


def test_play_interval_truncates_and_holds_last_action() -> None:
    seq = np.arange(8, dtype=np.float32).reshape(4, 2)
    assert np.array_equal(play_interval(seq, 2), seq[:2])
    long = play_interval(seq, 6)
    assert long.shape == (6, 2) and np.array_equal(long[4:], np.repeat(seq[-1:], 2, axis=0))


def test_random_warmup_sequences_hold_each_action() -> None:
    import gymnasium as gym

    from cadence.learn.trainer import random_sequence

    space = gym.spaces.Box(np.tile(LOW, (8, 1)).astype(np.float32), np.tile(HIGH, (8, 1)).astype(np.float32))
    space.seed(0)
    held = random_sequence(space, 8)
    assert held.shape == (8, 2) and np.all(held == held[0]) and space.contains(held)
    pairs = random_sequence(space, 2)
    assert np.array_equal(pairs[0::2], pairs[1::2]) and not np.array_equal(pairs[0], pairs[2])
    odd = random_sequence(space, 3)  # a hold that does not divide k: the last block is cut short
    assert odd.shape == (8, 2) and np.array_equal(odd[6], odd[7]) and np.array_equal(odd[0], odd[2])
    fresh = random_sequence(space, 1)
    assert len({tuple(a) for a in fresh}) == 8
    with pytest.raises(ConfigError, match="random_hold"):
        SRLConfig(random_hold=0)


def test_coherent_noise_shares_one_draw_per_sequence_with_the_same_marginals() -> None:
    torch.manual_seed(0)
    actor = SequenceActor(3, LOW, HIGH, k=8, hidden=16)
    obs = torch.randn(4000, 3)
    with torch.no_grad():
        torch.manual_seed(1)
        coherent, logp_c = actor.sample(obs, coherent=True)
        torch.manual_seed(1)
        independent, logp_i = actor.sample(obs)
        mean, log_std = actor._dist_params(obs)
    # the pre-tanh noise of every action of a coherent sequence is the same draw
    unit = (coherent - actor.action_bias) / actor.action_scale
    noise = (torch.atanh(unit.clamp(-1 + 1e-6, 1 - 1e-6)) - mean) / log_std.exp()
    assert torch.allclose(noise, noise[:, :1].expand_as(noise), atol=1e-2)
    # ... and its marginal per action is the independent one (log-probs from the same formula)
    assert torch.isfinite(logp_c).all()
    assert abs(float(logp_c.mean() - logp_i.mean())) < 0.1
    assert abs(float(coherent.std() - independent.std())) < 0.05


def test_replay_buffer_ring_and_done_flag() -> None:
    from cadence.learn.wrappers import Transition

    buf = ReplayBuffer(1, 1, capacity=3)
    for i in range(5):
        buf.add(Transition(np.array([i]), np.array([0.0]), float(i), np.array([i + 1]), i == 4, False))
    assert len(buf) == 3
    assert sorted(buf.reward.tolist()) == [2.0, 3.0, 4.0]
    assert buf.done.sum() == 1.0
    with pytest.raises(ValueError, match="empty"):
        ReplayBuffer(1, 1, 2).sample(1, np.random.default_rng(0))


def test_n_step_returns_stop_at_episode_ends_and_at_the_newest_transition() -> None:
    from cadence.learn.wrappers import Transition

    gamma = 0.5
    # two episodes: 0..3 truncated at 3, 4..6 terminated at 6, then 7..8 still running (8 newest)
    buf = ReplayBuffer(1, 1, capacity=16)
    for i in range(9):
        buf.add(Transition(np.array([i]), np.array([0.0]), float(i + 1), np.array([i + 1]), i == 6, i == 3))

    def reference(i: int, n: int) -> tuple[float, int, float, float]:
        ret, m, j = 0.0, 0, i
        while True:
            ret += gamma**m * buf.reward[j]
            m += 1
            if m == n or buf.end[j] or j == 8:
                return ret, j + 1, float(buf.done[j]), gamma**m
            j += 1

    rng = np.random.default_rng(0)
    for n in (1, 3, 8):
        one, many = buf.sample_n_step(200, rng, n, gamma)
        assert torch.equal(one.obs, many.obs) and torch.equal(one.action, many.action)
        assert torch.equal(one.next_obs, one.obs + 1) and one.discount is None
        for k in range(200):
            i = int(one.obs[k, 0])
            ret, next_obs, done, discount = reference(i, n)
            assert float(many.reward[k]) == pytest.approx(ret)
            assert float(many.next_obs[k, 0]) == next_obs and float(many.done[k]) == done
            assert float(many.discount[k]) == pytest.approx(discount)
    # wrapped ring: the oldest transition is never a continuation of the newest
    small = ReplayBuffer(1, 1, capacity=4)
    for i in range(6):
        small.add(Transition(np.array([i]), np.array([0.0]), 1.0, np.array([i + 1]), False, False))
    _, many = small.sample_n_step(100, rng, 4, 1.0)
    assert torch.equal(many.next_obs[:, 0], torch.full((100,), 6.0))  # always stops at the newest (5)
    with pytest.raises(ValueError, match="n_step"):
        small.sample_n_step(1, rng, 0, 1.0)


def test_checkpoint_round_trip() -> None:
    cfg = SRLConfig(k=2, hidden=8)
    a, b = (
        SRLAgent(1, np.array([-1.0]), np.array([1.0]), cfg),
        SRLAgent(1, np.array([-1.0]), np.array([1.0]), cfg),
    )
    b.load_state_dicts(a.state_dicts())
    x = torch.randn(3, 1)
    assert torch.equal(a.actor(x), b.actor(x))


@pytest.mark.slow
@pytest.mark.parametrize("actor", ["mlp", "gru"])
def test_short_srl_run_improves_return(actor: str) -> None:
    torch.set_num_threads(1)
    cfg = SRLConfig(
        k=4,
        actor=actor,
        total_steps=1_500,
        learning_starts=300,
        batch_size=64,
        hidden=32,
        gamma=0.9,
        critic_updates_per_step=1.0,
        model_warmup_updates=50,
        eval_every=0,
        seed=1,
    )
    eval_env = PointReach()
    before = SRLAgent(1, np.array([-1.0]), np.array([1.0]), cfg)
    torch.manual_seed(1)
    base = evaluate(eval_env, lambda o: before.act(o, False), 4, 10, seed=123).mean
    result = train_srl(PointReach(), cfg)
    after = evaluate(eval_env, lambda o: result.agent.act(o, True), 4, 10, seed=123)
    assert after.mean > base + 3.0, (base, after.mean)
    assert after.success_rate >= 0.5


def test_guide_registry_and_noise() -> None:
    from cadence.learn.demos import DemoStore, make_guide, noisy

    with pytest.raises(ValueError, match="valid: backup"):
        make_guide("teleop", 50, 8)
    with pytest.raises(ValueError, match="obs_dim"):
        make_guide("backup", 7, 8)
    seq = np.tile(HIGH.astype(np.float32), (8, 1))
    out = noisy(seq, LOW, HIGH, 0.5, np.random.default_rng(0))
    assert out.shape == (8, 2) and np.all(out <= HIGH) and np.all(out >= LOW) and not np.allclose(out, seq)
    store = DemoStore(3, 2, 1, capacity=2)
    for i in range(3):
        store.add(np.full(3, i), np.full((2, 1), i))
    assert store.size == 2
    obs, seqs = store.sample(4, np.random.default_rng(0))
    assert obs.shape == (4, 3) and seqs.shape == (4, 2, 1)


def test_behaviour_cloning_step_moves_actor_towards_the_guide() -> None:
    torch.manual_seed(0)
    agent = SRLAgent(3, LOW, HIGH, SRLConfig(k=2, hidden=16, actor_lr=1e-2))
    obs = torch.randn(64, 3)
    target = torch.tensor([[0.8, -1.5], [0.2, 1.0]]).expand(64, 2, 2)
    first = agent.bc_step((obs, target))
    for _ in range(200):
        last = agent.bc_step((obs, target))
    assert last < 0.1 * first


def _saved_agent(tmp_path, hidden: int = 8):  # type: ignore[no-untyped-def]
    from cadence.learn.checkpoint import save_checkpoint

    agent = SRLAgent(1, np.array([-1.0]), np.array([1.0]), SRLConfig(k=2, hidden=hidden, seed=5))
    agent.model.obs_mean.fill_(0.25)  # a normalisation no fresh run would compute
    return agent, save_checkpoint(tmp_path / "init.pt", agent, "point-reach", 0)


def test_init_checkpoint_starts_the_run_from_its_weights(tmp_path) -> None:  # type: ignore[no-untyped-def]
    source, path = _saved_agent(tmp_path)
    x = torch.linspace(-1, 1, 5).unsqueeze(1)
    # no learning (learning_starts = total_steps): the run's actor is the checkpoint's
    idle = SRLConfig(k=2, hidden=8, total_steps=8, learning_starts=8, eval_every=0, init_checkpoint=str(path))
    assert torch.equal(train_srl(PointReach(), idle).agent.actor(x), source.actor(x))
    assert not torch.equal(
        train_srl(PointReach(), idle.replace(init_checkpoint="")).agent.actor(x), source.actor(x)
    )
    # with learning: the loaded model keeps its normalisation (no warm-up re-estimate)
    tuned = idle.replace(total_steps=40, batch_size=8, learning_starts=8)
    agent = train_srl(PointReach(), tuned).agent
    assert torch.all(agent.model.obs_mean == 0.25)
    assert not torch.equal(agent.actor(x), source.actor(x))


def test_init_checkpoint_that_does_not_fit_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from cadence.learn.errors import CheckpointError

    _, path = _saved_agent(tmp_path, hidden=8)
    cfg = SRLConfig(k=2, hidden=16, total_steps=8, eval_every=0, init_checkpoint=str(path))
    with pytest.raises(CheckpointError, match="does not fit"):
        train_srl(PointReach(), cfg)
    with pytest.raises(CheckpointError, match="does not exist"):
        train_srl(PointReach(), cfg.replace(init_checkpoint=str(tmp_path / "missing.pt")))


def test_critic_warmup_keeps_the_actor_while_the_critic_learns(tmp_path) -> None:  # type: ignore[no-untyped-def]
    source, path = _saved_agent(tmp_path)
    x = torch.linspace(-1, 1, 5).unsqueeze(1)
    cfg = SRLConfig(
        k=2, hidden=8, total_steps=40, batch_size=8, learning_starts=8, critic_warmup=40, eval_every=0
    )
    agent = train_srl(PointReach(), cfg.replace(init_checkpoint=str(path))).agent
    assert torch.equal(agent.actor(x), source.actor(x))
    critic = dict(agent.critic.named_parameters())
    assert any(not torch.equal(p, critic[n]) for n, p in source.critic.named_parameters())
    with pytest.raises(ConfigError, match="critic_warmup"):
        cfg.replace(critic_warmup=-1)
