"""cadence record -> rosbag2 -> cadence bag convert -> dataset: the observations survive the round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cadence.cli import main
from cadence.data.convert import convert_bags
from cadence.data.dataset import Dataset
from cadence.data.info import bag_info
from cadence.data.record import record_episodes
from cadence.sim import robot


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_record_convert_round_trip(tmp_path, storage: str) -> None:
    bag = tmp_path / "bag"
    rec = record_episodes("go to the kitchen", episodes=2, out=bag, storage=storage, seed=3)
    assert rec.episodes == 2
    info = bag_info(bag)
    assert info.storage == storage and not info.mismatches
    counts = {t.name: t.count for t in info.topics}
    assert counts["/odom"] == counts["/scan"] == rec.steps + 2
    assert counts["/cmd_vel"] == rec.steps
    assert counts["/executor/sequence"] == counts["/critic/progress"] == sum(len(o) for o in rec.observations)

    report = convert_bags([bag], tmp_path / "ds")
    assert report.episodes == 2 and all(b.ok for b in report.bags)
    ds = Dataset(tmp_path / "ds")
    assert ds.info["format_version"] == 1 and ds.info["k"] == robot.DEFAULT_K
    for e, recorded in enumerate(rec.observations):
        ep = ds.episode(e)
        # every decision becomes a transition, and its observation is the one the policy saw
        assert len(ep["obs"]) == len(recorded)
        np.testing.assert_allclose(ep["obs"], np.stack(recorded), atol=1e-5)
        np.testing.assert_allclose(ep["next_obs"][:-1], ep["obs"][1:], atol=1e-6)
        assert (ep["n_executed"][:-1] == robot.DEFAULT_K).all()
        acts = ep["action"].reshape(len(ep["obs"]), robot.DEFAULT_K, 2)
        assert (acts[..., 0] <= robot.V_MAX + 1e-6).all() and (
            np.abs(acts[..., 1]) <= robot.W_MAX + 1e-6
        ).all()
        assert np.isfinite(ep["critic_progress"]).all() and np.isfinite(ep["robustness"]).all()
        assert ep["done"][-1] == ds.episodes[e].success and not ep["done"][:-1].any()
        assert ep["truncated"][-1] == (not ds.episodes[e].success)
    meta = ds.episodes[0]
    assert meta.task == "go to the kitchen" and meta.scene == "apartment" and "kitchen" in meta.spec
    assert meta.success and meta.stl_robustness > 0
    t = ds.transitions()
    assert t.obs.shape == (len(ds), ds.obs_dim) and t.actions.shape == (len(ds), 2 * ds.k)
    assert t.rewards.shape == t.dones.shape == (len(ds),)
    # the route shrinks overall: summed progress reward is positive on a successful run
    assert ds.episode(0)["reward_progress"].sum() > 1.0


def test_record_and_convert_cli(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    bag, ds = tmp_path / "bag", tmp_path / "ds"
    assert main(["record", "--task", "drive to the kitchen", "--episodes", "1", "--out", str(bag)]) == 0
    assert "recorded 1 episodes" in capsys.readouterr().out
    assert main(["bag", "convert", str(bag), str(tmp_path / "missing"), "--out", str(ds), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["episodes"] == 1 and report["out"] == str(ds)
    assert [b["ok"] for b in report["bags"]] == [True, False]
    assert "does not exist" in report["bags"][1]["error"]
    assert main(["record", "--task", "dance", "--episodes", "1", "--out", str(tmp_path / "x")]) == 2
    assert "cannot plan 'dance'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_multi_subgoal_task_follows_the_plan(tmp_path) -> None:
    """Two subgoals: the recorder and the converter both use the executor's PlanFollower."""
    bag = tmp_path / "bag"
    rec = record_episodes("go to the kitchen then the office", episodes=1, out=bag, seed=1)
    report = convert_bags([bag], tmp_path / "ds")
    assert report.episodes == 1, report.format()
    ds = Dataset(tmp_path / "ds")
    assert "kitchen" in ds.episodes[0].spec and "office" in ds.episodes[0].spec
    ep = ds.episode(0)
    np.testing.assert_allclose(ep["obs"], np.stack(rec.observations[0]), atol=1e-5)
    assert ep["done"][-1] == ds.episodes[0].success
