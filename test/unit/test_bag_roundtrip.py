"""write -> read round trips through the rosbags writer and cadence's reader, every storage mode."""

from __future__ import annotations

import numpy as np
import pytest

from cadence.data.bag import BagReader
from cadence.data.errors import RecordError
from cadence.data.messages import MessageFactory, odom_sample, scan_sample, sequence_sample
from cadence.data.writer import BagWriter


def _write(path, storage: str, compression: str | None = None, n: int = 30) -> None:
    with BagWriter(path, storage=storage, compression=compression) as bag:
        f = MessageFactory(bag.typestore)
        bag.write("task", 1_000, f.string("go to the kitchen"))
        for i in range(n):
            t = 1_000_000_000 + i * 50_000_000
            bag.write("odom", t, f.odometry(t, 0.1 * i, -0.05 * i, 0.02 * i, 0.4, 0.1))
            bag.write("scan", t, f.scan(t, -np.pi, np.pi / 18, 8.0, np.linspace(1, 2, 36)))
            bag.write("cmd_vel", t, f.twist(0.4, 0.1 * (i % 3)))
            if i % 8 == 0:
                actions = np.stack([np.full(8, 0.3 + i * 0.01), np.linspace(-1, 1, 8)], axis=1)
                bag.write("executor/sequence", t, f.sequence(t, actions, 0.05))
            bag.write("critic/progress", t, f.float32(i / n))


@pytest.mark.parametrize(
    ("storage", "compression"),
    [
        ("mcap", None),
        ("sqlite3", None),
        ("mcap", "message"),
        ("sqlite3", "message"),
        ("mcap", "file"),
        ("sqlite3", "file"),
    ],
)
def test_round_trip(tmp_path, storage: str, compression: str | None) -> None:
    path = tmp_path / "bag"
    _write(path, storage, compression)
    assert [p.name for p in tmp_path.iterdir()] == ["bag"], "temporary folder left behind"
    with BagReader(path) as reader:
        assert reader.storage == storage
        msgs = list(reader.messages())
        reader.check_counts()
        counts = {t.name: t.count for t in reader.summary()}
    assert counts["/odom"] == counts["/scan"] == counts["/cmd_vel"] == counts["/critic/progress"] == 30
    assert counts["/executor/sequence"] == 4 and counts["/task"] == 1 and counts["/plan"] == 0
    odom = [odom_sample(m.msg, m.log_time_ns) for m in msgs if m.topic == "/odom"]
    assert odom[7].x == pytest.approx(0.7) and odom[7].yaw == pytest.approx(0.14)
    assert odom[7].t == pytest.approx(1.35) and odom[7].v == pytest.approx(0.4)
    scan = next(scan_sample(m.msg, m.log_time_ns) for m in msgs if m.topic == "/scan")
    assert scan.ranges.shape == (36,) and scan.angle_increment == pytest.approx(np.pi / 18)
    seqs = [sequence_sample(m.msg, m.log_time_ns) for m in msgs if m.topic == "/executor/sequence"]
    assert seqs[1].actions.shape == (8, 2) and seqs[1].step_dt == pytest.approx(0.05)
    np.testing.assert_allclose(seqs[1].actions[:, 1], np.linspace(-1, 1, 8), rtol=1e-6)
    task = next(m.msg.data for m in msgs if m.topic == "/task")
    assert task == "go to the kitchen"


def test_topic_filter_reads_only_those(tmp_path) -> None:
    _write(tmp_path / "bag", "mcap")
    with BagReader(tmp_path / "bag") as reader:
        topics = {m.topic for m in reader.messages(["/odom"])}
        reader.check_counts()
    assert topics == {"/odom"}


def test_writer_refuses_existing_path_and_leaves_nothing_on_error(tmp_path) -> None:
    (tmp_path / "bag").mkdir()
    with pytest.raises(RecordError, match="exists already"):
        BagWriter(tmp_path / "bag")
    with pytest.raises(RuntimeError), BagWriter(tmp_path / "other") as bag:
        bag.write("cmd_vel", 1, MessageFactory(bag.typestore).twist(0, 0))
        raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bag"]


def test_unknown_topic_lists_valid_ones(tmp_path) -> None:
    with BagWriter(tmp_path / "bag") as bag, pytest.raises(RecordError, match="valid: odom"):
        bag.write("odometry", 1, None)


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_fast_cdr_parsers_agree_with_rosbags(tmp_path, storage: str) -> None:
    from cadence.data.convert import SAMPLERS

    _write(tmp_path / "bag", storage)
    with BagReader(tmp_path / "bag") as reader:
        plain = list(reader.messages())
    with BagReader(tmp_path / "bag") as reader:
        fast = list(reader.messages(samplers=SAMPLERS))
        reader.check_counts()
        assert reader._is_kilted(("/odom", "nav_msgs/msg/Odometry"))  # the fast path was taken
    assert len(plain) == len(fast)
    checked = 0
    for p, f in zip(plain, fast, strict=True):
        sampler = SAMPLERS.get(p.msgtype)
        if sampler is None:
            continue
        want = sampler.from_msg(p.msg, p.log_time_ns)
        assert (f.topic, f.log_time_ns) == (p.topic, p.log_time_ns)
        for a, b in zip(want, f.msg, strict=True):
            np.testing.assert_array_equal(a, b)
        checked += 1
    assert checked == 4 * 30


def test_fast_parser_rejects_bytes_it_does_not_understand() -> None:
    from cadence.data import cdr
    from cadence.data.typestore import default_typestore

    ts = default_typestore()
    f = MessageFactory(ts)
    raw = bytes(ts.serialize_cdr(f.odometry(5, 1.0, 2.0, 0.5, 0.1, 0.2), "nav_msgs/msg/Odometry"))
    assert cdr.odom(raw, 0)[1:3] == (1.0, 2.0)
    with pytest.raises(ValueError, match="size mismatch"):
        cdr.odom(raw + b"\0" * 8, 0)
    with pytest.raises(ValueError, match="little-endian"):
        cdr.odom(b"\0\0" + raw[2:], 0)
