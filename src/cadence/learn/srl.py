"""The SRL learner: gradient updates of model, critic, actor and temperature.

Update rules (Patel & Siegelmann 2025, section 3, written for this code base):

* **model** ``m(s, a) -> s'`` regresses primitive transitions from the replay buffer.
* **critic** ``Q(s, a)`` is a primitive-step soft Q function (SAC): target
  ``r + gamma * (1 - done) * (min Q_targ(s', a'_1) - alpha * log pi(a'_1 | s'))`` where ``a'_1`` is
  the first action of the sequence the actor would emit at ``s'``.
* **actor** (temporal recall): for a decision state ``s`` it samples ``a_1..a_K``; the model rolls
  ``s_1 = s, s_{i+1} = m(s_i, a_i)`` so every action is scored at the state it will actually
  be played in, and the loss is ``mean_i(alpha * log pi(a_i) - Q(s_i, a_i))``. Model states are
  computed without gradient (the actor is taught by the critic's action gradients only).
* **temperature** targets an entropy of ``-action_dim`` per primitive action.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from cadence.learn.buffer import Batch
from cadence.learn.config import SRLConfig
from cadence.learn.networks import DynamicsModel, TwinCritic, make_actor


class UpdateStats(NamedTuple):
    """Losses of the last gradient step (for logging)."""

    critic_loss: float
    model_loss: float
    actor_loss: float
    alpha: float


class SRLAgent:
    """Networks, target networks and optimisers of one SRL run.

    Args:
        obs_dim: Observation size.
        low: Primitive action lower bounds.
        high: Primitive action upper bounds.
        config: Hyper-parameters.
    """

    def __init__(self, obs_dim: int, low: np.ndarray, high: np.ndarray, config: SRLConfig) -> None:
        self.config = config
        self.actor = make_actor(config.actor, obs_dim, low, high, config.k, config.hidden)
        act_dim = self.actor.action_dim
        self.critic = TwinCritic(obs_dim, act_dim, config.hidden)
        self.critic_target = TwinCritic(obs_dim, act_dim, config.hidden)
        self.critic_target.load_state_dict(self.critic.state_dict())
        self.critic_target.requires_grad_(False)
        self.model = DynamicsModel(obs_dim, act_dim, config.hidden)
        self.log_alpha = torch.tensor(float(np.log(config.init_alpha)), requires_grad=True)
        self.target_entropy = -float(act_dim)
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=config.actor_lr)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=config.critic_lr)
        self.model_opt = torch.optim.Adam(self.model.parameters(), lr=config.model_lr)
        self.alpha_opt = torch.optim.Adam([self.log_alpha], lr=config.alpha_lr)
        self.last_actor_loss = 0.0

    @property
    def alpha(self) -> float:
        return float(self.log_alpha.detach().exp())

    def unit(self, action: torch.Tensor) -> torch.Tensor:
        """Physical action -> [-1, 1] (what critic and model see)."""
        return (action - self.actor.action_bias) / self.actor.action_scale

    @torch.no_grad()
    def act(self, obs: np.ndarray, deterministic: bool, length: int | None = None) -> np.ndarray:
        """One decision: ``obs [obs_dim]`` -> ``[k, action_dim]`` physical actions.

        ``length`` (deterministic only): a GRU actor continues its sequence to ``length`` actions;
        an MLP actor returns its ``k`` actions whatever ``length`` asks (the caller holds the last).
        """
        x = torch.as_tensor(np.asarray(obs, dtype=np.float32)).unsqueeze(0)
        if deterministic:
            extend = length is not None and length > self.config.k and self.config.actor == "gru"
            seq = self.actor(x, int(length)) if extend else self.actor(x)
        else:
            seq = self.actor.sample(x, self.config.coherent_noise)[0]
        return seq[0].numpy()

    def update_model(self, batch: Batch) -> float:
        """One model gradient step; returns the loss."""
        loss = self.model.loss(batch.obs, self.unit(batch.action), batch.next_obs)
        self.model_opt.zero_grad()
        loss.backward()
        self.model_opt.step()
        return loss.item()

    def update_critic(self, batch: Batch) -> float:
        """One soft-Q gradient step on primitive transitions plus the Polyak target update.

        An n-step ``batch`` (``discount`` set, :meth:`ReplayBuffer.sample_n_step`) bootstraps at its
        ``next_obs`` with its own discount; the Q function is still the primitive-step one.
        """
        alpha = self.log_alpha.exp().detach()
        with torch.no_grad():
            next_seq, next_logp = self.actor.sample(batch.next_obs)
            next_a, next_lp = self.unit(next_seq[:, 0]), next_logp[:, 0]
            next_q = self.critic_target.min_q(batch.next_obs, next_a) - alpha * next_lp
            discount = self.config.gamma if batch.discount is None else batch.discount
            target = batch.reward + discount * (1.0 - batch.done) * next_q
        q1, q2 = self.critic(batch.obs, self.unit(batch.action))
        loss = F.mse_loss(q1, target) + F.mse_loss(q2, target)
        self.critic_opt.zero_grad()
        loss.backward()
        self.critic_opt.step()
        with torch.no_grad():
            tau = self.config.tau
            for p, tp in zip(self.critic.parameters(), self.critic_target.parameters(), strict=True):
                tp.mul_(1.0 - tau).add_(p, alpha=tau)
        return loss.item()

    def recall_states(self, obs: torch.Tensor, seq_unit: torch.Tensor) -> torch.Tensor:
        """Temporal recall: model-predicted state before each action, ``[B, k, obs_dim]``."""
        states = [obs]
        with torch.no_grad():
            s = obs
            for i in range(seq_unit.shape[1] - 1):
                s = self.model(s, seq_unit[:, i])
                states.append(s)
        return torch.stack(states, dim=1)

    def update_actor(
        self, obs: torch.Tensor, demo: tuple[torch.Tensor, torch.Tensor] | None = None, bc_weight: float = 0.0
    ) -> float:
        """One temporal-recall actor step and one temperature step; returns the actor loss.

        Args:
            obs: Decision states ``[B, obs_dim]``.
            demo: Optional guide pairs ``(obs [B, obs_dim], sequence [B, k, action_dim])``.
            bc_weight: Weight of the behaviour-cloning term on ``demo`` (unit action space). The
                Q term is divided by its mean magnitude (TD3+BC) so the weight is scale-free.
        """
        seq, logp = self.actor.sample(obs)
        seq_unit = self.unit(seq)
        states = self.recall_states(obs, seq_unit.detach())
        b, k, _ = seq_unit.shape
        q = self.critic.min_q(states.reshape(b * k, -1), seq_unit.reshape(b * k, -1)).view(b, k)
        alpha = self.log_alpha.exp().detach()
        loss = (alpha * logp - q).mean()
        if demo is not None and bc_weight > 0.0:
            scale = q.abs().mean().detach().clamp_min(1e-3)
            bc = (self.unit(self.actor(demo[0])) - self.unit(demo[1])).pow(2).mean()
            loss = loss / scale + bc_weight * bc
        self.actor_opt.zero_grad()
        loss.backward()
        self.actor_opt.step()
        if self.config.autotune_alpha:
            alpha_loss = -(self.log_alpha * (logp.detach() + self.target_entropy)).mean()
            self.alpha_opt.zero_grad()
            alpha_loss.backward()
            self.alpha_opt.step()
        self.last_actor_loss = loss.item()
        return self.last_actor_loss

    def bc_step(self, demo: tuple[torch.Tensor, torch.Tensor]) -> float:
        """One pure behaviour-cloning step of the deterministic actor towards guide sequences."""
        loss = (self.unit(self.actor(demo[0])) - self.unit(demo[1])).pow(2).mean()
        self.actor_opt.zero_grad()
        loss.backward()
        self.actor_opt.step()
        return loss.item()

    def state_dicts(self) -> dict[str, dict[str, torch.Tensor]]:
        """Weights only (no optimiser objects, no pickled classes) for checkpoints."""
        return {
            "actor": self.actor.state_dict(),
            "critic": self.critic.state_dict(),
            "critic_target": self.critic_target.state_dict(),
            "model": self.model.state_dict(),
            "log_alpha": {"log_alpha": self.log_alpha.detach().clone()},
        }

    def load_state_dicts(self, states: dict[str, dict[str, torch.Tensor]]) -> None:
        """Inverse of :meth:`state_dicts`."""
        self.actor.load_state_dict(states["actor"])
        self.critic.load_state_dict(states["critic"])
        self.critic_target.load_state_dict(states["critic_target"])
        self.model.load_state_dict(states["model"])
        with torch.no_grad():
            self.log_alpha.copy_(states["log_alpha"]["log_alpha"])
