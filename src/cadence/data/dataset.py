"""cadence's offline-RL dataset: versioned, parquet episodes, written atomically.

Layout of a dataset folder::

    meta/info.json      format_version, per-feature schema, obs layout, K, control_dt, sources, counts
    meta/episodes.json  one record per episode (bag, task, scene, spec, robustness, success, file)
    data/episode_000000.parquet   one row per SRL transition (a decision of the executor)

Why not Minari: see docs/data.md. A writer builds everything in a hidden folder beside ``out`` and
renames it into place in :meth:`DatasetWriter.commit`; a reader refuses any ``format_version`` it
does not know.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cadence.data.errors import DatasetError

if TYPE_CHECKING:
    from collections.abc import Iterator

FORMAT_NAME = "cadence-srl-dataset"
FORMAT_VERSION = 1
SUPPORTED_VERSIONS = (1,)

# name -> (dtype, shape) with symbolic sizes resolved from info.json ("obs_dim", "action_dim").
FEATURES: dict[str, tuple[str, tuple[str | int, ...]]] = {
    "t": ("float64", ()),  # decision time, seconds since the episode (plan) started
    "obs": ("float32", ("obs_dim",)),
    "action": ("float32", ("action_dim",)),  # executed K commands, flattened [v0, w0, v1, w1, ...]
    "commanded": ("float32", ("action_dim",)),  # the executor/sequence as sent
    "n_executed": ("int32", ()),  # commands executed before the next decision or the end (<= K)
    "reward": ("float32", ()),
    "reward_progress": ("float32", ()),  # metres the remaining route shrank
    "critic_progress": ("float32", ()),  # sum of critic/progress over the sequence (NaN: no critic)
    "robustness": ("float32", ()),  # STL robustness of the plan's spec at t (signal entry)
    "next_obs": ("float32", ("obs_dim",)),
    "done": ("bool", ()),  # terminated: the episode ended in the final subgoal region
    "truncated": ("bool", ()),  # the last transition of an episode that did not terminate
}


class Transitions(NamedTuple):
    """Arrays an offline-RL trainer iterates (``N`` transitions)."""

    obs: np.ndarray  # [N, obs_dim] float32
    actions: np.ndarray  # [N, K*2] float32
    rewards: np.ndarray  # [N] float32
    next_obs: np.ndarray  # [N, obs_dim] float32
    dones: np.ndarray  # [N] bool


@dataclass(frozen=True)
class EpisodeMeta:
    """One episode's record in ``meta/episodes.json``."""

    index: int
    file: str
    bag: str
    task: str
    scene: str
    spec: str
    start_ns: int
    duration_s: float
    transitions: int
    stl_robustness: float | None
    success: bool


def _feature_schema(obs_dim: int, action_dim: int) -> dict[str, dict[str, Any]]:
    sizes = {"obs_dim": obs_dim, "action_dim": action_dim}
    return {
        name: {"dtype": dtype, "shape": [sizes.get(s, s) for s in shape]}
        for name, (dtype, shape) in FEATURES.items()
    }


def _arrow_schema(obs_dim: int, action_dim: int) -> pa.Schema:
    fields = []
    for name, spec in _feature_schema(obs_dim, action_dim).items():
        typ = pa.from_numpy_dtype(np.dtype(spec["dtype"]))
        fields.append(
            pa.field(name, pa.list_(typ, spec["shape"][0]) if spec["shape"] else typ, nullable=False)
        )
    return pa.schema(fields)


