"""Every registered env: resets, steps, observation shape, info, collisions, success, seeding, rendering."""

from __future__ import annotations

import numpy as np
import pytest

import cadence.sim
from cadence.planner.scene import Scene
from cadence.policy.observation import DEFAULT_LAYOUT
from cadence.policy.runtime import load_policy
from cadence.sim.errors import EnvError


@pytest.mark.parametrize("name", cadence.sim.list_envs())
def test_env_steps_zero_and_random_actions(name: str) -> None:
    env = cadence.sim.make(name)
    obs, info = env.reset(seed=3)
    assert obs.shape == (DEFAULT_LAYOUT.obs_dim,) and obs.dtype == np.float32
    assert obs.shape == (load_policy("backup").manifest.obs_dim,)  # the width every manifest declares
    assert info["goal"] in env.scene.region_names and info["time_budget"] > 0
    env.action_space.seed(3)
    for i in range(40):
        action = np.zeros(2) if i < 20 else env.action_space.sample()
        obs, reward, terminated, truncated, info = env.step(action)
        assert obs.shape == env.observation_space.shape
        assert np.isfinite(obs).all() and np.isfinite(reward)
        assert reward == pytest.approx(sum(info["terms"].values()))
        assert set(info["regions"]) == set(env.scene.region_names)
        assert not info["unstable"] and info["warnings"] == {}
        if terminated or truncated:
            env.reset()


def test_unknown_env_and_option_list_valid_names() -> None:
    with pytest.raises(ValueError, match="rover-apartment"):
        cadence.sim.make("rover-mars")
    with pytest.raises(ValueError, match="budget_speed"):
        cadence.sim.make("rover-apartment", budget_sped=1.0)
    with pytest.raises(ValueError, match="kitchen"):
        cadence.sim.make("rover-apartment", goals=("garage",))
    env = cadence.sim.make("rover-apartment")
    with pytest.raises(EnvError, match="goal, start"):
        env.reset(options={"gaol": "lab"})


def test_region_signals_match_scene_signed_distance() -> None:
    env = cadence.sim.make("rover-apartment")
    env.reset(seed=0, options={"goal": "kitchen", "start": (5.0, 4.0, 0.0)})
    _, _, _, _, info = env.step([0.5, 0.0])
    xy = np.array(env.path[-1])
    for region, value in info["regions"].items():
        assert value == pytest.approx(float(env.scene.signed_distance(region, xy)))
    assert info["regions"]["hallway"] > 0  # still in the hallway


def test_driving_into_a_wall_is_a_collision() -> None:
    env = cadence.sim.make("rover-apartment")
    env.reset(seed=0, options={"goal": "kitchen", "start": (5.0, 4.0, np.pi / 2)})  # facing the north wall
    hit = False
    for _ in range(30):
        _, _, _, _, info = env.step([0.6, 0.0])
        hit |= info["collision"]
    assert hit and info["counters"]["collisions"] > 0 and info["terms"]["collision"] < 0


def test_reaching_the_goal_terminates_with_success() -> None:
    env = cadence.sim.make("rover-apartment")
    env.reset(seed=0, options={"goal": "hallway", "start": (7.5, 2.2, np.pi / 2)})  # dock, facing the door
    for _ in range(60):
        _, _, terminated, truncated, info = env.step([0.5, 0.0])
        if terminated or truncated:
            break
    assert terminated and info["success"] and info["terms"]["success"] > 0


def test_time_budget_truncates() -> None:
    env = cadence.sim.make("rover-apartment")
    env.reset(seed=0, options={"goal": "kitchen", "time_budget": 0.5})
    results = [env.step([0.0, 0.0]) for _ in range(10)]
    assert results[9][3] and not results[9][2] and results[9][4]["terms"]["timeout"] < 0


def test_seeding_is_reproducible() -> None:
    a, b = cadence.sim.make("rover-apartment-dr"), cadence.sim.make("rover-apartment-dr")
    oa, ia = a.reset(seed=11)
    ob, ib = b.reset(seed=11)
    np.testing.assert_array_equal(oa, ob)
    assert ia == ib
    for _ in range(5):
        oa = a.step([0.4, 0.3])[0]
        ob = b.step([0.4, 0.3])[0]
    np.testing.assert_array_equal(oa, ob)
    oc, _ = a.reset(seed=12)
    assert not np.array_equal(oc, ob)


def test_domain_randomisation_changes_the_model() -> None:
    env = cadence.sim.make("rover-apartment-dr")
    env.reset(seed=1)
    masses = {float(env.model.body_mass[env.info.body])}
    frictions = {float(env.model.geom_friction[env._wheel_geoms[0], 0])}
    for seed in (2, 3):
        env.reset(seed=seed)
        masses.add(float(env.model.body_mass[env.info.body]))
        frictions.add(float(env.model.geom_friction[env._wheel_geoms[0], 0]))
    assert len(masses) == 3 and len(frictions) == 3


def test_nan_and_out_of_range_actions_are_counted_and_clamped() -> None:
    env = cadence.sim.make("rover-apartment")
    env.reset(seed=0)
    env.step([np.nan, 0.0])
    _, _, _, _, info = env.step([5.0, -9.0])
    assert info["counters"]["nan_actions"] == 1 and info["counters"]["raw_out_of_bounds"] == 1
    assert env.last_command == (1.0, -2.0)


