"""``cadence train`` and ``cadence export`` (DEVELOPERS.md, "CLI": standard library only up here).

``cadence retrain`` belongs to the data engineer's offline pipeline and is registered by
``cadence.learn.retrain_cli`` (listed in ``cadence.cli.COMMAND_MODULES``), not here.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from cadence.cli import positive_int

ALGOS = ("srl", "sac", "ppo", "critic")


def register(subparsers: Any) -> None:
    """Add ``train`` and ``export``."""
    train = subparsers.add_parser(
        "train",
        help="train an SRL policy or an SB3 baseline and export it to ONNX",
        description="Train SRL (sequence RL) or an SB3 baseline (SAC with action repeat, PPO) on a "
        "named env; writes checkpoints, curve.png/curve.csv, train.json and policy.onnx + policy.json.",
    )
    train.add_argument("--algo", choices=ALGOS, default="srl")
    train.add_argument(
        "--env", default="rover-apartment", help="rover-<scene>, point-reach or a gymnasium id"
    )
    train.add_argument("--steps", type=positive_int, default=50_000, help="primitive env steps")
    train.add_argument("--eval-env", default=None, help="env for evaluations (default: --env)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--k", type=positive_int, default=8, help="SRL sequence length")
    train.add_argument(
        "--actor",
        choices=("mlp", "gru"),
        default="mlp",
        help="SRL actor head: mlp (one perceptron emits the K actions) or gru (the SRL paper's "
        "recurrent actor, which can continue a sequence past K)",
    )
    train.add_argument("--repeat", type=positive_int, default=8, help="SAC/PPO action repeat J")
    train.add_argument("--hidden", type=positive_int, default=128, help="hidden layer width")
    train.add_argument("--eval-every", type=int, default=5_000, help="primitive steps between evaluations")
    train.add_argument("--eval-episodes", type=positive_int, default=5)
    train.add_argument(
        "--max-episode-steps",
        type=positive_int,
        default=None,
        help="truncate training episodes (not evaluation)",
    )
    train.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override an SRLConfig field, e.g. --set gamma=0.99 (repeatable)",
    )
    train.add_argument("--out", type=Path, default=None, help="output folder (default runs/ALGO-ENV-sSEED)")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.set_defaults(handler=_train)

    export = subparsers.add_parser(
        "export",
        help="export an SRL checkpoint to ONNX + manifest",
        description="Export the actor of an SRL checkpoint (.pt from cadence train) to NAME.onnx + NAME.json.",
    )
    export.add_argument("checkpoint", type=Path)
    export.add_argument("--out", type=Path, required=True, help="destination NAME.onnx")
    export.add_argument(
        "--metrics",
        action="append",
        default=[],
        metavar="NAME=FILE.json",
        help="record a JSON report (e.g. `cadence validate --json` output) under NAME in the manifest",
    )
    export.set_defaults(handler=_export)


def _train_critic(args: argparse.Namespace) -> int:
    """``--algo critic``: retrain the learned progress critic (issue 6) on sim rollouts."""
    from cadence.cli import CLIError
    from cadence.critic.errors import CriticError
    from cadence.critic.train import config_for_train_command, train_critic

    out = args.out or Path("runs") / f"critic-{args.env}-s{args.seed}"
    try:
        path = train_critic(config_for_train_command(args.env, args.steps, args.seed, out, args.hidden))
    except CriticError as err:
        raise CLIError(str(err)) from err
    print(f"critic on {args.env}: wrote {path} (+ manifest)")
    return 0


def _train(args: argparse.Namespace) -> int:
    from cadence.cli import CLIError
    from cadence.learn.errors import LearnError
    from cadence.learn.run import RunOptions, run_training

    if args.eval_every < 0:
        raise CLIError(f"--eval-every must be >= 0, got {args.eval_every}")
    if args.algo == "critic":
        return _train_critic(args)
    overrides = []
    for item in args.overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CLIError(f"--set expects KEY=VALUE, got {item!r}")
        overrides.append((key.strip(), value.strip()))
    out = args.out or Path("runs") / f"{args.algo}-{args.env}-s{args.seed}"
    opts = RunOptions(
        algo=args.algo,
        env=args.env,
        steps=args.steps,
        seed=args.seed,
        out=out,
        k=args.k,
        actor=args.actor,
        repeat=args.repeat,
        hidden=args.hidden,
        eval_every=args.eval_every,
        eval_episodes=args.eval_episodes,
        max_episode_steps=args.max_episode_steps,
        eval_env=args.eval_env,
        srl_overrides=tuple(overrides),
        progress=not args.no_progress,
    )
    try:
        summary = run_training(opts)
    except LearnError as err:
        raise CLIError(str(err)) from err
    final = summary["final_eval"]
    print(
        f"{args.algo} on {args.env}: return {final['mean_return']:.2f}, success {final['success_rate']:.2f}; "
        f"wrote {out}/policy.onnx"
    )
    return 0


def _read_metrics(items: list[str]) -> dict[str, Any]:
    from cadence.cli import CLIError

    metrics: dict[str, Any] = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise CLIError(f"--metrics expects NAME=FILE.json, got {item!r}")
        try:
            metrics[name] = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise CLIError(f"--metrics {name}: cannot read JSON from {path}: {err}") from err
    return metrics


def _export(args: argparse.Namespace) -> int:
    from cadence.cli import CLIError
    from cadence.learn.checkpoint import load_checkpoint
    from cadence.learn.errors import LearnError
    from cadence.policy.errors import PolicyError

    metrics = _read_metrics(args.metrics)
    try:
        ckpt = load_checkpoint(args.checkpoint)
        from cadence.learn.envs import make_env
        from cadence.learn.export import export_policy
        from cadence.learn.run import _export_kwargs, _layout_for

        env = make_env(ckpt.header["env"])
        lineage: dict[str, Any] = {
            "checkpoint": str(args.checkpoint),
            "step": ckpt.header["step"],
            "command": ckpt.header.get("command"),
            "srl_config": ckpt.header["config"],
        }
        train_json = args.checkpoint.resolve().parent.parent / "train.json"
        if train_json.is_file():  # the run folder of `cadence train`
            lineage["training"] = json.loads(train_json.read_text())
        export_policy(
            ckpt.agent.actor,
            _layout_for(env),
            ckpt.agent.config.k,
            args.out,
            metrics=metrics,
            lineage=lineage,
            **_export_kwargs(env),
        )
    except (LearnError, PolicyError) as err:
        raise CLIError(str(err)) from err
    print(f"wrote {args.out}")
    return 0
