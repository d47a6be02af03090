#!/usr/bin/env bash
# Verilator (the Verilog backend's RTL simulation, `hlsrs rtlsim`) and yosys (its synthesis,
# `hlsrs build --synth`), from Debian's packages when missing.
exec "$(dirname "$0")/apt_install.sh" verilator:verilator yosys:yosys
