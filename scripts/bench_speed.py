#!/usr/bin/env python3
"""Benchmark (issue 15's speed table): whole processes, median of 3 (of 21 for the compile and
estimate rows; of 5 for hls4ml's jet tagger, whose ratio the row gives), on this machine. The
first row is the harness's own floor: starting and ending a process that does nothing.

  compile   three_layer_keras (16-64-32-32-5)           hlsrs compile   | hls4ml convert + write
  compile   64-1024-1024-10 MLP (1.1 M parameters)      hlsrs compile   | hls4ml convert + write
  estimate  same MLP                                     hlsrs estimate  | (hls4ml: synthesis)
  predict   200 samples, same MLP (225 M MACs)           hlsrs predict   | hls4ml g++ build + predict
                                                                         (stack unlimited: at 8 MB
                                                                         hls4ml's predict dies)
  csim      build + run, 200 samples, same MLP           hlsrs csim      |
  compile   one 3x3 conv 16->16, io_stream, 256x256 and 1024x1024

With --hls4ml the hls4ml columns run too (a venv with hls4ml 1.3.0, made once). Run through
scripts/bench.sh or directly with the test-data venv's python; numbers go in the issue notes.
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HLSRS = os.path.join(ROOT, "target", "release", "hlsrs")
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from bench_compile import big_mlp  # noqa: E402
from bench_conv import hls4ml_python  # noqa: E402


def one_conv(path, side):
    """One 3x3 conv, 16 -> 16 channels, 'same' padding, over a side x side image (NCHW)."""
    rng = np.random.default_rng(3)
    w = (rng.uniform(-1, 1, (16, 16, 3, 3)) * np.sqrt(3 / 144)).astype(np.float32)
    b = rng.uniform(-0.1, 0.1, 16).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("Conv", ["x", "w", "b"], ["y"], name="conv", pads=[1, 1, 1, 1], kernel_shape=[3, 3])],
        "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 16, side, side])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 16, side, side])],
        initializer=[numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


def median_wall(cmd, runs=3, cwd=None, env=None, must=True):
    # Outputs into files, not pipes: nothing for this process to do while the command runs (a
    # pipe read loop added a millisecond to every run, a fifth of a small compile).
    walls = []
    for _ in range(runs):
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            t0 = time.perf_counter()
            p = subprocess.run(cmd, cwd=cwd, env=env, stdout=out, stderr=err)
            walls.append(time.perf_counter() - t0)
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read().decode(), err.read().decode()
        if p.returncode != 0:
            if must:
                sys.exit(f"failed: {' '.join(cmd)}\n{stdout}\n{stderr}")
            return None, stdout + stderr
    return statistics.median(walls), stdout


HLS4ML = r'''
import sys, time
import numpy as np
import hls4ml
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.util.cleanup import cleanup_model
from qonnx.transformation.gemm_to_matmul import GemmToMatMul
path, out, what = sys.argv[1], sys.argv[2], sys.argv[3]
m = cleanup_model(ModelWrapper(path))
m = cleanup_model(m.transform(GemmToMatMul()))
cfg = hls4ml.utils.config.config_from_onnx_model(m, granularity="name", backend="Vitis", default_precision="fixed<16,6>")
hm = hls4ml.converters.convert_from_onnx_model(m, output_dir=out, io_type="io_parallel", backend="Vitis", hls_config=cfg)
if what == "write":
    hm.write()
else:
    t0 = time.time()
    hm.compile()
    t1 = time.time()
    hm.predict(np.load(sys.argv[4]).astype(np.float32))
    print(f"BUILD {t1 - t0:.2f} PREDICT {time.time() - t1:.2f}")
'''


def main():
    env = dict(os.environ)
    ap_types = subprocess.run([os.path.join(ROOT, "scripts", "fetch_ap_types.sh")], capture_output=True,
                              text=True, check=True).stdout.strip()
    with_hls4ml = "--hls4ml" in sys.argv
    py4 = hls4ml_python(os.environ.get("HLSRS_CACHE", os.path.expanduser("~/.cache/hlsrs"))) if with_hls4ml else None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        jet = os.path.join(ROOT, "testdata", "three_layer_keras", "model.onnx")
        mlp = os.path.join(tmp, "mlp_64_1024_1024_10.onnx")
        big_mlp(mlp)
        x = np.random.default_rng(1).standard_normal((200, 64)).astype(np.float32)
        xpath = os.path.join(tmp, "x200.npy")
        np.save(xpath, x)
        h4 = os.path.join(tmp, "h4.py")
        with open(h4, "w") as f:
            f.write(HLS4ML)

        def hls4ml_write(model, tag, runs=3):
            if not with_hls4ml:
                return "-", None
            wall, _ = median_wall([py4, h4, model, os.path.join(tmp, f"h4_{tag}"), "write"], runs=runs)
            return f"{wall:.2f} s", wall

        # The fast rows: median of 21 (a busy VM's wall times wander by tens of percent).
        floor, _ = median_wall(["true"], runs=21)
        rows.append(("start and end of a process (true), this harness", "-", f"{floor * 1e3:.1f} ms"))
        wall, _ = median_wall([HLSRS, "compile", jet, "-o", os.path.join(tmp, "jet"), "--force"], runs=21)
        h4_text, h4_wall = hls4ml_write(jet, "jet", runs=5)
        ratio = f" ({h4_wall / wall:.0f}x)" if h4_wall else ""
        rows.append(("compile, 16-64-32-32-5 jet tagger", h4_text, f"{wall * 1e3:.1f} ms{ratio}"))
        wall, _ = median_wall([HLSRS, "compile", mlp, "-o", os.path.join(tmp, "mlp"), "--force"], runs=21)
        rows.append(("compile, 64-1024-1024-10 MLP (1.1 M params)", hls4ml_write(mlp, "mlp")[0], f"{wall * 1e3:.0f} ms"))
        wall, _ = median_wall([HLSRS, "estimate", mlp], runs=21)
        rows.append(("hlsrs estimate, same MLP", "needs synthesis", f"{wall * 1e3:.0f} ms"))
        wall, _ = median_wall([HLSRS, "predict", mlp, "--input", xpath, "--output", os.path.join(tmp, "y.npy")])
        macs = 200 * (64 * 1024 + 1024 * 1024 + 1024 * 10)
        h4p = "-"
        if with_hls4ml:
            # hls4ml's compiled model keeps its arrays on the stack: at 8 MB this one dies of SIGSEGV.
            cmd = " ".join([py4, h4, mlp, os.path.join(tmp, "h4_mlp_pred"), "predict", xpath])
            _, out = median_wall(["sh", "-c", f"ulimit -s unlimited; exec {cmd}"], runs=1, must=False)
            m = re.search(r"BUILD ([0-9.]+) PREDICT ([0-9.]+)", out)
            h4p = f"{m.group(2)} s + {m.group(1)} s g++ build" if m else "failed (see its output)"
            if not m:
                print(out[-2000:], file=sys.stderr)
        rows.append(("hlsrs predict, 200 samples, same MLP (225 M MACs)", h4p,
                     f"{wall:.3f} s ({macs / wall / 1e6:.0f} M MAC/s)"))
        env["HLSRS_AP_TYPES"] = ap_types
        prj = os.path.join(tmp, "mlp")
        csim = [HLSRS, "csim", prj, "--input", xpath, "--output", os.path.join(tmp, "yc.npy")]
        # Each run builds afresh (build/ removed; the precompiled ap_types header stays cached,
        # as on any machine after its first csim), then runs on the built testbench alone.
        fresh = ["sh", "-c", 'rm -rf "$0/build" && exec "$@"', prj] + csim
        wall, _ = median_wall(fresh, env=env)
        rows.append(("hlsrs csim build + run, same MLP", "-", f"{wall:.2f} s"))
        wall, _ = median_wall(csim, env=env)
        rows.append(("hlsrs csim run (testbench built), same MLP", "-", f"{wall:.2f} s"))
        for side in [256, 1024]:
            conv = os.path.join(tmp, f"conv{side}.onnx")
            one_conv(conv, side)
            wall, _ = median_wall([HLSRS, "compile", conv, "--io", "stream", "-o", os.path.join(tmp, f"c{side}"), "--force"])
            rows.append((f"compile, one 3x3 conv 16->16 over {side}x{side}, io_stream", "-", f"{wall:.2f} s"))
    print(f"| {'work':52} | {'hls4ml 1.3':28} | {'hlsrs':30} |")
    print(f"|{'-' * 54}|{'-' * 30}|{'-' * 32}|")
    for r in rows:
        print(f"| {r[0]:52} | {r[1]:28} | {r[2]:30} |")


if __name__ == "__main__":
    main()
