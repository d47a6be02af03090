#!/usr/bin/env python3
"""Rebuilds the networks of ../shared/reference/vitis-csynth (real Vitis HLS 2024.1 results of
hls4ml designs, see that folder's README) as hlsrs JSON models with seeded weights of the same
distributions, each beside its reference result (copied unchanged), for the estimator's
calibration test (tests/estimate.rs). Needs only numpy. Never edit the outputs by hand.
"""
import json
import os
import shutil

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


def main():
    rng = np.random.default_rng(6)
    cases = {}
    # Dense(2), weights uniform in [1, 10], zero bias, then ELU (alpha 1).
    w = rng.uniform(1, 10, (1, 2))
    net = model([1], [dense("dense", "x", w, np.zeros(2)), act("elu", "dense", "elu", alpha=1.0)])
    cases["dense_io_parallel"] = ("dense_io_parallel-Vitis.json", net, "parallel")
    cases["dense_io_stream"] = ("dense_io_stream-Vitis.json", net, "stream")
    # Dense(64), lecun_uniform (limit sqrt(3 / fan_in)), zero bias, then the activation.
    lim = np.sqrt(3.0)
    for a, layer in [
        ("relu", {"op": "relu"}),
        ("leaky_relu", {"op": "leaky_relu", "alpha": 1.0}),
        ("elu", {"op": "elu", "alpha": 1.0}),
        ("prelu", {"op": "p_relu", "slope": tensor(np.zeros(64))}),
        ("sigmoid", {"op": "sigmoid"}),
    ]:
        w = rng.uniform(-lim, lim, (1, 64))
        net = model([1], [dense("dense", "x", w, np.zeros(64)), act("act", "dense", **layer)])
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
