#!/usr/bin/env bash
# Create (or update) the separate environment of the DeepSeek-OCR v1 side service.
# Usage: deploy/deepseek_v1/setup.sh [--flash-attn]
#   PYTHON=python3.12       interpreter to build the venv with (3.10-3.12)
#   DEEPSEEK_V1_VENV=...    where the venv goes (default: deploy/deepseek_v1/.venv)
#   TORCH_INDEX_URL=...     extra index for CUDA torch wheels (e.g. https://download.pytorch.org/whl/cu118)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${DEEPSEEK_V1_VENV:-$here/.venv}"
python="${PYTHON:-python3}"
stamp="$venv/.installed"

if [[ ! -x "$venv/bin/python" ]]; then
    "$python" -m venv "$venv"
fi
if [[ ! -f "$stamp" || "$here/requirements-deepseek-v1.txt" -nt "$stamp" ]]; then
    "$venv/bin/python" -m pip install -q --upgrade pip
    extra=()
    if [[ -n "${TORCH_INDEX_URL:-}" ]]; then
        extra=(--extra-index-url "$TORCH_INDEX_URL")
    fi
    "$venv/bin/python" -m pip install -q "${extra[@]}" -r "$here/requirements-deepseek-v1.txt"
    touch "$stamp"
fi
if [[ "${1:-}" == "--flash-attn" ]]; then
    "$venv/bin/python" -m pip install -q flash-attn==2.7.3 --no-build-isolation
fi
"$venv/bin/python" -c "import transformers; assert transformers.__version__ == '4.46.3', transformers.__version__"
echo "DeepSeek-OCR v1 environment ready: $venv"
echo "Run:  $venv/bin/python $here/server.py --model-dir /path/to/DeepSeek-OCR --port 8010"
echo "Then: INVOICE_OCR_DEEPSEEK_LEGACY_URL=http://127.0.0.1:8010 (engine 'deepseek-legacy')"
