#!/usr/bin/env python3
"""Rebuilds the networks of ../shared/reference/vitis-csynth (real Vitis HLS 2024.1 results of
hls4ml designs, see that folder's README) as hlsrs JSON models with seeded weights of the same
distributions, each beside its reference result (copied unchanged), for the estimator's
calibration test (tests/estimate.rs): testdata/estimator.

Also a held-out set, testdata/estimator_holdout: the other Vitis 2024.1 synthesis baselines of the
same hls4ml test file (test/pytest/test_keras_api.py of hls4ml 1.3.0, whose source distribution on
PyPI ships them; fetched with pip into the cache), rebuilt the same way. The estimator's constants
were never fitted to them. Needs numpy (and pip for the held-out references). Never edit the
outputs by hand.
"""
import json
import os
import shutil
import subprocess
import sys
import tarfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "testdata", "estimator")
REF = os.path.join(ROOT, "..", "shared", "reference", "vitis-csynth")
PREFIX = "test_keras_api_test_"


def tensor(a):
    a = np.asarray(a, dtype=np.float64)
    return {"shape": list(a.shape), "data": [float(v) for v in a.ravel()]}


def model(input_shape, layers):
    return {
        "format": "hlsrs-model",
        "version": 1,
        "input": {"name": "x", "shape": list(input_shape)},
        "layers": layers,
        "output": layers[-1]["name"],
    }


def dense(name, inp, w, b):
    return {"name": name, "op": "dense", "inputs": [inp], "weights": tensor(w), "bias": tensor(b)}


def act(name, inp, op, **kw):
    d = {"name": name, "op": op, "inputs": [inp]}
    d.update(kw)
    return d


def window(k, s):
    return {"kernel": k, "strides": s, "dilations": [1] * len(k), "pads_begin": [0] * len(k), "pads_end": [0] * len(k)}


def activation_nets(rng):
    """test_activations: Dense(64), lecun_uniform (limit sqrt(3 / fan_in)), zero bias, then the
    activation; (name, model) per activation, weights drawn from `rng` in this order."""
    lim = np.sqrt(3.0)
    nets = []
    for a, layer in [
        ("relu", {"op": "relu"}),
        ("leaky_relu", {"op": "leaky_relu", "alpha": 1.0}),
        ("elu", {"op": "elu", "alpha": 1.0}),
        ("prelu", {"op": "p_relu", "slope": tensor(np.zeros(64))}),
        ("sigmoid", {"op": "sigmoid"}),
    ]:
        w = rng.uniform(-lim, lim, (1, 64))
        nets.append((a, model([1], [dense("dense", "x", w, np.zeros(64)), act("act", "dense", **layer)])))
    return nets


def write_case(out, name, ref_text, net, config):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.json"), "w") as f:
        json.dump(net, f, indent=1)
        f.write("\n")
    with open(os.path.join(d, "config.toml"), "w") as f:
        f.write("# hls4ml's configuration of the reference run\n" + config)
    with open(os.path.join(d, "reference.json"), "w") as f:
        f.write(ref_text)


def config(io, precision="ap_fixed<16,6>"):
    return f'part = "xcvu13p"\nclock = 5.0\nprecision = "{precision}"\nreuse = 1\nstrategy = "latency"\nio = "{io}"\n'


HLS4ML = "1.3.0"


