#!/usr/bin/env bash
# Regenerates the QONNX test cases (testdata/qonnx_*) with qonnx's own execution as the golden.
set -euo pipefail
cd "$(dirname "$0")/.."
py="$(scripts/python_env.sh qonnxvenv "qonnx, onnx, onnxruntime, numpy" "qonnx==1.0.0" "onnxruntime==1.32.0")"
"$py" scripts/make_qonnx_testdata.py
