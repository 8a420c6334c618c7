"""SRL on the real MuJoCo rover env: the sequence wrapper, a few updates, export with the rover layout."""

from __future__ import annotations

import numpy as np
import pytest

from cadence.learn.config import SRLConfig
from cadence.learn.envs import MixEnv, make_env
from cadence.learn.trainer import train_srl
from cadence.learn.wrappers import SequenceWrapper

pytestmark = pytest.mark.sim


def test_sequence_wrapper_on_the_rover_plays_k_commands() -> None:
    env = SequenceWrapper(make_env("rover-apartment"), k=8)
    _obs, _ = env.reset(seed=0)
    seq = np.tile(np.array([0.5, 0.0], np.float32), (8, 1))
    _, _, _, _, info = env.step(seq)
    ts = info["transitions"]
    assert len(ts) == 8 and all(np.array_equal(t.action, seq[0]) for t in ts)
    # the observation's last-command slice records what was played
    from cadence.policy.observation import DEFAULT_LAYOUT
    from cadence.sim.robot import V_MAX

    last = DEFAULT_LAYOUT.slices["last_command"]
    assert np.allclose(ts[-1].next_obs[last], [0.5 / V_MAX, 0.0], atol=1e-6)


def test_rover_mix_draws_every_scene_and_truncates_training_episodes() -> None:
    env = make_env("rover-mix", max_episode_steps=5)
    scenes = set()
    for seed in range(12):
        env.reset(seed=seed)
        scenes.add(env.unwrapped.current.unwrapped.scene.name)
    assert scenes == {"apartment", "warehouse", "open"}
    assert isinstance(env.unwrapped, MixEnv)
    env.reset(seed=0)
    for _ in range(5):
        *_, truncated, _ = env.step(np.zeros(2, np.float32))
    assert truncated


@pytest.mark.slow
def test_srl_trains_on_the_rover_and_exports_the_rover_manifest(tmp_path) -> None:
    cfg = SRLConfig(
        k=8,
        total_steps=400,
        learning_starts=160,
        batch_size=32,
        hidden=16,
        model_warmup_updates=5,
        eval_every=0,
    )
    result = train_srl(make_env("rover-apartment", max_episode_steps=100), cfg)
    assert result.last_stats is not None and np.isfinite(result.last_stats.critic_loss)

    from cadence.learn.export import export_policy
    from cadence.policy.observation import DEFAULT_LAYOUT
    from cadence.policy.runtime import load_policy

    export_policy(result.agent.actor, DEFAULT_LAYOUT, 8, tmp_path / "rover.onnx")
    policy = load_policy(tmp_path / "rover.onnx")
    assert policy.manifest.action.k == 8 and tuple(policy.manifest.action.high) == (1.0, 2.0)
    out = policy.act(np.zeros((2, DEFAULT_LAYOUT.obs_dim), np.float32))
    assert out.shape == (2, 8, 2)


def test_clearance_shaping_is_zero_in_the_open_and_negative_at_a_wall() -> None:
    from cadence.learn.envs import ClearanceShaping

    env = make_env("rover-apartment", clearance={"margin": 0.12, "weight": 1.0}, terminate_on_collision=True)
    assert isinstance(env, ClearanceShaping)
    env.reset(seed=3)
    terms = []
    for _ in range(400):  # full speed, turning: sooner or later a wall
        _, reward, terminated, truncated, info = env.step(np.array([1.0, 0.3], np.float32))
        assert reward == pytest.approx(sum(info["terms"].values()))
        terms.append(info["terms"]["clearance"])
        if terminated or truncated:
            break
    assert info["collision"], "the rover never reached a wall"
    assert terms[0] == 0.0  # starts keep 0.35 m from obstacles: more than the margin
    assert -0.12 <= terms[-1] < 0.0


def test_rover_mix_safe_shapes_every_member_and_bad_shaping_is_refused() -> None:
    from cadence.learn.envs import ClearanceShaping
    from cadence.learn.errors import EnvironmentSpecError

    env = make_env("rover-mix-safe")
    assert all(isinstance(member, ClearanceShaping) for member in env.unwrapped.envs)
    assert env.unwrapped.envs[0].unwrapped.config.reward.collision == -5.0
    wide = make_env("rover-mix-safe-wide").unwrapped.envs
    assert all((m.margin, m.weight) == (0.2, 2.0) for m in wide)
    with pytest.raises(EnvironmentSpecError, match="margin"):
        make_env("rover-open", clearance={"margin": -1.0, "weight": 1.0})


def test_fas_training_env_ends_at_the_first_contact_with_one_penalty() -> None:
    """bench/fas.py trains both learners on rover-apartment-strict and evaluates on rover-apartment."""
    strict, task = make_env("rover-apartment-strict"), make_env("rover-apartment")
    assert strict.observation_space == task.observation_space and strict.action_space == task.action_space
    members = strict.unwrapped.envs
    assert [m.unwrapped.scene.name for m in members] == ["apartment"]
    drive = np.array([1.0, 0.3], np.float32)  # full speed, turning: sooner or later a wall
    rewards: dict[str, list[float]] = {"strict": [], "task": []}
    for name, env in (("strict", members[0]), ("task", task)):
        env.reset(seed=3)  # the same start in both
        for _ in range(400):
            _, reward, terminated, truncated, info = env.step(drive)
            rewards[name].append(reward)
            if terminated or truncated or (name == "task" and len(rewards["task"]) == len(rewards["strict"])):
                break
        if name == "strict":
            assert terminated and info["collision"] and info["terms"]["collision"] == -2.0
    # the same trajectory up to the contact, which the task env charges less but does not end at
    assert np.allclose(rewards["strict"][:-1], rewards["task"][:-1])
    assert rewards["task"][-1] - rewards["strict"][-1] == pytest.approx(1.5)
    assert not terminated and info["collision"] and info["terms"]["collision"] == -0.5
