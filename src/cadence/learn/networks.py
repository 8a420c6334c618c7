"""The three SRL networks: sequence actor, primitive dynamics model and twin primitive critic.

SRL (Patel & Siegelmann, "Overcoming Slow Decision Frequencies in Continuous Control", ICLR 2025):
the actor maps one state to K primitive actions; the model predicts the next state of ONE primitive
step and the critic scores ONE primitive action. During training the model fills in the states the
actor never sees ("temporal recall") so each action of the sequence gets its own critic signal; at
run time only the actor runs.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from cadence.learn.errors import ConfigError

LOG_STD_MIN = -5.0
LOG_STD_MAX = 1.0


def mlp(in_dim: int, out_dim: int, hidden: int, layers: int = 2) -> nn.Sequential:
    """A ``layers``-hidden-layer ReLU perceptron."""
    mods: list[nn.Module] = []
    width = in_dim
    for _ in range(layers):
        mods += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    mods.append(nn.Linear(width, out_dim))
    return nn.Sequential(*mods)


class _SequenceActorBase(nn.Module):
    """What every sequence actor shares: sizes, and the affine map from ``[-1, 1]`` onto the bounds."""

    def __init__(self, obs_dim: int, low: np.ndarray, high: np.ndarray, k: int) -> None:
        super().__init__()
        low_t = torch.as_tensor(np.asarray(low, dtype=np.float32)).reshape(-1)
        high_t = torch.as_tensor(np.asarray(high, dtype=np.float32)).reshape(-1)
        if low_t.shape != high_t.shape or not bool(torch.all(high_t > low_t)):
            raise ConfigError(f"action bounds must satisfy high > low elementwise, got {low} / {high}")
        self.obs_dim = int(obs_dim)
        self.action_dim = int(low_t.numel())
        self.k = int(k)
        self.register_buffer("action_scale", (high_t - low_t) / 2.0)
        self.register_buffer("action_bias", (high_t + low_t) / 2.0)


class SequenceActor(_SequenceActorBase):
    """Gaussian actor emitting ``k`` tanh-squashed primitive actions per state.

    The squashing and the affine map onto ``[low, high]`` happen inside the module, so
    :meth:`forward` (the deterministic policy that is exported to ONNX) returns physical units.

    Args:
        obs_dim: Observation size.
        low: Lower action bounds, shape ``(action_dim,)``.
        high: Upper action bounds, shape ``(action_dim,)``.
        k: Sequence length.
        hidden: Hidden width.
    """

    def __init__(self, obs_dim: int, low: np.ndarray, high: np.ndarray, k: int, hidden: int = 128) -> None:
        super().__init__(obs_dim, low, high, k)
        self.trunk = mlp(obs_dim, 2 * self.k * self.action_dim, hidden)

    def _dist_params(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.trunk(obs).view(-1, self.k, 2, self.action_dim)
        mean, log_std = out[:, :, 0], out[:, :, 1]
        log_std = LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (torch.tanh(log_std) + 1.0)
        return mean, log_std

    def forward(self, obs: torch.Tensor, length: int | None = None) -> torch.Tensor:
        """Deterministic sequence ``[B, k, action_dim]`` in physical units (the exported graph).

        ``length`` other than ``k`` is refused: an MLP head has exactly ``k`` outputs (a sequence
        that runs out is extended by holding its last action, :func:`cadence.learn.evaluation.play_interval`).
        """
        if length is not None and int(length) != self.k:
            raise ConfigError(f"an MLP sequence actor emits exactly k={self.k} actions, not {length}")
        mean, _ = self._dist_params(obs)
        return torch.tanh(mean) * self.action_scale + self.action_bias

    def sample(self, obs: torch.Tensor, coherent: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Reparameterised sample.

        Args:
            obs: ``[B, obs_dim]``.
            coherent: One standard-normal draw per sequence, shared by its ``k`` actions (each action
                keeps its own marginal, so ``log_prob`` is unchanged; exploration that keeps its
                direction for a whole decision, as action repeat's does). ``False``: independent draws.

        Returns:
            ``(actions [B, k, action_dim]`` in physical units, ``log_prob [B, k])`` — one
            log-density per primitive action (tanh and scale corrections included).
        """
        mean, log_std = self._dist_params(obs)
        std = log_std.exp()
        noise = torch.randn_like(mean[:, :1]).expand_as(mean) if coherent else torch.randn_like(mean)
        pre = mean + std * noise
        squashed = torch.tanh(pre)
        log_prob = -0.5 * noise.pow(2) - log_std - 0.5 * math.log(2.0 * math.pi)
        log_prob = log_prob - torch.log(self.action_scale * (1.0 - squashed.pow(2)) + 1e-6)
        return squashed * self.action_scale + self.action_bias, log_prob.sum(-1)


