"""Train the learned pairwise critic in torch and export it to ONNX + manifest (issue 6).

``train_critic(config) -> path`` is the entry point behind ``cadence train --algo critic``: it
collects episodes (MuJoCo rollouts by default, see :mod:`cadence.critic.rollouts`), builds VLAC pairs
(:mod:`cadence.critic.pairs`), fits a small MLP with a tanh progress head and a done head, and
exports one ONNX file whose manifest (``kind: critic``) records the scenes, the feature layout,
a golden input/output pair and the held-out metrics. torch is imported only here, never by the
runtime (:mod:`cadence.critic.learned`).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cadence.critic.episodes import Episode, random_episodes
from cadence.critic.errors import CriticError, TaskError
from cadence.critic.export import export_critic, record_metrics
from cadence.critic.features import feature_dim
from cadence.critic.pairs import make_pairs

LOG = logging.getLogger(__name__)
SOURCES = ("sim", "kinematic")
DEFAULT_SCENES = ("apartment", "warehouse", "open")
HELDOUT_SEED = 500_000  # held-out episodes use seeds far from the training ones


@dataclass(frozen=True)
class CriticTrainConfig:
    """Hyper-parameters of one critic training run (one typed dataclass, cleanrl style).

    Attributes:
        out: Destination ``.onnx`` (the manifest goes beside it).
        scenes: Scenes to train on (the model is only valid in these).
        source: ``sim`` (MuJoCo rollouts) or ``kinematic`` (geometry-only, for tests and quick runs).
        episodes_per_scene: Training episodes per scene.
        pairs_per_episode: Pairs of each kind per episode.
        hidden: Width of the two hidden layers.
        epochs: Passes over the pairs.
        batch_size: Minibatch size.
        lr: Adam learning rate.
        done_weight: Weight of the done head's loss.
        heldout_per_scene: Fresh episodes per scene scored after export (0: skip).
        seed: Seed of episodes, pairs and weights.
        threads: torch intra-op threads (1: tiny nets train fastest single-threaded on a shared CPU).
        metrics: Held-out figures to record in the manifest.
    """

    out: str = "models/progress_critic.onnx"
    scenes: tuple[str, ...] = DEFAULT_SCENES
    source: str = "sim"
    episodes_per_scene: int = 200
    pairs_per_episode: int = 64
    hidden: int = 128
    epochs: int = 30
    batch_size: int = 512
    lr: float = 2e-3
    done_weight: float = 0.5
    heldout_per_scene: int = 20
    seed: int = 0
    threads: int = 1
    metrics: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise TaskError(f"unknown episode source {self.source!r}; sources: {', '.join(SOURCES)}")
        if not self.scenes:
            raise TaskError("CriticTrainConfig.scenes must name at least one scene")
        for name in ("episodes_per_scene", "pairs_per_episode", "hidden", "epochs", "batch_size", "threads"):
            if int(getattr(self, name)) < 1:
                raise TaskError(f"CriticTrainConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.heldout_per_scene < 0:
            raise TaskError(f"CriticTrainConfig.heldout_per_scene must be >= 0, got {self.heldout_per_scene}")
        if not str(self.out).endswith(".onnx"):
            raise TaskError(f"CriticTrainConfig.out must end in .onnx, got {self.out!r}")


def collect_episodes(config: CriticTrainConfig, scenes: dict[str, object], seed: int) -> list[Episode]:
    """Episodes for every scene from the configured source."""
    episodes: list[Episode] = []
    for k, (name, scene) in enumerate(scenes.items()):
        if config.source == "kinematic":
            episodes += random_episodes(scene, config.episodes_per_scene, seed + 1000 * k)
        else:
            from cadence.critic.rollouts import sim_episodes

            episodes += sim_episodes(name, config.episodes_per_scene, seed + 1000 * k)
    return episodes


def build_net(in_dim: int, hidden: int) -> Any:
    """The pairwise critic network: MLP trunk, tanh progress head, sigmoid done head."""
    import torch
    from torch import nn

    class PairCritic(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.trunk = nn.Sequential(
                nn.Linear(in_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU()
            )
            self.head = nn.Linear(hidden, 2)

        def forward(self, pair: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            out = self.head(self.trunk(pair))
            return torch.tanh(out[:, 0]), torch.sigmoid(out[:, 1])

    return PairCritic()


def fit(config: CriticTrainConfig, episodes: list[Episode], scenes: dict[str, object]) -> Any:
    """Fit the network on VLAC pairs from `episodes`; returns the torch module (eval mode)."""
    import torch

    if tuple(scenes) != tuple(config.scenes):
        raise TaskError(
            f"fit: scenes {tuple(scenes)} differ from config.scenes {config.scenes} (the one-hot order)"
        )
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    batch = make_pairs(episodes, scenes, config.pairs_per_episode, config.seed)
    net = build_net(feature_dim(len(scenes)), config.hidden)
    opt = torch.optim.Adam(net.parameters(), lr=config.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.epochs)
    rows = torch.from_numpy(batch.rows)
    delta = torch.from_numpy(batch.delta)
    done = torch.from_numpy(batch.done)
    gen = torch.Generator().manual_seed(config.seed)
    # Done frames are a few per episode: weight them up to balance the done head's classes.
    positives = float(done.sum())
    pos_weight = min(max((len(batch) - positives) / max(positives, 1.0), 1.0), 20.0)
    for epoch in range(config.epochs):
        perm = torch.randperm(len(batch), generator=gen)
        total = 0.0
        for start in range(0, len(batch), config.batch_size):
            idx = perm[start : start + config.batch_size]
            pred_delta, pred_done = net(rows[idx])
            loss = torch.nn.functional.mse_loss(pred_delta, delta[idx])
            weight = 1.0 + (pos_weight - 1.0) * done[idx]
            loss = loss + config.done_weight * torch.nn.functional.binary_cross_entropy(
                pred_done.clamp(1e-6, 1 - 1e-6), done[idx], weight=weight
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        sched.step()
        LOG.info("critic epoch %d/%d loss %.5f", epoch + 1, config.epochs, total / len(batch))
    return net.eval()


def heldout_metrics(path: Path, config: CriticTrainConfig, scenes: dict[str, object]) -> dict[str, Any]:
    """VOC and done F1 of the exported critic on fresh episodes (seeds disjoint from training)."""
    from cadence.critic.evaluate import score_critic
    from cadence.critic.learned import LearnedCritic

    critic = LearnedCritic(path)
    held = CriticTrainConfig(**{**asdict(config), "episodes_per_scene": config.heldout_per_scene})
    out: dict[str, Any] = {}
    for k, (name, scene) in enumerate(scenes.items()):
        episodes = collect_episodes(held, {name: scene}, HELDOUT_SEED + config.seed + 1000 * k)
        score = score_critic(critic, episodes, scene)
        out[name] = {
            "voc": round(score.voc, 4),
            "voc_min": round(score.voc_min, 4),
            "done_f1": round(score.done_f1, 4),
        }
    return {"heldout": out, "heldout_episodes_per_scene": config.heldout_per_scene, "source": config.source}


def train_critic(config: CriticTrainConfig) -> Path:
    """Collect episodes, fit, export, score on held-out episodes. Returns the ONNX path.

    The manifest beside it records the held-out VOC and done F1 per scene (when
    ``config.heldout_per_scene`` > 0).
    """
    from cadence.planner.scene import load_scene

    scenes = {name: load_scene(name) for name in config.scenes}
    episodes = collect_episodes(config, scenes, config.seed)
    LOG.info("critic: %d episodes (%d successful)", len(episodes), sum(e.success for e in episodes))
    net = fit(config, episodes, scenes)
    path = export_critic(net, config, config.metrics)
    if config.heldout_per_scene > 0:
        record_metrics(path, heldout_metrics(path, config, scenes))
    return path


STEPS_PER_EPISODE = 240  # primitive steps in a typical rollout (30 decisions of K = 8)


def config_for_train_command(
    env: str, steps: int, seed: int, out: str | Path, hidden: int = 128
) -> CriticTrainConfig:
    """Map ``cadence train --algo critic --env ENV --steps N --seed S --out DIR`` to a config.

    ``rover-<scene>`` trains on that scene, ``rover-mix`` on the default scenes; ``--steps`` is the
    primitive-step budget of the rollouts (about ``steps / 240`` episodes per scene, at least 10);
    the model goes to ``DIR/progress_critic.onnx``.

    Raises:
        TaskError: for an env that is not a rover scene.
    """
    if env == "rover-mix":
        scenes = DEFAULT_SCENES
    elif env.startswith("rover-"):
        scenes = (env.removeprefix("rover-").removesuffix("-dr"),)
    else:
        raise TaskError(f"the critic trains on rover scenes (rover-<scene> or rover-mix), not {env!r}")
    return CriticTrainConfig(
        out=str(Path(out) / "progress_critic.onnx"),
        scenes=scenes,
        episodes_per_scene=max(10, steps // STEPS_PER_EPISODE),
        hidden=hidden,
        seed=seed,
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m cadence.critic.train``: retrain the shipped critic (see docs/critic.md)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m cadence.critic.train", description=__doc__)
    parser.add_argument("--out", default=CriticTrainConfig.out)
    parser.add_argument("--scenes", nargs="+", default=list(DEFAULT_SCENES))
    parser.add_argument("--source", choices=SOURCES, default="sim")
    parser.add_argument("--episodes", type=int, default=CriticTrainConfig.episodes_per_scene)
    parser.add_argument("--heldout", type=int, default=CriticTrainConfig.heldout_per_scene)
    parser.add_argument("--epochs", type=int, default=CriticTrainConfig.epochs)
    parser.add_argument("--hidden", type=int, default=CriticTrainConfig.hidden)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        config = CriticTrainConfig(
            out=args.out,
            scenes=tuple(args.scenes),
            source=args.source,
            episodes_per_scene=args.episodes,
            heldout_per_scene=args.heldout,
            epochs=args.epochs,
            hidden=args.hidden,
            seed=args.seed,
        )
        path = train_critic(config)
    except (CriticError, ValueError) as err:
        parser.error(str(err))
    print(f"wrote {path} and {path.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