class DatasetWriter:
    """Write a dataset atomically: nothing appears at ``out`` until :meth:`commit`.

    Args:
        out: Folder to create; must not exist.
        obs_dim: Observation size.
        k: Actions per sequence (the action vector has ``2 * k`` entries).
        control_dt: Control period in seconds.
        extra: More keys for ``meta/info.json`` (observation layout, reward config, ...).

    Raises:
        DatasetError: ``out`` exists.
    """

    def __init__(
        self, out: str | Path, obs_dim: int, k: int, control_dt: float, extra: dict | None = None
    ) -> None:
        self.out = Path(out)
        if self.out.exists():
            raise DatasetError(f"{self.out} exists already; not overwriting")
        self.obs_dim, self.k, self.control_dt = obs_dim, k, control_dt
        self.schema = _arrow_schema(obs_dim, 2 * k)
        self.extra = dict(extra or {})
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.", dir=self.out.parent))
        (self.tmp / "data").mkdir()
        (self.tmp / "meta").mkdir()
        self.episodes: list[EpisodeMeta] = []

    def add_episode(self, columns: dict[str, np.ndarray], meta: dict[str, Any]) -> EpisodeMeta:
        """Write one episode's transitions (one array per feature, equal lengths) to parquet.

        Returns:
            The episode's record (``meta`` plus index, file and transition count).

        Raises:
            DatasetError: A feature is missing or has the wrong shape.
        """
        missing = set(FEATURES) - set(columns)
        if missing:
            raise DatasetError(f"episode is missing features {sorted(missing)}")
        n = len(columns["t"])
        arrays = []
        for field in self.schema:
            col = np.asarray(columns[field.name], dtype=FEATURES[field.name][0])
            if pa.types.is_fixed_size_list(field.type):
                width = field.type.list_size
                if col.shape != (n, width):
                    raise DatasetError(f"feature {field.name}: shape {col.shape}, expected ({n}, {width})")
                arrays.append(pa.FixedSizeListArray.from_arrays(pa.array(col.reshape(-1)), width))
            else:
                if col.shape != (n,):
                    raise DatasetError(f"feature {field.name}: shape {col.shape}, expected ({n},)")
                arrays.append(pa.array(col))
        index = len(self.episodes)
        name = f"data/episode_{index:06d}.parquet"
        pq.write_table(pa.Table.from_arrays(arrays, schema=self.schema), self.tmp / name)
        record = EpisodeMeta(index=index, file=name, transitions=n, **meta)
        self.episodes.append(record)
        return record

    def discard_from(self, index: int) -> None:
        """Forget episodes ``index`` and later (a bag failed half way: drop what it produced)."""
        for ep in self.episodes[index:]:
            (self.tmp / ep.file).unlink(missing_ok=True)
        del self.episodes[index:]

    def commit(self, sources: list[str]) -> Path:
        """Write the metadata and move the dataset into place.

        Raises:
            DatasetError: ``out`` appeared meanwhile or the rename failed.
        """
        info = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "obs_dim": self.obs_dim,
            "k": self.k,
            "action_dim": 2 * self.k,
            "control_dt": self.control_dt,
            "features": _feature_schema(self.obs_dim, 2 * self.k),
            "episodes": len(self.episodes),
            "transitions": sum(e.transitions for e in self.episodes),
            "sources": sources,
            **self.extra,
        }
        (self.tmp / "meta" / "info.json").write_text(json.dumps(info, indent=2, allow_nan=False))
        records = [vars(e) for e in self.episodes]
        (self.tmp / "meta" / "episodes.json").write_text(json.dumps(records, indent=1))
        try:
            self.tmp.rename(self.out)
        except OSError as err:
            raise DatasetError(f"cannot move the dataset into {self.out}: {err}") from err
        return self.out

    def abort(self) -> None:
        """Remove everything written so far."""
        shutil.rmtree(self.tmp, ignore_errors=True)


class Dataset:
    """Read a dataset folder; refuses unknown format versions.

    Args:
        path: The dataset folder.

    Raises:
        DatasetError: Missing or malformed metadata, or an unsupported ``format_version``.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        info_path = self.path / "meta" / "info.json"
        try:
            self.info: dict[str, Any] = json.loads(info_path.read_text())
            records = json.loads((self.path / "meta" / "episodes.json").read_text())
        except (OSError, ValueError) as err:
            raise DatasetError(f"{self.path} is not a cadence dataset: {err}") from err
        if self.info.get("format") != FORMAT_NAME:
            raise DatasetError(f"{info_path}: format {self.info.get('format')!r} is not {FORMAT_NAME!r}")
        version = self.info.get("format_version")
        if version not in SUPPORTED_VERSIONS:
            raise DatasetError(
                f"{info_path}: format_version {version!r} is not supported (this cadence reads {SUPPORTED_VERSIONS})"
            )
        try:
            self.episodes = [EpisodeMeta(**r) for r in records]
        except TypeError as err:
            raise DatasetError(f"{self.path}/meta/episodes.json: bad episode record: {err}") from err
        self.obs_dim, self.k = int(self.info["obs_dim"]), int(self.info["k"])
        self.schema = _arrow_schema(self.obs_dim, 2 * self.k)

    def __len__(self) -> int:
        return int(self.info["transitions"])

    def episode(self, index: int) -> dict[str, np.ndarray]:
        """All features of one episode as numpy arrays (``[n]`` or ``[n, width]``)."""
        path = self.path / self.episodes[index].file
        try:
            table = pq.read_table(path)
        except (OSError, pa.ArrowException) as err:
            raise DatasetError(f"cannot read {path}: {err}") from err
        if not table.schema.equals(self.schema):
            raise DatasetError(f"{path}: schema does not match meta/info.json")
        out = {}
        for field in self.schema:
            col = table.column(field.name).combine_chunks()
            if pa.types.is_fixed_size_list(field.type):
                out[field.name] = col.flatten().to_numpy().reshape(len(table), field.type.list_size)
            else:
                out[field.name] = col.to_numpy(zero_copy_only=False)
        return out

    def iter_episodes(self) -> Iterator[dict[str, np.ndarray]]:
        """Episodes one at a time (bounded memory)."""
        for i in range(len(self.episodes)):
            yield self.episode(i)

    def transitions(self) -> Transitions:
        """Every transition, concatenated (what an offline-RL trainer consumes)."""
        eps = list(self.iter_episodes())
        if not eps:
            z = np.zeros((0, self.obs_dim), np.float32)
            return Transitions(
                z, np.zeros((0, 2 * self.k), np.float32), np.zeros(0, np.float32), z.copy(), np.zeros(0, bool)
            )
        cat = {
            k: np.concatenate([e[k] for e in eps]) for k in ("obs", "action", "reward", "next_obs", "done")
        }
        return Transitions(cat["obs"], cat["action"], cat["reward"], cat["next_obs"], cat["done"])
