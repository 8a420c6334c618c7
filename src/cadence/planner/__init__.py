"""Planner: scene model, topological graph, plans and their back ends (ROS-free)."""
