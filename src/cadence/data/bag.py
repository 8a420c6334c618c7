"""Streaming rosbag2 reader on top of ``rosbags`` (sqlite3 and MCAP, split, zstd-compressed).

Messages are read storage file by storage file and matched to the connections of
``metadata.yaml`` by ``(topic, type)`` only. rosbags' own ``Reader.messages`` also requires the
offered QoS of ``metadata.yaml`` and of the storage file to be equal; in real bags they differ
(rosbag2's ``talker`` test bags: deadline ``0`` in one, ``2147483647`` in the other) and rosbags then
silently yields nothing. Every topic that is read is counted, and :meth:`BagReader.check_counts`
refuses a bag whose counts differ from what ``metadata.yaml`` (``ros2 bag info``) claims.
"""

from __future__ import annotations

import logging
import sqlite3
import struct
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from rosbags.rosbag2 import Reader, ReaderError
from rosbags.serde import SerdeError

from cadence.data.errors import BagCountError, BagError
from cadence.data.typestore import Decoder, build_decoders, kilted_store

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterator, Mapping
    from types import TracebackType

# What the storage back ends raise on damaged files (sqlite3: DatabaseError; MCAP: struct/zstd/
# index errors from rosbags' pure-Python parser).
_STORAGE_ERRORS = (
    ReaderError,
    sqlite3.Error,
    struct.error,
    EOFError,
    IndexError,
    KeyError,
    ValueError,
    OSError,
)
_DECODE_ERRORS = (SerdeError, struct.error, IndexError, ValueError, UnicodeDecodeError, AssertionError)
LOG = logging.getLogger(__name__)
_REINDEX = "if the storage files are intact, recreate it with `ros2 bag reindex {path}`"


class Sampler(NamedTuple):
    """How a message type becomes a core sample: a direct CDR parser (or None) and the fallback."""

    fast: Callable[[bytes, int], Any] | None
    from_msg: Callable[[Any, int], Any]


class Message(NamedTuple):
    """One decoded message: topic, type, receive (log) time in ns, and the rosbags message object."""

    topic: str
    msgtype: str
    log_time_ns: int
    msg: Any


@dataclass(frozen=True)
class TopicSummary:
    """Per-topic line of ``cadence bag info`` (DESIGN.md, "Formats")."""

    name: str
    type: str
    count: int
    metadata_count: int
    skipped: str | None


def _check_bag_path(path: Path) -> None:
    if not path.exists():
        raise BagError(f"bag {path} does not exist")
    if path.is_file():
        hint = _REINDEX.format(path=path.parent) if path.suffix in {".mcap", ".db3"} else ""
        raise BagError(
            f"bag {path} is a file; pass the bag folder (the one holding metadata.yaml). {hint}".strip()
        )
    if not (path / "metadata.yaml").exists():
        storage = sorted(p.name for p in path.iterdir() if p.suffix in {".mcap", ".db3", ".zstd"})
        detail = f" It holds {', '.join(storage)}: {_REINDEX.format(path=path)}." if storage else ""
        raise BagError(f"bag {path} has no metadata.yaml.{detail}")


