#!/usr/bin/env bash
# Train, validate and ship the rover SRL policy (models/rover_srl.onnx + models/rover_srl.json).
#
#   scripts/train_rover.sh [SEED] [STEPS]
#
# Two shared CPU cores: runs under `nice -n 10`; about 15-30 min wall time depending on load.
# Steps: 1. SRL on rover-mix (apartment, warehouse, open) guided by the backup controller for the
# first 4000 steps, 2. validate the final checkpoint on the default (smoke) and full suites,
# 3. export it to models/ with the validation reports and the training summary in the manifest.
set -euo pipefail
cd "$(dirname "$0")/.."
SEED="${1:-0}"
STEPS="${2:-40000}"
RUN="runs/rover_srl-s${SEED}"
PY=.venv/bin
export MUJOCO_GL="${MUJOCO_GL:-egl}"

nice -n 10 "$PY/cadence" train --algo srl --env rover-mix --steps "$STEPS" --seed "$SEED" --k 8 \
  --max-episode-steps 400 --eval-every 5000 --eval-episodes 6 --out "$RUN" \
  --set guide=backup --set learning_starts=4000 --set reward_scale=10 --set init_alpha=0.05 \
  --set alpha_lr=0.001 --set batch_size=128 --set critic_updates_per_step=0.25

status=0
for suite in smoke full; do
  nice -n 10 "$PY/cadence" validate --policy "$RUN/policy.onnx" --suite "$suite" --json \
    --out "$RUN/validation" > "$RUN/validate_$suite.json" || status=1
done
"$PY/cadence" export "$RUN/checkpoints/final.pt" --out models/rover_srl.onnx \
  --metrics "validate_smoke=$RUN/validate_smoke.json" --metrics "validate_full=$RUN/validate_full.json"
echo "shipped models/rover_srl.onnx (validation status $status; see $RUN/validate_*.json)"
exit "$status"
