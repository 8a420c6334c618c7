"""The SRL training loop — readable top to bottom (cleanrl style).

    env -> SequenceWrapper(k) -> sample a K-sequence from the actor -> play it -> store its K
    primitive transitions -> model + critic updates per primitive step -> actor update per decision

The loop owns no maths: the updates are :class:`cadence.learn.srl.SRLAgent`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import gymnasium as gym
import numpy as np
import torch

from cadence.learn.buffer import ReplayBuffer
from cadence.learn.checkpoint import load_checkpoint
from cadence.learn.config import SRLConfig
from cadence.learn.demos import DemoStore, make_guide, noisy
from cadence.learn.errors import CheckpointError
from cadence.learn.evaluation import EvalResult, evaluate
from cadence.learn.srl import SRLAgent, UpdateStats
from cadence.learn.wrappers import SequenceWrapper, check_box_env


class CurvePoint(NamedTuple):
    """One periodic evaluation: primitive steps so far, mean return, success rate."""

    step: int
    mean_return: float
    success_rate: float


class TrainResult(NamedTuple):
    """What a run produced."""

    agent: SRLAgent
    curve: tuple[CurvePoint, ...]
    last_stats: UpdateStats | None


ProgressFn = Callable[[int, dict[str, float]], None]
EvalFn = Callable[[int, SRLAgent, EvalResult], None]


def seed_everything(seed: int) -> None:
    """Seed torch and numpy's legacy global generator (SB3 uses it)."""
    torch.manual_seed(seed)
    np.random.seed(seed % (2**32))


def init_from_checkpoint(agent: SRLAgent, path: str) -> None:
    """Load a checkpoint's weights (actor, critics, model, temperature) into ``agent``.

    Raises:
        CheckpointError: unreadable file, or networks whose shapes differ from ``agent``'s
            (another env, ``k`` or ``hidden``).
    """
    loaded = load_checkpoint(path).agent
    try:
        agent.load_state_dicts(loaded.state_dicts())
    except RuntimeError as err:
        raise CheckpointError(f"init_checkpoint {path} does not fit this run's networks: {err}") from err


def random_sequence(space: gym.spaces.Box, hold: int) -> np.ndarray:
    """A uniform random ``[k, action_dim]`` sequence whose actions each repeat ``hold`` steps."""
    seq = space.sample()
    return np.repeat(seq[::hold], hold, axis=0)[: len(seq)] if hold > 1 else seq


def train_srl(
    env: gym.Env,
    config: SRLConfig,
    eval_env: gym.Env | None = None,
    on_progress: ProgressFn | None = None,
    on_eval: EvalFn | None = None,
) -> TrainResult:
    """Train an SRL agent on a primitive env.

    Args:
        env: Primitive env (1-D Box actions), e.g. ``cadence.sim.make("rover-apartment")``.
        config: Hyper-parameters.
        eval_env: Env for periodic evaluation at decision interval ``k`` (defaults to none).
        on_progress: Called after every decision with ``(primitive_steps, metrics)``.
        on_eval: Called after each evaluation (checkpointing hooks in here).

    Returns:
        The trained agent and the learning curve.
    """
    seed_everything(config.seed)
    rng = np.random.default_rng(config.seed)
    space = check_box_env(env)
    obs_dim = int(env.observation_space.shape[0])
    agent = SRLAgent(obs_dim, space.low, space.high, config)
    if config.init_checkpoint:
        init_from_checkpoint(agent, config.init_checkpoint)
    buffer = ReplayBuffer(obs_dim, space.shape[0], config.buffer_size)
    seq_env = SequenceWrapper(env, config.k)
    seq_env.action_space.seed(config.seed)
    guide = make_guide(config.guide, obs_dim, config.k) if config.guide else None
    demos = DemoStore(obs_dim, config.k, space.shape[0], config.learning_starts // config.k + 1)

    curve: list[CurvePoint] = []
    stats: UpdateStats | None = None
    obs, _ = seq_env.reset(seed=config.seed)
    episode_return, episode_returns = 0.0, [0.0]
    step = critic_debt = 0
    warmed_up = False
    next_eval = config.eval_every if config.eval_every else config.total_steps + 1
    next_actor = config.learning_starts + config.critic_warmup
    while step < config.total_steps:
        # 1. act: one decision, k primitive actions
        if step < config.learning_starts and guide is not None:
            clean = guide(obs)
            demos.add(obs, clean)
            seq = noisy(clean, space.low, space.high, config.guide_noise, rng)
        elif step < config.learning_starts:
            seq = random_sequence(seq_env.action_space, config.random_hold)
        else:
            seq = agent.act(obs, deterministic=False)
        obs, reward, terminated, truncated, info = seq_env.step(seq)
        for t in info["transitions"]:
            buffer.add(t._replace(reward=t.reward * config.reward_scale))
        n = len(info["transitions"])
        step += n
        episode_return += reward
        if terminated or truncated:
            episode_returns.append(episode_return)
            obs, _ = seq_env.reset()
            episode_return = 0.0

        # 2. learn: model + critic at the primitive rate, actor at the decision rate
        if step >= config.learning_starts and len(buffer) >= config.batch_size:
            if not warmed_up:  # once: model statistics, model warm-up, cloning of the guide
                warmed_up = True
                sample = buffer.sample(min(len(buffer), 10_000), rng)
                if not config.init_checkpoint:  # a loaded model keeps its normalisation
                    agent.model.update_stats(sample.obs, sample.next_obs)
                for _ in range(0 if config.init_checkpoint else config.model_warmup_updates):
                    agent.update_model(buffer.sample(config.batch_size, rng))
                    if demos.size:
                        agent.bc_step(demos.sample(config.batch_size, rng))
            critic_debt += n * config.critic_updates_per_step
            critic_loss = model_loss = 0.0
            while critic_debt >= 1.0:
                if config.n_step > 1:
                    batch, n_batch = buffer.sample_n_step(config.batch_size, rng, config.n_step, config.gamma)
                else:
                    batch = n_batch = buffer.sample(config.batch_size, rng)
                model_loss = agent.update_model(batch)
                critic_loss = agent.update_critic(n_batch)
                critic_debt -= 1.0
            while step >= next_actor:
                progress = (step - config.learning_starts) / max(config.bc_decay_steps, 1)
                decayed = config.bc_weight * max(0.0, 1.0 - progress)
                bc_weight = max(decayed, config.bc_final) if demos.size else 0.0
                demo = demos.sample(config.batch_size, rng) if bc_weight > 0 else None
                agent.update_actor(buffer.sample(config.batch_size, rng).obs, demo, bc_weight)
                next_actor += config.actor_period
            stats = UpdateStats(critic_loss, model_loss, agent.last_actor_loss, agent.alpha)

        if on_progress is not None:
            metrics = {"return": float(np.mean(episode_returns[-10:]))}
            if stats is not None:
                metrics |= stats._asdict()
            on_progress(step, metrics)

        # 3. evaluate at the training interval k
        if eval_env is not None and step >= next_eval:
            next_eval += config.eval_every
            result = evaluate(
                eval_env, lambda o: agent.act(o, True), config.k, config.eval_episodes, seed=10_000
            )
            curve.append(CurvePoint(step, result.mean, result.success_rate))
            if on_eval is not None:
                on_eval(step, agent, result)
    return TrainResult(agent, tuple(curve), stats)
