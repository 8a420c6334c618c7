"""Damaged bags are refused with an error that names the bag and what is wrong."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from cadence.cli import main
from cadence.data.bag import BagReader
from cadence.data.errors import BagCountError, BagError
from cadence.data.info import bag_info
from cadence.data.messages import MessageFactory
from cadence.data.writer import BagWriter


def _bag(path, storage: str = "mcap", n: int = 400):
    with BagWriter(path, storage=storage) as bag:
        f = MessageFactory(bag.typestore)
        for i in range(n):
            t = 10**9 + i * 50_000_000
            bag.write("odom", t, f.odometry(t, 0.01 * i, 0.0, 0.0, 0.2, 0.0))
            bag.write("scan", t, f.scan(t, -np.pi, np.pi / 90, 8.0, np.full(180, 3.0)))
    return path


def _storage_file(path):
    return next(p for p in path.iterdir() if p.suffix in {".mcap", ".db3"})


def _read_all(path) -> None:
    with BagReader(path) as reader:
        for _ in reader.messages():
            pass
        reader.check_counts()


def test_missing_metadata_suggests_reindex(tmp_path) -> None:
    bag = _bag(tmp_path / "bag")
    (bag / "metadata.yaml").unlink()
    with pytest.raises(BagError, match=r"no metadata\.yaml.*ros2 bag reindex"):
        BagReader(bag)


def test_storage_file_instead_of_folder_suggests_reindex(tmp_path) -> None:
    bag = _bag(tmp_path / "bag")
    with pytest.raises(BagError, match="ros2 bag reindex"):
        BagReader(_storage_file(bag))


def test_missing_bag(tmp_path) -> None:
    with pytest.raises(BagError, match="does not exist"):
        BagReader(tmp_path / "nope")


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_truncated_mcap(tmp_path, keep: float) -> None:
    bag = _bag(tmp_path / "bag")
    f = _storage_file(bag)
    data = f.read_bytes()
    f.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(BagError, match=str(bag)):
        _read_all(bag)


def test_malformed_sqlite(tmp_path) -> None:
    bag = _bag(tmp_path / "bag", storage="sqlite3")
    f = _storage_file(bag)
    data = bytearray(f.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the page-1 b-tree that lists the tables
    f.write_bytes(bytes(data))
    with pytest.raises(BagError, match=str(bag)):
        _read_all(bag)


def test_not_a_database(tmp_path) -> None:
    bag = _bag(tmp_path / "bag", storage="sqlite3")
    _storage_file(bag).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(BagError, match="cannot be opened"):
        _read_all(bag)


def test_missing_split_file(tmp_path) -> None:
    bag = _bag(tmp_path / "bag")
    _storage_file(bag).unlink()
    with pytest.raises(BagError, match="missing"):
        _read_all(bag)


def test_metadata_claiming_more_messages_is_a_count_mismatch(tmp_path) -> None:
    bag = _bag(tmp_path / "bag")
    meta = bag / "metadata.yaml"
    meta.write_text(meta.read_text().replace("message_count: 400", "message_count: 401", 1))
    with pytest.raises(
        BagCountError,
        match=r"/odom: read 400, metadata.yaml says 401|/scan: read 400, metadata.yaml says 401",
    ):
        _read_all(bag)


def test_bag_info_cli_exit_codes(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    bag = _bag(tmp_path / "bag", n=5)
    assert main(["bag", "info", str(bag)]) == 0
    meta = bag / "metadata.yaml"
    meta.write_text(meta.read_text().replace("message_count: 5", "message_count: 6", 1))
    assert main(["bag", "info", str(bag)]) == 1
    assert "do not match metadata.yaml" in capsys.readouterr().err
    shutil.rmtree(bag)
    assert main(["bag", "info", str(bag)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_garbled_message_bytes(tmp_path) -> None:
    bag = _bag(tmp_path / "bag", storage="sqlite3", n=3)
    import sqlite3

    with sqlite3.connect(_storage_file(bag)) as db:
        db.execute("UPDATE messages SET data = X'00010000DEAD' WHERE id = 2")
    with pytest.raises(BagError, match=r"does not decode"):
        bag_info(bag)
