"""Critic: dense progress, done detection and stagnation/regression detection (ROS-free).

Kept light on purpose (the CLI imports the package): import the parts you need, e.g.
``from cadence.critic.registry import make_critic``.
"""
