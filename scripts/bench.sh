#!/usr/bin/env bash
# Benchmarks (not tests): compile time, peak memory and C-simulation build time. See
# scripts/bench_compile.py (dense) and scripts/bench_conv.py (CNN; --hls4ml compares with hls4ml's
# g++ build of the same ONNX model, which takes minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
py="$(scripts/python_env.sh)"
"$py" scripts/bench_compile.py
"$py" scripts/bench_conv.py "$@"
