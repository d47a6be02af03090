#!/usr/bin/env bash
# Creates (once) a Python venv used only by the test-data and benchmark scripts, and prints its
# python. The product itself is pure Rust; nothing here is needed to build or test hlsrs.
#   scripts/python_env.sh                         onnx + onnxruntime + numpy (venv "venv")
#   scripts/python_env.sh NAME "IMPORTS" PKG...   another venv, checked by importing IMPORTS
set -euo pipefail
cache="${HLSRS_CACHE:-$HOME/.cache/hlsrs}"
if [ $# -eq 0 ]; then
  set -- venv "onnx, onnxruntime, numpy" "numpy==2.4.6" "onnx==1.23.2" "onnxruntime==1.32.0"
fi
venv="$cache/$1"
imports="$2"
shift 2
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import $imports" 2>/dev/null; then
  mkdir -p "$cache"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q "$@" >&2
fi
echo "$venv/bin/python"
