"""Offline RL on recorded datasets: TD3+BC on the SRL sequence actor (issue 8, "Retrain and promote").

The dataset (:class:`cadence.data.dataset.Transitions`) holds one transition per executor decision:
the observation, the K primitive actions that were executed (flattened ``[v0, w0, v1, w1, ...]``),
the reward collected over them and the observation at the next decision. The K-step sequence is
treated as ONE action vector of size ``2K`` — exactly what the SRL actor emits — so TD3+BC
(Fujimoto & Gu, "A Minimalist Approach to Offline Reinforcement Learning", 2021) applies unchanged
at the decision level:

- critic: twin ``Q(s, a_seq)`` (:class:`cadence.learn.networks.TwinCritic` with ``action_dim = 2K``),
  target ``r + gamma (1 - done) min Q'(s', clip(pi'(s') + clipped noise))``;
- actor (every ``policy_delay`` critic steps): ``-lambda Q(s, pi(s)) + mean((pi(s) - a)^2)`` with
  ``lambda = alpha / mean|Q|``, actions in normalised units ([-1, 1] per dimension).

The actor is :class:`cadence.learn.networks.SequenceActor` (its deterministic ``forward`` is the
exported graph), so a retrained policy has exactly the shipped architecture and can start from the
shipped model's weights (:func:`actor_from_onnx`).

Why not d3rlpy: d3rlpy 2.8.1 (the latest) pins ``gymnasium==1.0.0`` and pulls the legacy ``gym``
(``pip install --dry-run d3rlpy`` here would downgrade gymnasium 1.4.0, which the sim envs and
stable-baselines3 use), and its actors are its own networks, not the SRL actor we export.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from cadence.learn.errors import ConfigError, LearnError
from cadence.learn.networks import SequenceActor, TwinCritic


class BaseModelError(LearnError):
    """A base model cannot seed retraining (unreadable, or not a SequenceActor graph)."""


@dataclass(frozen=True)
class OfflineConfig:
    """TD3+BC hyper-parameters (defaults from Fujimoto & Gu 2021, batch and width sized for a CPU).

    Attributes:
        steps: Gradient steps of the critic.
        batch_size: Transitions per step.
        gamma: Discount per decision (one decision = K primitive steps).
        tau: Polyak rate of the target networks.
        actor_lr, critic_lr: Adam learning rates.
        alpha: TD3+BC's ``alpha``; the Q term is scaled by ``alpha / mean|Q|``. 0 = pure cloning.
        policy_noise, noise_clip: Target-policy smoothing, in normalised action units.
        policy_delay: Critic steps per actor step.
        hidden: Width of new networks (a base model keeps its own width for the actor).
        reward_scale: Multiplies the dataset rewards.
        seed: Seeds torch and the batch sampler.
    """

    steps: int = 2000
    batch_size: int = 256
    gamma: float = 0.95
    tau: float = 0.005
    actor_lr: float = 3e-4
    critic_lr: float = 3e-4
    alpha: float = 0.2
    policy_noise: float = 0.2
    noise_clip: float = 0.5
    policy_delay: int = 2
    hidden: int = 128
    reward_scale: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "policy_delay", "hidden"):
            if int(getattr(self, name)) <= 0:
                raise ConfigError(f"OfflineConfig.{name} must be positive, got {getattr(self, name)}")
        if not 0.0 <= self.gamma < 1.0:
            raise ConfigError(f"OfflineConfig.gamma must be in [0, 1), got {self.gamma}")
        if not 0.0 < self.tau <= 1.0:
            raise ConfigError(f"OfflineConfig.tau must be in (0, 1], got {self.tau}")
        for name in ("actor_lr", "critic_lr"):
            if not getattr(self, name) > 0.0:
                raise ConfigError(f"OfflineConfig.{name} must be > 0, got {getattr(self, name)}")
        for name in ("alpha", "policy_noise", "noise_clip"):
            if not getattr(self, name) >= 0.0:
                raise ConfigError(f"OfflineConfig.{name} must be >= 0, got {getattr(self, name)}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class OfflineStats(NamedTuple):
    """Losses of the last steps (means over the final 10 %), for the report."""

    steps: int
    critic_loss: float
    actor_loss: float
    bc_mse: float
    mean_q: float


class OfflineResult(NamedTuple):
    """The trained actor (eval mode, CPU) and its training statistics."""

    actor: SequenceActor
    stats: OfflineStats


def check_transitions(data: Any, obs_dim: int, action_dim: int) -> None:
    """Refuse arrays that do not fit the actor or contain NaN/inf.

    Raises:
        LearnError: empty data, wrong shapes, or non-finite values (the field is named).
    """
    n = len(data.obs)
    if n == 0:
        raise LearnError("the dataset has no transitions")
    want = {
        "obs": (n, obs_dim),
        "actions": (n, action_dim),
        "rewards": (n,),
        "next_obs": (n, obs_dim),
        "dones": (n,),
    }
    for name, shape in want.items():
        arr = np.asarray(getattr(data, name))
        if arr.shape != shape:
            raise LearnError(f"dataset field {name!r} has shape {arr.shape}, expected {shape}")
        if arr.dtype != bool and not np.isfinite(arr).all():
            raise LearnError(f"dataset field {name!r} contains NaN or inf")


def train_td3bc(
    data: Any,
    config: OfflineConfig,
    actor: SequenceActor,
    on_step: Callable[[int], None] | None = None,
) -> OfflineResult:
    """Train ``actor`` (in place, a copy is returned) with TD3+BC on decision-level transitions.

    Args:
        data: ``Transitions`` (``obs [N, obs_dim]``, ``actions [N, K*A]`` in physical units,
            ``rewards [N]``, ``next_obs``, ``dones``).
        config: Hyper-parameters.
        actor: The initial actor (fresh, or from :func:`actor_from_onnx`).
        on_step: Called after each step with the step index (progress bars).

    Returns:
        The trained actor in eval mode and the final losses.

    Raises:
        LearnError: data that does not fit the actor (see :func:`check_transitions`).
    """
    seq_dim = actor.k * actor.action_dim
    check_transitions(data, actor.obs_dim, seq_dim)
    # One intra-op thread: these networks are small, and on a shared 2-core machine two threads
    # were measured 9x slower per step (88 vs 9.6 ms) than one.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train(data, config, actor, seq_dim, on_step)
    finally:
        torch.set_num_threads(threads)


def _train(
    data: Any,
    config: OfflineConfig,
    actor: SequenceActor,
    seq_dim: int,
    on_step: Callable[[int], None] | None,
) -> OfflineResult:
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    actor = copy.deepcopy(actor).train()
    scale = actor.action_scale.repeat(actor.k)  # physical <-> normalised, per flattened entry
    bias = actor.action_bias.repeat(actor.k)
    obs = torch.as_tensor(np.asarray(data.obs, np.float32))
    act = (torch.as_tensor(np.asarray(data.actions, np.float32)) - bias) / scale
    act = act.clamp(-1.0, 1.0)  # executed commands were clamped to the bounds already
    rew = torch.as_tensor(np.asarray(data.rewards, np.float32)) * config.reward_scale
    nxt = torch.as_tensor(np.asarray(data.next_obs, np.float32))
    notdone = 1.0 - torch.as_tensor(np.asarray(data.dones, np.float32))

    def policy(net: SequenceActor, s: torch.Tensor) -> torch.Tensor:
        return ((net(s).reshape(len(s), -1)) - bias) / scale  # normalised [-1, 1]

    critic = TwinCritic(actor.obs_dim, seq_dim, config.hidden)
    actor_t, critic_t = copy.deepcopy(actor), copy.deepcopy(critic)
    for p in list(actor_t.parameters()) + list(critic_t.parameters()):
        p.requires_grad_(False)
    opt_a = torch.optim.Adam(actor.parameters(), lr=config.actor_lr)
    opt_c = torch.optim.Adam(critic.parameters(), lr=config.critic_lr)
    n, tail = len(obs), max(1, config.steps // 10)
    hist: dict[str, list[float]] = {"critic": [], "actor": [], "bc": [], "q": []}
    for step in range(config.steps):
        idx = torch.as_tensor(rng.integers(0, n, size=min(config.batch_size, n)))
        s, a, r, s2, nd = obs[idx], act[idx], rew[idx], nxt[idx], notdone[idx]
        with torch.no_grad():
            noise = (torch.randn_like(a) * config.policy_noise).clamp(-config.noise_clip, config.noise_clip)
            a2 = (policy(actor_t, s2) + noise).clamp(-1.0, 1.0)
            y = r + config.gamma * nd * critic_t.min_q(s2, a2)
        q1, q2 = critic(s, a)
        c_loss = F.mse_loss(q1, y) + F.mse_loss(q2, y)
        opt_c.zero_grad(set_to_none=True)
        c_loss.backward()
        opt_c.step()
        if step % config.policy_delay == 0:
            pi = policy(actor, s)
            q = critic.q1(torch.cat([s, pi], dim=-1)).squeeze(-1)
            lam = config.alpha / q.abs().mean().detach().clamp_min(1e-6)
            bc = F.mse_loss(pi, a)
            a_loss = -lam * q.mean() + bc
            opt_a.zero_grad(set_to_none=True)
            a_loss.backward()
            opt_a.step()
            _polyak(actor, actor_t, config.tau)
            _polyak(critic, critic_t, config.tau)
            if step >= config.steps - tail:
                hist["actor"].append(float(a_loss.detach()))
                hist["bc"].append(float(bc.detach()))
                hist["q"].append(float(q.mean().detach()))
        if step >= config.steps - tail:
            hist["critic"].append(float(c_loss.detach()))
        if on_step is not None:
            on_step(step)
    actor.eval()
    mean = {k: float(np.mean(v)) if v else float("nan") for k, v in hist.items()}
    stats = OfflineStats(config.steps, mean["critic"], mean["actor"], mean["bc"], mean["q"])
    return OfflineResult(actor, stats)


def _polyak(src: torch.nn.Module, dst: torch.nn.Module, tau: float) -> None:
    with torch.no_grad():
        for p, pt in zip(src.parameters(), dst.parameters(), strict=True):
            pt.mul_(1.0 - tau).add_(p, alpha=tau)


def new_actor(obs_dim: int, low: Any, high: Any, k: int, hidden: int, seed: int = 0) -> SequenceActor:
    """A freshly initialised (seeded) SRL actor."""
    torch.manual_seed(seed)
    return SequenceActor(obs_dim, np.asarray(low, np.float32), np.asarray(high, np.float32), k, hidden)


def actor_from_onnx(path: str | Path, low: Any, high: Any, k: int) -> SequenceActor:
    """Rebuild a :class:`SequenceActor` from an exported ONNX policy's initializers.

    The exporter keeps the module's parameter names (``trunk.0.weight`` ...), so the ONNX file is
    a faithful weight store: the rebuilt actor reproduces the model's output (checked by the caller
    against the manifest's golden pair).

    Raises:
        BaseModelError: the file is not readable ONNX or its weights are not a SequenceActor's.
    """
    import onnx
    from google.protobuf.message import DecodeError
    from onnx import numpy_helper

    try:
        proto = onnx.load_model(str(path), load_external_data=False)
    except (OSError, DecodeError, ValueError) as err:
        raise BaseModelError(f"cannot read base model {path}: {err}") from err
    weights = {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}
    first = weights.get("trunk.0.weight")
    if first is None or first.ndim != 2:
        names = sorted(weights)[:8]
        raise BaseModelError(f"base model {path} is not an SRL SequenceActor graph (initializers: {names})")
    actor = SequenceActor(int(first.shape[1]), np.asarray(low), np.asarray(high), int(k), int(first.shape[0]))
    state = actor.state_dict()
    missing = sorted(set(state) - set(weights))
    if missing:
        raise BaseModelError(f"base model {path} lacks the actor weights {missing}")
    try:
        actor.load_state_dict({name: torch.as_tensor(weights[name].copy()) for name in state})
    except RuntimeError as err:
        raise BaseModelError(f"base model {path} does not fit a SequenceActor: {err}") from err
    return actor.eval()
