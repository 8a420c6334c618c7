"""The batched runner keeps its envs between rollouts: reused envs play exactly what new ones play."""

from __future__ import annotations

import numpy as np
import pytest

from cadence.policy.runtime import load_policy
from cadence.sim import batch
from cadence.sim.batch import rollout, sample_scenarios
from cadence.sim.errors import ValidationError
from cadence.sim.registry import env_config

OPTIONS = {"budget_speed": 0.8, "budget_slack": 2.0}


class Breaks:
    """Acts like ``inner`` for ``calls`` decisions, then raises (leaves the envs mid-episode)."""

    def __init__(self, inner, calls: int) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.calls = inner, calls

    def act(self, obs: np.ndarray) -> np.ndarray:
        self.calls -= 1
        if self.calls < 0:
            raise RuntimeError("policy broke")
        return self.inner.act(obs)


def _fields(res):  # type: ignore[no-untyped-def]
    return [(r.steps, r.success, r.collision_steps, r.timed_out, r.ret, r.warnings) for r in res]


def test_reused_envs_play_the_same_episodes_as_new_ones() -> None:
    policy = load_policy("backup")
    scenarios = sample_scenarios("apartment", 4, seed=11, **OPTIONS)
    config = env_config("rover-apartment", **OPTIONS)
    cfg = config.replace(scene="apartment", goals=())
    batch._IDLE.clear()  # start without kept envs: the first rollout builds its own
    first = rollout(policy, scenarios, n_envs=3, config=config)
    kept = batch._IDLE["apartment"][cfg]
    assert len(kept) == 3
    ids = {id(e) for e in kept}

    # a rollout that fails half-way returns its envs too, mid-episode; the next rollout resets them
    with pytest.raises(RuntimeError, match="policy broke"):
        rollout(Breaks(policy, 3), scenarios[::-1], n_envs=2, config=config)
    assert len(batch._IDLE["apartment"][cfg]) == 3

    again = rollout(policy, scenarios, n_envs=3, config=config)
    assert {id(e) for e in batch._IDLE["apartment"][cfg]} == ids  # the same envs, reused
    assert _fields(again) == _fields(first)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.path, b.path)

    batch._IDLE.clear()  # and envs built afresh agree with both
    fresh = rollout(policy, scenarios, n_envs=1, config=config)
    assert _fields(fresh) == _fields(first)
    for a, b in zip(first, fresh, strict=True):
        np.testing.assert_array_equal(a.path, b.path)


def test_a_config_change_gets_its_own_envs() -> None:
    policy = load_policy("backup")
    scenarios = sample_scenarios("apartment", 1, seed=3, **OPTIONS)
    short = env_config("rover-apartment", budget_speed=0.8, budget_slack=0.5)
    long = env_config("rover-apartment", **OPTIONS)
    a = rollout(policy, scenarios, n_envs=1, config=short)
    b = rollout(policy, scenarios, n_envs=1, config=long)
    assert a[0].time_budget < b[0].time_budget  # not an env left configured by the other rollout
    assert rollout(policy, scenarios, n_envs=1, config=short)[0].time_budget == a[0].time_budget


def test_randomised_config_is_refused() -> None:
    scenarios = sample_scenarios("apartment", 1, seed=0)
    with pytest.raises(ValidationError, match="randomization"):
        rollout(load_policy("backup"), scenarios, config=env_config("rover-apartment-dr"))


def test_idle_envs_are_kept_for_a_few_configs_only() -> None:
    policy = load_policy("backup")
    scenarios = sample_scenarios("apartment", 1, seed=3, **OPTIONS)
    configs = [
        env_config("rover-apartment", budget_speed=0.8, budget_slack=s) for s in (0.1, 0.2, 0.3, 0.4, 0.5)
    ]
    for config in configs:
        rollout(policy, scenarios, n_envs=1, config=config)
    kept = batch._IDLE["apartment"]
    assert len(kept) == batch._IDLE_CONFIGS
    assert configs[-1].replace(scene="apartment", goals=()) in kept  # the most recent stay
    assert configs[0].replace(scene="apartment", goals=()) not in kept


def test_concurrent_rollouts_never_share_an_env() -> None:
    import threading

    scenarios = sample_scenarios("apartment", 3, seed=21, **OPTIONS)
    config = env_config("rover-apartment", **OPTIONS)
    alone = rollout(load_policy("backup"), scenarios, n_envs=2, config=config)
    out: dict[int, list] = {}
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            out[i] = rollout(load_policy("backup"), scenarios, n_envs=2, config=config)
        except BaseException as err:  # reported below, in the test thread
            errors.append(err)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for res in out.values():
        assert _fields(res) == _fields(alone)
        for a, b in zip(alone, res, strict=True):
            np.testing.assert_array_equal(a.path, b.path)
    kept = batch._IDLE["apartment"][config.replace(scene="apartment", goals=())]
    assert len({id(e) for e in kept}) == len(kept) >= 2  # every env came back once, none twice


def test_threads_play_the_same_episodes_as_one_thread() -> None:
    policy = load_policy("backup")
    scenarios = sample_scenarios("apartment", 6, seed=31, **OPTIONS)
    config = env_config("rover-apartment", **OPTIONS)
    one = rollout(policy, scenarios, n_envs=4, config=config, threads=1)
    for threads in (2, 3):
        many = rollout(policy, scenarios, n_envs=4, config=config, threads=threads)
        assert _fields(many) == _fields(one)
        for a, b in zip(one, many, strict=True):
            np.testing.assert_array_equal(a.path, b.path)
    assert rollout(policy, scenarios[:2], n_envs=4, config=config, k=1)  # default thread count


class BadLastRow:
    """Valid actions except the last row, which cannot be read as numbers (fails in a worker thread)."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner

    def act(self, obs: np.ndarray) -> np.ndarray:
        actions = self.inner.act(obs).astype(object)
        actions[-1, :, :] = None
        return actions


def test_an_error_in_a_rollout_thread_reaches_the_caller() -> None:
    policy = load_policy("backup")
    scenarios = sample_scenarios("apartment", 4, seed=41, **OPTIONS)
    config = env_config("rover-apartment", **OPTIONS)
    with pytest.raises(TypeError):
        rollout(BadLastRow(policy), scenarios, n_envs=4, config=config, threads=2)
    with pytest.raises(ValidationError, match="threads must be at least 1"):
        rollout(policy, scenarios, n_envs=4, config=config, threads=0)
    # the envs came back and play normally
    assert all(r.steps > 0 for r in rollout(policy, scenarios, n_envs=4, config=config, threads=2))
