#!/usr/bin/env python3
"""Benchmark (not a test) for the distributed_arithmetic strategy, side by side with da4ml 0.6.0:
the jet-tagger shape 16-64-32-32-5 with the same random integer weights at 4, 6 and 8 bits.

hlsrs: `hlsrs compile --strategy da` wall time (planning every graph, writing the project) and the
graphs' adders from hlsrs.json. da4ml: its documented flow per layer (its own venv, created
here): an 8-bit input traced (`FixedVariableArrayInput`, `quantize`), `x @ w`, `comb_trace`
(which runs its CMVM optimiser), its wall time and adders. With --big, the 64-1024-1024-10 MLP
too (hlsrs only unless --big-da4ml).

With --rtl, hardware from both, layer by layer (the same matrix, inputs 8-bit integers, the
exact product out): hlsrs `compile --backend verilog --strategy da` of a one-layer model and
da4ml's RTLModel of its traced logic (one pipeline stage: registered inputs and outputs, as
ours), each synthesized by yosys synth_xilinx (UltraScale+, out of context, flattened), LUT /
CARRY / FF summed over the layers; both simulated in Verilator on the same 1,000 samples and
compared with the exact product (hlsrs's RTL also with `hlsrs predict`); and the same layer
with multipliers (strategy latency) for the DA saving. Numbers go in the issue notes.

Why the traced flow: a `solve()` Pipeline handed to VerilogModel directly (what this script did
first) writes RTL that is not the product: its two stages lose the shifts between them, and
an out-of-range part-select leaves adders' top bits undefined, which yosys then folds away
(a third of the design removed). The traced flow's RTL is exact, and is what da4ml documents.

    scripts/bench_da.py [--big] [--big-da4ml] [--rtl]   (BENCH_BITS=4,6,8: the --rtl widths)
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HLSRS = os.path.join(ROOT, "target", "release", "hlsrs")
CACHE = os.environ.get("HLSRS_CACHE", os.path.expanduser("~/.cache/hlsrs"))

DA4ML = r'''
import json, sys, time
import numpy as np
from da4ml.trace import FixedVariableArrayInput, comb_trace
from da4ml.trace.ops import quantize
out = []
for path in sys.argv[1:]:
    w = np.load(path)
    t = time.perf_counter()
    inp = FixedVariableArrayInput((w.shape[0],))
    comb = comb_trace(inp, quantize(inp, 1, 7, 0) @ w)
    wall = time.perf_counter() - t
    adders = sum(1 for op in comb.ops if op.opcode in (0, 1))
    out.append({"wall": wall, "adders": adders, "cost": float(comb.cost)})
print(json.dumps(out))
'''


def da4ml_python():
    venv = os.path.join(CACHE, "venv-da4ml")
    py = os.path.join(venv, "bin", "python")
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([py, "-m", "pip", "install", "-q", "da4ml==0.6.0"], check=True)
    return py


def model(tmp, shape, bits, seed):
    """A dense ReLU MLP of `shape` with integer weights of `bits` bits (symmetric), as hlsrs JSON
    plus its config (weights typed ap_fixed<bits,bits>: exact), and each matrix as .npy."""
    rng = np.random.default_rng(seed)
    lim = 2 ** (bits - 1) - 1
    layers, mats, prev = [], [], "x"
    config = ['strategy = "distributed_arithmetic"', 'precision = "ap_fixed<16,8>"']
    for k, (n_in, n_out) in enumerate(zip(shape, shape[1:])):
        w = rng.integers(-lim, lim + 1, size=(n_in, n_out))
        path = os.path.join(tmp, f"w{k}_{bits}.npy")
        np.save(path, w.astype(np.float64))
        mats.append(path)
        name = f"fc{k}"
        layers.append({"name": name, "op": "dense", "inputs": [prev],
                       "weights": {"npy": os.path.basename(path)},
                       "bias": {"shape": [n_out], "data": [0.0] * n_out}})
        config += [f"[layers.{name}]", f'weight = "ap_fixed<{bits},{bits}>"']
        prev = name
        if k + 2 < len(shape):
            layers.append({"name": f"relu{k}", "op": "relu", "inputs": [prev]})
            prev = f"relu{k}"
    m = {"format": "hlsrs-model", "version": 1, "input": {"name": "x", "shape": [shape[0]]},
         "layers": layers, "output": prev}
    mpath = os.path.join(tmp, f"mlp_{bits}.json")
    with open(mpath, "w") as f:
        json.dump(m, f)
    cpath = os.path.join(tmp, f"mlp_{bits}.toml")
    with open(cpath, "w") as f:
        f.write("\n".join(config[:2]) + "\n" + "\n".join(config[2:]) + "\n")
    return mpath, cpath, mats


def hlsrs(tmp, mpath, cpath):
    prj = os.path.join(tmp, "prj_" + os.path.basename(mpath))
    t = time.perf_counter()
    subprocess.run([HLSRS, "compile", mpath, "-c", cpath, "-o", prj, "--force"], check=True,
                   capture_output=True)
    wall = time.perf_counter() - t
    with open(os.path.join(prj, "hlsrs.json")) as f:
        manifest = json.load(f)
    adders = [l.get("adders", 0) for l in manifest["layers"] if l.get("adders") is not None]
    return wall, adders


DA4ML_RTL = r'''
import json, sys
import numpy as np
from da4ml.trace import FixedVariableArrayInput, comb_trace
from da4ml.trace.ops import quantize
from da4ml.codegen import RTLModel
w = np.load(sys.argv[1])
inp = FixedVariableArrayInput((w.shape[0],))
comb = comb_trace(inp, quantize(inp, 1, 7, 0) @ w)
RTLModel(comb, "layer", sys.argv[2], flavor="verilog", latency_cutoff=10**9).write()
x = np.load(sys.argv[3])
json.dump({"kifs": np.asarray(comb.out_kifs).tolist(),
           "emulator_exact": bool(np.array_equal(comb.predict(x), x @ w))}, open(sys.argv[4], "w"))
'''

# A Verilator harness for da4ml's `layer` (clk, model_inp, model_out): one sample at a time,
# held for a few clocks, the outputs' raw bits printed.
DA4ML_HARNESS = r'''
#include "Vlayer.h"
#include "verilated.h"
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
static const int N_IN = %(n_in)d, N_OUT = %(n_out)d;
static const unsigned OUT_W[] = {%(out_w)s};
template <class T> static void put(T &s, unsigned pos, unsigned w, long long v) {
  for (unsigned b = 0; b < w; b++) { T m = T(1) << (pos + b); if ((v >> b) & 1) s |= m; else s &= T(~m); } }
template <std::size_t N> static void put(VlWide<N> &s, unsigned pos, unsigned w, long long v) {
  for (unsigned b = 0; b < w; b++) { unsigned p = pos + b; EData m = EData(1) << (p %% 32);
    if ((v >> b) & 1) s[p / 32] |= m; else s[p / 32] &= ~m; } }
template <class T> static bool bit(const T &s, unsigned p) { return (s >> p) & 1; }
template <std::size_t N> static bool bit(const VlWide<N> &s, unsigned p) { return (s[p / 32] >> (p %% 32)) & 1; }
int main(int argc, char **argv) {
  std::ifstream in(argv[1]); FILE *out = std::fopen(argv[2], "w");
  Vlayer *top = new Vlayer; std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line); long long v; unsigned pos = 0;
    for (int i = 0; i < N_IN; i++) { ls >> v; put(top->model_inp, pos, 8, v); pos += 8; }
    for (int c = 0; c < 4; c++) { top->clk = 1; top->eval(); top->clk = 0; top->eval(); }
    pos = 0;
    for (int j = 0; j < N_OUT; j++) {
      unsigned long long u = 0;
      for (unsigned b = 0; b < OUT_W[j]; b++) if (bit(top->model_out, pos + b)) u |= 1ULL << b;
      std::fprintf(out, j ? " %%llu" : "%%llu", u); pos += OUT_W[j]; }
    std::fprintf(out, "\n"); }
  std::fclose(out); delete top; return 0; }
'''


def da4ml_sources(prj):
    """da4ml's Verilog, the lint pragmas Debian's Verilator 5.006 does not know taken out."""
    import re
    src = os.path.join(prj, "src")
    files = [os.path.join(src, "static", f) for f in sorted(os.listdir(os.path.join(src, "static")))
             if f.endswith(".v") and f != "lookup_table.v"]
    files += [os.path.join(src, f) for f in sorted(os.listdir(src))
              if f.endswith(".v") and "wrapper" not in f]
    clean = os.path.join(prj, "clean")
    os.makedirs(clean, exist_ok=True)
    out = []
    for f in files:
        text = re.sub(r"/\* ?verilator lint_(off|on) WIDTH(TRUNC|EXPAND) ?\*/", "", open(f).read())
        out.append(os.path.join(clean, os.path.basename(f)))
        open(out[-1], "w").write(text)
    return out


def da4ml_rtl_values(prj, files, kifs, x):
    """da4ml's RTL on the integer samples `x` in Verilator: each output read with its (k, i, f)."""
    k, i, f = (np.asarray(a) for a in kifs)
    widths = (k + i + f).astype(int)
    h = os.path.join(prj, "harness.cpp")
    open(h, "w").write(DA4ML_HARNESS % dict(n_in=x.shape[1], n_out=len(widths),
                                            out_w=", ".join(map(str, widths))))
    obj = os.path.join(prj, "obj")
    subprocess.run(["verilator", "--cc", "--exe", "--build", "-Wno-fatal", "-Wno-lint", "-Wno-style",
                    "--top-module", "layer", "-Mdir", obj, "-o", "sim",
                    "-MAKEFLAGS", "OPT_FAST=-O0 OPT_SLOW=-O0"] + files + [h],
                   check=True, capture_output=True)
    xi, yo = os.path.join(prj, "x.txt"), os.path.join(prj, "y.txt")
    np.savetxt(xi, x, fmt="%d")
    subprocess.run([os.path.join(obj, "sim"), xi, yo], check=True)
    y = np.zeros((x.shape[0], len(widths)))
    for r, line in enumerate(open(yo)):
        for j, raw in enumerate(map(int, line.split())):
            if k[j] and raw >> (widths[j] - 1):
                raw -= 1 << widths[j]
            y[r, j] = raw * 2.0 ** -f[j]
    return y