class BagReader:
    """Open one rosbag2 bag folder and stream its decoded messages.

    Use as a context manager::

        with BagReader(path) as bag:
            for m in bag.messages(["odom", "cmd_vel"]):
                ...
            bag.check_counts()

    Args:
        path: The bag folder (holding ``metadata.yaml`` and the storage files).

    Raises:
        BagError: The bag is missing, has no ``metadata.yaml`` or cannot be opened.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        _check_bag_path(self.path)
        self._reader = Reader(self.path)
        self.decoders: dict[tuple[str, str], Decoder] = {}
        self.metadata_counts: Counter[tuple[str, str]] = Counter()
        self.counts: Counter[tuple[str, str]] = Counter()
        self._read_topics: set[str] = set()
        self._store_index: Counter[tuple[str, str]] = Counter()

    def __enter__(self) -> BagReader:
        try:
            self._reader.open()
        except (*_STORAGE_ERRORS, FileNotFoundError) as err:
            raise BagError(
                f"bag {self.path} cannot be opened (damaged or truncated storage file?): {err}"
            ) from err
        for conn in self._reader.connections:
            self.metadata_counts[(conn.topic, conn.msgtype)] += conn.msgcount
        self.decoders = build_decoders(self._reader.connections)
        self._kilted = kilted_store()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._reader.is_open:
            self._reader.close()

    @property
    def storage(self) -> str:
        """Storage plugin name from ``metadata.yaml`` (``mcap`` or ``sqlite3``)."""
        first = self._reader.storage.storages[0] if self._reader.storage.storages else None
        return "mcap" if type(first).__name__ == "McapReader" else "sqlite3"

    @property
    def duration_s(self) -> float:
        """Duration between the first and the last message, as ``metadata.yaml`` states it."""
        return max(self._reader.duration - 1, 0) / 1e9

    @property
    def start_ns(self) -> int:
        """Receive time of the first message (ns)."""
        return self._reader.start_time

    def topic_types(self) -> dict[str, str]:
        """Map each topic of the bag to its message type."""
        return {topic: msgtype for topic, msgtype in self.metadata_counts}

    def messages(
        self, topics: Collection[str] | None = None, samplers: Mapping[str, Sampler] | None = None
    ) -> Iterator[Message]:
        """Yield decoded messages, storage file by storage file (split bags in file order).

        Args:
            topics: Topics to read (``None``: every topic). Skipped connections are never decoded.
            samplers: Per message type, how to turn it into a core sample; ``Message.msg`` is then
                the sample. A sampler's ``fast`` CDR parser is used only when the bag's definition
                of the type is rosbags' Kilted one (same RIHS01 hash); otherwise, or when it
                rejects the bytes, the message is deserialised by rosbags and given to ``from_msg``.

        Yields:
            Decoded messages.

        Raises:
            BagError: A storage file is damaged or a message does not decode.
        """
        wanted = set(self.topic_types()) if topics is None else set(topics)
        self._read_topics |= wanted
        samplers = samplers or {}
        decompress = _decompressor(self._reader.compression_mode)
        for storage in self._reader.storage.storages:
            filename = Path(str(getattr(storage, "path", "?"))).name
            conns = [
                c
                for c in storage.connections
                if c.topic in wanted
                and getattr(self.decoders.get((c.topic, c.msgtype)), "skipped", None) is None
            ]
            if not conns:
                continue
            fast = {
                c.id: samplers[c.msgtype].fast
                for c in conns
                if c.msgtype in samplers
                and samplers[c.msgtype].fast
                and self._is_kilted((c.topic, c.msgtype))
            }
            try:
                for conn, stamp, raw in storage.messages(conns):
                    key = (conn.topic, conn.msgtype)
                    if key not in self.decoders:  # in the storage file but not in metadata.yaml
                        self.counts[key] += 1
                        continue
                    data = decompress(raw) if decompress else raw
                    msg = None
                    if conn.id in fast:
                        try:
                            msg = fast[conn.id](data, stamp)
                        except _DECODE_ERRORS:
                            msg = None
                    if msg is None:
                        msg = self._decode(key, data, stamp, filename)
                        if conn.msgtype in samplers:
                            msg = samplers[conn.msgtype].from_msg(msg, stamp)
                    self.counts[key] += 1
                    yield Message(conn.topic, conn.msgtype, stamp, msg)
            except _STORAGE_ERRORS as err:
                raise BagError(f"bag {self.path}: storage file {filename} is damaged: {err!r}") from err

    def _is_kilted(self, key: tuple[str, str]) -> bool:
        """Whether the definition decoding ``key`` is rosbags' Kilted one (the fast parsers' layout)."""
        stores = self.decoders[key].stores
        if not stores:
            return False
        store = stores[self._store_index[key]]
        if store is self._kilted:
            return True
        try:
            return store.hash_rihs01(key[1]) == self._kilted.hash_rihs01(key[1])
        except (KeyError, ValueError, TypeError):
            return False

    def _decode(self, key: tuple[str, str], data: bytes, stamp: int, filename: str) -> Any:
        try:
            return self.decoders[key].stores[self._store_index[key]].deserialize_cdr(data, key[1])
        except _DECODE_ERRORS as err:
            return self._retry_decode(key, data, stamp, filename, err)

    def _retry_decode(
        self, key: tuple[str, str], data: bytes, stamp: int, filename: str, err: Exception
    ) -> Any:
        """Move to the connection's next typestore if its first message did not decode."""
        stores = self.decoders[key].stores
        while self.counts[key] == 0 and self._store_index[key] + 1 < len(stores):
            self._store_index[key] += 1
            try:
                msg = stores[self._store_index[key]].deserialize_cdr(data, key[1])
            except _DECODE_ERRORS:
                continue
            LOG.warning(
                "%s: the definition of %s stored in the bag does not match its data; using rosbags' Kilted definition",
                self.path,
                key[1],
            )
            return msg
        raise BagError(
            f"bag {self.path}: message on {key[0]} ({key[1]}) at t={stamp} ns in {filename} does not decode: {err!r}"
        ) from err

    def summary(self) -> list[TopicSummary]:
        """Per-topic counts after reading (``count`` = read and decoded)."""
        keys = list(self.metadata_counts) + [k for k in self.counts if k not in self.metadata_counts]
        return [
            TopicSummary(
                name=topic,
                type=msgtype,
                count=self.counts[(topic, msgtype)],
                metadata_count=self.metadata_counts.get((topic, msgtype), 0),
                skipped=self.decoders[(topic, msgtype)].skipped
                if (topic, msgtype) in self.decoders
                else "connection is not listed in metadata.yaml",
            )
            for topic, msgtype in keys
        ]

    def check_counts(self) -> None:
        """Refuse the bag if a topic that was read yielded a different count than ``metadata.yaml``.

        Raises:
            BagCountError: Naming the bag and every mismatching topic.
        """
        bad = [
            f"{t.name}: read {t.count}, metadata.yaml says {t.metadata_count}"
            for t in self.summary()
            if t.skipped is None and t.name in self._read_topics and t.count != t.metadata_count
        ]
        bad += [
            f"{t.name}: {t.count} messages on a connection metadata.yaml does not list"
            for t in self.summary()
            if t.name in self._read_topics and t.count and (t.name, t.type) not in self.metadata_counts
        ]
        if bad:
            raise BagCountError(
                f"bag {self.path}: message counts do not match metadata.yaml: " + "; ".join(bad)
            )


def _decompressor(mode: str | None):
    if mode != "message":
        return None
    try:
        from compression import zstd  # type: ignore[import-not-found]  # Python >= 3.14
    except ImportError:
        from backports import zstd  # what rosbags uses before 3.14
    return zstd.decompress
