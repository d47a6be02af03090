#!/usr/bin/env bash
# Regenerates testdata/ (models, seeded inputs, golden outputs) with onnx + onnxruntime in a venv.
set -euo pipefail
cd "$(dirname "$0")/.."
py="$(scripts/python_env.sh)"
"$py" scripts/make_testdata.py
