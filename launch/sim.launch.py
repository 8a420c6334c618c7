"""Launch the cadence stack against the MuJoCo sim node: ``ros2 launch cadence sim.launch.py``.

Thin and data-driven: every node reads its parameters from config/sim.yaml (the file
``cadence bringup config/sim.yaml`` reads too); launch arguments override a few of them.
Arguments: scene, task, model, use_sim_time, namespace, config.
"""

from __future__ import annotations

import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import LifecycleNode, Node

from launch import LaunchDescription

PACKAGE = "cadence"
PROFILE = "sim.yaml"
# (executable, lifecycle?, launch arguments passed as parameters)
NODES = (
    ("sim_node", False, ("scene",)),
    ("planner_node", False, ("scene", "task")),
    ("critic_node", False, ("scene",)),
    ("executor_node", True, ("model",)),
)
ARGUMENTS = {
    "scene": ("apartment", "scene name (sim/scenes/NAME.yaml) or path"),
    "task": ("", "task for the planner; empty waits for the `task` topic"),
    "model": ("rover_srl", "policy model name (models/NAME.onnx), .onnx path, or backup"),
    "use_sim_time": ("true", "planner/executor/critic follow the sim's /clock"),
    "namespace": ("", "ROS namespace for every node"),
}


def generate_launch_description() -> LaunchDescription:
    share = get_package_share_directory(PACKAGE)
    config = LaunchConfiguration("config")
    actions = [DeclareLaunchArgument("config", default_value=os.path.join(share, "config", PROFILE))]
    actions += [DeclareLaunchArgument(k, default_value=v, description=d) for k, (v, d) in ARGUMENTS.items()]
    for executable, lifecycle, args in NODES:
        overrides = {a: LaunchConfiguration(a) for a in args}
        if executable != "sim_node":
            overrides["use_sim_time"] = LaunchConfiguration("use_sim_time")
        kind = LifecycleNode if lifecycle else Node
        actions.append(
            kind(
                package=PACKAGE,
                executable=executable,
                name=executable,
                namespace=LaunchConfiguration("namespace"),
                parameters=[config, overrides],
                output="screen",
            )
        )
    return LaunchDescription(actions)
