"""Critic episodes from MuJoCo: the rover env (``cadence.sim.make``) driven by the field-following law.

The shipped critic learns from these (issue 6: "trained on sim rollouts"). Each episode starts where
the env's reset puts the robot (a free point in another region), drives towards the env's goal with
:func:`cadence.critic.episodes.steer` at the control rate, records the pose at every decision
(K = 8 control steps) and keeps going a few decisions after the goal is reached so the done head
sees finished frames. Unsuccessful runs are kept and flagged (the pair builder skips them; the
benchmark uses them as negatives for done detection).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cadence.critic.episodes import Episode, steer
from cadence.critic.geodesic import distance_field


def env_name(scene: str) -> str:
    """The registered rover env of a scene (``rover-apartment``)."""
    return f"rover-{scene}"


def sim_episodes(
    scene: str,
    n: int,
    seed: int,
    *,
    hold_decisions: int = 5,
    max_time: float = 90.0,
    speed: float = 0.6,
    policy: Any = None,
) -> list[Episode]:
    """Run `n` seeded MuJoCo episodes in `scene` and record them at the decision rate.

    Args:
        scene: Scene name (the env is ``rover-<scene>``).
        n: Episodes.
        seed: Seed of the first reset (episode i uses seed + i).
        hold_decisions: Decisions recorded after the goal is first reached.
        max_time: Seconds before an episode is cut (and marked unsuccessful).
        speed: Mean cruise speed (m/s) of the field-following law; each episode draws within +-30 %.
        policy: Drive with this policy instead (``act(obs[1, obs_dim]) -> [1, K, 2]``, e.g.
            ``cadence.policy.runtime.load_policy("models/rover_srl.onnx")``): episodes from another
            behaviour than the one the learned critic was trained on.
    """
    from cadence.sim import make
    from cadence.sim import robot as rb

    env = make(env_name(scene), terminate_on_collision=False)
    rng = np.random.default_rng(seed)
    out = []
    try:
        for i in range(n):
            obs, info = env.reset(seed=seed + i)
            goal = str(info["goal"])
            field_ = distance_field(env.scene, goal)
            v_cruise = speed * rng.uniform(0.7, 1.3)
            state = env.robot_state()
            times, poses = [0.0], [(state.x, state.y, state.yaw)]
            reached, steps = -1, 0
            while steps * rb.CONTROL_DT < max_time:
                if policy is not None:  # one decision: K commands from the policy, observed per step
                    for cmd in np.asarray(policy.act(obs[None].astype(np.float32))[0], np.float32):
                        obs, *_ = env.step(cmd)
                        steps += 1
                else:  # the field-following law, re-evaluated every control step (no observation needed)
                    slow = 0.3 if reached >= 0 else 1.0
                    for _ in range(rb.DEFAULT_K):
                        cmd = steer(
                            field_, state.x, state.y, state.yaw, v_cruise * slow, rng.normal(0.0, 0.1)
                        )
                        env.advance(np.asarray(cmd, np.float32))
                        state = env.robot_state()
                        steps += 1
                state = env.robot_state()
                times.append(steps * rb.CONTROL_DT)
                poses.append((state.x, state.y, state.yaw))
                if reached < 0 and float(env.scene.signed_distance(goal, np.array([state.x, state.y]))) > 0:
                    reached = len(poses) - 1
                if reached >= 0 and len(poses) - 1 - reached >= hold_decisions:
                    break
            out.append(Episode(scene, goal, np.asarray(times), np.asarray(poses), success=reached >= 0))
    finally:
        env.close()
    return out