def hls4ml_baselines():
    """name -> text of every Vitis 2024.1 baseline in the hls4ml source distribution."""
    cache = os.environ.get("HLSRS_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "hlsrs"))
    sdists = os.path.join(cache, "sdists")
    tar = os.path.join(sdists, f"hls4ml-{HLS4ML}.tar.gz")
    if not os.path.exists(tar):
        os.makedirs(sdists, exist_ok=True)
        subprocess.check_call([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                               f"hls4ml=={HLS4ML}", "-d", sdists])
    prefix = f"hls4ml-{HLS4ML}/test/pytest/baselines/Vitis/2024.1/"
    out = {}
    with tarfile.open(tar) as t:
        for m in t.getmembers():
            if m.name.startswith(prefix) and m.isfile():
                out[m.name[len(prefix):]] = t.extractfile(m).read().decode()
    return out


def holdout():
    refs = hls4ml_baselines()
    rng = np.random.default_rng(7)
    cases = {}
    # test_activations with io_stream: the same networks as the io_parallel ones.
    for a, net in activation_nets(rng):
        cases[f"activation_{a}_io_stream"] = (f"activations_io_stream-Vitis-{a}.json", net, config("stream"))
    # test_pooling with padding 'same': Keras pads at the end, and averages only real values.
    for kind, dims in [("average", 1), ("average", 2), ("max", 1), ("max", 2)]:
        shape = [121, 3] if dims == 1 else [18, 15, 3]
        k = [2] * dims
        ends = [(-(-n // 2) - 1) * 2 + 2 - n for n in shape[:-1]]
        w = {"kernel": k, "strides": k, "dilations": [1] * dims, "pads_begin": [0] * dims, "pads_end": ends}
        pool = {"name": "pool", "op": "pool", "inputs": ["x"], "kind": kind, "window": w, "count_include_pad": False}
        ref = f"pooling_Vitis-channels_last-same-{'Average' if kind == 'average' else 'Max'}Pooling{dims}D.json"
        cases[f"{kind}_pool_{dims}d_same"] = (ref, model(shape, [pool]), config("parallel"))
    # test_depthwise1d / 2d, io_stream: glorot_uniform depthwise kernels (fan in = fan out = the
    # kernel's taps), zero bias; the 2D one with every type fixed<32,12>.
    for dims, shape, precision in [(1, [32, 3], "ap_fixed<16,6>"), (2, [32, 32, 3], "ap_fixed<32,12>")]:
        k = [3] * dims
        taps = int(np.prod(k))
        lim = np.sqrt(6.0 / (2 * taps))
        wts = rng.uniform(-lim, lim, [3] + k + [1, 1])
        conv = {"name": "conv", "op": "conv", "inputs": ["x"], "groups": 3,
                "window": window(k, [1] * dims), "weights": tensor(wts), "bias": tensor(np.zeros(3))}
        cases[f"depthwise{dims}d_io_stream"] = (f"depthwise{dims}d_io_stream-Vitis.json", model(shape, [conv]),
                                               config("stream", precision))
    # test_conv2d, io_parallel, Resource, 'same', channels_last: 28x28x3, 32 filters 4x4 stride 4
    # (7x7 positions, already 'same'), Keras 'normal' kernels (stddev 0.05), no bias. hls4ml shares
    # one kernel across the positions (its default ParallelizationFactor 1), as hlsrs now does.
    wts = rng.normal(0.0, 0.05, [1, 4, 4, 3, 32])
    conv = {"name": "conv", "op": "conv", "inputs": ["x"], "groups": 1,
            "window": window([4, 4], [4, 4]), "weights": tensor(wts), "bias": tensor(np.zeros(32))}
    cases["conv2d_io_parallel_resource"] = ("conv2d_io_parallel-Vitis-Resource-same-channels_last.json",
                                            model([28, 28, 3], [conv]),
                                            config("parallel").replace('"latency"', '"resource"'))
    out = os.path.join(ROOT, "testdata", "estimator_holdout")
    for name, (ref, net, cfg) in cases.items():
        write_case(out, name, refs[PREFIX + ref], net, cfg)


def main():
    holdout()
    rng = np.random.default_rng(6)
    cases = {}
    # Dense(2), weights uniform in [1, 10], zero bias, then ELU (alpha 1).
    w = rng.uniform(1, 10, (1, 2))
    net = model([1], [dense("dense", "x", w, np.zeros(2)), act("elu", "dense", "elu", alpha=1.0)])
    cases["dense_io_parallel"] = ("dense_io_parallel-Vitis.json", net, "parallel")
    cases["dense_io_stream"] = ("dense_io_stream-Vitis.json", net, "stream")
    for a, net in activation_nets(rng):
        cases[f"activation_{a}"] = (f"activations_io_parallel-Vitis-{a}.json", net, "parallel")
    # A single pooling layer, pool 2, stride 2, valid padding.
    for kind, dims in [("average", 1), ("average", 2), ("max", 1), ("max", 2)]:
        shape = [121, 3] if dims == 1 else [18, 15, 3]
        k = [2] * dims
        pool = {"name": "pool", "op": "pool", "inputs": ["x"], "kind": kind, "window": window(k, k)}
        ref = f"pooling_Vitis-channels_last-valid-{'Average' if kind == 'average' else 'Max'}Pooling{dims}D.json"
        cases[f"{kind}_pool_{dims}d"] = (ref, model(shape, [pool]), "parallel")
    for name, (ref, net, io) in cases.items():
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "model.json"), "w") as f:
            json.dump(net, f, indent=1)
            f.write("\n")
        with open(os.path.join(d, "config.toml"), "w") as f:
            f.write(f'# hls4ml\'s defaults of the reference run\npart = "xcvu13p"\nclock = 5.0\nprecision = "ap_fixed<16,6>"\nreuse = 1\nstrategy = "latency"\nio = "{io}"\n')
        shutil.copyfile(os.path.join(REF, PREFIX + ref), os.path.join(d, "reference.json"))


if __name__ == "__main__":
    main()
