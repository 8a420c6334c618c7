"""Verified loading of a single-file ONNX model with its manifest (policies and critics alike).

Order of checks, cheapest and most security-relevant first:

1. the file format: ``.zip``/``.pkl``/``.pt``/``.pth``/... and pickle or zip magic bytes are refused
   whatever the suffix — pickles execute arbitrary code when loaded, and zip archives (torch
   checkpoints) carry pickles;
2. sha256 of the bytes against the manifest;
3. the ONNX structure (parsed with ``onnx``, never executed): opset, no external data (a model
   that reads tensors from other files is not self-contained and its sha256 would not cover them);
4. a session (see :mod:`cadence.policy.providers`) built from the same hashed bytes; its
   input/output names, shapes and dtypes against the manifest;
5. the golden input, whose output must match the recorded one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cadence.policy.errors import GoldenMismatch, ManifestError, ModelRejected
from cadence.policy.manifest import Manifest, TensorSpec, load_manifest, manifest_path_for
from cadence.policy.providers import create_session

UNSAFE_SUFFIXES = {
    ".pkl": "a Python pickle",
    ".pickle": "a Python pickle",
    ".pt": "a torch checkpoint (zip of pickles)",
    ".pth": "a torch checkpoint (zip of pickles)",
    ".ckpt": "a checkpoint (usually pickles)",
    ".zip": "a zip archive (torch checkpoints are zips of pickles)",
    ".joblib": "a joblib pickle",
}
_ORT_DTYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(bool)": "bool",
}


def check_file_format(path: Path, head: bytes) -> None:
    """Refuse formats that execute code on load, by suffix and by magic bytes.

    Raises:
        ModelRejected: naming the format and why it is refused.
    """
    why = "it can execute arbitrary code when loaded; export the model to single-file ONNX instead"
    if path.suffix.lower() in UNSAFE_SUFFIXES:
        raise ModelRejected(f"refusing {path.name}: {UNSAFE_SUFFIXES[path.suffix.lower()]} — {why}")
    if head[:2] in (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05") or head[:1] == b"(":
        raise ModelRejected(f"refusing {path.name}: its bytes are a Python pickle — {why}")
    if head[:4] == b"PK\x03\x04":
        raise ModelRejected(
            f"refusing {path.name}: its bytes are a zip archive (e.g. a torch checkpoint) — {why}"
        )
    if path.suffix.lower() != ".onnx":
        raise ModelRejected(f"refusing {path.name}: only single-file .onnx models are loaded")


def check_structure(data: bytes, manifest: Manifest, name: str) -> Any:
    """Parse (not run) the ONNX protobuf: opset matches, no external data. Returns the ModelProto."""
    import onnx
    from google.protobuf.message import DecodeError

    try:
        proto = onnx.load_model_from_string(data)
    except (DecodeError, ValueError, RuntimeError) as err:
        raise ModelRejected(f"{name} is not a valid ONNX file (truncated or corrupt?): {err}") from err
    if not proto.HasField("graph") or not proto.graph.output:
        raise ModelRejected(f"{name} is not a valid ONNX file (no graph; truncated?)")
    external = [t.name for t in _all_tensors(proto.graph) if t.data_location == onnx.TensorProto.EXTERNAL]
    if external:
        raise ModelRejected(
            f"{name} stores tensors {external[:3]} in external data files: refused because the model "
            "is not self-contained (its sha256 would not cover those files); export a single file"
        )
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None)
    if manifest.onnx is None or opset != manifest.onnx.opset:
        raise ModelRejected(f"{name} has opset {opset}, manifest says {manifest.onnx.opset}")
    return proto


def _all_tensors(graph: Any) -> list[Any]:
    tensors = list(graph.initializer) + [s.values for s in graph.sparse_initializer]
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                tensors.append(attr.t)
            tensors.extend(attr.tensors)
            if attr.HasField("g"):
                tensors.extend(_all_tensors(attr.g))
            for sub in attr.graphs:
                tensors.extend(_all_tensors(sub))
    return tensors


def _check_io(kind: str, actual: Sequence[Any], expected: Sequence[TensorSpec], name: str) -> None:
    got = [a.name for a in actual]
    want = [e.name for e in expected]
    if got != want:
        raise ModelRejected(f"{name}: {kind} names {got} do not match the manifest's {want}")
    for a, e in zip(actual, expected, strict=True):
        dtype = _ORT_DTYPES.get(a.type, a.type)
        if dtype != e.dtype:
            raise ModelRejected(f"{name}: {kind} {a.name!r} has dtype {dtype}, manifest says {e.dtype}")
        shape = list(a.shape)
        ok = len(shape) == len(e.shape) and all(
            (isinstance(w, str) and not isinstance(g, int)) or g == w
            for g, w in zip(shape, e.shape, strict=True)
        )
        if not ok:
            raise ModelRejected(f"{name}: {kind} {a.name!r} has shape {shape}, manifest says {list(e.shape)}")


@dataclass(frozen=True)
class LoadedModel:
    """A verified ONNX Runtime session with its manifest, provider and parsed graph."""

    session: Any
    manifest: Manifest
    provider: str
    proto: Any
    path: Path


def resolve(path: str | Path) -> tuple[Path, Path]:
    """``NAME.onnx`` or ``NAME.json`` -> (onnx path, manifest path)."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        return load_manifest(path).onnx_path(path), path
    return path, manifest_path_for(path)


