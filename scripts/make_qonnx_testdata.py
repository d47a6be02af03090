#!/usr/bin/env python3
"""Makes the QONNX test cases: models with Quant, BipolarQuant, Trunc and QuantizeLinear /
DequantizeLinear (QCDQ) nodes on weights, biases and activations, seeded inputs, and golden
outputs from qonnx's own execution (qonnx.core.onnx_exec, PyPI qonnx 1.0.0), which the hlsrs
fixed-point emulator must equal bit for bit. Also the real separable_conv_model_ch_last.onnx
from ../shared/models (a 512x512x3 image, qonnx channels-last Convs) with two seeded images.

Run through scripts/make_qonnx_testdata.sh (a venv with qonnx). Never edit the outputs by hand.
"""
import json
import os
import random
import shutil

import numpy as np
import onnxruntime as ort
import onnx
from onnx import TensorProto, helper, numpy_helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.transformation.channels_last import ConvertToChannelsLastAndClean
from qonnx.transformation.infer_shapes import InferShapes

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTDATA = os.path.join(ROOT, "testdata")
SHARED = os.path.join(ROOT, "..", "shared", "models")
N_SAMPLES = 500
ort.set_default_logger_severity(3)
QDOMAIN = "qonnx.custom_op.general"


def qonnx_run(model, x):
    """qonnx's execution, one sample at a time (the models declare batch 1)."""
    w = ModelWrapper(onnx.ModelProto.FromString(model.SerializeToString())).transform(InferShapes())
    iname, oname = w.graph.input[0].name, w.graph.output[0].name
    return np.concatenate(
        [execute_onnx(w, {iname: x[i : i + 1]})[oname] for i in range(x.shape[0])]
    ).astype(np.float32)


def write_case(name, model, inputs, golden, meta):
    d = os.path.join(TESTDATA, name)
    os.makedirs(d, exist_ok=True)
    if isinstance(model, str):
        shutil.copyfile(model, os.path.join(d, "model.onnx"))
    else:
        onnx.save(model, os.path.join(d, "model.onnx"))
    np.save(os.path.join(d, "input.npy"), inputs.astype(np.float32))
    np.save(os.path.join(d, "golden.npy"), golden.astype(np.float32))
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump(meta, f, indent=2, sort_keys=True)
        f.write("\n")


class Builder:
    """A graph under construction: initializers and nodes with generated names."""

    def __init__(self):
        self.nodes, self.inits, self.k = [], [], 0

    def const(self, value, name=None):
        self.k += 1
        name = name or f"c{self.k}"
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=np.float32), name))
        return name

    def node(self, op, inputs, domain="", **attrs):
        self.k += 1
        out = f"t{self.k}"
        self.nodes.append(helper.make_node(op, inputs, [out], name=f"{op.lower()}_{self.k}", domain=domain, **attrs))
        return out

    def quant(self, x, scale, bits, signed=1, narrow=0, mode="ROUND", zeropt=0.0):
        return self.node(
            "Quant",
            [x, self.const(scale), self.const(zeropt), self.const(float(bits))],
            domain=QDOMAIN,
            signed=signed,
            narrow=narrow,
            rounding_mode=mode,
        )

    def bipolar(self, x, scale):
        return self.node("BipolarQuant", [x, self.const(scale)], domain=QDOMAIN)

    def trunc(self, x, scale, in_bits, out_bits, mode="FLOOR"):
        return self.node(
            "Trunc",
            [x, self.const(scale), self.const(0.0), self.const(float(in_bits)), self.const(float(out_bits))],
            domain=QDOMAIN,
            rounding_mode=mode,
        )

    def qcdq(self, x, scale, signed=True):
        zp_type = np.int8 if signed else np.uint8
        self.k += 1
        zp = f"zp{self.k}"
        self.inits.append(numpy_helper.from_array(np.zeros((), dtype=zp_type), zp))
        s = self.const(scale)
        q = self.node("QuantizeLinear", [x, s, zp])
        return self.node("DequantizeLinear", [q, s, zp])

    def model(self, x_shape, out, out_shape, domains=()):
        g = helper.make_graph(
            self.nodes,
            "qonnx_case",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
            [helper.make_tensor_value_info(out, TensorProto.FLOAT, out_shape)],
            self.inits,
        )
        m = helper.make_model(
            g,
            opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid(QDOMAIN, 1)]
            + [helper.make_opsetid(d, 1) for d in domains],
            producer_name="hlsrs make_qonnx_testdata.py",
        )
        m.ir_version = 8
        return m


