"""Choose, per connection of a bag, how its messages are decoded.

A rosbag2 bag may carry the message definitions of its types (MCAP schemas, the
``message_definitions`` table of sqlite3 bags since Iron). Those describe the bytes actually
recorded, so they win; a type without an embedded definition falls back to rosbags' built-in ROS 2
Kilted store. A connection neither source can describe (``test_msgs`` in a bag without
definitions, a definition that does not parse, a RIHS01 hash that does not match its definition)
is *skipped* with a reason instead of failing the whole bag (issue 8).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rosbags.interfaces import MessageDefinitionFormat
from rosbags.typesys import Stores, TypesysError, get_types_from_idl, get_types_from_msg, get_typestore

if TYPE_CHECKING:
    from collections.abc import Iterable

    from rosbags.interfaces import Connection
    from rosbags.typesys.store import Typestore

LOG = logging.getLogger(__name__)
_IDL_SEP = "=" * 80 + "\n"


def default_typestore() -> Typestore:
    """Return a new rosbags store of the ROS 2 distribution cadence targets (Kilted)."""
    return get_typestore(Stores.ROS2_KILTED)


@functools.cache
def kilted_store() -> Typestore:
    """One shared Kilted store (read-only use: decoding and hashing)."""
    return default_typestore()


@dataclass(frozen=True)
class Decoder:
    """How one connection is decoded: the store to use, or why it cannot be.

    Attributes:
        stores: Stores that know ``msgtype``, best first (the bag's own definition, then the
            Kilted store). Empty when the connection is skipped. Real bags carry wrong embedded
            definitions (rosbag2's sqlite3 ``talker`` test bag stores ``uint8 level`` as the whole
            of ``rcl_interfaces/msg/Log``), so the reader moves to the next store when the first
            message of a connection does not decode with the current one.
        skipped: ``None``, or the human-readable reason the connection is not decoded.
    """

    stores: tuple[Typestore, ...]
    skipped: str | None


def _parse_definition(conn: Connection) -> dict:
    data = conn.msgdef.data
    if conn.msgdef.format == MessageDefinitionFormat.MSG:
        return dict(get_types_from_msg(data, conn.msgtype))
    typs: dict = {}
    if data.startswith(f"{_IDL_SEP}IDL: "):
        for part in data.split(_IDL_SEP)[1:]:
            typs.update(get_types_from_idl(part.split("\n", 1)[1]))
    else:
        typs.update(get_types_from_idl(data))
    return typs


def build_decoders(connections: Iterable[Connection]) -> dict[tuple[str, str], Decoder]:
    """Decide how each ``(topic, msgtype)`` of a bag is decoded.

    Args:
        connections: The bag's connections (as ``metadata.yaml`` lists them, with the
            definitions the storage files carry).

    Returns:
        A decoder per ``(topic, msgtype)``.
    """
    embedded = get_typestore(Stores.EMPTY)
    fallback = kilted_store()
    decoders: dict[tuple[str, str], Decoder] = {}
    for conn in connections:
        key = (conn.topic, conn.msgtype)
        if key in decoders:
            continue
        decoders[key] = _decoder_for(conn, embedded, fallback)
        if decoders[key].skipped:
            LOG.warning("skipping %s (%s): %s", conn.topic, conn.msgtype, decoders[key].skipped)
    return decoders


def _decoder_for(conn: Connection, embedded: Typestore, fallback: Typestore) -> Decoder:
    if "/srv/" in conn.msgtype and conn.msgtype.endswith(("_Event", "_Request", "_Response")):
        # rosbag2 stores the .srv text for service-event connections, not the _Event message
        # (info + request[<=1] + response[<=1]), so neither source describes the recorded bytes.
        return Decoder((), f"service event connection ({conn.msgtype}); service events are not decoded")
    if conn.msgdef.format != MessageDefinitionFormat.NONE and conn.msgdef.data.strip():
        try:
            typs = _parse_definition(conn)
            embedded.register(typs)
        except (TypesysError, ValueError, IndexError) as err:
            return Decoder(
                (), f"message definition of {conn.msgtype} stored in the bag is unusable: {_first_line(err)}"
            )
        if conn.msgtype not in embedded.types:
            return Decoder((), f"the bag's definition does not define {conn.msgtype}")
        if conn.digest and conn.digest.startswith("RIHS01_"):
            try:
                have = embedded.hash_rihs01(conn.msgtype)
            except (TypesysError, KeyError) as err:
                return Decoder((), f"cannot hash {conn.msgtype}: {err}")
            if have != conn.digest:
                return Decoder(
                    (), f"type hash mismatch for {conn.msgtype}: bag {conn.digest}, definition {have}"
                )
        return Decoder((embedded, fallback) if conn.msgtype in fallback.types else (embedded,), None)
    if conn.msgtype in fallback.types:
        return Decoder((fallback,), None)
    return Decoder(
        (),
        f"no message definition for {conn.msgtype} in the bag and rosbags' ROS 2 Kilted store does not know it",
    )


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
