"""Model manifests: ``models/NAME.json`` beside ``models/NAME.onnx`` (DESIGN.md, "Formats").

A manifest says what an ONNX file is before anything runs it: its I/O names, shapes and dtypes,
opset, sha256, the observation layout it was trained on, the action names/bounds, sequence
length K, control period, a golden input/output pair, the validation metrics it passed and free
lineage. Parsing is strict — unknown keys and wrong types are refused with the offending key in the
message — because a silently ignored field is how train/deploy skew starts.

Example::

    {"format_version": 1, "kind": "policy", "name": "rover_srl",
     "onnx": {"file": "rover_srl.onnx", "sha256": "...", "opset": 17},
     "inputs": [{"name": "obs", "shape": ["batch", 40], "dtype": "float32"}],
     "outputs": [{"name": "actions", "shape": ["batch", 8, 2], "dtype": "float32"}],
     "observation": {...ObservationLayout.to_dict()...},
     "action": {"names": ["v", "omega"], "low": [-0.5, -2.0], "high": [1.0, 2.0],
                "k": 8, "control_dt": 0.05},
     "golden": {"inputs": {"obs": [[...]]}, "outputs": {"actions": [[[...]]]},
                "rtol": 1e-4, "atol": 1e-5},
     "metrics": {}, "lineage": {}}
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cadence.policy import _schema as sc
from cadence.policy.errors import ManifestError

FORMAT_VERSION = 1
KINDS = ("policy", "critic")
DTYPES = ("float32", "float64", "int64", "int32", "bool")


@dataclass(frozen=True)
class TensorSpec:
    """One graph input or output. Symbolic dimensions (the batch) are strings."""

    name: str
    shape: tuple[int | str, ...]
    dtype: str = "float32"


@dataclass(frozen=True)
class OnnxFile:
    """The model file: its name (relative to the manifest's folder), sha256 and opset."""

    file: str
    sha256: str
    opset: int


@dataclass(frozen=True)
class ActionSpec:
    """What a policy's output means: per-primitive action names and bounds, K and the control period."""

    names: tuple[str, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]
    k: int
    control_dt: float


@dataclass(frozen=True)
class Golden:
    """A recorded input/output pair the loader replays before accepting the model."""

    inputs: dict[str, Any]
    outputs: dict[str, Any]
    rtol: float = 1e-4
    atol: float = 1e-5


@dataclass(frozen=True)
class Manifest:
    """A model manifest. Build with :func:`Manifest.from_dict` / :func:`load_manifest`.

    ``onnx`` is ``None`` only for builtin policies (the analytic backup controller), whose manifest
    describes their I/O and golden pair but no file; the model loader refuses such manifests.
    """

    name: str
    onnx: OnnxFile | None
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    observation: dict[str, Any]
    golden: Golden
    action: ActionSpec | None = None
    kind: str = "policy"
    metrics: dict[str, Any] = field(default_factory=dict)
    lineage: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    @property
    def obs_dim(self) -> int:
        """Width of the first input (``[batch, obs_dim]``)."""
        dim = self.inputs[0].shape[-1]
        if not isinstance(dim, int):
            raise ManifestError(f"manifest {self.name!r}: input {self.inputs[0].name!r} has symbolic width")
        return dim

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the inverse of :meth:`from_dict`)."""
        out = asdict(self)
        for key in ("inputs", "outputs"):
            out[key] = [{**t, "shape": list(t["shape"])} for t in out[key]]
        if out["action"] is not None:
            out["action"] = {k: list(v) if isinstance(v, tuple) else v for k, v in out["action"].items()}
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, allow_nan=False) + "\n"

    @classmethod
    def from_dict(cls, data: Any) -> Manifest:
        """Strictly parse a manifest dict.

        Raises:
            ManifestError: on a missing or unknown key, a wrong type or a bad value (named).
        """
        try:
            return _parse(data)
        except sc.SchemaError as err:
            raise ManifestError(f"manifest: {err}") from err

    def write(self, path: str | Path) -> Path:
        """Write atomically (temporary file + rename), so readers never see half a manifest."""
        return write_atomic(Path(path), self.to_json().encode())

    def onnx_path(self, manifest_path: str | Path) -> Path:
        """The ONNX file this manifest describes, resolved beside the manifest."""
        if self.onnx is None:
            raise ManifestError(f"manifest {self.name!r} describes a builtin policy, not an ONNX file")
        return Path(manifest_path).parent / self.onnx.file


def _tensor(data: Any, where: str) -> TensorSpec:
    d = sc.obj(data, where, required=("name", "shape"), optional=("dtype",))
    shape = tuple(
        sc.dim(v, f"{where}.shape[{i}]") for i, v in enumerate(sc.lst(d["shape"], f"{where}.shape"))
    )
    dtype = sc.choice(d.get("dtype", "float32"), f"{where}.dtype", DTYPES)
    return TensorSpec(sc.string(d["name"], f"{where}.name"), shape, dtype)


def _onnx_file(data: Any) -> OnnxFile:
    o = sc.obj(data, "onnx", required=("file", "sha256", "opset"))
    sha = sc.string(o["sha256"], "onnx.sha256")
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise sc.SchemaError("onnx.sha256 must be 64 lowercase hex digits")
    name = sc.string(o["file"], "onnx.file")
    if Path(name).name != name:
        raise sc.SchemaError(f"onnx.file must be a bare file name beside the manifest, got {name!r}")
    return OnnxFile(name, sha, sc.integer(o["opset"], "onnx.opset", minimum=1))


def _action(data: Any) -> ActionSpec | None:
    if data is None:
        return None
    d = sc.obj(data, "action", required=("names", "low", "high", "k", "control_dt"))
    names = tuple(
        sc.string(v, f"action.names[{i}]") for i, v in enumerate(sc.lst(d["names"], "action.names"))
    )
    low = tuple(sc.number(v, f"action.low[{i}]") for i, v in enumerate(sc.lst(d["low"], "action.low")))
    high = tuple(sc.number(v, f"action.high[{i}]") for i, v in enumerate(sc.lst(d["high"], "action.high")))
    if not (len(names) == len(low) == len(high)) or not names:
        raise sc.SchemaError("action.names, action.low and action.high must have the same non-zero length")
    if any(lo > hi for lo, hi in zip(low, high, strict=True)):
        raise sc.SchemaError(f"action.low {low} exceeds action.high {high}")
    k = sc.integer(d["k"], "action.k", minimum=1)
    dt = sc.number(d["control_dt"], "action.control_dt")
    if dt <= 0:
        raise sc.SchemaError(f"action.control_dt must be > 0, got {dt}")
    return ActionSpec(names, low, high, k, dt)


def _parse(data: Any) -> Manifest:
    d = sc.obj(
        data,
        "manifest",
        required=("format_version", "name", "onnx", "inputs", "outputs", "observation", "golden"),
        optional=("kind", "action", "metrics", "lineage"),
    )
    version = sc.integer(d["format_version"], "format_version")
    if version != FORMAT_VERSION:
        raise sc.SchemaError(f"format_version {version} is not supported (this reader: {FORMAT_VERSION})")
    onnx_file = None if d["onnx"] is None else _onnx_file(d["onnx"])
    inputs = tuple(
        _tensor(t, f"inputs[{i}]") for i, t in enumerate(sc.lst(d["inputs"], "inputs", nonempty=True))
    )
    outputs = tuple(
        _tensor(t, f"outputs[{i}]") for i, t in enumerate(sc.lst(d["outputs"], "outputs", nonempty=True))
    )
    g = sc.obj(d["golden"], "golden", required=("inputs", "outputs"), optional=("rtol", "atol"))
    golden = Golden(
        sc.obj(g["inputs"], "golden.inputs", required=tuple(t.name for t in inputs)),
        sc.obj(g["outputs"], "golden.outputs", required=tuple(t.name for t in outputs)),
        sc.number(g.get("rtol", 1e-4), "golden.rtol"),
        sc.number(g.get("atol", 1e-5), "golden.atol"),
    )
    kind = sc.choice(d.get("kind", "policy"), "kind", KINDS)
    action = _action(d.get("action"))
    if kind == "policy" and action is None:
        raise sc.SchemaError("a policy manifest needs an 'action' section")
    return Manifest(
        name=sc.string(d["name"], "name"),
        onnx=onnx_file,
        inputs=inputs,
        outputs=outputs,
        observation=sc.obj(d["observation"], "observation"),
        golden=golden,
        action=action,
        kind=kind,
        metrics=sc.obj(d.get("metrics", {}), "metrics"),
        lineage=sc.obj(d.get("lineage", {}), "lineage"),
        format_version=version,
    )


def load_manifest(path: str | Path) -> Manifest:
    """Read and strictly parse a manifest file.

    Raises:
        ManifestError: the file is missing, not JSON, or not a valid manifest.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ManifestError(f"cannot read manifest {path}: {err.strerror or err}") from err
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except (json.JSONDecodeError, ValueError) as err:
        raise ManifestError(f"manifest {path} is not valid JSON: {err}") from err
    try:
        return _parse(data)
    except sc.SchemaError as err:
        raise ManifestError(f"manifest {path}: {err}") from err


def manifest_path_for(onnx_path: str | Path) -> Path:
    """``models/NAME.onnx`` -> ``models/NAME.json``."""
    return Path(onnx_path).with_suffix(".json")


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes 0600; models are read by other users (the robot's)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name} is not allowed")
