#!/usr/bin/env bash
# Creates (once) the Python venv used only by the test-data and benchmark scripts, and prints its
# python. The product itself is pure Rust; nothing here is needed to build or test hlsrs.
set -euo pipefail
cache="${HLSRS_CACHE:-$HOME/.cache/hlsrs}"
venv="$cache/venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import onnx, onnxruntime, numpy" 2>/dev/null; then
  mkdir -p "$cache"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q "numpy==2.4.6" "onnx==1.23.2" "onnxruntime==1.32.0" >&2
fi
echo "$venv/bin/python"
