"""Rover constants and the one (v, omega) -> wheel-speed mapping (DEVELOPERS.md, "Robot and timing").

Everything that depends on the robot's geometry or timing reads it from here: the MuJoCo env, the
observation builder's normalisation, model manifests, playback and the ROS sim node. The numbers
must match ``sim/robots/rover.xml`` (``test/sim/test_robot.py`` compiles the model and checks).

This module imports only numpy, so the policy runtime and ROS nodes can use it without MuJoCo.
"""

from __future__ import annotations

import math

import numpy as np

# Command limits, physical units (m/s, rad/s).
V_MIN = -0.5
V_MAX = 1.0
W_MAX = 2.0
ACTION_NAMES = ("v", "omega")
ACTION_LOW = (V_MIN, -W_MAX)
ACTION_HIGH = (V_MAX, W_MAX)

# Timing: physics 500 Hz, control 20 Hz (25 physics steps per command), K = 8 per decision.
PHYSICS_DT = 0.002
CONTROL_DT = 0.05
N_SUBSTEPS = round(CONTROL_DT / PHYSICS_DT)
DEFAULT_K = 8

# Geometry (rover.xml).
WHEEL_RADIUS = 0.05
TRACK_WIDTH = 0.31  # distance between the wheel contact points
WHEEL_SPEED_MAX = 30.0  # actuator ctrlrange, rad/s
BODY_RADIUS = 0.23  # circumscribed radius of the chassis footprint (0.36 m x 0.26 m + wheels)
LIDAR_HEIGHT = 0.165  # height of the lidar site above the floor at rest
LIDAR_RANGE = 5.0  # metres
LIDAR_BEAMS = 36  # rays cast per control step, evenly over 360 degrees starting straight ahead

ROBOT_NAME = "rover"
ROBOT_FILE = "rover.xml"


def clamp_command(v: float, omega: float) -> tuple[float, float]:
    """Clamp a command into the rover's limits; NaN becomes 0 (stop), never passes through."""
    v = 0.0 if math.isnan(v) else min(max(v, V_MIN), V_MAX)
    omega = 0.0 if math.isnan(omega) else min(max(omega, -W_MAX), W_MAX)
    return v, omega


def command_in_bounds(v: float, omega: float, tol: float = 1e-6) -> bool:
    """Whether a raw command lies within the limits (the validation gate counts the ones that do not)."""
    return V_MIN - tol <= v <= V_MAX + tol and -W_MAX - tol <= omega <= W_MAX + tol


def wheel_speeds(v: float, omega: float) -> tuple[float, float]:
    """Left and right wheel angular speeds (rad/s) for a body command (differential-drive kinematics).

    Args:
        v: Forward speed in m/s (already clamped).
        omega: Yaw rate in rad/s, counter-clockwise positive (already clamped).

    Returns:
        (left, right) in rad/s, positive rolls the rover forward.
    """
    half = 0.5 * TRACK_WIDTH
    return (v - omega * half) / WHEEL_RADIUS, (v + omega * half) / WHEEL_RADIUS


def wheel_speeds_batch(cmd: np.ndarray) -> np.ndarray:
    """Vectorised :func:`wheel_speeds`: commands (..., 2) -> wheel speeds (..., 2) [left, right]."""
    cmd = np.asarray(cmd, dtype=np.float64)
    half = 0.5 * TRACK_WIDTH
    out = np.empty_like(cmd)
    out[..., 0] = (cmd[..., 0] - cmd[..., 1] * half) / WHEEL_RADIUS
    out[..., 1] = (cmd[..., 0] + cmd[..., 1] * half) / WHEEL_RADIUS
    return out


def body_command(left: float, right: float) -> tuple[float, float]:
    """Inverse of :func:`wheel_speeds` (wheel odometry): wheel speeds (rad/s) -> (v, omega)."""
    v = 0.5 * WHEEL_RADIUS * (left + right)
    omega = WHEEL_RADIUS * (right - left) / TRACK_WIDTH
    return v, omega


def action_spec() -> dict[str, object]:
    """Action names, bounds and timing as a model manifest's ``action`` block expects them."""
    return {
        "names": list(ACTION_NAMES),
        "low": list(ACTION_LOW),
        "high": list(ACTION_HIGH),
        "k": DEFAULT_K,
        "control_dt": CONTROL_DT,
    }
