"""ROS 2 layer: nodes, message conversion, QoS, parameters, bringup and the demo.

The only subpackage that imports rclpy or ``*_msgs`` (DEVELOPERS.md). This ``__init__`` stays free of
them because the CLI imports the package to find :mod:`cadence.ros.cli`; import the node modules
(``cadence.ros.executor_node`` ...) directly.
"""
