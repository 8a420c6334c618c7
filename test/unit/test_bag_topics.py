"""config/record_topics.yaml (what a robot records) and the converter's topic list agree."""

from __future__ import annotations

import re

from ruamel.yaml import YAML

from cadence.data.messages import TOPICS
from cadence.paths import config_dir


def test_record_topics_yaml_matches_converter_topics() -> None:
    path = config_dir() / "record_topics.yaml"
    data = YAML(typ="safe").load(path.read_text())
    assert {k.lstrip("/") for k in data} == set(TOPICS)
    for topic, qos in data.items():
        assert topic.startswith("/")
        assert set(qos) == {"history", "depth", "reliability", "durability"}, topic
        assert qos["reliability"] in {"reliable", "best_effort"}
        assert qos["durability"] in {"volatile", "transient_local"}
    assert data["/plan"]["durability"] == "transient_local"


def test_documented_topic_extraction_lists_every_topic() -> None:
    """The grep in the file's header (and docs/data.md) yields exactly the topic keys."""
    text = (config_dir() / "record_topics.yaml").read_text()
    topics = [line.split(":")[0] for line in text.splitlines() if re.match(r"^/", line)]  # grep | cut -d: -f1
    assert all(re.fullmatch(r"/[a-z_/]+", t) for t in topics), topics
    assert sorted(t.lstrip("/") for t in topics) == sorted(TOPICS)