def test_rendered_frame_is_not_blank() -> None:
    env = cadence.sim.make("rover-apartment", render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    env.close()
    assert frame.shape == (480, 640, 3) and frame.dtype == np.uint8
    assert frame.std() > 10  # walls, floor, regions: not a flat colour
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 50


class _PerBoxScene(Scene):
    """The reference: obstacle distance one box at a time, as Box.signed_distance defines it."""

    def obstacle_distance(self, xy: np.ndarray) -> np.ndarray:
        xy = np.asarray(xy, dtype=np.float64)
        if not self.obstacles:
            return np.full(xy.shape[:-1], np.inf)
        return np.min(np.stack([-o.signed_distance(xy) for o in self.obstacles]), axis=0)


@pytest.mark.parametrize("scene", ["apartment", "open"])
def test_vectorised_obstacle_distance_matches_per_box(scene: str) -> None:
    """Scene.obstacle_distance (cadence.planner.geometry, shared by planner and sim) = the per-box formula."""
    import dataclasses

    from cadence.planner.scene import load_scene

    fast = load_scene(scene)
    ref = _PerBoxScene(**{f.name: getattr(fast, f.name) for f in dataclasses.fields(fast)})
    pts = np.random.default_rng(0).uniform(-1.0, 17.0, (200, 2))
    np.testing.assert_allclose(fast.obstacle_distance(pts), ref.obstacle_distance(pts), atol=1e-12)
    assert fast.obstacle_distance(pts[:3].reshape(3, 1, 2)).shape == (3, 1)
    assert fast.obstacle_distance(pts[0]).shape == ()
    empty = dataclasses.replace(fast, obstacles=())
    assert np.isinf(empty.obstacle_distance(pts[:4])).all()
    for start in [(4.0, 4.0), (1.0, 1.5), (8.0, 5.0)]:
        for goal in fast.region_names:
            try:
                want = ref.route(start, goal)
            except Exception as err:  # both must fail the same way
                with pytest.raises(type(err)):
                    fast.route(start, goal)
                continue
            assert fast.route(start, goal) == want


def test_map_picture_and_episode_video(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import imageio.v2 as imageio

    from cadence.sim.render import record_episode, save_map

    env = cadence.sim.make("rover-apartment", render_mode="rgb_array")
    options = {"goal": "hallway", "start": (7.5, 2.2, 1.57), "time_budget": 0.5}
    info = record_episode(env, load_policy("backup"), tmp_path / "ep.mp4", options)
    env.close()
    assert info["frames"] == 11  # the reset frame + 10 control steps (0.5 s budget)
    frames = imageio.mimread(tmp_path / "ep.mp4", memtest=False)
    assert len(frames) == info["frames"] and frames[0].shape == (480, 640, 3)
    png = save_map(
        tmp_path / "map.png", env.scene, paths=[(np.array(env.path), "tab:green")], plan=env.tracker.waypoints
    )
    image = imageio.imread(png)
    assert image.shape[0] > 300 and image[..., :3].std() > 20


def test_mujoco_instability_is_reported_and_ends_the_episode() -> None:
    env = cadence.sim.make("rover-apartment")
    env.reset(seed=0)
    env.data.qvel[0] = 1e12  # beyond mjMAXVAL: MuJoCo warns BADQVEL and silently resets the state
    _, _, terminated, _, info = env.step([0.5, 0.0])
    assert terminated and info["unstable"] and not info["success"]
    assert info["warnings"].get("BADQVEL", 0) >= 1 and info["counters"]["unstable"] == 1


def test_batched_rollout_plays_the_same_episodes_as_env_step() -> None:
    """rollout (shared world, lean advance, observations only at decisions) = a plain env.step loop."""
    from cadence.sim.batch import rollout, sample_scenarios
    from cadence.sim.registry import env_config

    options = {"budget_speed": 0.8, "budget_slack": 2.0}
    policy = load_policy("backup")
    scenarios = sample_scenarios("apartment", 3, seed=5, **options)
    config = env_config("rover-apartment", **options)
    batched = rollout(policy, scenarios, n_envs=2, config=config)
    again = rollout(policy, scenarios[:1], n_envs=1, config=config)
    env = cadence.sim.make("rover-apartment", **options)
    for sc, res in zip(scenarios, batched, strict=True):
        obs, _ = env.reset(seed=sc.seed, options={"goal": sc.goal, "start": sc.start})
        done, ret = False, 0.0
        while not done:
            for action in policy.act(obs[None])[0]:
                obs, reward, terminated, truncated, info = env.step(action)
                ret += reward
                done = terminated or truncated
                if done:
                    break
        assert res.steps == env.steps and res.success == info["success"]
        assert res.collision_steps == info["counters"]["collisions"] and res.timed_out == truncated
        np.testing.assert_array_equal(res.path, np.asarray(env.path))
        assert res.ret == pytest.approx(ret)
    np.testing.assert_array_equal(again[0].path, batched[0].path)  # the kept world is reusable
