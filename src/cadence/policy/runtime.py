"""The policy runtime: ``load_policy(path) -> OnnxPolicy`` (DEVELOPERS.md, "Policy interface").

A policy is anything with ``act(obs: float32[B, obs_dim]) -> float32[B, K, 2]`` in physical units
and a ``.manifest``. ONNX policies are loaded only after the checks of :mod:`cadence.policy.model`
(format, sha256, opset, external data, I/O, golden pair). This module imports onnxruntime, onnx and
numpy — never torch: the robot only needs those.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from cadence.policy.errors import ModelRejected, PolicyError
from cadence.policy.manifest import Manifest
from cadence.policy.model import LoadedModel, load_model

LOG = logging.getLogger(__name__)


@runtime_checkable
class Policy(Protocol):
    """Anything that acts (DEVELOPERS.md): a batch of observations -> a batch of K-action sequences."""

    manifest: Manifest

    def act(self, obs: np.ndarray) -> np.ndarray:
        """``float32[B, obs_dim] -> float32[B, K, n_actions]`` in physical units."""
        ...


def check_policy_io(manifest: Manifest, name: str) -> None:
    """A policy has one input ``[batch, obs_dim]`` and one output ``[batch, K, n_actions]``, float32."""
    if manifest.kind != "policy" or manifest.action is None:
        raise ModelRejected(f"{name} is a {manifest.kind} model, not a policy")
    if len(manifest.inputs) != 1 or len(manifest.outputs) != 1:
        raise ModelRejected(f"{name}: a policy has exactly one input and one output")
    inp, out = manifest.inputs[0], manifest.outputs[0]
    if inp.dtype != "float32" or out.dtype != "float32":
        raise ModelRejected(f"{name}: policy input/output must be float32, got {inp.dtype}/{out.dtype}")
    if len(inp.shape) != 2 or not isinstance(inp.shape[1], int):
        raise ModelRejected(f"{name}: policy input shape must be [batch, obs_dim], got {list(inp.shape)}")
    want = [manifest.action.k, len(manifest.action.names)]
    if len(out.shape) != 3 or list(out.shape[1:]) != want:
        raise ModelRejected(
            f"{name}: policy output shape must be [batch, {want[0]}, {want[1]}], got {list(out.shape)}"
        )


class OnnxPolicy:
    """A verified ONNX policy on the best available execution provider.

    ``act`` is tuned for batch 1: the input name, output names and a run-options object are
    prepared once, and the session runs with one intra-op thread (see
    :func:`cadence.policy.providers.session_options`).
    """

    def __init__(self, loaded: LoadedModel) -> None:
        check_policy_io(loaded.manifest, loaded.path.name)
        self._loaded = loaded
        self.manifest = loaded.manifest
        self.provider = loaded.provider
        self.path = loaded.path
        self.obs_dim = loaded.manifest.obs_dim
        self.k = loaded.manifest.action.k  # type: ignore[union-attr]
        self._run = loaded.session.run
        self._in = loaded.manifest.inputs[0].name
        self._out = [loaded.manifest.outputs[0].name]

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Run the policy.

        Args:
            obs: ``float32[B, obs_dim]`` (other float dtypes are converted; a 1-D vector is
                treated as batch 1).

        Returns:
            ``float32[B, K, n_actions]`` in physical units.

        Raises:
            PolicyError: the observation has the wrong width or rank.
        """
        obs = np.asarray(obs, dtype=np.float32)
        if obs.ndim == 1:
            obs = obs[None, :]
        if obs.ndim != 2 or obs.shape[1] != self.obs_dim:
            raise PolicyError(f"observation must be [B, {self.obs_dim}], got {list(obs.shape)}")
        return self._run(self._out, {self._in: obs})[0]

    def __repr__(self) -> str:
        return f"OnnxPolicy({self.path.name}, provider={self.provider}, obs_dim={self.obs_dim}, k={self.k})"


def load_policy(path: str | Path, providers: Sequence[str] | None = None, **kwargs: Any) -> Policy:
    """Load a policy by path or registered name.

    Args:
        path: ``models/NAME.onnx`` / ``models/NAME.json``, or ``"backup"`` for the analytic
            go-to-waypoint controller (:class:`cadence.policy.backup.BackupPolicy`).
        providers: Execution providers in order of preference (``"tensorrt"``, ``"cuda"``, ``"cpu"``
            or full onnxruntime names); default TensorRT, CUDA, CPU — whichever is available.
        **kwargs: Passed to the registered builtin (e.g. ``layout=`` for ``"backup"``).

    Raises:
        ModelRejected, ManifestError, ProviderError: see :func:`cadence.policy.model.load_model`.
    """
    if str(path) in BUILTIN_POLICIES:
        return BUILTIN_POLICIES[str(path)](**kwargs)
    if kwargs:
        raise TypeError(f"unexpected arguments for an ONNX policy: {sorted(kwargs)}")
    policy = OnnxPolicy(load_model(path, providers))
    LOG.info("loaded %r", policy)
    return policy


def _backup(**kwargs: Any) -> Policy:
    from cadence.policy.backup import BackupPolicy

    return BackupPolicy(**kwargs)


BUILTIN_POLICIES = {"backup": _backup}
