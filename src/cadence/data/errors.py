"""Data (rosbag2 ingest, datasets, recording) exceptions.

Low-level errors from ``rosbags``, ``sqlite3``, the MCAP parser or ``pyarrow`` are translated at the
boundary (``raise BagError(msg) from err``) so callers only ever catch these.
"""

from __future__ import annotations


class DataError(Exception):
    """Base class of every error raised by :mod:`cadence.data`."""


class BagError(DataError):
    """A bag cannot be opened or read (missing metadata, truncated file, malformed storage)."""


class BagCountError(BagError):
    """A bag yielded a different number of messages than its ``metadata.yaml`` claims."""


class BagContentError(BagError):
    """A bag was read but its content is unusable (NaN, clock running backwards, no episodes)."""


class DatasetError(DataError):
    """A dataset folder is missing, malformed or of an unknown format version."""


class RecordError(DataError):
    """Recording sim episodes to a bag failed."""
