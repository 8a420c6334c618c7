"""Launch cadence on a real rover: ``ros2 launch cadence robot.launch.py``.

The robot's own drivers publish odom, scan, joint_states (and camera/image_raw) and consume cmd_vel;
this adds the planner, the executor (a lifecycle node: configure/activate it with
``ros2 lifecycle set /executor_node configure`` / ``activate`` or a lifecycle manager, or set
``autostart: true`` in the profile) and the critic. Parameters come from config/robot.yaml, the file
``cadence bringup config/robot.yaml`` reads too. Arguments: scene, task, model, use_sim_time,
namespace, config.
"""

from __future__ import annotations

import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import LifecycleNode, Node

from launch import LaunchDescription

PACKAGE = "cadence"
PROFILE = "robot.yaml"
# (executable, lifecycle?, launch arguments passed as parameters)
NODES = (
    ("planner_node", False, ("scene", "task")),
    ("critic_node", False, ("scene",)),
    ("executor_node", True, ("model",)),
)
ARGUMENTS = {
    "scene": ("apartment", "the map the robot works in (sim/scenes/NAME.yaml) or a path"),
    "task": ("", "task for the planner; empty waits for the `task` topic"),
    "model": ("rover_srl", "policy model name (models/NAME.onnx) or .onnx path"),
    "use_sim_time": ("false", "follow /clock instead of the system clock"),
    "namespace": ("", "ROS namespace for every node"),
}


def generate_launch_description() -> LaunchDescription:
    share = get_package_share_directory(PACKAGE)
    config = LaunchConfiguration("config")
    actions = [DeclareLaunchArgument("config", default_value=os.path.join(share, "config", PROFILE))]
    actions += [DeclareLaunchArgument(k, default_value=v, description=d) for k, (v, d) in ARGUMENTS.items()]
    for executable, lifecycle, args in NODES:
        overrides = {a: LaunchConfiguration(a) for a in args}
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
