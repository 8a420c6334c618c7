"""The rover MJCF agrees with cadence.sim.robot, and follows (v, omega) commands in real MuJoCo."""

from __future__ import annotations

import math

import mujoco
import numpy as np
import pytest

from cadence.paths import robots_dir
from cadence.sim import robot as rb
from cadence.sim.world import Lidar, build_world, world_spec


@pytest.fixture(scope="module")
def rover() -> mujoco.MjModel:
    return mujoco.MjModel.from_xml_path(str(robots_dir() / rb.ROBOT_FILE))


def test_mjcf_matches_constants(rover: mujoco.MjModel) -> None:
    assert rover.opt.timestep == pytest.approx(rb.PHYSICS_DT)
    wheel = rover.geom("left_wheel")
    assert wheel.size[0] == pytest.approx(rb.WHEEL_RADIUS)
    track = rover.body("left_wheel").pos[1] - rover.body("right_wheel").pos[1]
    assert track == pytest.approx(rb.TRACK_WIDTH)
    for name in ("left_wheel", "right_wheel"):
        assert rover.actuator(name).ctrlrange[1] == pytest.approx(rb.WHEEL_SPEED_MAX)
    fastest = max(
        abs(s) for v in (rb.V_MIN, rb.V_MAX) for w in (-rb.W_MAX, rb.W_MAX) for s in rb.wheel_speeds(v, w)
    )
    assert fastest <= rb.WHEEL_SPEED_MAX
    assert pytest.approx(rb.CONTROL_DT) == rb.N_SUBSTEPS * rb.PHYSICS_DT


def test_wheel_mapping_round_trips() -> None:
    for v, w in [(1.0, 0.0), (0.3, -1.2), (-0.5, 2.0)]:
        assert rb.body_command(*rb.wheel_speeds(v, w)) == pytest.approx((v, w))
    np.testing.assert_allclose(rb.wheel_speeds_batch(np.array([[0.3, -1.2]])), [rb.wheel_speeds(0.3, -1.2)])
    assert rb.clamp_command(float("nan"), 9.0) == (0.0, rb.W_MAX)
    assert not rb.command_in_bounds(1.2, 0.0) and rb.command_in_bounds(-0.5, -2.0)


@pytest.mark.parametrize(("v", "w"), [(0.8, 0.0), (0.0, 1.5), (0.5, -1.0)])
def test_rover_follows_commands(v: float, w: float) -> None:
    model, info = build_world("open")
    data = mujoco.MjData(model)
    a = info.qpos_adr
    data.qpos[a : a + 2] = (8.0, 8.0)  # the middle of the open field
    data.ctrl[list(info.actuators)] = rb.wheel_speeds(v, w)
    mujoco.mj_step(model, data, 500)  # 1 s to reach speed
    vel = data.sensordata[info.vel_adr : info.vel_adr + 3].copy()
    gyro = data.sensordata[info.gyro_adr : info.gyro_adr + 3].copy()
    assert vel[0] == pytest.approx(v, abs=0.05 + 0.05 * abs(v))
    assert gyro[2] == pytest.approx(w, abs=0.05 + 0.1 * abs(w))
    assert abs(data.qpos[a + 2] - model.qpos0[a + 2]) < 0.01  # stays on the floor
    assert data.warning.number.sum() == 0


def test_lidar_sees_walls_not_regions() -> None:
    model, info = build_world("apartment")
    data = mujoco.MjData(model)
    a = info.qpos_adr
    data.qpos[a : a + 2] = (4.0, 4.0)  # in the hallway: walls 0.75 m north and south, 6 m east
    mujoco.mj_forward(model, data)
    ranges = Lidar(info).cast(model, data)
    quarter = rb.LIDAR_BEAMS // 4
    assert ranges[quarter] == pytest.approx(0.75, abs=0.01)  # +90 degrees: hallway north wall
    assert ranges[3 * quarter] == pytest.approx(0.75, abs=0.01)
    assert ranges[0] == pytest.approx(rb.LIDAR_RANGE)  # east along the hallway: beyond range
    assert math.isfinite(ranges.sum())


def test_open_scene_file_is_what_its_seed_generates(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from cadence.planner.scene import load_scene
    from cadence.sim.scenegen import main

    assert main(["--seed", "7", "--out", str(tmp_path / "open.yaml")]) == 0
    assert load_scene(tmp_path / "open.yaml") == load_scene("open")


def test_disabled_island_and_midphase_change_nothing() -> None:
    """rover.xml switches MuJoCo's island discovery and mesh midphase off for speed: bit-identical physics."""
    model, info = build_world("apartment")
    off = mujoco.mjtDisableBit.mjDSBL_ISLAND | mujoco.mjtDisableBit.mjDSBL_MIDPHASE
    assert model.opt.disableflags & off == off
    plain = world_spec("apartment").compile()
    plain.opt.disableflags &= ~off
    rng = np.random.default_rng(0)
    commands = rng.uniform(rb.ACTION_LOW, rb.ACTION_HIGH, (150, 2))
    ends = []
    for m in (model, plain):
        d = mujoco.MjData(m)
        mujoco.mj_forward(m, d)
        for v, w in commands:
            d.ctrl[list(info.actuators)] = rb.wheel_speeds(v, w)
            mujoco.mj_step(m, d, rb.N_SUBSTEPS)
        ends.append(d.qpos.copy())
    np.testing.assert_array_equal(ends[0], ends[1])
    assert np.linalg.norm(ends[0][:2] - model.qpos0[:2]) > 0.5  # it did drive somewhere
