"""Every real rosbag2 bag in ../shared/conformance/bags is read with the counts of its metadata.yaml."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from cadence.cli import main
from cadence.data.bag import BagReader
from cadence.data.info import bag_info

ROOT = Path(__file__).resolve().parents[2]
BAGS = ROOT.parent / "shared" / "conformance" / "bags"
NAMES = sorted(p.name for p in BAGS.iterdir() if p.is_dir()) if BAGS.is_dir() else []
# Outside CI a checkout without ../shared skips; in CI (shared/ beside the clone) a missing folder fails.
pytestmark = pytest.mark.skipif(
    not BAGS.is_dir() and not os.environ.get("CI"), reason=f"conformance bags not found at {BAGS}"
)


def test_every_conformance_bag_is_exercised() -> None:
    assert BAGS.is_dir(), f"conformance bags not found at {BAGS}"
    assert len(NAMES) >= 6, NAMES


def _metadata_counts(bag: Path) -> dict[str, int]:
    meta = YAML(typ="safe").load((bag / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    return {t["topic_metadata"]["name"]: t["message_count"] for t in meta["topics_with_message_count"]}


def test_the_conformance_set_is_there() -> None:
    assert len(NAMES) >= 6, NAMES


@pytest.mark.parametrize("name", NAMES)
def test_counts_equal_metadata_or_connection_is_skipped_with_a_reason(name: str) -> None:
    bag = BAGS / name
    expected = _metadata_counts(bag)
    with BagReader(bag) as reader:
        n = sum(1 for _ in reader.messages())
        reader.check_counts()
        summary = {t.name: t for t in reader.summary()}
    assert set(summary) == set(expected)
    decoded = 0
    for topic, want in expected.items():
        got = summary[topic]
        assert got.metadata_count == want
        if got.skipped is None:
            assert got.count == want, f"{name} {topic}"
            decoded += want
        else:
            assert got.count == 0 and got.skipped
    assert n == decoded


def test_service_events_decode_from_the_srv_text_in_the_bag() -> None:
    """rosbag2 stores the .srv text for service-event topics; the _Event type is built from it."""
    with BagReader(BAGS / "mcap_bag_with_topics_and_service_events") as reader:
        events = [m.msg for m in reader.messages() if m.topic.endswith("_service_event")]
        reader.check_counts()
        summary = {t.name: t for t in reader.summary()}
    assert len(events) == 8 and summary["/test_service1/_service_event"].skipped is None
    for ev in events:
        assert 0 <= ev.info.event_type <= 3  # REQUEST_SENT ... RESPONSE_RECEIVED
        assert len(ev.request) + len(ev.response) == 1  # rosbag2 records one side per event
        for side in (*ev.request, *ev.response):
            assert isinstance(side.string_value, str) and isinstance(side.float64_value, float)
    assert summary["/test_topic1"].count == 1 and summary["/test_topic2"].count == 1


def test_connection_without_any_definition_is_skipped_with_a_reason() -> None:
    from rosbags.interfaces import (
        Connection,
        ConnectionExtRosbag2,
        MessageDefinition,
        MessageDefinitionFormat,
    )

    from cadence.data.typestore import build_decoders

    none = MessageDefinition(MessageDefinitionFormat.NONE, "")
    ext = ConnectionExtRosbag2("cdr", [])
    conns = [
        Connection(1, "/s/_service_event", "test_msgs/srv/BasicTypes_Event", none, "", 1, ext, None),
        Connection(2, "/t", "test_msgs/msg/Strings", none, "", 1, ext, None),
        Connection(3, "/odom", "nav_msgs/msg/Odometry", none, "", 1, ext, None),
    ]
    dec = build_decoders(conns)
    assert (
        "without its .srv definition" in dec[("/s/_service_event", "test_msgs/srv/BasicTypes_Event")].skipped
    )
    assert "no message definition" in dec[("/t", "test_msgs/msg/Strings")].skipped
    assert dec[("/odom", "nav_msgs/msg/Odometry")].skipped is None


def test_definitions_stored_in_the_bag_decode_unknown_types() -> None:
    """test_msgs is not in rosbags' stores: the MCAP schemas carry the definitions."""
    with BagReader(BAGS / "mcap_cdr_test") as reader:
        msgs = {m.topic: m.msg for m in reader.messages()}
    assert hasattr(msgs["/test_topic"], "float64_value")
    assert hasattr(msgs["/array_topic"], "string_values")


def test_split_bags_read_across_every_file() -> None:
    for name in ("sqlite3_wbag", "mcap_wbag"):
        info = bag_info(BAGS / name)
        assert sum(t.count for t in info.topics) == 6074


def test_mcap_and_sqlite3_talker_decode_the_same_strings() -> None:
    def strings(name: str) -> list[str]:
        with BagReader(BAGS / name) as reader:
            return [m.msg.data for m in reader.messages(["/topic"])]

    assert strings("sqlite3_talker") == strings("mcap_talker")
    assert len(strings("mcap_talker")) == 10


def test_bag_info_json_format(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bag", "info", str(BAGS / "mcap_talker"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"path", "storage", "duration_s", "topics"}
    assert out["storage"] == "mcap"
    assert out["duration_s"] == pytest.approx(4.531096768)
    for topic in out["topics"]:
        assert set(topic) == {"name", "type", "count", "metadata_count", "skipped"}
    assert {t["name"]: t["count"] for t in out["topics"]} == {
        "/topic": 10,
        "/rosout": 10,
        "/parameter_events": 0,
    }