def yosys_cells(sources, top, nodsp=False):
    """LUT, CARRY, FF, DSP of `sources` after synth_xilinx (as `hlsrs build --synth` runs it;
    `nodsp`: every product in LUTs)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as st:
        subprocess.run(["yosys", "-q", "-p",
                        f"read_verilog {' '.join(sources)}; synth_xilinx -family xcup -top {top} "
                        f"-flatten -noiopad{' -nodsp' if nodsp else ''}; tee -q -o {st.name} stat -json"],
                       check=True, capture_output=True)
        cells = json.load(open(st.name))["design"]["num_cells_by_type"]
    lut = sum(n for t, n in cells.items() if t in ("LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6"))
    carry = sum(n for t, n in cells.items() if t.startswith("CARRY"))
    ff = sum(n for t, n in cells.items() if t.startswith("FD"))
    dsp = sum(n for t, n in cells.items() if t.startswith("DSP"))
    return np.array([lut, carry, ff, dsp])


def one_layer(tmp, wpath, strategy):
    """A model of one dense layer of the matrix at `wpath` (beside it) and its config: 8-bit
    integer inputs, weights of their own width, the exact product out. (model, config, tag)"""
    w = np.load(wpath)
    n_in, n_out = w.shape
    bits = int(np.abs(w).max()).bit_length() + 1
    out_bits = 8 + bits + int(np.ceil(np.log2(n_in))) + 1
    tag = f"{os.path.basename(wpath)[:-4]}_{strategy}"
    m = {"format": "hlsrs-model", "version": 1, "input": {"name": "x", "shape": [n_in]},
         "layers": [{"name": "fc", "op": "dense", "inputs": ["x"],
                     "weights": {"npy": os.path.basename(wpath)},
                     "bias": {"shape": [n_out], "data": [0.0] * n_out}}], "output": "fc"}
    mpath = os.path.join(tmp, f"one_{tag}.json")
    json.dump(m, open(mpath, "w"))
    cpath = os.path.join(tmp, f"one_{tag}.toml")
    open(cpath, "w").write(f'strategy = "{strategy}"\n[layers.x]\nresult = "ap_fixed<8,8>"\n'
                           f'[layers.fc]\nweight = "ap_fixed<{bits},{bits}>"\n'
                           f'result = "ap_fixed<{out_bits},{out_bits}>"\n')
    return mpath, cpath, tag


def hlsrs_layer_rtl(tmp, wpath, strategy, nodsp=False):
    """One dense layer of the matrix at `wpath` in Verilog: yosys cells (with `nodsp`, also
    with no DSP), and whether Verilator and `hlsrs predict` agree with the exact product."""
    w = np.load(wpath)
    n_in = w.shape[0]
    mpath, cpath, tag = one_layer(tmp, wpath, strategy)
    prj = os.path.join(tmp, f"rtl_{tag}")
    subprocess.run([HLSRS, "compile", mpath, "-c", cpath, "-o", prj, "--force", "--backend", "verilog"],
                   check=True, capture_output=True)
    # Bit-exact against the emulator on 1,000 integer samples.
    x = np.random.default_rng(0).integers(-128, 128, size=(1000, n_in)).astype(np.float64)
    xp, yr, yp = (os.path.join(tmp, f"{k}_{tag}.npy") for k in ("x", "yr", "yp"))
    np.save(xp, x)
    subprocess.run([HLSRS, "rtlsim", prj, "--input", xp, "--output", yr], check=True, capture_output=True)
    subprocess.run([HLSRS, "predict", mpath, "-c", cpath, "--input", xp, "--output", yp], check=True,
                   capture_output=True)
    exact = np.array_equal(np.load(yr), np.load(yp)) and np.array_equal(np.load(yp), x @ w)
    v = [os.path.join(prj, "rtl", f"one_{tag}.v")]
    cells = yosys_cells(v, f"one_{tag}")
    if nodsp:
        return cells, yosys_cells(v, f"one_{tag}", nodsp=True), exact
    return cells, exact


def da4ml_layer_rtl(py, tmp, wpath):
    """yosys cells of da4ml's RTL for the matrix at `wpath`, and whether it is exact in Verilator
    (and in da4ml's own emulator) on the 1,000 samples hlsrs's RTL runs."""
    prj = os.path.join(tmp, "d4_" + os.path.basename(wpath)[:-4])
    w = np.load(wpath)
    x = np.random.default_rng(0).integers(-128, 128, size=(1000, w.shape[0])).astype(np.float64)
    xp, meta = os.path.join(tmp, "d4x.npy"), os.path.join(tmp, "d4meta.json")
    np.save(xp, x)
    subprocess.run([py, "-c", DA4ML_RTL, wpath, prj, xp, meta], check=True, capture_output=True, cwd=tmp)
    m = json.load(open(meta))
    files = da4ml_sources(prj)
    y = da4ml_rtl_values(prj, files, m["kifs"], x.astype(np.int64))
    exact = m["emulator_exact"] and np.array_equal(y, x @ w)
    return yosys_cells(files, "layer"), exact


def rtl_main(py):
    subprocess.run(["bash", os.path.join(ROOT, "scripts", "install_rtl_tools.sh")], check=True)
    print("jet tagger 16-64-32-32-5, per layer: yosys synth_xilinx (xcup), summed; LUT / CARRY / FF / DSP")
    print(f"{'bits':>4} {'hlsrs DA':>26} {'da4ml':>26} {'hlsrs multipliers':>26} {'LUT DA/da4ml':>13} "
          f"{'exact':>6} {'da4ml exact':>12} {'multipliers, no DSP':>26} {'LUT DA/mult':>12} {'(no DSP)':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for bits in [int(b) for b in os.environ.get("BENCH_BITS", "4,6,8").split(",")]:
            _, _, mats = model(tmp, (16, 64, 32, 32, 5), bits, seed=bits)
            ours, theirs, mult, lut_mult = (np.zeros(4, int) for _ in range(4))
            exact = d4_exact = True
            for wpath in mats:
                c, e = hlsrs_layer_rtl(tmp, wpath, "distributed_arithmetic")
                ours += c
                exact &= e
                c, e = da4ml_layer_rtl(py, tmp, wpath)
                theirs += c
                d4_exact &= e
                c, c_lut, e = hlsrs_layer_rtl(tmp, wpath, "latency", nodsp=True)
                mult += c
                lut_mult += c_lut
                exact &= e
            fmt = lambda a: "/".join(str(v) for v in a)
            print(f"{bits:>4} {fmt(ours):>26} {fmt(theirs):>26} {fmt(mult):>26} "
                  f"{ours[0] / theirs[0]:>13.3f} {str(exact):>6} {str(d4_exact):>12} {fmt(lut_mult):>26} "
                  f"{ours[0] / mult[0]:>12.3f} {ours[0] / lut_mult[0]:>9.3f}", flush=True)


def main():
    subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    py = da4ml_python()
    if "--rtl" in sys.argv:
        return rtl_main(py)
    cases = [((16, 64, 32, 32, 5), bits, True) for bits in (4, 6, 8)]
    if "--big" in sys.argv:
        cases.append(((64, 1024, 1024, 10), 8, "--big-da4ml" in sys.argv))
    print(f"{'model':22} {'bits':>4} {'hlsrs compile':>14} {'hlsrs adders':>13} {'da4ml solve':>12} {'da4ml adders':>13}")
    with tempfile.TemporaryDirectory() as tmp:
        for shape, bits, with_da4ml in cases:
            mpath, cpath, mats = model(tmp, shape, bits, seed=bits)
            wall, adders = hlsrs(tmp, mpath, cpath)
            if with_da4ml:
                p = subprocess.run([py, "-c", DA4ML] + mats, check=True, capture_output=True, text=True)
                d = json.loads(p.stdout)
                d_wall = f"{sum(x['wall'] for x in d):.2f} s"
                d_adders = str(sum(x["adders"] for x in d))
            else:
                d_wall, d_adders = "-", "-"
            name = "-".join(map(str, shape))
            print(f"{name:22} {bits:>4} {wall:>12.2f} s {sum(adders):>13} {d_wall:>12} {d_adders:>13}")


if __name__ == "__main__":
    main()
