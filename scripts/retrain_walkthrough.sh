#!/usr/bin/env bash
# Walk-through of issue 8 "Retrain and promote" (docs/retrain.md): degrade the shipped policy, make
# it the current model of a scratch registry, record sim episodes to rosbag2, retrain from the bags,
# and compare the validation metrics before and after. Everything goes to WORK (default
# /tmp/cadence-retrain-walkthrough); the shipped models/ and models/registry.json are not touched.
#
#   scripts/retrain_walkthrough.sh [WORK] [EPISODES_PER_TASK] [STEPS]
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${1:-/tmp/cadence-retrain-walkthrough}"
EPISODES="${2:-8}"
STEPS="${3:-2000}"
PY="$ROOT/.venv/bin/python"
CADENCE="$ROOT/.venv/bin/cadence"
export MUJOCO_GL="${MUJOCO_GL:-egl}"

rm -rf "$WORK"
mkdir -p "$WORK/models" "$WORK/bags" "$WORK/reports"
REG="$WORK/models/registry.json"

echo "== 1. degrade the shipped policy (Gaussian noise, 0.6 x each weight tensor's std) and register it"
"$PY" - "$ROOT/models/rover_srl.onnx" "$WORK/models/degraded.onnx" "$REG" <<'EOF'
import sys
import torch
from cadence.learn.export import export_policy
from cadence.learn.offline import actor_from_onnx
from cadence.learn.promote import make_entry, promote
from cadence.policy.observation import DEFAULT_LAYOUT
from cadence.sim import robot

src, dst, reg = sys.argv[1:4]
actor = actor_from_onnx(src, robot.ACTION_LOW, robot.ACTION_HIGH, robot.DEFAULT_K)
gen = torch.Generator().manual_seed(0)
with torch.no_grad():
    for p in actor.trunk.parameters():
        p.add_(torch.randn(p.shape, generator=gen) * 0.6 * p.std())
export_policy(actor, DEFAULT_LAYOUT, robot.DEFAULT_K, dst, lineage={"degraded_from": src, "noise": 0.6})
promote(reg, make_entry(dst, reg, {}, {"note": "rover_srl with weight noise (walk-through)"}))
print(f"wrote {dst}; current model of {reg}")
EOF

echo "== 2. validate the degraded policy (smoke: the retrain suite; full: the deployment gate)"
for suite in smoke full; do
  "$CADENCE" validate --policy "$WORK/models/degraded.onnx" --suite "$suite" --json \
    --out "$WORK/reports/before" > "$WORK/reports/before_$suite.json" || true
done

echo "== 3. record $EPISODES sim episodes per task to rosbag2 (MCAP), driven by the backup controller"
for goal in kitchen office lab dock hallway; do
  "$CADENCE" record --task "go to the $goal" --episodes "$EPISODES" --seed 100 --out "$WORK/bags/$goal"
done

echo "== 4. retrain from the bags, starting from the degraded model; validate; promote if not worse"
set +e
"$CADENCE" retrain --bags "$WORK"/bags/* --out "$WORK/models/retrained.onnx" \
  --base "$WORK/models/degraded.onnx" --steps "$STEPS" --registry "$REG" --gate-out "$WORK/reports/retrain"
status=$?
set -e
echo "cadence retrain exit status: $status (0 = promoted)"

echo "== 5. validate the retrained policy"
for suite in smoke full; do
  "$CADENCE" validate --policy "$WORK/models/retrained.onnx" --suite "$suite" --json \
    --out "$WORK/reports/after" > "$WORK/reports/after_$suite.json" || true
done

echo "== 6. before / after"
"$PY" - "$WORK/reports" "$REG" <<'EOF'
import json
import sys
from pathlib import Path

reports, reg = Path(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text())
keys = ("success_rate", "stl_satisfaction_rate", "collision_rate", "timeout_rate", "mean_robustness", "mean_time_to_goal")
print(f"| suite | model | gate | {' | '.join(keys)} |")
print("|---" * (len(keys) + 3) + "|")
for suite in ("smoke", "full"):
    for when, name in (("before", "degraded"), ("after", "retrained")):
        r = json.loads((reports / f"{when}_{suite}.json").read_text())
        m = r["metrics"]
        cells = [f"{m[k]:.3f}" if isinstance(m.get(k), (int, float)) else "-" for k in keys]
        print(f"| {suite} | {name} | {'pass' if r['passed'] else 'FAIL'} | {' | '.join(cells)} |")
print(f"registry current: {reg['current']['name']} ({reg['current']['path']}); history: {[e['name'] for e in reg['history']]}")
EOF

echo "== 7. a worse candidate is refused: 50 steps from a fresh actor (no --base); the registry is not touched"
cp "$REG" "$WORK/registry.before"
set +e
"$CADENCE" retrain --bags "$WORK"/bags/* --out "$WORK/models/undertrained.onnx" --steps 50 --registry "$REG"
status=$?
set -e
echo "cadence retrain exit status: $status (1 = not promoted)"
cmp "$REG" "$WORK/registry.before" && echo "registry unchanged"
