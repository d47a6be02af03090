#!/usr/bin/env python3
"""Calibration (not a test) of the Verilog target's estimate on yosys: compiles designs with
`--backend verilog`, synthesizes each (`hlsrs build --synth`: yosys synth_xilinx, UltraScale+),
and sets what the RTL writer counted (hlsrs.json's `rtl_logic`: adder, multiplexer, comparator
bits, ROM LUTs, product bits, flip-flops) beside yosys's LUT and FF counts.

With --fit, fits the LUT coefficients (non-negative least squares on LUT / yosys LUT, so a small
design weighs as much as a large one) on the designs not held out and prints them; without, it
prints the estimate hlsrs made (hlsrs.json's total) against yosys for every design, fit and
held out: the table docs/estimator.md reports. The held-out designs never enter a fit.

    scripts/calibrate_rtl.py [--fit]      (results cached in $HLSRS_CACHE/calibrate_rtl/)
"""
import json
import os
import subprocess
import sys
import concurrent.futures as cf

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HLSRS = os.path.join(ROOT, "target", "release", "hlsrs")
CACHE = os.path.join(os.environ.get("HLSRS_CACHE", os.path.expanduser("~/.cache/hlsrs")), "calibrate_rtl")
FEATURES = ["add_bits", "mux_bits", "compare_bits", "rom_luts", "product_bits"]

DA = 'strategy = "distributed_arithmetic"\n'
SMALL = 'precision = "ap_fixed<8,3>"\ntable_size = 32\n'
# (name, testdata case, config, extra arguments, held out)
DESIGNS = [
    ("two_layer_keras_lat", "two_layer_keras", 'precision = "ap_fixed<10,4>"\n', [], False),
    ("two_layer_keras_da", "two_layer_keras", DA + 'precision = "ap_fixed<10,4>"\n', [], False),
    ("json_every_op_lat", "json_every_op", "", [], False),
    ("json_every_op_da", "json_every_op", DA, [], False),
    ("conv1d_small_keras_da", "conv1d_small_keras", DA + 'precision = "ap_fixed<10,4>"\n', [], False),
    ("conv1d_small_keras_lat", "conv1d_small_keras", 'precision = "ap_fixed<10,4>"\n', [], False),
    ("lstm_activations_da", "lstm_activations", DA + SMALL, ["--static"], False),
    ("batchnorm_lat", "batchnorm", "", [], True),
    ("max_min_branches_lat", "max_min_branches", "", [], True),
    ("keras_gru_da", "keras_gru", DA + SMALL, ["--static"], True),
    ("three_layer_keras_da", "three_layer_keras", DA + 'precision = "ap_fixed<8,3>"\n', [], True),
]


def bench_layers():
    """The jet tagger's four matrices (scripts/bench_da.py's weights) as one-layer models: 4-bit
    in the fit, 6-bit held out; each in both strategies."""
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    import bench_da
    out = []
    os.makedirs(CACHE, exist_ok=True)
    for bits, held in ((4, False), (6, True)):
        _, _, mats = bench_da.model(CACHE, (16, 64, 32, 32, 5), bits, seed=bits)
        for k, wpath in enumerate(mats):
            for s in ("distributed_arithmetic", "latency"):
                mpath, cpath, _ = bench_da.one_layer(CACHE, wpath, s)
                out.append((f"layer{k}_{bits}_{s[:3]}", mpath, open(cpath).read(), [], held))
    return out


def measure(design):
    name, model, cfg, extra, _ = design
    prj = os.path.join(CACHE, name)
    conf = prj + ".toml"
    open(conf, "w").write('backend = "verilog"\n' + cfg)
    subprocess.run([HLSRS, "compile", model, "-c", conf, "-o", prj, "--force"] + extra,
                   check=True, capture_output=True)
    m = json.load(open(os.path.join(prj, "hlsrs.json")))
    stat = os.path.join(prj, "reports", "yosys_stat.json")
    if not os.path.exists(stat):
        subprocess.run([HLSRS, "build", prj, "--synth"], check=True, capture_output=True)
    cells = json.load(open(stat))["design"]["num_cells_by_type"]
    count = lambda p: sum(v for k, v in cells.items() if k.startswith(p))
    return name, m["rtl_logic"], m["estimate"]["total"], {
        "lut": count("LUT"), "ff": count("FD"), "bram": count("RAMB18") + 2 * count("RAMB36")}


def nnls(a, b, rounds=200):
    """Lawson-Hanson non-negative least squares: min |a x - b|, x >= 0."""
    n = a.shape[1]
    x, active = np.zeros(n), []
    for _ in range(rounds):
        w = a.T @ (b - a @ x)
        free = [j for j in range(n) if j not in active]
        if not free or max(w[free]) <= 1e-10:
            break
        active.append(free[int(np.argmax(w[free]))])
        while True:
            s = np.zeros(n)
            s[active] = np.linalg.lstsq(a[:, active], b, rcond=None)[0]
            if min(s[active]) > 0:
                x = s
                break
            step = min(x[i] / (x[i] - s[i]) for i in active if s[i] <= 0)
            x = x + step * (s - x)
            active = [i for i in active if x[i] > 1e-12]
    return x


def main():
    subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    subprocess.run(["bash", os.path.join(ROOT, "scripts", "install_rtl_tools.sh")], check=True)
    os.makedirs(CACHE, exist_ok=True)
    designs = bench_layers() + [
        (n, os.path.join(ROOT, "testdata", case, "model.onnx")
         if os.path.exists(os.path.join(ROOT, "testdata", case, "model.onnx"))
         else os.path.join(ROOT, "testdata", case, "model.json"), cfg, extra, held)
        for n, case, cfg, extra, held in DESIGNS]
    held = {d[0]: d[4] for d in designs}
    with cf.ThreadPoolExecutor(2) as ex:
        rows = list(ex.map(measure, designs))
    if "--fit" in sys.argv:
        fit = [r for r in rows if not held[r[0]]]
        a = np.array([[r[1][f] / r[3]["lut"] for f in FEATURES] for r in fit])
        print(dict(zip(FEATURES, nnls(a, np.ones(len(fit))).round(3))))
        return
    print(f"{'design':26} {'':4} {'LUT est':>8} {'yosys':>7} {'ratio':>6} {'FF est':>7} {'yosys':>7} {'ratio':>6}"
          f" {'BRAM est':>8} {'yosys':>5}")
    worst = {False: [0, 0], True: [0, 0]}
    for name, _, est, y in rows:
        rl, rf = est["lut"] / y["lut"], est["ff"] / y["ff"]
        w = worst[held[name]]
        w[0], w[1] = max(w[0], abs(rl - 1)), max(w[1], abs(rf - 1))
        print(f"{name:26} {'held' if held[name] else 'fit':4} {est['lut']:8} {y['lut']:7} {rl:6.3f} "
              f"{est['ff']:7} {y['ff']:7} {rf:6.3f} {est['bram_18k']:8} {y['bram']:5}")
    for h, (l, f) in worst.items():
        print(f"{'held out' if h else 'fit'}: worst LUT {l:.1%}, FF {f:.1%}")


if __name__ == "__main__":
    main()
