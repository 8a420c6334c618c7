"""stable-baselines3 baselines: SAC with action repeat J, and PPO.

Both decide every ``repeat`` primitive steps and hold the action in between (SB3 sees an
:class:`~cadence.learn.wrappers.ActionRepeat` env). :class:`SB3SequencePolicy` turns a trained SB3
policy into a ``[B, repeat, action_dim]`` module in physical units, so baselines export to ONNX and
run through the same runtime, validation gate and FAS evaluation as SRL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from cadence.learn.errors import ConfigError
from cadence.learn.wrappers import ActionRepeat, check_box_env

ALGOS = ("sac", "ppo")


class SB3SequencePolicy(nn.Module):
    """Deterministic SB3 actor -> ``[B, repeat, action_dim]`` physical actions (ONNX-exportable)."""

    def __init__(self, model: Any, algo: str, low: np.ndarray, high: np.ndarray, repeat: int) -> None:
        super().__init__()
        self.algo = algo
        self.policy = model.policy
        self.repeat = int(repeat)
        self.register_buffer("low", torch.as_tensor(np.asarray(low, dtype=np.float32)))
        self.register_buffer("high", torch.as_tensor(np.asarray(high, dtype=np.float32)))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        if self.algo == "sac":  # squashed to [-1, 1]; SB3 rescales to the action space
            unit = self.policy.actor(obs, deterministic=True)
            action = self.low + (unit + 1.0) * 0.5 * (self.high - self.low)
        else:  # PPO: Gaussian mean, clipped to the bounds as SB3's predict does
            latent = self.policy.mlp_extractor.forward_actor(self.policy.extract_features(obs))
            action = torch.maximum(torch.minimum(self.policy.action_net(latent), self.high), self.low)
        return action.unsqueeze(1).expand(-1, self.repeat, -1)


def train_sb3(
    algo: str,
    env: gym.Env,
    steps: int,
    seed: int,
    repeat: int = 1,
    hidden: int = 128,
    callback: Any = None,
    **overrides: Any,
) -> Any:
    """Train an SB3 ``SAC`` or ``PPO`` for ``steps`` *primitive* env steps.

    Args:
        algo: ``"sac"`` or ``"ppo"``.
        env: Primitive env; wrapped in :class:`ActionRepeat` (``repeat``).
        steps: Primitive-step budget (SB3 counts decisions, so it gets ``steps // repeat``).
        seed: Seed.
        repeat: Decision interval J in primitive steps.
        hidden: Width of the two hidden layers.
        callback: An SB3 callback.
        **overrides: Extra keyword arguments for the SB3 constructor.

    Raises:
        ConfigError: for an unknown algorithm or a non-positive budget / repeat.
    """
    from stable_baselines3 import PPO, SAC

    if algo not in ALGOS:
        raise ConfigError(f"unknown baseline {algo!r}; valid: {', '.join(ALGOS)}")
    if steps <= 0 or repeat <= 0:
        raise ConfigError(f"steps and repeat must be > 0, got {steps} and {repeat}")
    check_box_env(env)
    wrapped = ActionRepeat(env, repeat) if repeat > 1 else env
    kwargs: dict[str, Any] = {"policy_kwargs": {"net_arch": [hidden, hidden]}, "seed": seed, "verbose": 0}
    if algo == "sac":
        kwargs |= {"learning_starts": min(1000, max(steps // repeat // 10, 1)), "batch_size": 256}
        cls: Any = SAC
    else:
        kwargs |= {"n_steps": 512, "batch_size": 64}
        cls = PPO
    kwargs |= overrides
    model = cls("MlpPolicy", wrapped, device="cpu", **kwargs)
    model.learn(total_timesteps=max(steps // repeat, 1), callback=callback)
    return model


def sb3_policy_fn(model: Any) -> Callable[[np.ndarray], np.ndarray]:
    """Deterministic ``obs -> [1, action_dim]`` for :func:`cadence.learn.evaluation.evaluate`."""

    def act(obs: np.ndarray) -> np.ndarray:
        action, _ = model.predict(obs, deterministic=True)
        return np.asarray(action, dtype=np.float32).reshape(1, -1)

    return act