def dense_case(rng):
    """Dense layers: 8-bit input, per-channel power-of-two weight scales at 4 and 2 bits (narrow),
    a quantized bias, unsigned narrow 4-bit CEIL activations, HALF_UP, signed narrow UP and
    HALF_DOWN quantizers."""
    b = Builder()
    x = b.quant("x", 2.0**-4, 8)
    w1 = b.quant(b.const(rng.normal(0, 0.5, (16, 12))), 2.0 ** -rng.integers(1, 4, (1, 12)).astype(np.float32), 4)
    h = b.node("MatMul", [x, w1])
    h = b.node("Add", [h, b.quant(b.const(rng.normal(0, 0.5, 12)), 2.0**-5, 8)])
    h = b.node("Relu", [h])
    h = b.quant(h, 2.0**-2, 4, signed=0, narrow=1, mode="CEIL")
    w2 = b.quant(b.const(rng.normal(0, 1.0, (12, 10))), 0.5, 2, narrow=1)
    h = b.node("MatMul", [h, w2])
    h = b.quant(h, 2.0**-3, 8, mode="HALF_UP")
    h = b.node("LeakyRelu", [h], alpha=0.125)
    h = b.quant(h, 2.0**-2, 6, narrow=1, mode="UP")
    w3 = b.quant(b.const(rng.normal(0, 0.5, (10, 5))), 2.0**-3, 6, narrow=1)
    h = b.node("MatMul", [h, w3])
    out = b.quant(h, 2.0**-4, 10, mode="HALF_DOWN")
    return b.model([1, 16], out, [1, 5])


def conv_case(rng):
    """Convolutions: 6-bit input, 3-bit weights with per-output-channel scales, Trunc, a
    BipolarQuant layer (and bipolar weights), a dense head."""
    b = Builder()
    x = b.quant("x", 2.0**-3, 6)
    w1 = b.quant(b.const(rng.normal(0, 0.5, (4, 2, 3, 3))), 2.0 ** -rng.integers(1, 4, (4, 1, 1, 1)).astype(np.float32), 3)
    h = b.node("Conv", [x, w1, b.quant(b.const(rng.normal(0, 0.5, 4)), 2.0**-4, 8)], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    h = b.node("Relu", [h])
    h = b.quant(h, 2.0**-4, 8, signed=0, mode="DOWN")
    h = b.trunc(h, 2.0**-4, 8, 5)
    w2 = b.bipolar(b.const(rng.normal(0, 1, (3, 4, 3, 3))), 0.25)
    h = b.node("Conv", [h, w2], kernel_shape=[3, 3], strides=[2, 2])
    h = b.bipolar(h, 1.0)
    h = b.node("Flatten", [h])
    w3 = b.quant(b.const(rng.normal(0, 0.5, (27, 4))), 2.0**-3, 5)
    h = b.node("MatMul", [h, w3])
    out = b.quant(h, 2.0**-3, 9)
    return b.model([1, 2, 7, 7], out, [1, 4])


CHANNELS_LAST = "qonnx.custom_op.channels_last"


def channels_last_case(rng):
    """qonnx's channels-last Conv and MaxPool, made as hls4ml's tiny_unet_ch_last and
    branched_model_ch_last were: a channels-first QONNX model (Conv, LeakyRelu, MaxPool, a
    Flatten into a MatMul) through qonnx's ConvertToChannelsLastAndClean with the input made
    channels-last too."""
    b = Builder()
    x = b.quant("x", 2.0**-3, 6)
    w1 = b.quant(b.const(rng.normal(0, 0.5, (4, 2, 3, 3))), 2.0**-3, 4)
    bias = b.quant(b.const(rng.normal(0, 0.5, 4)), 2.0**-4, 8)
    h = b.node("Conv", [x, w1, bias], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1],
               dilations=[1, 1], group=1)
    h = b.node("LeakyRelu", [h], alpha=0.125)
    h = b.quant(h, 2.0**-4, 8)
    h = b.node("MaxPool", [h], kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 0, 0])
    h = b.quant(h, 2.0**-4, 8)
    h = b.node("Flatten", [h])
    w2 = b.quant(b.const(rng.normal(0, 0.3, (64, 3))), 2.0**-4, 6)
    h = b.node("MatMul", [h, w2])
    out = b.quant(h, 2.0**-3, 9)
    w = ModelWrapper(b.model([1, 2, 8, 8], out, [1, 3])).transform(InferShapes())
    w = w.transform(ConvertToChannelsLastAndClean(make_input_channels_last=True))
    return w.model


def qcdq_case(rng):
    """QuantizeLinear / DequantizeLinear pairs (int8 and uint8, power-of-two scales) on the input,
    the weights and the activations."""
    b = Builder()
    x = b.qcdq("x", 2.0**-5)
    w1 = b.qcdq(b.const(rng.normal(0, 0.5, (8, 16))), 2.0**-6)
    h = b.node("MatMul", [x, w1])
    h = b.node("Relu", [h])
    h = b.qcdq(h, 2.0**-4, signed=False)
    w2 = b.qcdq(b.const(rng.normal(0, 0.5, (16, 3))), 2.0**-6)
    h = b.node("MatMul", [h, w2])
    out = b.qcdq(h, 2.0**-3)
    return b.model([1, 8], out, [1, 3])


def error_cases():
    """Quantizers on data that no fixed-point type reproduces exactly: refused, with the reason."""
    d = os.path.join(TESTDATA, "errors")
    os.makedirs(d, exist_ok=True)
    for name, kwargs in [
        ("qonnx_scale", dict(scale=0.3, bits=8)),
        ("qonnx_zero_point", dict(scale=0.25, bits=8, zeropt=3.0)),
        ("qonnx_channel_scales", dict(scale=np.array([[0.25, 0.5, 0.25, 0.5]], np.float32), bits=8)),
    ]:
        b = Builder()
        out = b.quant("x", **kwargs)
        onnx.save(b.model([1, 4], out, [1, 4]), os.path.join(d, name + ".onnx"))


