#!/usr/bin/env bash
# Benchmarks (not tests): compile time, peak memory and C-simulation build time. See
# scripts/bench_compile.py.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
py="$(scripts/python_env.sh)"
"$py" scripts/bench_compile.py
