"""cadence: a ROS 2 control stack for robots that think slowly and act fast.

Core subpackages (`stl`, `planner`, `policy`, `critic`, `sim`, `learn`, `data`) are ROS-free;
only `cadence.ros` imports rclpy and message packages.
"""

__version__ = "0.1.0"
