#!/usr/bin/env bash
# The whole test suite, including the g++ C-simulation tests: fetches the ap_types headers into
# the cache (once), then runs every test. Used by .ci/run and by developers alike.
set -euo pipefail
cd "$(dirname "$0")/.."
# tclsh runs the generated build scripts against the Vitis stand-ins (tests/vitis_flow.rs).
if ! command -v tclsh >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq tcl >/dev/null
  else
    sudo apt-get update -qq && sudo apt-get install -y -qq tcl >/dev/null
  fi
fi
HLSRS_AP_TYPES="$(scripts/fetch_ap_types.sh)"
export HLSRS_AP_TYPES
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --no-fail-fast "$@"
else
  cargo test --no-fail-fast "$@"
fi
