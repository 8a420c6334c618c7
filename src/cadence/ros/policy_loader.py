"""Resolve the executor's ``model`` parameter to a policy and build its :class:`ExecutorCore`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cadence.ros.config import ExecutorConfig
from cadence.ros.errors import ParamError


def model_path(model: str) -> Path:
    """``rover_srl`` -> ``<share>/models/rover_srl.onnx``; a path ending in ``.onnx`` is used as is."""
    if model.endswith(".onnx") or "/" in model:
        return Path(model)
    from cadence.paths import models_dir

    return models_dir() / f"{model}.onnx"


def load_executor_policy(config: ExecutorConfig, logger: Any) -> tuple[Any, str]:
    """Load the configured policy (or the backup controller) and wrap it in an ExecutorCore.

    Returns:
        (core, description) — the description says which controller runs, for logs and diagnostics.

    Raises:
        ParamError: the model is missing (and ``fallback_to_backup`` is off) or was rejected by the
            runtime's checks (sha256, I/O, golden pair, ...), naming ``model``.
    """
    from cadence.policy.errors import PolicyError
    from cadence.policy.executor import ExecutorCore
    from cadence.policy.runtime import load_policy

    if config.model == "backup":
        policy, what = load_policy("backup"), "backup controller (model: backup)"
    else:
        path = model_path(config.model)
        if path.exists() and not path.is_file():
            raise ParamError(f"model: {path} is not a file")
        if not path.exists():
            if not config.fallback_to_backup:
                raise ParamError(
                    f"model: {path} does not exist (set fallback_to_backup to run the backup controller)"
                )
            logger.warning(
                f"model {path} not found: running the BACKUP controller instead of a learned policy "
                "(fallback_to_backup is set)"
            )
            policy, what = load_policy("backup"), f"backup controller (fallback: {path.name} missing)"
        else:
            try:
                policy = load_policy(path, providers=config.provider_list or None)
            except PolicyError as err:
                raise ParamError(f"model: cannot load {path}: {err}") from err
            what = f"{path.name} on {getattr(policy, 'provider', 'cpu')}"
    try:
        core = ExecutorCore(policy, stale_timeout=config.stale_timeout_s)
    except PolicyError as err:
        raise ParamError(f"model: {err}") from err
    return core, what
