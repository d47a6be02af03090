#!/usr/bin/env python3
"""Benchmark for convolutional networks: a 32x32x3 CNN with four 3x3 conv layers (8, 8, 16, 16
filters, max pools after the 2nd and 4th) -> Dense 10 -> Softmax, exported PyTorch-style (NCHW).

hlsrs: compile wall time and peak memory, and the g++ C-simulation build time, in io parallel and
io stream. With --hls4ml, the same ONNX file through hls4ml (its ONNX path: qonnx cleanup and
channels-last conversion first, as its documentation asks), timing its g++ build (hm.compile()).
Run through scripts/bench.sh. Numbers go in the issue notes, not in tests.
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


def cnn32(path):
    rng = np.random.default_rng(5)
    nodes, inits = [], []

    def add(name, arr):
        inits.append(numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name))
        return name

    prev, c = "x", 3
    for k, cout in enumerate([8, 8, 16, 16]):
        w = rng.uniform(-1, 1, (cout, c, 3, 3)) * np.sqrt(3 / (9 * c))
        nodes.append(helper.make_node("Conv", [prev, add(f"w{k}", w), add(f"b{k}", rng.uniform(-.1, .1, cout))],
                                      [f"c{k}"], name=f"conv{k}", pads=[1, 1, 1, 1], kernel_shape=[3, 3],
                                      strides=[1, 1], dilations=[1, 1], group=1))
        nodes.append(helper.make_node("Relu", [f"c{k}"], [f"r{k}"], name=f"relu{k}"))
        prev, c = f"r{k}", cout
        if k % 2 == 1:
            nodes.append(helper.make_node("MaxPool", [prev], [f"p{k}"], name=f"pool{k}", kernel_shape=[2, 2],
                                          strides=[2, 2], pads=[0, 0, 0, 0]))
            prev = f"p{k}"
    nodes.append(helper.make_node("Flatten", [prev], ["f"], name="flatten"))
    nodes.append(helper.make_node("Gemm", ["f", add("wd", rng.uniform(-1, 1, (10, 16 * 8 * 8)) * 0.05),
                                           add("bd", np.zeros(10))], ["l"], name="fc", transB=1))
    nodes.append(helper.make_node("Softmax", ["l"], ["y"], name="softmax", axis=-1))
    g = helper.make_graph(nodes, "cnn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, path)


def timed(cmd):
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1)) / 1024
    return wall, rss


HLS4ML = r'''
import sys, time
import hls4ml
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.util.cleanup import cleanup_model
from qonnx.transformation.channels_last import ConvertToChannelsLastAndClean
from qonnx.transformation.gemm_to_matmul import GemmToMatMul
path, io, out = sys.argv[1], sys.argv[2], sys.argv[3]
m = cleanup_model(ModelWrapper(path))
m = m.transform(ConvertToChannelsLastAndClean())
m = cleanup_model(m.transform(GemmToMatMul()))
cfg = hls4ml.utils.config.config_from_onnx_model(m, granularity="name", backend="Vitis", default_precision="fixed<16,6>")
hm = hls4ml.converters.convert_from_onnx_model(m, output_dir=out, io_type=io, backend="Vitis", hls_config=cfg)
t0 = time.time()
hm.compile()
print(f"BUILD {time.time() - t0:.1f}")
'''


def hls4ml_python(cache):
    venv = os.path.join(cache, "venv-hls4ml")
    py = os.path.join(venv, "bin", "python")
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([py, "-m", "pip", "install", "-q", "hls4ml==1.3.0", "qonnx", "onnx", "numpy"], check=True)
    return py


def main():
    ap_types = subprocess.run([os.path.join(ROOT, "scripts", "fetch_ap_types.sh")], capture_output=True,
                              text=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "cnn32.onnx")
        cnn32(model)
        print(f"{'tool':8} {'io':9} {'compile wall':>13} {'peak RSS':>9} {'g++ csim build':>15}")
        for io in ["parallel", "stream"]:
            prj = os.path.join(tmp, f"hlsrs_{io}")
            runs = [timed([HLSRS, "compile", model, "-o", prj, "--force", "--io", io]) for _ in range(5)]
            t0 = time.perf_counter()
            subprocess.run(["make", "-s", "build/csim", f"AP_TYPES={ap_types}"], cwd=prj, check=True, capture_output=True)
            build = time.perf_counter() - t0
            print(f"{'hlsrs':8} {io:9} {min(r[0] for r in runs) * 1000:10.1f} ms {max(r[1] for r in runs):6.1f} MB {build:13.1f} s")
        if "--hls4ml" in sys.argv:
            py = hls4ml_python(os.environ.get("HLSRS_CACHE", os.path.expanduser("~/.cache/hlsrs")))
            script = os.path.join(tmp, "h4.py")
            with open(script, "w") as f:
                f.write(HLS4ML)
            for io in ["io_parallel", "io_stream"]:
                p = subprocess.run([py, script, model, io, os.path.join(tmp, f"h4_{io}")], capture_output=True, text=True)
                m = re.search(r"BUILD ([0-9.]+)", p.stdout)
                print(f"{'hls4ml':8} {io[3:]:9} {'':>13} {'':>9} {m.group(1) + ' s' if m else 'failed':>15}")


if __name__ == "__main__":
    main()
