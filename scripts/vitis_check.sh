#!/usr/bin/env bash
# The Vitis acceptance kit (issue 25): for anyone who has Vitis HLS. Generates the designs whose
# hardware docs/synthesis.md leaves as open questions, runs C-synthesis on each (`hlsrs build`),
# and checks every figure of the estimate hlsrs recorded against the report (`hlsrs report
# --check`, at docs/estimator.md's tolerances). Prints one table.
#
#   scripts/vitis_check.sh [OUTDIR]        (default: vitis_check/)
#
# Environment: HLSRS (the hlsrs binary; default: built here with cargo), VITIS_CHECK_COSIM=1
# (co-simulate too), VITIS_CHECK_TIMEOUT (seconds per build; default 14400).
# Exit: 0 every figure within its tolerance; 3 some figure beyond (the table says which: send it
# with the OUTDIR/*.check.txt files); 2 no Vitis on PATH; 1 a build failed.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${1:-vitis_check}"
if ! command -v vitis_hls >/dev/null 2>&1 && ! command -v vitis-run >/dev/null 2>&1; then
  echo "error: neither vitis_hls nor vitis-run is on PATH (source Vitis's settings64.sh first)" >&2
  exit 2
fi
if [ -z "${HLSRS:-}" ]; then
  cargo build --release --quiet || exit 1
  HLSRS="$PWD/target/release/hlsrs"
fi
mkdir -p "$out/models" || exit 1
out="$(cd "$out" && pwd)"

# Two models the testdata has no case for, written with seeded weights.
python3 - "$out/models" <<'PY' || exit 1
import json, random, sys
d = sys.argv[1]
rng = random.Random(25)
def uniform(n, s):
    return [rng.uniform(-s, s) for _ in range(n)]
# A 128x128 dense layer: past Vitis's unroll limit at the latency strategy.
json.dump({"format": "hlsrs-model", "version": 1, "input": {"name": "x", "shape": [128]},
           "layers": [{"name": "fc", "op": "dense", "inputs": ["x"],
                       "weights": {"shape": [128, 128], "data": uniform(128 * 128, 0.1)},
                       "bias": {"shape": [128], "data": uniform(128, 0.1)}}],
           "output": "fc"}, open(f"{d}/dense_128x128.json", "w"))
# A 64x64x3 input (196,608 bits at ap_fixed<16,6>: past the 65,536-bit port word of
# io_parallel, so in io_stream).
json.dump({"format": "hlsrs-model", "version": 1, "input": {"name": "x", "shape": [64, 64, 3]},
           "layers": [{"name": "conv", "op": "conv", "inputs": ["x"], "groups": 1,
                       "window": {"kernel": [3, 3], "strides": [1, 1], "dilations": [1, 1],
                                  "pads_begin": [0, 0], "pads_end": [0, 0]},
                       "weights": {"shape": [1, 3, 3, 3, 4], "data": uniform(108, 0.3)},
                       "bias": {"shape": [4], "data": uniform(4, 0.1)}},
                      {"name": "relu", "op": "relu", "inputs": ["conv"]}],
           "output": "relu"}, open(f"{d}/input_64x64x3.json", "w"))
PY

# name | model | compile options | what it settles (issue 25's point)
designs=(
  "dense_resource_r4|testdata/three_layer_keras/model.onnx|--strategy resource --reuse 4|1: resource kernel, dense layout, process restart"
  "dense_pruned_r4|testdata/three_layer_keras/model.onnx|--strategy resource --reuse 4 --prune magnitude:0.7|1: resource kernel, sparse layout, a tree per output and pass"
  "conv1d_stream|testdata/conv1d_cnn_keras/model.onnx|--io stream|2: stream window, a pixel per cycle"
  "conv1d_dataflow|testdata/conv1d_cnn_keras/model.onnx||5: DATAFLOW channels and position loops"
  "lstm_bidirectional|testdata/lstm_bidirectional/model.onnx||3: both directions at once"
  "lstm_jet_tagger|testdata/lstm_jet_tagger/model.onnx||5: the LSTM step's state path, gate tables"
  "depthwise_resource_r3|testdata/conv2d_nchw/model.onnx|--strategy resource --reuse 3|4: a group per module, constant offsets"
  "dense_128x128|$out/models/dense_128x128.json||6: the unroll limit's fallback"
  "input_64x64x3|$out/models/input_64x64x3.json|--io stream|6: a 64x64x3 image (io_parallel refuses its 196,608-bit port)"
)

rows=()
status=0
for d in "${designs[@]}"; do
  IFS='|' read -r name model opts what <<<"$d"
  prj="$out/$name"
  log="$out/$name.log"
  echo "== $name ($what)"
  # shellcheck disable=SC2086 # the options are words
  if ! "$HLSRS" compile "$model" -o "$prj" --force $opts >"$log" 2>&1; then
    rows+=("$name|refused by hlsrs compile: $(grep -m1 'error' "$log")|$what")
    continue
  fi
  steps=(--synth)
  [ "${VITIS_CHECK_COSIM:-0}" = 1 ] && steps+=(--cosim)
  if ! "$HLSRS" build "$prj" "${steps[@]}" --timeout "${VITIS_CHECK_TIMEOUT:-14400}" >>"$log" 2>&1; then
    rows+=("$name|build FAILED (see $log)|$what")
    status=1
    continue
  fi
  "$HLSRS" report "$prj" --check >"$out/$name.check.txt" 2>&1
  case $? in
    0) rows+=("$name|within|$what") ;;
    3)
      beyond=$(awk '/BEYOND/ {print $1}' "$out/$name.check.txt" | paste -sd, -)
      rows+=("$name|BEYOND: $beyond|$what")
      [ "$status" = 0 ] && status=3
      ;;
    *)
      rows+=("$name|no report ($(tail -n1 "$out/$name.check.txt"))|$what")
      status=1
      ;;
  esac
done

echo
printf '%-24s %-44s %s\n' design "estimate against C-synthesis" "settles (issue 25)"
for r in "${rows[@]}"; do
  IFS='|' read -r name result what <<<"$r"
  printf '%-24s %-44s %s\n' "$name" "$result" "$what"
done
echo "(per figure: $out/<design>.check.txt; tolerances: docs/estimator.md)"
exit "$status"
