"""Training: sequence RL (SRL), SB3 baselines, FAS, ONNX export, `cadence train/export`.

Kept light (the CLI imports this package to find ``cli``): torch, gymnasium and SB3 load in the
submodules that need them. See docs/learn.md.
"""
