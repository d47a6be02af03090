#!/usr/bin/env bash
# The venv for scripts/make_keras_testdata.py: TensorFlow (CPU), tf2onnx and onnxruntime. Only
# needed to regenerate the Keras-exported test cases.
set -euo pipefail
exec "$(dirname "$0")/python_env.sh" tfvenv "tensorflow, tf2onnx, onnxruntime" \
  "tensorflow-cpu==2.18.1" "tf2onnx==1.17.0" "onnxruntime==1.32.0" "numpy<2.1"
