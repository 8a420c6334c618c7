"""The critic on the real MuJoCo rover: stagnation against a wall, dense reward, sim episodes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cadence.critic.episodes import steer
from cadence.critic.geodesic import distance_field
from cadence.critic.reward import CriticReward, goal_task, snapshot_of
from cadence.critic.rollouts import sim_episodes
from cadence.critic.stagnation import StagnationDetector
from cadence.critic.stl_critic import StlCritic
from cadence.sim import make
from cadence.sim.robot import DEFAULT_K

pytestmark = pytest.mark.sim


def _decisions(env, critic, detector, command, n):
    """Drive `n` decisions of K control steps with command(env) -> (v, omega); collect verdicts."""
    progress, requests = [], []
    for _ in range(n):
        for _ in range(DEFAULT_K):
            env.step(np.asarray(command(env), np.float32))
        p = critic.observe(snapshot_of(env))
        progress.append(p)
        requests.append(detector.update(p))
    return progress, requests


def test_robot_pinned_against_a_wall_is_flagged_within_a_few_decisions():
    env = make("rover-apartment", goals=("kitchen",))
    try:
        # In the hallway, facing the wall between it and the kitchen, 0.3 m from it: the kitchen is
        # behind that wall, so full speed ahead pins the rover against it.
        env.reset(seed=0, options={"goal": "kitchen", "start": (4.5, 4.2, math.pi / 2)})
        critic, detector = StlCritic(), StagnationDetector()
        critic.reset(goal_task(env), snapshot_of(env))
        progress, requests = _decisions(env, critic, detector, lambda e: (1.0, 0.0), 12)
        assert env.robot_state().y > 4.3  # it did drive into the wall
        fired = [(i, r) for i, r in enumerate(requests) if r is not None]
        assert fired, [p.delta for p in progress]
        # Pressing into the wall first costs progress (the geodesic field charges the clearance band),
        # which may already be flagged as regression; once pinned, nothing moves: stagnation.
        assert fired[0][0] <= detector.config.window + 1
        stalls = [i for i, r in fired if r.kind == "stagnation"]
        assert stalls and stalls[0] <= detector.config.window + detector.config.cooldown
        assert all(abs(p.delta) < 1e-3 for p in progress[2:])
        assert "kitchen" in fired[0][1].reason
    finally:
        env.close()


def test_driving_to_the_goal_raises_no_replan_and_ends_done():
    env = make("rover-apartment", goals=("kitchen",))
    try:
        env.reset(seed=1, options={"goal": "kitchen", "start": (7.0, 4.0, math.pi)})
        field = distance_field(env.scene, "kitchen")
        critic, detector = StlCritic(), StagnationDetector()
        critic.reset(goal_task(env), snapshot_of(env))

        def law(e):
            s = e.robot_state()
            return steer(field, s.x, s.y, s.yaw, 0.7)

        progress, requests = _decisions(env, critic, detector, law, 40)
        assert progress[-1].done and progress[-1].value == 1.0
        assert requests == [None] * len(requests)
    finally:
        env.close()


def test_reward_wrapper_adds_the_critic_term():
    env = CriticReward(make("rover-apartment", goals=("kitchen",)), StlCritic(), scale=10.0, every=DEFAULT_K)
    try:
        _, info = env.reset(seed=2, options={"goal": "kitchen", "start": (7.0, 4.0, math.pi)})
        assert info["critic"].value == 0.0
        field = distance_field(env.unwrapped.scene, "kitchen")
        total, added = 0.0, 0
        step = 0
        for step in range(400):  # noqa: B007 (used after the loop)
            s = env.unwrapped.robot_state()
            _, _, terminated, truncated, info = env.step(
                np.asarray(steer(field, s.x, s.y, s.yaw, 0.7), np.float32)
            )
            total += info["terms"]["critic"]
            added += info["terms"]["critic"] != 0.0
            if terminated or truncated:
                break
        assert info["success"] and step < 399
        assert total == pytest.approx(10.0 * info["critic"].value, abs=1e-6)
        assert 0 < added <= step // DEFAULT_K + 2
    finally:
        env.close()


def test_sim_episodes_reach_their_goals():
    eps = sim_episodes("apartment", 3, seed=5, hold_decisions=3)
    assert all(e.success for e in eps)
    from cadence.planner.scene import load_scene

    scene = load_scene("apartment")
    for e in eps:
        r = e.reached(scene)
        assert r > 0 and len(e) == r + 4
        assert np.allclose(np.diff(e.t), 0.4)


def test_shipped_learned_critic_on_fresh_sim_episodes():
    """The critic in models/: reversed pairs regress, value follows time, a finished episode is done."""
    from cadence.critic.evaluate import run_critic, spearman
    from cadence.critic.learned import LearnedCritic
    from cadence.critic.types import Snapshot
    from cadence.planner.scene import load_scene

    critic = LearnedCritic()  # models/progress_critic.onnx, verified on load
    scene = load_scene("apartment")
    for ep in sim_episodes("apartment", 3, seed=777_000):
        r = ep.reached(scene)
        start, arrived = (Snapshot(float(ep.t[i]), *map(float, ep.pose[i])) for i in (0, r))
        forward, _ = critic.model.pair(scene, start, arrived, ep.goal)
        backward, _ = critic.model.pair(scene, arrived, start, ep.goal)
        assert forward > 0.5 and backward < -0.5
        out = run_critic(critic, ep, scene)
        assert spearman(np.array([p.value for p in out[: r + 1]]), np.arange(r + 1)) > 0.8
        assert out[-1].done and not any(p.done for p in out[: max(r - 1, 1)])


def test_reward_wrapper_refuses_misuse():
    from cadence.critic.errors import TaskError

    with pytest.raises(TaskError, match="every"):
        CriticReward(make("rover-apartment"), StlCritic(), every=0)
    env = CriticReward(make("rover-apartment"), StlCritic())
    try:
        with pytest.raises(TaskError, match="before reset"):
            env.step(np.zeros(2, np.float32))
    finally:
        env.close()
