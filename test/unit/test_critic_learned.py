"""Learned pairwise critic: VLAC pairs, a tiny training run, ONNX export/load, runtime behaviour."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from cadence.critic.episodes import random_episodes
from cadence.critic.errors import CriticModelError, TaskError
from cadence.critic.export import export_critic
from cadence.critic.learned import LearnedCritic, PairModel
from cadence.critic.pairs import KINDS, make_pairs
from cadence.critic.task import reach_task
from cadence.critic.train import CriticTrainConfig, fit
from cadence.critic.types import Snapshot
from cadence.planner.scene import load_scene


@pytest.fixture(scope="module")
def scene():
    return load_scene("apartment")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory, scene):
    """A critic trained in a few seconds on 40 kinematic episodes, exported to ONNX."""
    out = tmp_path_factory.mktemp("critic") / "tiny_critic.onnx"
    cfg = CriticTrainConfig(
        out=str(out),
        scenes=("apartment",),
        source="kinematic",
        episodes_per_scene=40,
        pairs_per_episode=48,
        hidden=64,
        epochs=12,
    )
    episodes = random_episodes(scene, 40, seed=11)
    net = fit(cfg, episodes, {"apartment": scene})
    return export_critic(net, cfg, {"note": "unit test"})


def test_pairs_hold_every_negative_kind(scene):
    eps = random_episodes(scene, 4, seed=1)
    batch = make_pairs(eps, {"apartment": scene}, per_episode=16, seed=0)
    assert set(np.unique(batch.kind)) == set(range(len(KINDS)))
    assert np.all(np.abs(batch.delta) <= 1.0)
    rev = batch.delta[batch.kind == KINDS.index("reversed")]
    fwd = batch.delta[batch.kind == KINDS.index("forward")]
    assert np.allclose(np.sort(rev), np.sort(-fwd))  # reversed pairs carry the negated labels
    assert np.all(batch.delta[batch.kind == KINDS.index("stalled")] == 0.0)
    assert np.all(rev <= 0) and rev.min() < 0


def test_pairs_need_a_successful_episode(scene):
    eps = random_episodes(scene, 2, seed=1, max_time=0.4)
    assert not any(e.success for e in eps)
    with pytest.raises(TaskError, match="no successful episode"):
        make_pairs(eps, {"apartment": scene}, per_episode=4, seed=0)


def test_config_is_validated():
    with pytest.raises(TaskError, match="sources: sim, kinematic"):
        CriticTrainConfig(source="video")
    with pytest.raises(TaskError, match=r"\.onnx"):
        CriticTrainConfig(out="critic.pt")


@pytest.mark.slow  # trains the module's tiny critic (a few seconds)
def test_manifest_and_model_load(tiny_model):
    manifest = json.loads(tiny_model.with_suffix(".json").read_text())
    assert manifest["kind"] == "critic"
    assert manifest["observation"]["scenes"] == ["apartment"]
    assert [o["name"] for o in manifest["outputs"]] == ["delta", "done"]
    model = PairModel(tiny_model)
    assert model.scenes == ("apartment",)


@pytest.mark.slow  # trains the module's tiny critic (a few seconds)
def test_tampered_model_is_refused(tiny_model, tmp_path):
    bad = tmp_path / "tiny_critic.onnx"
    bad.write_bytes(tiny_model.read_bytes()[:-64])
    (tmp_path / "tiny_critic.json").write_text(tiny_model.with_suffix(".json").read_text())
    with pytest.raises(CriticModelError, match="sha256"):
        PairModel(bad)


@pytest.mark.slow  # trains the module's tiny critic (a few seconds)
def test_unknown_scene_is_refused(tiny_model):
    other = load_scene("apartment")
    object.__setattr__(other, "name", "elsewhere")
    critic = LearnedCritic(tiny_model)
    with pytest.raises(CriticModelError, match="trained on scenes apartment"):
        critic.reset(reach_task(other, "kitchen"), Snapshot(0.0, 4.0, 4.0))


@pytest.mark.slow  # trains the module's tiny critic (a few seconds)
def test_reversed_pairs_get_negative_deltas(tiny_model, scene):
    model = PairModel(tiny_model)
    fwd, rev = [], []
    for ep in random_episodes(scene, 8, seed=123):
        r = ep.reached(scene)
        a = Snapshot(0.0, *map(float, ep.pose[0]))
        b = Snapshot(1.0, *map(float, ep.pose[r]))
        fwd.append(model.pair(scene, a, b, ep.goal)[0])
        rev.append(model.pair(scene, b, a, ep.goal)[0])
    assert np.mean(fwd) > 0.5
    assert np.all(np.array(rev) < 0)


@pytest.mark.slow  # trains the module's tiny critic (a few seconds)
def test_learned_critic_orders_time_and_detects_done(tiny_model, scene):
    critic = LearnedCritic(tiny_model)
    vocs, hits = [], []
    for ep in random_episodes(scene, 6, seed=77):
        task = reach_task(scene, ep.goal)
        snaps = [Snapshot(float(t), *map(float, p)) for t, p in zip(ep.t, ep.pose, strict=True)]
        out = [critic.reset(task, snaps[0])] + [critic.observe(s) for s in snaps[1:]]
        r = ep.reached(scene)
        values = np.array([p.value for p in out[: r + 1]])
        vocs.append(np.corrcoef(np.argsort(np.argsort(values)), np.arange(r + 1))[0, 1])
        hits.append(out[-1].done)
    assert np.mean(vocs) > 0.8
    assert np.mean(hits) >= 0.8


@pytest.mark.slow  # trains the module's tiny critic (a few seconds)
def test_runtime_does_not_import_torch(tiny_model):
    code = (
        "import sys\n"
        "from cadence.critic.learned import LearnedCritic\n"
        "from cadence.critic.registry import make_critic\n"
        f"make_critic('learned', model={str(tiny_model)!r})\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_spearman_handles_ties_and_constants():
    from cadence.critic.evaluate import spearman

    assert spearman(np.arange(5), np.arange(5)) == pytest.approx(1.0)
    assert spearman(np.arange(5)[::-1], np.arange(5)) == pytest.approx(-1.0)
    assert spearman(np.zeros(5), np.arange(5)) == 0.0
    assert 0.8 < spearman(np.array([0, 0.1, 0.1, 0.3, 0.5]), np.arange(5)) < 1.0


@pytest.mark.slow  # a whole (tiny) training run in a subprocess
def test_train_entry_point_writes_a_verified_model(tmp_path):
    out = tmp_path / "cli_critic.onnx"
    cmd = [
        sys.executable,
        "-m",
        "cadence.critic.train",
        "--out",
        str(out),
        "--scenes",
        "apartment",
        "--source",
        "kinematic",
        "--episodes",
        "12",
        "--heldout",
        "3",
        "--epochs",
        "2",
        "--hidden",
        "16",
    ]
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    manifest = json.loads(out.with_suffix(".json").read_text())
    assert set(manifest["metrics"]["heldout"]["apartment"]) == {"voc", "voc_min", "done_f1"}
    assert PairModel(out).scenes == ("apartment",)
    bad = subprocess.run([*cmd[:3], "--out", str(tmp_path / "x.pt")], capture_output=True, text=True)
    assert bad.returncode == 2 and ".onnx" in bad.stderr


def test_config_for_train_command(tmp_path):
    from cadence.critic.train import DEFAULT_SCENES, config_for_train_command

    cfg = config_for_train_command("rover-warehouse", 50_000, 3, tmp_path, hidden=64)
    assert cfg.scenes == ("warehouse",) and cfg.seed == 3 and cfg.hidden == 64
    assert cfg.out.endswith("progress_critic.onnx") and cfg.episodes_per_scene == 208
    assert config_for_train_command("rover-mix", 100, 0, tmp_path).scenes == DEFAULT_SCENES
    with pytest.raises(TaskError, match="rover scenes"):
        config_for_train_command("point-reach", 100, 0, tmp_path)
