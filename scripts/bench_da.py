#!/usr/bin/env python3
"""Benchmark (not a test) for the distributed_arithmetic strategy, side by side with da4ml 0.6.0:
the jet-tagger shape 16-64-32-32-5 with the same random integer weights at 4, 6 and 8 bits.

hlsrs: `hlsrs compile --strategy da` wall time (planning every graph, writing the project) and the
graphs' adders from hlsrs.json. da4ml: `da4ml.cmvm.solve` per layer (its own venv, created here),
its wall time and adders (ops with opcode 0/1). With --big, the 64-1024-1024-10 MLP too (hlsrs
only unless --big-da4ml). Numbers go in the issue notes.

    scripts/bench_da.py [--big] [--big-da4ml]
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
from da4ml.cmvm import solve
out = []
for path in sys.argv[1:]:
    w = np.load(path).astype(np.float32)
    t = time.perf_counter()
    p = solve(w, qintervals=[(-128.0, 127.0, 1.0)] * w.shape[0])
    wall = time.perf_counter() - t
    adders = sum(1 for s in p.solutions for op in s.ops if op.opcode in (0, 1))
    out.append({"wall": wall, "adders": adders, "cost": float(p.cost)})
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


def main():
    subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    py = da4ml_python()
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
