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
from typing import TYPE_CHECKING, Any

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
    if conn.msgtype.endswith("_Event") and "/srv/" in conn.msgtype:
        return _service_event_decoder(conn, embedded, fallback)
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


def _rename_srv(obj: Any) -> Any:
    """rosbags names parsed types ``pkg/srv/msg/Name``; service types are ``pkg/srv/Name``."""
    if isinstance(obj, str):
        return obj.replace("/srv/msg/", "/srv/")
    if isinstance(obj, (tuple, list)):
        return type(obj)(_rename_srv(x) for x in obj)
    return obj


def _service_event_decoder(conn: Connection, embedded: Typestore, fallback: Typestore) -> Decoder:
    """Build ``pkg/srv/Name_Event`` from the ``.srv`` text rosbag2 stores for service-event topics.

    The event message is ``service_msgs/ServiceEventInfo info``, ``Name_Request[<=1] request``,
    ``Name_Response[<=1] response`` (rosidl's generated ``_Event``). Its RIHS01 cannot be checked:
    rosbag2 stores the hash of the service description, which rosbags cannot reproduce; rosbags'
    strict CDR length check still rejects bytes that do not fit.
    """
    text = conn.msgdef.data if conn.msgdef.format == MessageDefinitionFormat.MSG else ""
    if "---" not in text:
        return Decoder(
            (), f"service event connection ({conn.msgtype}) without its .srv definition in the bag"
        )
    base = conn.msgtype.removesuffix("_Event")
    request, response = text.split("\n---\n", 1) if "\n---\n" in text else text.split("---", 1)
    event = f"service_msgs/msg/ServiceEventInfo info\n{base}_Request[<=1] request\n{base}_Response[<=1] response\n"
    try:
        typs: dict = {}
        for part, name in (
            (request, f"{base}_Request"),
            (response, f"{base}_Response"),
            (event, conn.msgtype),
        ):
            typs.update(get_types_from_msg(part, name))
        typs = {_rename_srv(k): _rename_srv(v) for k, v in typs.items()}
        for dep in ("service_msgs/msg/ServiceEventInfo", "builtin_interfaces/msg/Time"):
            typs.setdefault(dep, fallback.fielddefs[dep])
        embedded.register(typs)
    except (TypesysError, ValueError, KeyError) as err:
        return Decoder((), f"service event {conn.msgtype}: cannot build the event type: {_first_line(err)}")
    return Decoder((embedded,), None)
