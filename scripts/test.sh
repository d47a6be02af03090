#!/usr/bin/env bash
# The whole test suite, including the g++ C-simulation tests: fetches the ap_types headers into
# the cache (once), then runs every test. Used by .ci/run and by developers alike.
set -euo pipefail
cd "$(dirname "$0")/.."
# tclsh runs the generated build scripts against the Vitis stand-ins (tests/vitis_flow.rs);
# headless Chromium renders report.html (tests/report_html.rs); Verilator and yosys simulate
# and synthesize the Verilog backend's designs (tests/verilog.rs). All from Debian's packages.
scripts/apt_install.sh tclsh:tcl chromium:chromium verilator:verilator yosys:yosys
HLSRS_AP_TYPES="$(scripts/fetch_ap_types.sh)"
export HLSRS_AP_TYPES
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --no-fail-fast "$@"
else
  cargo test --no-fail-fast "$@"
fi
