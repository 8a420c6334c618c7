"""torch module -> single-file ONNX model + manifest (issue 4; the manifest is :mod:`cadence.policy.manifest`).

``export_policy`` is the one exporter: the SRL trainer, the CLI and the benchmarks call it. It writes
``NAME.onnx`` with every weight inside the file (no external data), checks it with
``onnx.checker``, records the sha256 and a golden input/output pair computed by torch, verifies
ONNX Runtime reproduces torch's output on it, and writes ``NAME.json`` atomically. The ONNX file is
also written atomically, so a crash never leaves a half-written model beside a valid manifest.

torch is imported inside the functions: importing ``cadence.learn.export`` stays cheap.
"""

from __future__ import annotations

import hashlib
import io
import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from cadence.policy.errors import ExportError
from cadence.policy.manifest import (
    FORMAT_VERSION,
    ActionSpec,
    Golden,
    Manifest,
    OnnxFile,
    TensorSpec,
    manifest_path_for,
    write_atomic,
)
from cadence.policy.model import check_golden

LOG = logging.getLogger(__name__)

DEFAULT_OPSET = 17
INPUT_NAME = "obs"
OUTPUT_NAME = "actions"
GOLDEN_BATCH = 4


def _layout_dict(layout: Any) -> tuple[dict[str, Any], int]:
    """An ObservationLayout (``to_dict()`` + ``obs_dim``) or its dict form -> (dict, obs_dim)."""
    if hasattr(layout, "to_dict"):
        data = dict(layout.to_dict())
        obs_dim = int(getattr(layout, "obs_dim", data.get("obs_dim", 0)))
    elif isinstance(layout, Mapping):
        data = dict(layout)
        obs_dim = int(data.get("obs_dim", 0))
    else:
        raise ExportError(f"layout must be an ObservationLayout or its dict, got {type(layout).__name__}")
    if obs_dim <= 0:
        raise ExportError("layout has no positive obs_dim")
    return data, obs_dim


def _robot_bounds() -> tuple[tuple[str, ...], tuple[float, ...], tuple[float, ...], float]:
    from cadence.sim import robot

    return (
        tuple(robot.ACTION_NAMES),
        tuple(robot.ACTION_LOW),
        tuple(robot.ACTION_HIGH),
        float(robot.CONTROL_DT),
    )


