#!/usr/bin/env bash
# Train, select by the validation gate, and ship the rover SRL policy
# (models/rover_srl.onnx + models/rover_srl.json).
#
#   scripts/train_rover.sh [SEED] [STEPS]
#
# Two shared CPU cores: runs under `nice -n 10`; about 10-20 min of training wall time depending
# on load, plus about 1 min of validation per checkpoint.
# 1. SRL on rover-mix-strict (apartment, warehouse, open; an episode ends at the first contact),
#    guided by the backup controller for the first 4000 steps, with a behaviour-cloning term that
#    decays to 0.25 over 20000 steps; evaluated on rover-mix every 5000 steps (a checkpoint each);
# 2. scripts/ship_rover.py validates every checkpoint on the smoke suite, picks the best, validates
#    it on full and dock, and exports it with the three reports in the manifest.
set -euo pipefail
cd "$(dirname "$0")/.."
SEED="${1:-0}"
STEPS="${2:-40000}"
RUN="runs/rover_srl-s${SEED}"
export MUJOCO_GL="${MUJOCO_GL:-egl}"

nice -n 10 .venv/bin/cadence train --algo srl --env rover-mix-strict --eval-env rover-mix \
  --steps "$STEPS" --seed "$SEED" --k 8 --max-episode-steps 400 --eval-every 5000 --eval-episodes 6 \
  --out "$RUN" --set guide=backup --set learning_starts=4000 --set reward_scale=10 \
  --set init_alpha=0.05 --set alpha_lr=0.001 --set batch_size=128 --set critic_updates_per_step=0.5 \
  --set bc_decay_steps=20000 --set bc_final=0.25

nice -n 10 .venv/bin/python scripts/ship_rover.py "$RUN" --out models/rover_srl.onnx
