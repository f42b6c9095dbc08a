#!/usr/bin/env bash
# Train the nano model on the lent GPU machine, export and check the bundle, bring the results back.
#
# The checkout is over what a call carries: first `bash modeling/train/device_slim.sh enter <checkpoint folder>`.
# Run from the repository root on the device, with the prepared data folder carried:
#   carry: modeling/.cache/atelier-data      (about 28 MB, built here by:
#            .venv/bin/python -m modeling.data.prepare --out modeling/.cache/atelier-data
#            .venv/bin/python -m modeling.rl.ocr prepare      # the OCR model for stage 4 -> <data>/ocr/rec.onnx)
#   command: ATELIER_COMMIT=<the sha of HEAD here> bash modeling/train/device_run.sh   (no .git travels)
# RL only, from a committed checkpoint (no stages 1-3; the device has onnxruntime, the OCR runs on its CPU):
#   RL_FROM=modeling/checkpoints/nano-cpu-seed1-2026-11-26/model-fp16.safetensors RL_SECONDS=240 bash modeling/train/device_run.sh
# Continue a committed checkpoint on the GPU instead of training from scratch (edit stage: edit and
# text-to-image steps alternate, over TRAIN_SECONDS; the nano preset's prompt templates are applied):
#   INIT_FROM=modeling/checkpoints/<the shipped model's checkpoint>/model-fp16.safetensors TRAIN_SEED=<a new one> TRAIN_SECONDS=420 bash modeling/train/device_run.sh
# Smoke test on any machine (forces the CPU, tiny budget and pool):
#   ATELIER_DEVICE=cpu TRAIN_SECONDS=20 TRAIN_SCENES=1000 TRAIN_EDITS=300 OUT=/tmp/out PYTHON=.venv/bin/python \
#     bash modeling/train/device_run.sh        (about 10 minutes on this workplace's 2 cores)
# (PREFLIGHT=0 skips step 0.)
#
# Environment: TRAIN_SECONDS (total training wall time over the three stages, default 360), RL_SECONDS (stage 4,
# GRPO on the AR after edit post-training, default 120; 0 skips it), RL_FROM (a checkpoint: run only stage 4 on
# it, after the preflight), INIT_FROM (a checkpoint to continue, see above), OUT (where the
# <= 8 result files go; the device sets it), ATELIER_DEVICE (cpu forces the CPU), ATELIER_DATA (the prepared
# folder, default modeling/.cache/atelier-data), PYTHON (default python3, the device's; use .venv/bin/python here),
# TRAIN_STAGES (with INIT_FROM: the stages to run, default edit; generator,edit gives text-to-image alone the
# generator's share first), TRAIN_LR (every stage's peak learning rate; a continued run starts lower than the preset's),
# TRAIN_BATCH (every stage's batch; `auto` times the generator step at PROBE_BATCHES, default 512,1024,2048, and the
# preset's 256 for 4 s each before stage 2 and trains at the batch with the most rows/s if it gains 30 %, lr scaled by
# the square root; on the H200 in session 8: 256 3,136 rows/s, 512 6,272, 1024 8,131, so it chose 1024),
# TRAIN_EDIT_SHARE (the edit stage's fraction of TRAIN_SECONDS; the preset gives it 0.25 of generator,edit),
# TRAIN_GROW_AR_LAYERS (with INIT_FROM: make the AR that many layers deep first, new blocks starting as identities;
# modeling/train/grow.py), TRAIN_SIGN_SHARE (share of text-to-image rows drawn from sign scenes, --sign-share),
# TRAIN_SIGN_NARROW_PAD (pixels of extra room for each I and J on a sign; exported as ATELIER_SIGN_NARROW_PAD so
# the training pool, the evaluation and the grids all draw signs the same way; modeling/data/assets.py),
# TRAIN_FREEZE (generator parts stages 2-3 leave as they are, e.g. dit; run.py --freeze),
# TRAIN_SEED (the pool's seed: give a continued run one its checkpoint has not trained on; the checkpoint READMEs
# say which they used), AR_CFG_SCALE and EDIT_AR_CFG_SCALE (the exported bundle's default AR guidance, sampling.cfg_scale and
# edit_cfg_scale; default: the checkpoint's config's; with RL_FROM the rollouts sample at them too), EDIT_KEEP_UNCHANGED (1 or 0: sampling.edit_keep_unchanged,
# the same default), EDIT_TEMPERATURE (sampling.edit_temperature, the AR's temperature for edits; the same default).
set -euo pipefail

