"""Export a trained pairwise critic to single-file ONNX + a ``kind: critic`` manifest.

The manifest format is ``cadence.policy.manifest`` (shared with policies) and the exported file is
verified with the runtime's own loader (``cadence.policy.model.load_model``: sha256, structure,
I/O, golden replay) before it replaces anything at the destination. torch is imported inside.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cadence.critic.errors import CriticModelError
from cadence.critic.features import feature_dim

if TYPE_CHECKING:
    from cadence.critic.train import CriticTrainConfig

INPUT_NAME = "pair"
OUTPUTS = ("delta", "done")
OPSET = 17


def export_critic(net: Any, config: CriticTrainConfig, metrics: dict[str, Any] | None = None) -> Path:
    """Export `net` to ``config.out`` (single-file ONNX) and write the manifest beside it.

    Raises:
        CriticModelError: when the export fails or ONNX Runtime disagrees with torch.
    """
    import torch

    from cadence.policy.errors import PolicyError
    from cadence.policy.manifest import (
        FORMAT_VERSION,
        Golden,
        Manifest,
        OnnxFile,
        TensorSpec,
        manifest_path_for,
        sha256_file,
        write_atomic,
    )
    from cadence.policy.model import load_model

    out = Path(config.out)
    dim = feature_dim(len(config.scenes))
    golden_in = np.random.default_rng(config.seed).uniform(-1, 1, (4, dim)).astype(np.float32)
    with torch.inference_mode():
        golden_out = [t.numpy() for t in net(torch.from_numpy(golden_in))]
    buf = io.BytesIO()
    try:
        torch.onnx.export(
            net,
            (torch.zeros(1, dim),),
            buf,
            input_names=[INPUT_NAME],
            output_names=list(OUTPUTS),
            dynamic_axes={INPUT_NAME: {0: "batch"}, **{o: {0: "batch"} for o in OUTPUTS}},
            opset_version=OPSET,
            dynamo=False,  # onnxscript (dynamo's dependency) is not installed
        )
    except Exception as err:  # torch.onnx raises many unrelated types
        raise CriticModelError(f"torch.onnx.export of the critic failed: {err}") from err
    manifest = Manifest(
        name=out.stem,
        onnx=OnnxFile(out.name, "0" * 64, OPSET),
        inputs=(TensorSpec(INPUT_NAME, ("batch", dim)),),
        outputs=tuple(TensorSpec(o, ("batch",)) for o in OUTPUTS),
        observation={"kind": "pose_pair", "version": 1, "feature_dim": dim, "scenes": list(config.scenes)},
        golden=Golden(
            {INPUT_NAME: golden_in.tolist()},
            {o: g.tolist() for o, g in zip(OUTPUTS, golden_out, strict=True)},
        ),
        kind="critic",
        metrics=dict(metrics or {}),
        lineage={k: v for k, v in asdict(config).items() if k != "metrics"} | {"scenes": list(config.scenes)},
        format_version=FORMAT_VERSION,
    )
    # Write into a scratch folder beside the destination, verify with the runtime's own checks
    # (sha256, structure, I/O, golden replay), then move both files in: never a half-valid pair.
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".critic-", dir=out.parent) as tmp:
        staged = Path(tmp) / out.name
        write_atomic(staged, buf.getvalue())
        manifest = Manifest(**{**manifest.__dict__, "onnx": OnnxFile(out.name, sha256_file(staged), OPSET)})
        manifest.write(manifest_path_for(staged))
        try:
            load_model(staged)
        except PolicyError as err:
            raise CriticModelError(f"exported critic fails verification: {err}") from err
        os.replace(staged, out)
        os.replace(manifest_path_for(staged), manifest_path_for(out))
    return out


def record_metrics(path: Path, metrics: dict[str, Any]) -> None:
    """Add held-out metrics to an exported critic's manifest (the ONNX bytes are untouched)."""
    from cadence.policy.manifest import Manifest, load_manifest, manifest_path_for

    mpath = manifest_path_for(path)
    manifest = load_manifest(mpath)
    Manifest(**{**manifest.__dict__, "metrics": {**manifest.metrics, **metrics}}).write(mpath)