def main():
    rng = np.random.default_rng(5)
    error_cases()
    for name, build, shape, what in [
        ("qonnx_dense", dense_case, (16,), "QONNX Quant on input, weights (per-channel), bias and activations"),
        ("qonnx_conv", conv_case, (2, 7, 7), "QONNX Quant, Trunc and BipolarQuant around convolutions"),
        ("qonnx_qcdq", qcdq_case, (8,), "QuantizeLinear/DequantizeLinear (QCDQ) pairs"),
    ]:
        model = build(rng)
        x = rng.normal(0, 1.5, (N_SAMPLES,) + shape).astype(np.float32)
        golden = qonnx_run(model, x)
        write_case(name, model, x, golden, {
            "classifier": False,
            "golden": "qonnx 1.0.0 execute_onnx",
            "input": "normal(0, 1.5), seeded",
            "source": f"generated by scripts/make_qonnx_testdata.py (seeded): {what}",
        })
    # Drawn from its own generator, so the cases above keep their data.
    rng_cl = np.random.default_rng(6)
    # qonnx names the tensors it adds with Python's random module: seeded, so reruns give the
    # same file.
    random.seed(6)
    model = channels_last_case(rng_cl)
    assert [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim] == [1, 8, 8, 2]
    assert {n.op_type for n in model.graph.node if n.domain == CHANNELS_LAST} == {"Conv", "MaxPool"}
    x = rng_cl.normal(0, 1.5, (N_SAMPLES, 8, 8, 2)).astype(np.float32)
    write_case("qonnx_channels_last", model, x, qonnx_run(model, x), {
        "classifier": False,
        "golden": "qonnx 1.0.0 execute_onnx",
        "input": "normal(0, 1.5), seeded",
        "source": "generated by scripts/make_qonnx_testdata.py (seeded): qonnx channels-last Conv and MaxPool, LeakyRelu, Flatten of NHWC data",
    })
    # The real model: one 512x512x3 channels-last image (the golden run is slow, and its output is
    # 16 MB: stored as an FNV-1a 64 digest of its float32 bytes plus its first rows).
    src = os.path.join(SHARED, "separable_conv_model_ch_last.onnx")
    x = rng.uniform(-0.6, 0.6, (1, 512, 512, 3)).astype(np.float32)
    golden = qonnx_run(onnx.load(src), x)
    write_digest_case("qonnx_separable_conv", src, x, golden, "qonnx 1.0.0 execute_onnx")
    real_channels_last_models()


def real_channels_last_models():
    """The two qonnx channels-last models of hls4ml's example-models (a 256x256x3 image each), one
    seeded image each; stored as the separable model is (digest and first rows). qonnx 1.0.0
    runs a channels-last MaxPool through an ONNX Runtime session that rejects its `ceil_mode`
    attribute, so the golden run drops `ceil_mode = 0` (the default: same meaning) from a copy;
    the committed model is the file as published."""
    rng = np.random.default_rng(7)
    for name, case in [("tiny_unet_ch_last", "qonnx_tiny_unet"), ("branched_model_ch_last", "qonnx_branched")]:
        src = os.path.join(SHARED, name + ".onnx")
        model = onnx.load(src)
        for n in model.graph.node:
            if n.op_type == "MaxPool":
                keep = [a for a in n.attribute if not (a.name == "ceil_mode" and a.i == 0)]
                del n.attribute[:]
                n.attribute.extend(keep)
        x = rng.uniform(-0.6, 0.6, (1, 256, 256, 3)).astype(np.float32)
        golden = qonnx_run(model, x)
        write_digest_case(case, src, x, golden,
                          "qonnx 1.0.0 execute_onnx (ceil_mode = 0 dropped from MaxPool nodes of a copy)")


def write_digest_case(case, src, x, golden, how):
    """A real model too large for the every-case matrix: the published file, its input, and
    qonnx's output as an FNV-1a 64 digest of its float32 bytes plus its first rows."""
    d = os.path.join(TESTDATA, case)
    os.makedirs(d, exist_ok=True)
    shutil.copyfile(src, os.path.join(d, "model.onnx"))
    np.save(os.path.join(d, "input.npy"), x)
    np.save(os.path.join(d, "golden_head.npy"), golden[:, :4])
    with open(os.path.join(d, "about.json"), "w") as f:
        json.dump({
            "golden": how,
            "golden_fnv1a64": "%016x" % fnv1a64(golden.astype("<f4").tobytes()),
            "golden_shape": list(golden.shape),
            "input": "uniform(-0.6, 0.6), seeded",
            "source": f"../shared/models/{os.path.basename(src)} (hls4ml example-models)",
            "note": "no case.json: too large for the every-case matrix; tests/qonnx.rs runs it as a stream design",
        }, f, indent=2, sort_keys=True)
        f.write("\n")


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


if __name__ == "__main__":
    main()
