"""Training environments by name (STYLE.md 5): the rover envs, a toy task, gymnasium built-ins.

``rover-*`` names come from ``cadence.sim.make`` (the sim engineer's registry), ``point-reach`` is
:class:`cadence.learn.toy.PointReach`, and any other name is tried as a gymnasium id
(``Pendulum-v1``). An unknown name raises :class:`EnvironmentSpecError` listing what is valid.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from cadence.learn.errors import EnvironmentSpecError
from cadence.learn.wrappers import check_box_env

TOY_ENVS = ("point-reach",)
_SCENES = ("rover-apartment", "rover-warehouse", "rover-open")
# Training mixtures: each reset picks one of the member envs (the shipped policy must work in all),
# with env options applied to every member. "-strict" ends an episode at the first contact, so
# a policy cannot learn to push along walls (the validation gate counts every contact), and a
# contact costs 4x the default. "-safe" (fine-tuning for a collision-free policy) makes a contact
# cost 10x the default and adds the ``clearance`` term of :class:`ClearanceShaping` ("-wide": a
# wider margin, twice the weight). The key ``clearance`` holds that wrapper's arguments, every
# other key is a ``NavEnvConfig`` option.
_STRICT = {"terminate_on_collision": True, "reward": {"collision": -2.0}}
MIX_ENVS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "rover-mix": (_SCENES, {}),
    # one scene, strict: the training env of bench/fas.py for BOTH learners (SRL and SAC); without it a
    # contact costs -0.5 every step it lasts, random exploration grinds along walls, and standing
    # still (-0.01 per step) is the optimum both learners find first
    "rover-apartment-strict": (("rover-apartment",), _STRICT),
    "rover-mix-strict": (_SCENES, _STRICT),
    "rover-mix-safe": (
        _SCENES,
        {**_STRICT, "reward": {"collision": -5.0}, "clearance": {"margin": 0.12, "weight": 1.0}},
    ),
    "rover-mix-safe-wide": (  # the same with a wider, steeper clearance term
        _SCENES,
        {**_STRICT, "reward": {"collision": -5.0}, "clearance": {"margin": 0.2, "weight": 2.0}},
    ),
}


class ClearanceShaping(gym.Wrapper):
    """Add a named reward term ``clearance = -weight * max(0, margin - clearance)`` per step.

    ``clearance`` is what the validation gate's STL signal of the same name measures: the distance
    from the rover's centre to the nearest obstacle minus its half width
    (:data:`cadence.sim.gate.HALF_WIDTH`). The term is 0 with ``margin`` metres to spare and grows
    linearly as the rover closes in on a wall or door frame, so the policy learns to keep away from
    contacts rather than only being punished at them. ``info["terms"]["clearance"]`` reports it.

    Args:
        env: A rover env (``cadence.sim.make``), possibly wrapped.
        margin: Clearance (m) below which the term is negative.
        weight: Reward per metre of clearance short of ``margin``, per control step.

    Raises:
        EnvironmentSpecError: for a non-rover env or a negative margin or weight.
    """

    def __init__(self, env: gym.Env, margin: float, weight: float) -> None:
        super().__init__(env)
        if margin < 0 or weight < 0:
            raise EnvironmentSpecError(f"clearance margin and weight must be >= 0, got {margin}, {weight}")
        if not hasattr(env.unwrapped, "scene"):
            raise EnvironmentSpecError(f"clearance shaping needs a rover env, got {env.unwrapped!r}")
        from cadence.sim.gate import HALF_WIDTH

        self.margin, self.weight, self.half_width = float(margin), float(weight), HALF_WIDTH

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        base = self.env.unwrapped
        clearance = float(base.scene.obstacle_distance(np.asarray(base.path[-1]))) - self.half_width
        term = -self.weight * max(0.0, self.margin - clearance)
        if "terms" in info:
            info["terms"] = {**info["terms"], "clearance": term}
        return obs, float(reward) + term, terminated, truncated, info


class MixEnv(gym.Env):
    """Each episode runs in one of several envs with identical spaces, picked uniformly at reset.

    Args:
        envs: The member envs (same observation and action spaces).
    """

    def __init__(self, envs: list[gym.Env]) -> None:
        if not envs:
            raise EnvironmentSpecError("MixEnv needs at least one env")
        first = envs[0]
        for env in envs[1:]:
            if env.observation_space != first.observation_space or env.action_space != first.action_space:
                raise EnvironmentSpecError("MixEnv members must share observation and action spaces")
        self.envs = envs
        self.observation_space = first.observation_space
        self.action_space = first.action_space
        self.current = first

    @property
    def builder(self) -> Any:
        """The member envs' observation builder (so exports record the rover layout)."""
        return getattr(self.current.unwrapped, "builder", None)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        super().reset(seed=seed)
        self.current = self.envs[int(self.np_random.integers(len(self.envs)))]
        sub_seed = int(self.np_random.integers(2**31))
        return self.current.reset(seed=sub_seed, options=options)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        return self.current.step(action)

    def close(self) -> None:
        for env in self.envs:
            env.close()


def rover_env_names() -> list[str]:
    """Names registered by ``cadence.sim`` (empty when the sim package has no registry)."""
    try:
        from cadence.sim import list_envs
    except ImportError:
        return []
    return list(list_envs())


def make_env(name: str, max_episode_steps: int | None = None, **kwargs: Any) -> gym.Env:
    """Create a primitive training env.

    Args:
        name: ``rover-<scene>[...]``, ``rover-mix``, ``point-reach`` or a gymnasium id.
        max_episode_steps: Truncate episodes after this many primitive steps (short training
            episodes; the learner bootstraps through truncation). ``None``: the env's own length.
        **kwargs: Passed to the env's constructor.

    Raises:
        EnvironmentSpecError: for an unknown name or an env without 1-D Box spaces.
    """
    if name in MIX_ENVS:
        members, options = MIX_ENVS[name]
        env: gym.Env = MixEnv([make_env(member, **{**options, **kwargs}) for member in members])
    elif name.startswith("rover") and "clearance" in kwargs:
        shaping = kwargs.pop("clearance")
        env = ClearanceShaping(make_env(name, **kwargs), **shaping)
    elif name.startswith("rover"):
        from cadence.sim import make

        try:
            env = make(name, **kwargs)
        except (ValueError, KeyError) as err:
            raise EnvironmentSpecError(f"cannot make {name!r}: {err}") from err
    elif name == "point-reach":
        from cadence.learn.toy import PointReach

        env = PointReach(**kwargs)
    else:
        try:
            env = gym.make(name, **kwargs)
        except gym.error.Error as err:
            valid = [*rover_env_names(), *MIX_ENVS, *TOY_ENVS, "<any gymnasium id with Box spaces>"]
            raise EnvironmentSpecError(f"unknown env {name!r}; valid: {', '.join(valid)}") from err
    check_box_env(env)
    if max_episode_steps is not None:
        env = gym.wrappers.TimeLimit(env, max_episode_steps)
    return env