cd "$(dirname "$0")/../.."
: "${OUT:?set OUT to the folder for the results}"
TRAIN_SECONDS="${TRAIN_SECONDS:-360}"
RL_SECONDS="${RL_SECONDS:-120}"
export ATELIER_DATA="${ATELIER_DATA:-$PWD/modeling/.cache/atelier-data}"
PYTHON="${PYTHON:-python3}"
WORK="${WORK:-$(mktemp -d /tmp/atelier-train.XXXXXX)}"
EXTRA=()
[[ -n "${TRAIN_SCENES:-}" ]] && EXTRA+=(--scenes "$TRAIN_SCENES")
[[ -n "${TRAIN_EDITS:-}" ]] && EXTRA+=(--edits "$TRAIN_EDITS")
[[ -n "${TRAIN_MAX_STEPS:-}" ]] && EXTRA+=(--max-steps "$TRAIN_MAX_STEPS")
[[ -n "${TRAIN_SEED:-}" ]] && EXTRA+=(--seed "$TRAIN_SEED")
[[ -n "${TRAIN_LR:-}" ]] && EXTRA+=(--lr "$TRAIN_LR")
[[ -n "${TRAIN_EDIT_SHARE:-}" ]] && EXTRA+=(--edit-share "$TRAIN_EDIT_SHARE")
[[ -n "${TRAIN_GROW_AR_LAYERS:-}" ]] && EXTRA+=(--grow-ar-layers "$TRAIN_GROW_AR_LAYERS")
[[ -n "${TRAIN_SIGN_SHARE:-}" ]] && EXTRA+=(--sign-share "$TRAIN_SIGN_SHARE")
[[ -n "${TRAIN_FREEZE:-}" ]] && EXTRA+=(--freeze "$TRAIN_FREEZE")
[[ -n "${TRAIN_SIGN_NARROW_PAD:-}" ]] && export ATELIER_SIGN_NARROW_PAD="$TRAIN_SIGN_NARROW_PAD"
case "${TRAIN_BATCH:-}" in
  "") ;;
  auto) EXTRA+=(--probe-batches "${PROBE_BATCHES:-512,1024,2048}" --auto-batch) ;;
  *) EXTRA+=(--batch "$TRAIN_BATCH") ;;
esac

if [[ ! -f "$ATELIER_DATA/objects.json" ]]; then
  echo "no prepared data in $ATELIER_DATA: carry modeling/.cache/atelier-data (build it with python -m modeling.data.prepare)" >&2
  exit 2
fi
if [[ "$RL_SECONDS" != "0" && ! -f "$ATELIER_DATA/ocr/rec.onnx" ]]; then
  echo "no OCR model in $ATELIER_DATA/ocr: run python -m modeling.rl.ocr prepare here before carrying the folder (or RL_SECONDS=0)" >&2
  exit 2
fi
mkdir -p "$OUT" "$WORK"
T0=$(date +%s)
"$PYTHON" - <<'PY'
import torch, onnxruntime, sys
print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.cuda.is_available(),
      torch.cuda.get_device_name() if torch.cuda.is_available() else "", "onnxruntime", onnxruntime.__version__, flush=True)
PY
if [[ "${ATELIER_DEVICE:-}" == "cpu" ]]; then WHERE="CPU (smoke test)"; else
  WHERE="$("$PYTHON" -c 'import torch; print(torch.cuda.get_device_name())' 2>/dev/null || echo unknown)"; fi

# 0. preflight: every stage, the grid, export and the onnxruntime check for 2 steps on a small pool
#    (about half a minute; stage 4 too, 2 GRPO steps, when RL_SECONDS > 0), so a device-only error stops the
#    run before the budget is spent.
if [[ "${PREFLIGHT:-1}" == "1" ]]; then
  set +e
  PF_RL=0; [[ "$RL_SECONDS" != "0" ]] && PF_RL=600
  ( "$PYTHON" -m modeling.train.run --preset gpu --out "$WORK/preflight" --seconds 600 --max-steps 2 \
      --scenes 2048 --edits 512 --grid-steps 2 --fresh --rl-seconds "$PF_RL" \
    && "$PYTHON" -m modeling.train.ship --run "$WORK/preflight" --bundle "$WORK/preflight-bundle" \
      --out "$WORK/preflight-out" --trained-on preflight ) > "$WORK/preflight.log" 2>&1
  PF_RC=$?
  set -e
  tail -n 5 "$WORK/preflight.log"
  if [[ $PF_RC -ne 0 ]]; then
    echo "PREFLIGHT FAILED (exit $PF_RC) after $(( $(date +%s) - T0 ))s; its log is in \$OUT/preflight.log" >&2
    tail -n 40 "$WORK/preflight.log" >&2
    cp "$WORK/preflight.log" "$OUT/preflight.log"
    exit 3
  fi
  echo "preflight passed after $(( $(date +%s) - T0 ))s"
