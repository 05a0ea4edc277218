#!/usr/bin/env bash
# Create (or update) the separate environment of the DeepSeek-OCR v1 side service.
# Usage: deploy/deepseek_v1/setup.sh [--flash-attn]
#   PYTHON=python3.12       interpreter to build the venv with (3.10-3.13; default: the newest found)
#   DEEPSEEK_V1_VENV=...    where the venv goes (default: deploy/deepseek_v1/.venv)
#   TORCH_INDEX_URL=...     extra index for CUDA torch wheels (e.g. https://download.pytorch.org/whl/cu118)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${DEEPSEEK_V1_VENV:-$here/.venv}"
stamp="$venv/.installed"

# The pinned torch 2.6 has wheels for CPython 3.9-3.13; prefer a versioned interpreter over `python3`,
# which may be 3.14 or newer on a recent system.
python="${PYTHON:-}"
if [[ -z "$python" ]]; then
    for candidate in python3.12 python3.13 python3.11 python3.10 python3; do
        if command -v "$candidate" >/dev/null 2>&1; then
            python="$candidate"
            break
        fi
    done
fi
if [[ -z "$python" ]] || ! "$python" -c 'import sys; sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 13) else 1)'; then
    echo "setup.sh: needs Python 3.10-3.13 (torch 2.6 has no wheels for others); set PYTHON=python3.12" >&2
    exit 1
fi
if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
    echo "setup.sh: $python cannot create virtual environments; on Debian/Ubuntu: apt-get install ${python##*/}-venv" >&2
    exit 1
fi

if [[ ! -x "$venv/bin/python" ]]; then
    "$python" -m venv "$venv"
fi
if [[ ! -f "$stamp" || "$here/requirements-deepseek-v1.txt" -nt "$stamp" ]]; then
    "$venv/bin/python" -m pip install -q --upgrade pip
    extra=()
    if [[ -n "${TORCH_INDEX_URL:-}" ]]; then
        extra=(--extra-index-url "$TORCH_INDEX_URL")
    fi
    # "${extra[@]+...}": an empty array under `set -u` is an error in bash < 4.4.
    "$venv/bin/python" -m pip install -q ${extra[@]+"${extra[@]}"} -r "$here/requirements-deepseek-v1.txt"
    touch "$stamp"
fi
if [[ "${1:-}" == "--flash-attn" ]]; then
    "$venv/bin/python" -m pip install -q flash-attn==2.7.3 --no-build-isolation
fi
"$venv/bin/python" -c "import transformers; assert transformers.__version__ == '4.46.3', transformers.__version__"
echo "DeepSeek-OCR v1 environment ready: $venv ($("$venv/bin/python" -V))"
echo "Run:  $venv/bin/python $here/server.py --model-dir /path/to/DeepSeek-OCR --port 8010"
echo "Then: INVOICE_OCR_DEEPSEEK_LEGACY_URL=http://127.0.0.1:8010 (engine 'deepseek-legacy')"
