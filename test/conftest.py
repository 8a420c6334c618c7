"""Test-wide settings: an isolated DDS domain per run and headless MuJoCo rendering."""

from __future__ import annotations

import os
import random

# Each test run gets its own DDS domain so parallel runs on one host never hear each other
# (ENVIRONMENT.md: DDS discovers every participant on the host). Set before rclpy is imported.
os.environ.setdefault("ROS_DOMAIN_ID", str(random.Random(os.getpid()).randint(1, 100)))
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
os.environ.setdefault("MUJOCO_GL", "egl")