fi

# 1. train (stages 1-3 within TRAIN_SECONDS, then stage 4 within RL_SECONDS; tokenizer, data pool, encoding and
#    the RL before/after evaluation come on top) -- or, with RL_FROM, stage 4 alone on that checkpoint.
#    nvidia-smi samples the GPU's utilisation and memory every 5 s meanwhile (is the small model leaving it idle?).
SAMPLER=""
if [[ "${ATELIER_DEVICE:-}" != "cpu" ]] && command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader,nounits -l 5 > "$WORK/gpu-util.csv" 2>/dev/null &
  SAMPLER=$!
fi
set +e
if [[ -n "${RL_FROM:-}" ]]; then
  TRAIN_SECONDS=0
  RL_DEV=(); [[ "${ATELIER_DEVICE:-}" == "cpu" ]] && RL_DEV=(--preset cpu) || RL_DEV=(--preset gpu)
  # rollouts sample at the AR guidance the bundle will ship with (a committed checkpoint's config may say 1)
  "$PYTHON" -m modeling.rl.grpo --checkpoint "$RL_FROM" --out "$WORK/run" --seconds "$RL_SECONDS" "${RL_DEV[@]}" \
    ${AR_CFG_SCALE:+--ar-cfg-scale "$AR_CFG_SCALE"} ${EDIT_AR_CFG_SCALE:+--edit-ar-cfg-scale "$EDIT_AR_CFG_SCALE"} \
    ${TRAIN_MAX_STEPS:+--max-steps "$TRAIN_MAX_STEPS"} 2>&1 | tee "$WORK/run-train.log"
else
  [[ -n "${INIT_FROM:-}" ]] && EXTRA+=(--init "$INIT_FROM" --upgrade --stages "${TRAIN_STAGES:-edit}")
  "$PYTHON" -m modeling.train.run --preset gpu --out "$WORK/run" --seconds "$TRAIN_SECONDS" --rl-seconds "$RL_SECONDS" \
    ${EXTRA[@]+"${EXTRA[@]}"} 2>&1 | tee "$WORK/run-train.log"
fi
TRAIN_RC=${PIPESTATUS[0]}
if [[ -n "$SAMPLER" ]]; then
  kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null
  awk -F', *' 'NF >= 2 { n++; u += $1; if ($2 > m) m = $2 } END { if (n) printf "GPU during training: %d samples, mean utilisation %.0f %%, most memory %d MiB\n", n, u / n, m }' \
    "$WORK/gpu-util.csv" || true
fi
set -e
echo "training exit code $TRAIN_RC after $(( $(date +%s) - T0 ))s"
mkdir -p "$WORK/run"
cp "$WORK/run-train.log" "$WORK/run/train.log"

# 2-3. export, verify with onnxruntime, pack into $OUT (even a failed training brings back its log)
SHIP_ARGS=(--run "$WORK/run" --bundle "$WORK/bundle" --out "$OUT" --trained-on "$WHERE, $(date -u +%Y-%m-%dT%H:%MZ), ${TRAIN_SECONDS}s + RL ${RL_SECONDS}s${RL_FROM:+ from $RL_FROM}${INIT_FROM:+ continuing $INIT_FROM}")
if [[ -n "${AR_CFG_SCALE:-}" ]]; then SHIP_ARGS+=(--ar-cfg-scale "$AR_CFG_SCALE"); fi
if [[ -n "${EDIT_AR_CFG_SCALE:-}" ]]; then SHIP_ARGS+=(--edit-ar-cfg-scale "$EDIT_AR_CFG_SCALE"); fi
if [[ -n "${EDIT_TEMPERATURE:-}" ]]; then SHIP_ARGS+=(--edit-temperature "$EDIT_TEMPERATURE"); fi
case "${EDIT_KEEP_UNCHANGED:-}" in
  1) SHIP_ARGS+=(--edit-keep-unchanged) ;;
  0) SHIP_ARGS+=(--no-edit-keep-unchanged) ;;
  "") ;;
  *) echo "EDIT_KEEP_UNCHANGED must be 1 or 0 (got $EDIT_KEEP_UNCHANGED)" >&2; exit 2 ;;
esac
if [[ $TRAIN_RC -ne 0 || ! -f "$WORK/run/model.safetensors" ]]; then SHIP_ARGS+=(--skip-export); fi
"$PYTHON" -m modeling.train.ship "${SHIP_ARGS[@]}"
echo "device_run done in $(( $(date +%s) - T0 ))s; results in $OUT"
exit $TRAIN_RC