def export_policy(
    module: Any,
    layout: Any,
    k: int,
    out_path: str | Path,
    *,
    action_names: Sequence[str] | None = None,
    action_low: Sequence[float] | None = None,
    action_high: Sequence[float] | None = None,
    control_dt: float | None = None,
    opset: int = DEFAULT_OPSET,
    metrics: Mapping[str, Any] | None = None,
    lineage: Mapping[str, Any] | None = None,
    golden_obs: np.ndarray | None = None,
    seed: int = 0,
) -> Manifest:
    """Export a deterministic policy module to ``out_path`` (``.onnx``) and its manifest (``.json``).

    Args:
        module: ``torch.nn.Module`` mapping ``float32[B, obs_dim]`` to ``float32[B, k, n_actions]`` in
            physical units (scaling inside the module).
        layout: The observation layout (``cadence.policy.observation.ObservationLayout``) or its dict.
        k: Sequence length K.
        out_path: Destination ``NAME.onnx``; the manifest goes to ``NAME.json`` beside it.
        action_names, action_low, action_high, control_dt: Default to the rover's constants in
            ``cadence.sim.robot``.
        opset: ONNX opset.
        metrics: Validation metrics to record (free JSON object).
        lineage: Provenance (training command, seed, data, parent model; free JSON object).
        golden_obs: Golden input ``[B, obs_dim]``; default ``GOLDEN_BATCH`` seeded standard-normal rows.
        seed: Seed of the default golden input.

    Returns:
        The manifest written beside the model.

    Raises:
        ExportError: the module's output has the wrong shape or is not finite, the ONNX graph fails
            the checker, or ONNX Runtime disagrees with torch on the golden input.
    """
    import torch

    out_path = Path(out_path)
    if out_path.suffix != ".onnx":
        raise ExportError(f"out_path must end in .onnx, got {out_path.name}")
    layout_dict, obs_dim = _layout_dict(layout)
    if action_names is None or action_low is None or action_high is None or control_dt is None:
        names, low, high, dt = _robot_bounds()
        action_names = names if action_names is None else action_names
        action_low = low if action_low is None else action_low
        action_high = high if action_high is None else action_high
        control_dt = dt if control_dt is None else control_dt
    action = ActionSpec(
        tuple(action_names),
        tuple(map(float, action_low)),
        tuple(map(float, action_high)),
        int(k),
        float(control_dt),
    )
    if golden_obs is None:
        golden_obs = np.random.default_rng(seed).standard_normal((GOLDEN_BATCH, obs_dim)).astype(np.float32)
    golden_obs = np.ascontiguousarray(golden_obs, dtype=np.float32)
    if golden_obs.ndim != 2 or golden_obs.shape[1] != obs_dim:
        raise ExportError(f"golden_obs must be [B, {obs_dim}], got {list(golden_obs.shape)}")

    was_training = module.training
    module.eval()
    try:
        with torch.inference_mode():
            expected = module(torch.from_numpy(golden_obs)).detach().cpu().numpy().astype(np.float32)
        want = (golden_obs.shape[0], action.k, len(action.names))
        if expected.shape != want:
            raise ExportError(f"module output shape {expected.shape} != [B, k, n_actions] = {want}")
        if not np.all(np.isfinite(expected)):
            raise ExportError("module output on the golden input contains NaN/Inf")
        data = _to_onnx_bytes(module, obs_dim, (action.k, len(action.names)), opset)
    finally:
        module.train(was_training)

    manifest = Manifest(
        name=out_path.stem,
        onnx=OnnxFile(out_path.name, "0" * 64, opset),
        inputs=(TensorSpec(INPUT_NAME, ("batch", obs_dim)),),
        outputs=(TensorSpec(OUTPUT_NAME, ("batch", action.k, len(action.names))),),
        observation=layout_dict,
        golden=Golden({INPUT_NAME: golden_obs.tolist()}, {OUTPUT_NAME: expected.tolist()}),
        action=action,
        kind="policy",
        metrics=dict(metrics or {}),
        lineage=dict(lineage or {}),
        format_version=FORMAT_VERSION,
    )
    _verify_with_ort(data, manifest, out_path.name)
    manifest = replace(manifest, onnx=OnnxFile(out_path.name, hashlib.sha256(data).hexdigest(), opset))
    # Each file is replaced atomically; the model first, so a reader never pairs a new manifest
    # with an old model (an old manifest with a new model fails the sha256 check, i.e. closed).
    write_atomic(out_path, data)
    manifest.write(manifest_path_for(out_path))
    LOG.info("exported %s (obs_dim=%d, k=%d, opset=%d)", out_path, obs_dim, action.k, opset)
    return manifest


def _to_onnx_bytes(module: Any, obs_dim: int, out_tail: tuple[int, int], opset: int) -> bytes:
    """TorchScript-based export to bytes, every initializer embedded; then ``onnx.checker``."""
    import onnx
    import torch

    buf = io.BytesIO()
    dummy = torch.zeros(1, obs_dim, dtype=torch.float32)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's deprecation chatter is not actionable here
            torch.onnx.export(
                module,
                (dummy,),
                buf,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
                opset_version=opset,
                dynamo=False,  # onnxscript (the dynamo exporter's dependency) is not installed
                do_constant_folding=True,
            )
    except Exception as err:  # torch.onnx raises many types (OnnxExporterError, RuntimeError, ...)
        raise ExportError(f"torch.onnx.export failed: {err}") from err
    data = buf.getvalue()
    try:
        proto = onnx.load_model_from_string(data)
        onnx.checker.check_model(proto, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as err:
        raise ExportError(f"exported graph fails onnx.checker: {err}") from err
    _declare_shapes(proto, {INPUT_NAME: (obs_dim,), OUTPUT_NAME: out_tail})
    return proto.SerializeToString()


def _declare_shapes(proto: Any, tails: Mapping[str, tuple[int, ...]]) -> None:
    """Declare ``[batch, *tail]`` on the graph's input and output (the exporter may leave dims symbolic)."""
    import onnx

    for value in list(proto.graph.input) + list(proto.graph.output):
        shape = value.type.tensor_type.shape
        if value.name not in tails:
            continue
        del shape.dim[:]
        shape.dim.add().dim_param = "batch"
        for size in tails[value.name]:
            shape.dim.add().dim_value = size
    onnx.checker.check_model(proto)


def _verify_with_ort(data: bytes, manifest: Manifest, name: str) -> None:
    import onnxruntime as ort

    from cadence.policy.errors import GoldenMismatch
    from cadence.policy.providers import session_options

    session = ort.InferenceSession(data, sess_options=session_options(), providers=["CPUExecutionProvider"])
    try:
        check_golden(lambda feeds: session.run(None, feeds), manifest, name)
    except GoldenMismatch as err:
        raise ExportError(f"ONNX Runtime disagrees with torch: {err}") from err
