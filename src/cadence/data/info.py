"""``cadence bag info``: read a whole bag, count what decodes, compare with ``metadata.yaml``."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from cadence.data.bag import BagReader, TopicSummary


@dataclass(frozen=True)
class BagInfo:
    """What ``cadence bag info BAG --json`` prints (DESIGN.md, "Formats").

    Attributes:
        path: The bag folder.
        storage: ``mcap`` or ``sqlite3``.
        duration_s: First to last message, seconds.
        topics: One entry per connection of ``metadata.yaml`` (plus any the storage adds).
    """

    path: str
    storage: str
    duration_s: float
    topics: tuple[TopicSummary, ...]

    def to_json(self) -> dict:
        """The exact JSON object of the format: path, storage, duration_s, topics."""
        return {
            "path": self.path,
            "storage": self.storage,
            "duration_s": self.duration_s,
            "topics": [asdict(t) for t in self.topics],
        }

    @property
    def mismatches(self) -> list[TopicSummary]:
        """Decoded topics whose count differs from ``metadata.yaml``."""
        return [t for t in self.topics if t.skipped is None and t.count != t.metadata_count]


def bag_info(path: str | Path) -> BagInfo:
    """Read every message of a bag (streaming) and summarise it.

    Args:
        path: The bag folder.

    Returns:
        The summary; counts are messages actually read and decoded.

    Raises:
        BagError: The bag cannot be opened or a storage file is damaged.
    """
    with BagReader(path) as bag:
        for _ in bag.messages():
            pass
        return BagInfo(str(Path(path)), bag.storage, bag.duration_s, tuple(bag.summary()))


def format_info(info: BagInfo) -> str:
    """Human-readable table, like ``ros2 bag info``."""
    lines = [
        f"bag:      {info.path}",
        f"storage:  {info.storage}",
        f"duration: {info.duration_s:.3f} s",
        "topics:",
    ]
    width = max((len(t.name) for t in info.topics), default=5)
    for t in info.topics:
        status = (
            f"skipped: {t.skipped}" if t.skipped else ("ok" if t.count == t.metadata_count else "MISMATCH")
        )
        lines.append(f"  {t.name:<{width}}  {t.type}  {t.count}/{t.metadata_count}  {status}")
    return "\n".join(lines)
