"""The versioned dataset format: round trip, atomic commit, refusal of unknown versions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cadence.data.dataset import FEATURES, Dataset, DatasetWriter
from cadence.data.errors import DatasetError

OBS, K = 5, 3


def _columns(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "t": np.arange(n) * 0.4,
        "obs": rng.normal(size=(n, OBS)),
        "action": rng.normal(size=(n, 2 * K)),
        "commanded": rng.normal(size=(n, 2 * K)),
        "n_executed": np.full(n, K),
        "reward": rng.normal(size=n),
        "reward_progress": rng.normal(size=n),
        "critic_progress": np.full(n, np.nan),
        "robustness": rng.normal(size=n),
        "next_obs": rng.normal(size=(n, OBS)),
        "done": np.arange(n) == n - 1,
        "truncated": np.zeros(n, bool),
    }


META = {
    "bag": "b",
    "task": "t",
    "scene": "apartment",
    "spec": "eventually[0:5](kitchen > 0)",
    "start_ns": 1,
    "duration_s": 2.0,
    "stl_robustness": 0.3,
    "success": True,
}


def _write(path, episodes=(4, 6)) -> list[dict]:
    w = DatasetWriter(path, OBS, K, 0.05, extra={"note": "test"})
    cols = [_columns(n, i) for i, n in enumerate(episodes)]
    for c in cols:
        w.add_episode(c, META)
    assert not path.exists(), "visible before commit"
    w.commit(["b"])
    return cols


def test_round_trip(tmp_path) -> None:
    cols = _write(tmp_path / "ds")
    ds = Dataset(tmp_path / "ds")
    assert len(ds) == 10 and len(ds.episodes) == 2 and ds.info["note"] == "test"
    assert set(ds.info["features"]) == set(FEATURES)
    assert ds.info["features"]["obs"] == {"dtype": "float32", "shape": [OBS]}
    ep = ds.episode(1)
    for name, col in cols[1].items():
        np.testing.assert_allclose(ep[name], col.astype(FEATURES[name][0]), rtol=1e-6)
    t = ds.transitions()
    assert t.obs.shape == (10, OBS) and t.actions.shape == (10, 2 * K) and t.dones.sum() == 2
    np.testing.assert_allclose(t.next_obs[4:], cols[1]["next_obs"], rtol=1e-6)
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]


@pytest.mark.parametrize("version", [0, 2, "1", None])
def test_unknown_version_is_refused(tmp_path, version) -> None:
    _write(tmp_path / "ds")
    info_path = tmp_path / "ds" / "meta" / "info.json"
    info = json.loads(info_path.read_text())
    info["format_version"] = version
    info_path.write_text(json.dumps(info))
    with pytest.raises(DatasetError, match="format_version"):
        Dataset(tmp_path / "ds")


def test_not_a_dataset(tmp_path) -> None:
    with pytest.raises(DatasetError, match="not a cadence dataset"):
        Dataset(tmp_path)


def test_schema_mismatch_is_refused(tmp_path) -> None:
    _write(tmp_path / "ds")
    info_path = tmp_path / "ds" / "meta" / "info.json"
    info = json.loads(info_path.read_text())
    info["obs_dim"] = OBS + 1
    info_path.write_text(json.dumps(info))
    with pytest.raises(DatasetError, match="schema does not match"):
        Dataset(tmp_path / "ds").episode(0)


def test_bad_shapes_and_missing_features(tmp_path) -> None:
    w = DatasetWriter(tmp_path / "ds", OBS, K, 0.05)
    cols = _columns(3)
    cols["obs"] = cols["obs"][:, :2]
    with pytest.raises(DatasetError, match="feature obs"):
        w.add_episode(cols, META)
    with pytest.raises(DatasetError, match="missing features"):
        w.add_episode({"t": np.zeros(2)}, META)
    w.abort()
    assert list(tmp_path.iterdir()) == []


def test_discard_from_drops_a_failed_bags_episodes(tmp_path) -> None:
    w = DatasetWriter(tmp_path / "ds", OBS, K, 0.05)
    w.add_episode(_columns(2), META)
    w.add_episode(_columns(3), META)
    w.discard_from(1)
    w.commit([])
    ds = Dataset(tmp_path / "ds")
    assert len(ds) == 2 and sorted(p.name for p in (tmp_path / "ds" / "data").iterdir()) == [
        "episode_000000.parquet"
    ]
