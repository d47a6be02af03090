#!/usr/bin/env bash
# Regenerates the Keras-exported test cases (testdata/keras_*) with TensorFlow + tf2onnx.
set -euo pipefail
cd "$(dirname "$0")/.."
py="$(scripts/keras_env.sh)"
# tf2onnx names constants in set order: fix the hash seed for byte-identical files.
PYTHONHASHSEED=0 "$py" scripts/make_keras_testdata.py
