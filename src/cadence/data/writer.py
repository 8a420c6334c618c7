"""Write rosbag2 bags atomically with the ``rosbags`` writer (MCAP or sqlite3).

The bag is written into a hidden temporary folder beside the destination and renamed into place
only when it is complete, so an interrupted recording never leaves a half-written bag behind.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rosbags.rosbag2 import CompressionFormat, CompressionMode, StoragePlugin, Writer, WriterError

from cadence.data.errors import RecordError
from cadence.data.messages import TOPICS
from cadence.data.typestore import default_typestore

if TYPE_CHECKING:
    from types import TracebackType

    from rosbags.interfaces import Connection
    from rosbags.typesys.store import Typestore

STORAGES: dict[str, StoragePlugin] = {"mcap": StoragePlugin.MCAP, "sqlite3": StoragePlugin.SQLITE3}


def storage_plugin(name: str) -> StoragePlugin:
    """Look a storage plugin up by name.

    Raises:
        ValueError: Unknown name; the message lists the valid ones.
    """
    try:
        return STORAGES[name]
    except KeyError:
        raise ValueError(f"unknown storage {name!r}; valid: {', '.join(STORAGES)}") from None


class BagWriter:
    """Context manager writing messages of the robot topics to a new bag folder.

    Args:
        path: Bag folder to create; must not exist.
        storage: ``mcap`` (default) or ``sqlite3``.
        topics: ``{topic: type}`` to register (default: :data:`cadence.data.messages.TOPICS`).
        typestore: Store to serialise with (default: rosbags' Kilted store).
        compression: ``None``, or zstd per ``"message"`` or per ``"file"``.

    Raises:
        RecordError: ``path`` exists already.
        ValueError: Unknown storage name.
    """

    def __init__(
        self,
        path: str | Path,
        storage: str = "mcap",
        topics: dict[str, str] | None = None,
        typestore: Typestore | None = None,
        compression: str | None = None,
    ) -> None:
        self.path = Path(path)
        if self.path.exists():
            raise RecordError(f"{self.path} exists already; not overwriting")
        self.plugin = storage_plugin(storage)
        self.topics = dict(TOPICS if topics is None else topics)
        self.typestore = typestore or default_typestore()
        modes = {None: CompressionMode.NONE, "message": CompressionMode.MESSAGE, "file": CompressionMode.FILE}
        if compression not in modes:
            raise ValueError(f"unknown compression {compression!r}; valid: message, file")
        self.compression = modes[compression]
        self._tmp: Path | None = None
        self._writer: Writer | None = None
        self._conns: dict[str, Connection] = {}
        self.count = 0

    def __enter__(self) -> BagWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.", dir=self.path.parent))
        self._writer = Writer(self._tmp / self.path.name, version=9, storage_plugin=self.plugin)
        self._writer.set_compression(self.compression, CompressionFormat.ZSTD)
        try:
            self._writer.open()
            for topic, msgtype in self.topics.items():
                self._conns[topic] = self._writer.add_connection(
                    f"/{topic}", msgtype, typestore=self.typestore
                )
        except WriterError as err:
            self._discard()
            raise RecordError(f"cannot create bag {self.path}: {err}") from err
        return self

    def write(self, topic: str, t_ns: int, msg: Any) -> None:
        """Serialise ``msg`` and write it on ``topic`` at receive time ``t_ns``.

        Raises:
            RecordError: Unknown topic (lists the registered ones).
        """
        conn = self._conns.get(topic)
        if conn is None:
            raise RecordError(f"topic {topic!r} is not registered; valid: {', '.join(self._conns)}")
        self.write_raw(topic, t_ns, self.typestore.serialize_cdr(msg, conn.msgtype))

    def write_raw(self, topic: str, t_ns: int, data: bytes | memoryview) -> None:
        """Write already serialised CDR bytes (the benchmark reuses them)."""
        assert self._writer is not None, "BagWriter used outside its with-block"
        self._writer.write(self._conns[topic], int(t_ns), data)
        self.count += 1

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._writer is not None and self._tmp is not None
        if exc_type is not None:
            self._writer.abort()
            self._discard()
            return
        try:
            self._writer.close()
            (self._tmp / self.path.name).rename(self.path)
        except (WriterError, OSError) as err:
            raise RecordError(f"cannot finish bag {self.path}: {err}") from err
        finally:
            self._discard()

    def _discard(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
