#!/usr/bin/env python3
"""Benchmark: hlsrs compile wall time and peak memory, and the g++ C-simulation build time of the
generated project, for three_layer_keras (16-64-32-32-5) and a 64-1024-1024-10 MLP.

Run through scripts/bench.sh. Prints a table; numbers go in the issue notes, not in tests.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HLSRS = os.path.join(ROOT, "target", "release", "hlsrs")


def big_mlp(path):
    rng = np.random.default_rng(7)
    sizes = [64, 1024, 1024, 10]
    nodes, inits = [], []
    prev = "x"
    for k, (a, b) in enumerate(zip(sizes, sizes[1:])):
        inits.append(numpy_helper.from_array((rng.standard_normal((a, b)) / np.sqrt(a)).astype(np.float32), f"w{k}"))
        inits.append(numpy_helper.from_array((rng.standard_normal(b) * 0.1).astype(np.float32), f"b{k}"))
        out = f"h{k}"
        nodes.append(helper.make_node("Gemm", [prev, f"w{k}", f"b{k}"], [out], name=f"fc{k}"))
        if k < len(sizes) - 2:
            nodes.append(helper.make_node("Relu", [out], [f"a{k}"], name=f"relu{k}"))
            out = f"a{k}"
        prev = out
    nodes.append(helper.make_node("Softmax", [prev], ["y"], name="softmax", axis=-1))
    g = helper.make_graph(nodes, "big", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 64])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 10])], initializer=inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


def timed(cmd, cwd=None):
    """(wall seconds, peak RSS MB) of a command, via GNU time."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1)) / 1024
    return wall, rss


def main():
    ap_types = subprocess.run([os.path.join(ROOT, "scripts", "fetch_ap_types.sh")], capture_output=True,
                              text=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        big = os.path.join(tmp, "mlp_64_1024_1024_10.onnx")
        big_mlp(big)
        models = [("three_layer_keras", os.path.join(ROOT, "testdata", "three_layer_keras", "model.onnx")),
                  ("64-1024-1024-10", big)]
        print(f"{'model':20} {'strategy':10} {'compile wall':>13} {'peak RSS':>9} {'g++ csim build':>15}")
        for name, path in models:
            for strategy, extra in [("latency", []), ("resource", ["--strategy", "resource", "--reuse", "64"])]:
                prj = os.path.join(tmp, f"{name}_{strategy}")
                runs = [timed([HLSRS, "compile", path, "-o", prj, "--force"] + extra) for _ in range(5)]
                wall = min(r[0] for r in runs)
                rss = max(r[1] for r in runs)
                t0 = time.perf_counter()
                subprocess.run(["make", "-s", "build/csim", f"AP_TYPES={ap_types}"], cwd=prj, check=True,
                               capture_output=True)
                build = time.perf_counter() - t0
                print(f"{name:20} {strategy:10} {wall * 1000:10.1f} ms {rss:6.1f} MB {build:13.1f} s")


if __name__ == "__main__":
    main()
