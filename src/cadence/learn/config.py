"""Hyper-parameters of Sequence RL (SRL) as one typed, validated dataclass (cleanrl style)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from cadence.learn.errors import ConfigError


@dataclass(frozen=True)
class SRLConfig:
    """Everything that shapes an SRL training run.

    Attributes:
        k: Sequence length: primitive actions emitted per decision (DEVELOPERS.md default 8).
        actor: ``"mlp"`` (one perceptron emits all ``k`` actions; the shipped policy's head) or
            ``"gru"`` (the SRL paper's recurrent actor: it can continue a sequence past ``k``).
        total_steps: Primitive environment steps to train for.
        learning_starts: Primitive steps of uniformly random sequences before learning.
        random_hold: During ``learning_starts``, each uniform random action is held this many
            primitive steps (1: a new one every step; ``k``: one per decision, the exploration SAC
            with action repeat ``k`` gets). Commands redrawn every 50 ms barely move the rover, so
            the first data would hold almost no driving.
        buffer_size: Capacity of the primitive-transition replay buffer.
        batch_size: Transitions per gradient step.
        gamma: Discount per primitive step.
        n_step: Critic targets sum this many stored primitive rewards before bootstrapping (1: the
            one-step SAC target). A primitive-step critic needs k times more one-step backups than a
            decision-level one to carry a return over the same time; n = k closes that gap.
        reward_scale: Factor on primitive rewards before they reach the critic (keeps the entropy
            bonus from swamping small dense rewards such as the rover's metres of progress).
        coherent_noise: Acting during training, the ``k`` actions of a sequence share one noise draw
            (:meth:`cadence.learn.networks.SequenceActor.sample`); updates always use independent draws.
        tau: Polyak factor of the target critics.
        actor_lr: Adam learning rate of the actor.
        critic_lr: Adam learning rate of the twin critics.
        model_lr: Adam learning rate of the dynamics model.
        alpha_lr: Adam learning rate of the entropy temperature.
        init_alpha: Initial entropy temperature.
        autotune_alpha: Tune the temperature towards ``-action_dim`` entropy per primitive step (SAC).
        hidden: Width of every hidden layer (two hidden layers everywhere).
        critic_updates_per_step: Critic/model gradient steps per primitive environment step.
        actor_every: Primitive steps between actor updates (the actor acts once per decision,
            so it is updated at the decision rate by default).
        model_warmup_updates: Model-only gradient steps before temporal recall is trusted.
        eval_every: Primitive steps between evaluations (0 disables periodic evaluation).
        eval_episodes: Episodes per evaluation.
        guide: Name of a guide policy (``"backup"``) that acts during ``learning_starts`` and
            anchors the actor by behaviour cloning (:mod:`cadence.learn.demos`); ``""`` = none.
        guide_noise: Exploration noise on the guide's actions (fraction of half the range).
        bc_weight: Initial weight of the behaviour-cloning term in the actor loss.
        bc_decay_steps: Primitive steps after ``learning_starts`` over which that weight falls ...
        bc_final: ... to this weight, kept for the rest of training (0: pure SRL at the end).
        seed: Seed of torch, numpy and the environment.
        critic_warmup: Primitive steps after ``learning_starts`` during which only the model and
            critics learn (the actor stays as it is): with ``init_checkpoint`` and a changed
            reward, the critics first learn the new reward from the loaded actor's own data.
        init_checkpoint: Path of an SRL checkpoint (:mod:`cadence.learn.checkpoint`) whose actor,
            critics, model and temperature start the run (fine-tuning); ``""`` = fresh weights.
            The model's normalisation is then kept and the warm-up (model and guide cloning) skipped.
    """

    k: int = 8
    actor: str = "mlp"
    total_steps: int = 50_000
    learning_starts: int = 2_000
    random_hold: int = 1
    buffer_size: int = 200_000
    batch_size: int = 256
    gamma: float = 0.98
    n_step: int = 1
    reward_scale: float = 1.0
    coherent_noise: bool = False
    tau: float = 0.01
    actor_lr: float = 3e-4
    critic_lr: float = 1e-3
    model_lr: float = 1e-3
    alpha_lr: float = 3e-4
    init_alpha: float = 0.2
    autotune_alpha: bool = True
    hidden: int = 128
    critic_updates_per_step: float = 0.5
    actor_every: int = 0
    model_warmup_updates: int = 200
    eval_every: int = 5_000
    eval_episodes: int = 5
    guide: str = ""
    guide_noise: float = 0.3
    bc_weight: float = 2.0
    bc_decay_steps: int = 20_000
    bc_final: float = 0.0
    seed: int = 0
    critic_warmup: int = 0
    init_checkpoint: str = ""

    def __post_init__(self) -> None:
        positive = ("k", "total_steps", "buffer_size", "batch_size", "hidden", "random_hold", "n_step")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"SRLConfig.{name} must be > 0, got {getattr(self, name)!r}")
        for name in (
            "bc_decay_steps",
            "learning_starts",
            "eval_every",
            "eval_episodes",
            "model_warmup_updates",
            "actor_every",
            "critic_warmup",
        ):
            if getattr(self, name) < 0:
                raise ConfigError(f"SRLConfig.{name} must be >= 0, got {getattr(self, name)!r}")
        if self.actor not in ("mlp", "gru"):
            raise ConfigError(f"SRLConfig.actor must be 'mlp' or 'gru', got {self.actor!r}")
        if not 0.0 < self.gamma <= 1.0:
            raise ConfigError(f"SRLConfig.gamma must be in (0, 1], got {self.gamma!r}")
        if not 0.0 < self.tau <= 1.0:
            raise ConfigError(f"SRLConfig.tau must be in (0, 1], got {self.tau!r}")
        if self.guide_noise < 0 or self.bc_weight < 0 or self.bc_final < 0:
            raise ConfigError("SRLConfig.guide_noise, bc_weight and bc_final must be >= 0")
        if self.critic_updates_per_step <= 0:
            raise ConfigError(
                f"SRLConfig.critic_updates_per_step must be > 0, got {self.critic_updates_per_step!r}"
            )
        for name in ("actor_lr", "critic_lr", "model_lr", "alpha_lr", "init_alpha", "reward_scale"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"SRLConfig.{name} must be > 0, got {getattr(self, name)!r}")

    @property
    def actor_period(self) -> int:
        """Primitive steps between actor updates (``actor_every`` or, when 0, ``k``)."""
        return self.actor_every or self.k

    def replace(self, **changes: Any) -> SRLConfig:
        """Return a copy with ``changes`` applied (and validated).

        Raises:
            ConfigError: if a name is not a field or a value is invalid.
        """
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ConfigError(f"unknown SRLConfig field(s) {unknown}; valid: {sorted(names)}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (recorded in checkpoints and manifests)."""
        return dataclasses.asdict(self)