def load_model(path: str | Path, providers: Sequence[str] | None = None) -> LoadedModel:
    """Load and verify a model (see the module docstring for the checks).

    Args:
        path: ``models/NAME.onnx`` (manifest ``models/NAME.json`` beside it) or the manifest itself.
        providers: Execution providers in order of preference (default TensorRT, CUDA, CPU).

    Raises:
        ModelRejected: unsafe format, sha256/opset/I-O mismatch, external data, golden mismatch.
        ManifestError: the manifest is missing or invalid.
        ProviderError: no provider can create a session.
    """
    onnx_path, manifest_path = resolve(path)
    try:
        with open(onnx_path, "rb") as fh:
            head = fh.read(8)
    except OSError as err:
        raise ModelRejected(f"cannot read model {onnx_path}: {err.strerror or err}") from err
    check_file_format(onnx_path, head)
    if not manifest_path.exists():
        raise ManifestError(f"model {onnx_path.name} has no manifest {manifest_path.name} beside it")
    manifest = load_manifest(manifest_path)
    if manifest.onnx is None:
        raise ModelRejected(f"manifest {manifest_path.name} describes a builtin policy, not an ONNX file")
    if onnx_path.name != manifest.onnx.file:
        raise ModelRejected(
            f"manifest {manifest_path.name} describes {manifest.onnx.file}, not {onnx_path.name}"
        )
    data = onnx_path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != manifest.onnx.sha256:
        raise ModelRejected(
            f"{onnx_path.name}: sha256 {digest[:12]}... does not match the manifest's "
            f"{manifest.onnx.sha256[:12]}... (file modified, truncated or the wrong manifest)"
        )
    proto = check_structure(data, manifest, onnx_path.name)
    session, provider = create_session(data, providers)
    _check_io("input", session.get_inputs(), manifest.inputs, onnx_path.name)
    _check_io("output", session.get_outputs(), manifest.outputs, onnx_path.name)
    check_golden(lambda feeds: session.run(None, feeds), manifest, onnx_path.name)
    return LoadedModel(session, manifest, provider, proto, onnx_path)


def golden_feeds(manifest: Manifest) -> dict[str, np.ndarray]:
    """The golden inputs as arrays of the manifest's dtypes."""
    try:
        return {t.name: np.asarray(manifest.golden.inputs[t.name], dtype=t.dtype) for t in manifest.inputs}
    except (ValueError, TypeError) as err:
        raise ManifestError(
            f"manifest {manifest.name!r}: golden.inputs is not a numeric array: {err}"
        ) from err


def check_golden(run: Any, manifest: Manifest, name: str) -> None:
    """Run the golden input through ``run(feeds) -> [outputs]`` and compare with the recorded outputs.

    Raises:
        GoldenMismatch: an output differs beyond the manifest's tolerances or is not finite.
    """
    outs = run(golden_feeds(manifest))
    for spec, got in zip(manifest.outputs, outs, strict=True):
        want = np.asarray(manifest.golden.outputs[spec.name], dtype=np.float64)
        got = np.asarray(got, dtype=np.float64)
        if got.shape != want.shape:
            raise GoldenMismatch(
                f"{name}: golden output {spec.name!r} has shape {got.shape}, recorded {want.shape}"
            )
        if not np.all(np.isfinite(got)):
            raise GoldenMismatch(f"{name}: golden output {spec.name!r} contains NaN/Inf")
        if not np.allclose(got, want, rtol=manifest.golden.rtol, atol=manifest.golden.atol):
            err = float(np.max(np.abs(got - want)))
            raise GoldenMismatch(
                f"{name}: golden output {spec.name!r} differs from the recorded one by {err:.3g}"
            )


def as_feeds(feeds: Mapping[str, Any], manifest: Manifest) -> dict[str, np.ndarray]:
    """Convert user arrays to contiguous arrays of the manifest's dtypes."""
    return {t.name: np.ascontiguousarray(feeds[t.name], dtype=t.dtype) for t in manifest.inputs}
