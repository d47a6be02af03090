#!/usr/bin/env bash
# Creates (once) the venv for scripts/make_keras_testdata.py: TensorFlow (CPU), tf2onnx and
# onnxruntime, and prints its python. Only needed to regenerate the Keras-exported test cases.
set -euo pipefail
cache="${HLSRS_CACHE:-$HOME/.cache/hlsrs}"
venv="$cache/tfvenv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import tensorflow, tf2onnx, onnxruntime" 2>/dev/null; then
  mkdir -p "$cache"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q "tensorflow-cpu==2.18.1" "tf2onnx==1.17.0" "onnxruntime==1.32.0" "numpy<2.1" >&2
fi
echo "$venv/bin/python"