class GRUSequenceActor(_SequenceActorBase):
    """Gaussian actor whose sequence comes from a gated recurrent unit (the SRL paper's actor).

    An MLP encodes the state into the GRU's initial hidden state; each step feeds the previous
    primitive action (``[-1, 1]`` units; zeros before the first) and a linear head gives that
    action's mean and log-std. Step ``i``'s distribution is conditional on the actions drawn before
    it, so the per-step log-densities still sum to the sequence's. Because the recurrence does not
    depend on ``k``, the actor can emit sequences of any length: ``k`` is the length it is trained
    and exported at, and :meth:`forward` with ``length > k`` continues the sequence (what evaluating
    at a decision interval ``J > k`` uses instead of holding the last action).

    Same constructor, attributes and methods as :class:`SequenceActor`.
    """

    def __init__(self, obs_dim: int, low: np.ndarray, high: np.ndarray, k: int, hidden: int = 128) -> None:
        super().__init__(obs_dim, low, high, k)
        self.encoder = nn.Sequential(mlp(obs_dim, hidden, hidden, layers=1), nn.Tanh())
        self.cell = nn.GRUCell(self.action_dim, hidden)
        self.head = nn.Linear(hidden, 2 * self.action_dim)

    def _step(
        self, prev_unit: torch.Tensor, h: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.cell(prev_unit, h)
        mean, log_std = self.head(h).view(-1, 2, self.action_dim).unbind(1)
        log_std = LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (torch.tanh(log_std) + 1.0)
        return mean, log_std, h

    def forward(self, obs: torch.Tensor, length: int | None = None) -> torch.Tensor:
        """Deterministic sequence ``[B, length or k, action_dim]`` in physical units."""
        h = self.encoder(obs)
        prev = torch.zeros(obs.shape[0], self.action_dim, dtype=obs.dtype, device=obs.device)
        out = []
        for _ in range(self.k if length is None else int(length)):
            mean, _, h = self._step(prev, h)
            prev = torch.tanh(mean)
            out.append(prev)
        return torch.stack(out, dim=1) * self.action_scale + self.action_bias

    def sample(self, obs: torch.Tensor, coherent: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Reparameterised sample of ``k`` actions; see :meth:`SequenceActor.sample`."""
        h = self.encoder(obs)
        prev = torch.zeros(obs.shape[0], self.action_dim, dtype=obs.dtype, device=obs.device)
        shared = (
            torch.randn(obs.shape[0], self.action_dim, dtype=obs.dtype, device=obs.device)
            if coherent
            else None
        )
        actions, log_probs = [], []
        for _ in range(self.k):
            mean, log_std, h = self._step(prev, h)
            noise = shared if shared is not None else torch.randn_like(mean)
            prev = torch.tanh(mean + log_std.exp() * noise)
            log_prob = -0.5 * noise.pow(2) - log_std - 0.5 * math.log(2.0 * math.pi)
            log_prob = log_prob - torch.log(self.action_scale * (1.0 - prev.pow(2)) + 1e-6)
            actions.append(prev)
            log_probs.append(log_prob.sum(-1))
        seq = torch.stack(actions, dim=1) * self.action_scale + self.action_bias
        return seq, torch.stack(log_probs, dim=1)


ACTOR_KINDS = ("mlp", "gru")


def make_actor(
    kind: str, obs_dim: int, low: np.ndarray, high: np.ndarray, k: int, hidden: int = 128
) -> SequenceActor | GRUSequenceActor:
    """The sequence actor named ``kind`` (``"mlp"``: one MLP emits all ``k`` actions; ``"gru"``).

    Raises:
        ConfigError: for an unknown kind.
    """
    if kind == "mlp":
        return SequenceActor(obs_dim, low, high, k, hidden)
    if kind == "gru":
        return GRUSequenceActor(obs_dim, low, high, k, hidden)
    raise ConfigError(f"unknown actor {kind!r}; valid: {', '.join(ACTOR_KINDS)}")


class DynamicsModel(nn.Module):
    """Predicts the next observation of one primitive step as ``obs + delta(obs, action)``.

    Inputs are normalised with running statistics that :meth:`update_stats` keeps from the
    replay buffer, which matters because observation entries (ranges, times, angles) differ in scale.
    """

    def __init__(self, obs_dim: int, action_dim: int, hidden: int = 128) -> None:
        super().__init__()
        self.net = mlp(obs_dim + action_dim, obs_dim, hidden)
        self.register_buffer("obs_mean", torch.zeros(obs_dim))
        self.register_buffer("obs_std", torch.ones(obs_dim))
        self.register_buffer("delta_std", torch.ones(obs_dim))

    def update_stats(self, obs: torch.Tensor, next_obs: torch.Tensor) -> None:
        """Refresh normalisation from a sample of transitions."""
        self.obs_mean.copy_(obs.mean(0))
        self.obs_std.copy_(obs.std(0).clamp_min(1e-3))
        self.delta_std.copy_((next_obs - obs).std(0).clamp_min(1e-4))

    def forward(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        x = torch.cat([(obs - self.obs_mean) / self.obs_std, action], dim=-1)
        return obs + self.net(x) * self.delta_std

    def loss(self, obs: torch.Tensor, action: torch.Tensor, next_obs: torch.Tensor) -> torch.Tensor:
        """Huber loss of the predicted delta, in units of the delta's spread.

        Huber rather than MSE: a waypoint switch or a wall entering a lidar sector makes a few
        deltas jump by many spreads, and squared error would let those rare jumps dominate.
        """
        x = torch.cat([(obs - self.obs_mean) / self.obs_std, action], dim=-1)
        target = (next_obs - obs) / self.delta_std
        return torch.nn.functional.smooth_l1_loss(self.net(x), target)


class TwinCritic(nn.Module):
    """Two primitive-step Q functions ``Q_i(obs, action)`` (clipped double Q, as in SAC)."""

    def __init__(self, obs_dim: int, action_dim: int, hidden: int = 128) -> None:
        super().__init__()
        self.q1 = mlp(obs_dim + action_dim, 1, hidden)
        self.q2 = mlp(obs_dim + action_dim, 1, hidden)

    def forward(self, obs: torch.Tensor, action: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.cat([obs, action], dim=-1)
        return self.q1(x).squeeze(-1), self.q2(x).squeeze(-1)

    def min_q(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        q1, q2 = self(obs, action)
        return torch.minimum(q1, q2)
