"""Bag -> dataset conversion: the corrupt-content matrix, bad bags among good ones, atomic output."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cadence.data.convert import convert_bags
from cadence.data.dataset import Dataset
from cadence.data.errors import DatasetError
from cadence.data.messages import MessageFactory
from cadence.data.synthetic import Event, synthetic_events, write_events, write_synthetic_bag
from cadence.data.typestore import default_typestore

F = MessageFactory(default_typestore())
STEPS, K = 160, 8  # 20 decisions per episode


def _events(episodes: int = 1) -> list[Event]:
    return list(synthetic_events(F, episodes=episodes, steps=STEPS))


def _odom_at(events: list[Event], n: int) -> int:
    return [i for i, e in enumerate(events) if e.topic == "odom"][n]


def _convert(tmp_path, events: list[Event], name: str = "bag"):
    write_events(tmp_path / name, events)
    report = convert_bags([tmp_path / name], tmp_path / f"{name}_ds")
    return report, report.bags[0]


def test_clean_bag(tmp_path) -> None:
    report, bag = _convert(tmp_path, _events(episodes=2))
    assert bag.ok and bag.episodes == 2 and bag.transitions == 2 * STEPS // K
    assert not bag.dropped and not bag.anomalies
    ds = Dataset(tmp_path / "bag_ds")
    ep = ds.episode(0)
    np.testing.assert_allclose(ep["next_obs"][:-1], ep["obs"][1:])
    np.testing.assert_allclose(ep["critic_progress"], 0.01, rtol=1e-5)  # one verdict per decision
    assert ep["reward_progress"].sum() > 0.5
    success = ds.episodes[0].success
    assert ep["done"][-1] == success and ep["truncated"][-1] == (not success) and not ep["done"][:-1].any()
    assert "total: 2 episodes" in report.format()


def test_nan_odometry_is_discarded_and_a_long_run_is_a_gap(tmp_path) -> None:
    events = _events()
    for n in range(40, 52):  # 0.6 s of NaN poses
        i = _odom_at(events, n)
        events[i] = Event("odom", events[i].t_ns, F.odometry(events[i].t_ns, math.nan, 0.0, 0.0, 0.0, 0.0))
    _, bag = _convert(tmp_path, events)
    assert bag.ok and bag.anomalies["odom: non-finite value (NaN/inf)"] == 12
    assert bag.dropped["odometry gap (older than 0.25 s)"] >= 1
    ds = Dataset(tmp_path / "bag_ds")
    assert np.isfinite(ds.transitions().obs).all()


def test_non_monotonic_and_duplicate_stamps(tmp_path) -> None:
    events = _events()
    i, j = _odom_at(events, 30), _odom_at(events, 31)
    late = events[i].t_ns - 10_000_000  # odom 31 claims a time before odom 30
    events[j] = Event("odom", events[j].t_ns, F.odometry(late, 1.0, 1.0, 0.0, 0.0, 0.0))
    events.insert(i + 1, events[i])  # odom 30 recorded twice
    _, bag = _convert(tmp_path, events)
    assert bag.ok
    assert bag.anomalies["odom: duplicate stamp"] == 1
    assert bag.anomalies["odom: stamp earlier than the previous one (non-monotonic)"] == 1
    assert bag.transitions == STEPS // K


def test_gap_drops_the_decisions_it_covers(tmp_path) -> None:
    events = _events()
    lo, hi = events[_odom_at(events, 60)].t_ns, events[_odom_at(events, 90)].t_ns
    events = [e for e in events if not (e.topic in {"odom", "scan"} and lo <= e.t_ns < hi)]
    _, bag = _convert(tmp_path, events)
    assert bag.ok and bag.dropped["odometry gap (older than 0.25 s)"] == 4
    assert bag.transitions == STEPS // K - 4


def test_malformed_plan_and_bad_sequence(tmp_path) -> None:
    events = _events(episodes=2)
    plans = [i for i, e in enumerate(events) if e.topic == "plan"]
    events[plans[1]] = Event("plan", events[plans[1]].t_ns, F.string('{"not": "a plan"'))
    seq = next(i for i, e in enumerate(events) if e.topic == "executor/sequence")
    bad = np.array([[math.nan, 0.0]] * K)
    events[seq] = Event("executor/sequence", events[seq].t_ns, F.sequence(events[seq].t_ns, bad, 0.05))
    _, bag = _convert(tmp_path, events)
    assert bag.ok and bag.episodes == 1
    assert sum(n for why, n in bag.anomalies.items() if why.startswith("plan: malformed")) == 1
    assert bag.anomalies["odom: before the first plan"] == STEPS + 1  # the second episode's samples
    assert bag.dropped["non-finite action in executor/sequence"] == 1


def test_good_bags_survive_bad_ones_and_nothing_is_half_written(tmp_path) -> None:
    write_synthetic_bag(tmp_path / "good", steps=80)
    write_synthetic_bag(tmp_path / "truncated", steps=80)
    mcap = next((tmp_path / "truncated").glob("*.mcap"))
    mcap.write_bytes(mcap.read_bytes()[: mcap.stat().st_size // 2])
    write_synthetic_bag(tmp_path / "lying", steps=80)
    meta = tmp_path / "lying" / "metadata.yaml"
    meta.write_text(meta.read_text().replace("message_count: 81", "message_count: 90"))
    write_events(tmp_path / "no_plan", [e for e in synthetic_events(F, steps=16) if e.topic != "plan"])
    bags = [tmp_path / n for n in ("truncated", "good", "lying", "no_plan", "missing")]
    report = convert_bags(bags, tmp_path / "ds")
    status = {b.path.rsplit("/", 1)[1]: (b.ok, b.error) for b in report.bags}
    assert status["good"] == (True, None)
    assert "cannot be opened" in status["truncated"][1] and "truncated" in status["truncated"][1]
    assert "metadata.yaml says 90" in status["lying"][1]
    assert "no `plan` messages" in status["no_plan"][1]
    assert "does not exist" in status["missing"][1]
    ds = Dataset(tmp_path / "ds")
    assert len(ds.episodes) == 1 and {e.bag for e in ds.episodes} == {str(tmp_path / "good")}
    assert ds.info["sources"] == [str(tmp_path / "good")]
    assert "FAILED" in report.format()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_no_usable_bag_writes_nothing(tmp_path) -> None:
    report = convert_bags([tmp_path / "missing"], tmp_path / "ds")
    assert report.out is None and report.episodes == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_output_must_not_exist(tmp_path) -> None:
    (tmp_path / "ds").mkdir()
    with pytest.raises(DatasetError, match="exists already"):
        convert_bags([tmp_path / "missing"], tmp_path / "ds")


def test_cli_k_mismatch_drops_every_decision(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    from cadence.cli import main

    write_synthetic_bag(tmp_path / "bag", steps=32)
    assert (
        main(
            [
                "bag",
                "convert",
                str(tmp_path / "bag"),
                "--out",
                str(tmp_path / "ds"),
                "--k",
                "4",
                "--no-progress",
            ]
        )
        == 1
    )
    out = capsys.readouterr().out
    assert "dropped 4 decision(s): sequence of 8 actions, expected K=4" in out
    assert "no usable episode" in out and not (tmp_path / "ds").exists()
    assert (
        main(["bag", "convert", str(tmp_path / "bag"), "--out", str(tmp_path / "ds"), "--no-progress"]) == 0
    )
    assert "1 episodes, 4 transitions" in capsys.readouterr().out


def test_gap_at_the_end_cuts_the_episode(tmp_path) -> None:
    events = _events()
    lo, hi = events[_odom_at(events, 120)].t_ns, events[_odom_at(events, STEPS)].t_ns
    events = [e for e in events if not (e.topic in {"odom", "scan"} and lo <= e.t_ns < hi)]
    _, bag = _convert(tmp_path, events)
    assert bag.ok and bag.dropped["odometry gap (older than 0.25 s)"] >= 4
    ep = Dataset(tmp_path / "bag_ds").episode(0)
    assert ep["truncated"][-1] and not ep["done"].any() and not ep["truncated"][:-1].any()
    assert ep["t"][-1] < 120 * 0.05


def test_known_topic_with_another_type_is_reported_not_used(tmp_path) -> None:
    from cadence.data.messages import TOPICS
    from cadence.data.writer import BagWriter

    topics = {**TOPICS, "critic/progress": "std_msgs/msg/Float64"}
    events = [e for e in synthetic_events(F, steps=32) if e.topic != "critic/progress"]
    with BagWriter(tmp_path / "bag", topics=topics) as bag:
        for e in events:
            bag.write(e.topic, e.t_ns, e.msg)
        bag.write("critic/progress", events[-1].t_ns, bag.typestore.types["std_msgs/msg/Float64"](data=0.5))
    report = convert_bags([tmp_path / "bag"], tmp_path / "ds")
    b = report.bags[0]
    assert (
        b.ok
        and b.anomalies[
            "/critic/progress: type std_msgs/msg/Float64, expected std_msgs/msg/Float32; not used"
        ]
        == 1
    )
    assert np.isnan(Dataset(tmp_path / "ds").episode(0)["critic_progress"]).all()
