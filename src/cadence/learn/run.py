"""What ``cadence train`` and ``cadence export`` do, importable (the CLI only parses arguments).

``run_training`` trains SRL or an SB3 baseline on a named env with a progress bar, periodic
evaluation, checkpoints (SRL: weights-only ``.pt``; SB3: its own ``.zip`` is *not* written — the
ONNX export is the deliverable), a learning curve and an ONNX export through
:func:`cadence.learn.export.export_policy`.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cadence.learn.config import SRLConfig
from cadence.learn.envs import make_env
from cadence.learn.errors import ConfigError
from cadence.learn.evaluation import EvalResult, evaluate
from cadence.learn.trainer import CurvePoint


@dataclass(frozen=True)
class RunOptions:
    """Options of one ``cadence train`` run (argparse fills it)."""

    algo: str
    env: str
    steps: int
    seed: int
    out: Path
    k: int = 8
    actor: str = "mlp"
    repeat: int = 8
    hidden: int = 128
    eval_every: int = 5_000
    eval_episodes: int = 5
    max_episode_steps: int | None = None
    eval_env: str | None = None
    srl_overrides: tuple[tuple[str, str], ...] = ()
    progress: bool = True


def srl_config_for(opts: RunOptions) -> SRLConfig:
    """The SRL hyper-parameters of a run: CLI options, then ``--set key=value`` overrides.

    Raises:
        ConfigError: for an unknown key or a value of the wrong type.
    """
    base = SRLConfig(
        k=opts.k,
        actor=opts.actor,
        total_steps=opts.steps,
        learning_starts=min(2_000, opts.steps // 5),
        hidden=opts.hidden,
        eval_every=opts.eval_every,
        eval_episodes=opts.eval_episodes,
        seed=opts.seed,
    )
    changes: dict[str, Any] = {}
    for key, text in opts.srl_overrides:
        current = getattr(base, key, None)
        if current is None:
            base.replace(**{key: text})  # raises ConfigError listing the fields
        try:
            changes[key] = (
                text.lower() in ("1", "true", "yes") if isinstance(current, bool) else type(current)(text)
            )
        except ValueError as err:
            raise ConfigError(f"SRLConfig.{key}: cannot parse {text!r} as {type(current).__name__}") from err
    return base.replace(**changes)


def _layout_for(env: Any) -> Any:
    """The observation layout of a rover env, else a plain dict with ``obs_dim``."""
    obs_dim = int(env.observation_space.shape[0])
    from cadence.policy.observation import DEFAULT_LAYOUT

    if obs_dim == DEFAULT_LAYOUT.obs_dim and getattr(env.unwrapped, "builder", None) is not None:
        return DEFAULT_LAYOUT
    return {"obs_dim": obs_dim, "kind": "raw", "env": getattr(env.spec, "id", type(env).__name__)}


def _export_kwargs(env: Any) -> dict[str, Any]:
    if getattr(env.unwrapped, "builder", None) is not None:
        return {}  # the rover: export_policy reads cadence.sim.robot
    space = env.action_space
    return {
        "action_names": [f"a{i}" for i in range(space.shape[0])],
        "action_low": space.low.tolist(),
        "action_high": space.high.tolist(),
        "control_dt": float(getattr(env.unwrapped, "dt", 0.05)),
    }


def run_training(opts: RunOptions) -> dict[str, Any]:
    """Train, evaluate, checkpoint, plot and export; returns the summary written to ``train.json``."""
    import torch
    from tqdm import tqdm

    from cadence.learn.export import export_policy
    from cadence.learn.report import write_curve

    srl_config_for(opts)  # bad --set values fail before any env or file is made
    torch.set_num_threads(1)  # 2 shared cores: one thread is faster than contention
    opts.out.mkdir(parents=True, exist_ok=True)
    env, eval_env = make_env(opts.env, opts.max_episode_steps), make_env(opts.eval_env or opts.env)
    bar = tqdm(total=opts.steps, unit="step", disable=not opts.progress, dynamic_ncols=True)
    started = time.time()
    train = _train_srl if opts.algo == "srl" else _train_sb3
    module, k, curve = train(opts, env, eval_env, bar)
    final = evaluate(eval_env, _module_fn(module), k, max(opts.eval_episodes, 10), seed=20_000)
    bar.close()
    curve.append(CurvePoint(opts.steps, final.mean, final.success_rate))
    write_curve(opts.out, curve, f"{opts.algo} on {opts.env} (evaluated on {opts.eval_env or opts.env})")
    command = _command()
    summary = {
        "algo": opts.algo,
        "env": opts.env,
        "eval_env": opts.eval_env or opts.env,
        "steps": opts.steps,
        "seed": opts.seed,
        "k": k,
        "max_episode_steps": opts.max_episode_steps,
        "srl_config": srl_config_for(opts).to_dict() if opts.algo == "srl" else None,
        "train_seconds": round(time.time() - started, 1),
        "final_eval": {
            "mean_return": final.mean,
            "success_rate": final.success_rate,
            "episodes": len(final.returns),
        },
        "command": command,
    }
    if opts.algo == "srl" and srl_config_for(opts).init_checkpoint:
        summary["parent"] = parent_lineage(srl_config_for(opts).init_checkpoint)
    export_policy(
        module,
        _layout_for(env),
        k,
        opts.out / "policy.onnx",
        metrics={"train_eval": summary["final_eval"]},
        lineage={
            "algo": opts.algo,
            "env": opts.env,
            "steps": opts.steps,
            "seed": opts.seed,
            "command": command,
        },
        **_export_kwargs(env),
    )
    (opts.out / "train.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def parent_lineage(checkpoint: str | Path) -> dict[str, Any]:
    """Where a fine-tuning run started: the ``init_checkpoint``'s path, step, env and command.

    Raises:
        CheckpointError: if the checkpoint cannot be read.
    """
    from cadence.learn.checkpoint import load_checkpoint

    header = load_checkpoint(checkpoint).header
    keys = ("step", "env", "command")
    return {"checkpoint": str(checkpoint), **{k: header.get(k) for k in keys}}


def _command() -> str:
    """The command line of this process, as recorded in checkpoints and manifests."""
    return "cadence " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def _module_fn(module: Any) -> Any:
    import torch

    def act(obs: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return module(torch.as_tensor(obs).unsqueeze(0))[0].numpy()

    return act


def _train_srl(opts: RunOptions, env: Any, eval_env: Any, bar: Any) -> tuple[Any, int, list[CurvePoint]]:
    from cadence.learn.checkpoint import save_checkpoint
    from cadence.learn.trainer import train_srl

    config = srl_config_for(opts)

    def on_progress(step: int, metrics: dict[str, float]) -> None:
        bar.update(step - bar.n)
        bar.set_postfix({k: f"{v:.3g}" for k, v in metrics.items()}, refresh=False)

    def on_eval(step: int, agent: Any, result: EvalResult) -> None:
        bar.write(f"step {step}: eval return {result.mean:.2f}, success {result.success_rate:.2f}")
        save_checkpoint(
            opts.out / "checkpoints" / f"step_{step:08d}.pt",
            agent,
            opts.eval_env or opts.env,
            step,
            eval_return=result.mean,
            eval_success=result.success_rate,
            command=_command(),
        )

    result = train_srl(env, config, eval_env, on_progress, on_eval)
    save_checkpoint(
        opts.out / "checkpoints" / "final.pt",
        result.agent,
        opts.eval_env or opts.env,
        opts.steps,
        command=_command(),
    )
    return result.agent.actor, opts.k, list(result.curve)


def _train_sb3(opts: RunOptions, env: Any, eval_env: Any, bar: Any) -> tuple[Any, int, list[CurvePoint]]:
    from stable_baselines3.common.callbacks import BaseCallback

    from cadence.learn.baselines import SB3SequencePolicy, sb3_policy_fn, train_sb3

    curve: list[CurvePoint] = []
    repeat = opts.repeat

    class Progress(BaseCallback):
        def _on_step(self) -> bool:
            step = self.num_timesteps * repeat
            bar.update(step - bar.n)
            if opts.eval_every and step // opts.eval_every > (step - repeat) // opts.eval_every:
                r = evaluate(eval_env, sb3_policy_fn(self.model), repeat, opts.eval_episodes, seed=10_000)
                curve.append(CurvePoint(step, r.mean, r.success_rate))
                bar.write(f"step {step}: eval return {r.mean:.2f}, success {r.success_rate:.2f}")
            return True

    model = train_sb3(opts.algo, env, opts.steps, opts.seed, repeat, opts.hidden, callback=Progress())
    space = env.action_space
    module = SB3SequencePolicy(model, opts.algo, space.low, space.high, repeat).eval()
    return module, repeat, curve
