#!/usr/bin/env python3
"""Makes every test case under testdata/: models, seeded inputs and golden outputs.

Run through scripts/make_testdata.sh (which provides a venv with onnx + onnxruntime). Each case is a
folder testdata/<case>/ with:
  model.onnx   the model (copied from ../shared/models or generated here, seeded)
  input.npy    float32 [N, ...] seeded inputs
  golden.npy   float32 [N, ...] outputs of ONNX Runtime (or numpy where ORT cannot run the model)
  case.json    what the case is, where its golden output comes from, whether it is a classifier
Re-running gives byte-identical files. Never edit the outputs by hand.
"""
import json
import os
import shutil
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTDATA = os.path.join(ROOT, "testdata")
SHARED = os.path.join(ROOT, "..", "shared", "models")
N_SAMPLES = 500


def write_case(name, model_path_or_proto, inputs, golden, meta):
    d = os.path.join(TESTDATA, name)
    os.makedirs(d, exist_ok=True)
    dst = os.path.join(d, "model.onnx")
    if isinstance(model_path_or_proto, str):
        shutil.copyfile(model_path_or_proto, dst)
    else:
        onnx.save(model_path_or_proto, dst)
    np.save(os.path.join(d, "input.npy"), inputs.astype(np.float32))
    np.save(os.path.join(d, "golden.npy"), golden.astype(np.float32))
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump(meta, f, indent=2, sort_keys=True)
        f.write("\n")


def ort_run(path_or_proto, x):
    model = onnx.load(path_or_proto) if isinstance(path_or_proto, str) else path_or_proto
    model = onnx.ModelProto.FromString(model.SerializeToString())
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    dim0 = model.graph.input[0].type.tensor_type.shape.dim[0]
    if dim0.HasField("dim_value") and dim0.dim_value == 1:
        # Keras exports with a batch of one (some flatten the batch in): one sample at a time.
        sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
        name = sess.get_inputs()[0].name
        return np.concatenate([sess.run(None, {name: row[None].astype(np.float32)})[0] for row in x])
    # PyTorch exports carry a fixed batch of 789444: run ORT on a copy with a symbolic batch instead
    # (the committed model.onnx keeps the original).
    for vi in list(model.graph.input) + list(model.graph.output):
        vi.type.tensor_type.shape.dim[0].dim_param = "N"
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    return sess.run(None, {inp.name: x.astype(np.float32)})[0]


def shared_case(name, n_features, classifier, rng):
    shape = n_features if isinstance(n_features, tuple) else (n_features,)
    x = rng.standard_normal((N_SAMPLES,) + shape).astype(np.float32)
    src = os.path.join(SHARED, name + ".onnx")
    y = ort_run(src, x)
    write_case(name, src, x, y, {
        "source": f"../shared/models/{name}.onnx (hls4ml example-models, onnx/)",
        "golden": "onnxruntime " + ort.__version__,
        "classifier": classifier,
        "input": "standard normal, seeded",
    })


def bn_keras_case(rng):
    """three_layer_bn_keras: ORT refuses it (BatchNormalization on a [64,1] transposed tensor with 64
    scales). Its authors meant per-feature batch normalisation; the golden output is computed with
    numpy from the stored parameters with that meaning."""
    name = "three_layer_bn_keras"
    src = os.path.join(SHARED, name + ".onnx")
    m = onnx.load(src)
    init = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in m.graph.initializer}
    eps = [a.f for n in m.graph.node if n.op_type == "BatchNormalization" for a in n.attribute
           if a.name == "epsilon"]
    x = rng.standard_normal((N_SAMPLES, 16)).astype(np.float32)
    h = x.astype(np.float64)
    suffixes = ["", "1", "2", "3"]
    for i, s in enumerate(suffixes):
        h = h @ init["W" + s] + init["B" + s]
        sc, b, mu, var = (init[k + s] for k in ("scale", "bias", "mean", "var"))
        h = (h - mu) / np.sqrt(var + np.float64(np.float32(eps[i]))) * sc + b
        if i < 3:
            h = np.maximum(h, 0.0)
    h = h - h.max(axis=1, keepdims=True)
    y = np.exp(h) / np.exp(h).sum(axis=1, keepdims=True)
    write_case(name, src, x, y, {
        "source": f"../shared/models/{name}.onnx (hls4ml example-models, onnx/)",
        "golden": "numpy (float64) from the stored parameters: ONNX Runtime refuses this invalid "
                  "keras2onnx export; per-feature BatchNormalization as its authors meant",
        "classifier": True,
        "input": "standard normal, seeded",
    })


def tensor(name, arr):
    return numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name)


def make_model(nodes, inits, in_shape, out_shape, opset, batch="N", name="g"):
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch] + list(in_shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch] + list(out_shape))],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="hlsrs-testdata")
    model.ir_version = 7 if opset < 15 else 8
    onnx.checker.check_model(model)
    return model


def dense_weights(rng, n_in, n_out):
    w = rng.uniform(-1, 1, (n_in, n_out)) * np.sqrt(3.0 / n_in)
    b = rng.uniform(-0.2, 0.2, n_out)
    return w.astype(np.float32), b.astype(np.float32)


def mlp_activation_case(rng, act, opset):
    """16 -> 32 -> act -> 8 (-> softmax for a classifier head when act is not the output)."""
    w1, b1 = dense_weights(rng, 16, 32)
    w2, b2 = dense_weights(rng, 32, 8)
    inits = [tensor("w1", w1.T), tensor("b1", b1), tensor("w2", w2.T), tensor("b2", b2)]
    nodes = [helper.make_node("Gemm", ["x", "w1", "b1"], ["h1"], name="fc1", transB=1)]
    if act == "Clip":
        if opset >= 11:
            inits += [tensor("clip_lo", np.float32(-0.5)), tensor("clip_hi", np.float32(1.25))]
            nodes.append(helper.make_node("Clip", ["h1", "clip_lo", "clip_hi"], ["a1"], name="act1"))
        else:
            nodes.append(helper.make_node("Clip", ["h1"], ["a1"], name="act1", min=-0.5, max=1.25))
    elif act == "LeakyRelu":
        nodes.append(helper.make_node("LeakyRelu", ["h1"], ["a1"], name="act1", alpha=0.1))
    elif act == "HardSigmoid":
        nodes.append(helper.make_node("HardSigmoid", ["h1"], ["a1"], name="act1", alpha=0.25, beta=0.4))
    else:
        nodes.append(helper.make_node(act, ["h1"], ["a1"], name="act1"))
    nodes.append(helper.make_node("Gemm", ["a1", "w2", "b2"], ["h2"], name="fc2", transB=1))
    nodes.append(helper.make_node("Softmax", ["h2"], ["y"], name="softmax", axis=1 if opset < 13 else -1))
    return make_model(nodes, inits, [16], [8], opset)


def gemm_case(rng, trans_b, alpha, beta, opset):
    w1, b1 = dense_weights(rng, 12, 20)
    w2, b2 = dense_weights(rng, 20, 6)
    wa = w1.T if trans_b else w1
    wb = w2.T if trans_b else w2
    inits = [tensor("w1", wa / alpha), tensor("b1", b1 / beta), tensor("w2", wb), tensor("b2", b2)]
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h1"], name="gemm1", transB=trans_b, alpha=alpha, beta=beta),
        helper.make_node("Tanh", ["h1"], ["a1"], name="tanh1"),
        helper.make_node("Gemm", ["a1", "w2", "b2"], ["y"], name="gemm2", transB=trans_b, alpha=alpha, beta=beta),
    ]
    return make_model(nodes, inits, [12], [6], opset)


def matmul_add_case(rng, opset):
    w1, b1 = dense_weights(rng, 10, 24)
    w2, b2 = dense_weights(rng, 24, 4)
    inits = [tensor("w1", w1), tensor("b1", b1), tensor("w2", w2), tensor("b2", b2.reshape(1, 4))]
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["m1"], name="matmul1"),
        helper.make_node("Add", ["b1", "m1"], ["h1"], name="bias1"),  # constant first: either order
        helper.make_node("Relu", ["h1"], ["a1"], name="relu1"),
        helper.make_node("MatMul", ["a1", "w2"], ["m2"], name="matmul2"),
        helper.make_node("Add", ["m2", "b2"], ["y"], name="bias2"),
    ]
    return make_model(nodes, inits, [10], [4], opset)


def batchnorm_case(rng, opset):
    """A BatchNormalization first (standalone: nothing to fuse into) and one after a Gemm (fused)."""
    def bn_params(prefix, n):
        return [tensor(prefix + "_scale", rng.uniform(0.5, 2.0, n)), tensor(prefix + "_bias", rng.uniform(-0.5, 0.5, n)),
                tensor(prefix + "_mean", rng.uniform(-0.3, 0.3, n)), tensor(prefix + "_var", rng.uniform(0.5, 1.5, n))]
    w1, b1 = dense_weights(rng, 8, 16)
    w2, b2 = dense_weights(rng, 16, 5)
    inits = bn_params("bn0", 8) + bn_params("bn1", 16) + [tensor("w1", w1), tensor("b1", b1), tensor("w2", w2), tensor("b2", b2)]
    extra = {"spatial": 1} if opset < 9 else {}
    nodes = [
        helper.make_node("BatchNormalization", ["x", "bn0_scale", "bn0_bias", "bn0_mean", "bn0_var"], ["n0"], name="bn0", epsilon=1e-3, **extra),
        helper.make_node("Gemm", ["n0", "w1", "b1"], ["h1"], name="fc1"),
        helper.make_node("BatchNormalization", ["h1", "bn1_scale", "bn1_bias", "bn1_mean", "bn1_var"], ["n1"], name="bn1", **extra),
        helper.make_node("Relu", ["n1"], ["a1"], name="relu1"),
        helper.make_node("Gemm", ["a1", "w2", "b2"], ["h2"], name="fc2"),
        helper.make_node("Softmax", ["h2"], ["y"], name="softmax", axis=1),
    ]
    return make_model(nodes, inits, [8], [5], opset)


def shape_ops_case(rng, opset):
    """Every shape/identity op in one graph: Reshape, Transpose, Flatten, Unsqueeze, Squeeze,
    Identity, Dropout, Constant, an Add of a Constant, and an elementwise Add of two branches."""
    w1, b1 = dense_weights(rng, 16, 12)
    w2, b2 = dense_weights(rng, 16, 12)
    w3, b3 = dense_weights(rng, 12, 3)
    inits = [tensor("w1", w1), tensor("b1", b1), tensor("w2", w2), tensor("b2", b2), tensor("w3", w3), tensor("b3", b3),
             numpy_helper.from_array(np.array([-1, 4, 4], dtype=np.int64), "shape44")]
    const = rng.uniform(-0.3, 0.3, (1, 12)).astype(np.float32)
    if opset >= 13:
        inits.append(numpy_helper.from_array(np.array([1], dtype=np.int64), "ax1"))
        unsq = helper.make_node("Unsqueeze", ["h1", "ax1"], ["u1"], name="unsqueeze")
        sq = helper.make_node("Squeeze", ["u1", "ax1"], ["s1"], name="squeeze")
    else:
        unsq = helper.make_node("Unsqueeze", ["h1"], ["u1"], name="unsqueeze", axes=[1])
        sq = helper.make_node("Squeeze", ["u1"], ["s1"], name="squeeze", axes=[1])
    nodes = [
        helper.make_node("Reshape", ["x", "shape44"], ["r"], name="reshape"),
        helper.make_node("Transpose", ["r"], ["t"], name="transpose", perm=[0, 2, 1]),
        helper.make_node("Flatten", ["t"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "w1", "b1"], ["h1"], name="fc1"),
        unsq, sq,
        helper.make_node("Identity", ["s1"], ["i1"], name="identity"),
        helper.make_node("Dropout", ["i1"], ["d1"], name="dropout"),
        helper.make_node("Constant", [], ["c1"], name="const", value=tensor("c1v", const)),
        helper.make_node("Add", ["d1", "c1"], ["h1c"], name="add_const"),
        helper.make_node("Relu", ["h1c"], ["a1"], name="relu1"),
        helper.make_node("Gemm", ["x", "w2", "b2"], ["h2"], name="fc_skip"),
        helper.make_node("Add", ["a1", "h2"], ["sum"], name="add_branches"),
        helper.make_node("Gemm", ["sum", "w3", "b3"], ["h3"], name="fc_out"),
        helper.make_node("Softmax", ["h3"], ["y"], name="softmax", axis=1 if opset < 13 else -1),
    ]
    return make_model(nodes, inits, [16], [3], opset)


def generated_case(name, model, n_features, classifier, rng, what, **extra):
    shape = n_features if isinstance(n_features, tuple) else (n_features,)
    x = rng.standard_normal((N_SAMPLES,) + shape).astype(np.float32)
    y = ort_run(model, x)
    write_case(name, model, x, y, {
        **extra,
        "source": "generated by scripts/make_testdata.py (seeded)",
        "what": what,
        "golden": "onnxruntime " + ort.__version__,
        "classifier": classifier,
        "input": "standard normal, seeded",
        "opset": model.opset_import[0].version,
    })


def external_data_case(rng):
    """An MLP whose weights live in an external data file beside the model."""
    from onnx.external_data_helper import convert_model_to_external_data
    model = mlp_activation_case(rng, "Relu", 13)
    d = os.path.join(TESTDATA, "external_data")
    os.makedirs(d, exist_ok=True)
    x = rng.standard_normal((N_SAMPLES, 16)).astype(np.float32)
    y = ort_run(model, x)
    convert_model_to_external_data(model, all_tensors_to_one_file=True, location="weights.bin",
                                   size_threshold=0)
    # onnx appends to an existing data file: start from nothing so re-runs are byte-identical.
    if os.path.exists(os.path.join(d, "weights.bin")):
        os.remove(os.path.join(d, "weights.bin"))
    onnx.save(model, os.path.join(d, "model.onnx"))
    np.save(os.path.join(d, "input.npy"), x)
    np.save(os.path.join(d, "golden.npy"), y.astype(np.float32))
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump({"source": "generated by scripts/make_testdata.py (seeded)",
                   "what": "Gemm -> Relu -> Gemm -> Softmax with every initializer in weights.bin (external data)",
                   "golden": "onnxruntime " + ort.__version__, "classifier": True,
                   "input": "standard normal, seeded", "opset": 13}, f, indent=2, sort_keys=True)
        f.write("\n")


def opset6_case(rng):
    """Opset 6 (the oldest supported) with initializers in float_data instead of raw_data, Gemm's
    opset-6 'broadcast' attribute and BatchNormalization's 'is_test'. ONNX Runtime runs no opset-6
    Gemm, so the golden output comes from ORT on the same graph stamped opset 7 (these ops mean the
    same in 6 and 7 once 'broadcast'/'is_test' are dropped)."""
    w1, b1 = dense_weights(rng, 10, 12)
    w2, b2 = dense_weights(rng, 12, 3)
    def fd(name, a):
        a = np.asarray(a, dtype=np.float32)
        return helper.make_tensor(name, TensorProto.FLOAT, a.shape, a.ravel().tolist(), raw=False)
    bn = [fd("s", rng.uniform(0.5, 1.5, 12)), fd("bb", rng.uniform(-0.2, 0.2, 12)),
          fd("mu", rng.uniform(-0.2, 0.2, 12)), fd("var", rng.uniform(0.5, 1.5, 12))]
    inits = [fd("w1", w1), fd("b1", b1), fd("w2", w2), fd("b2", b2)] + bn
    def build(opset):
        extra = {"broadcast": 1} if opset == 6 else {}
        bn_extra = {"is_test": 1} if opset == 6 else {}
        nodes = [
            helper.make_node("Gemm", ["x", "w1", "b1"], ["h1"], name="fc1", **extra),
            helper.make_node("BatchNormalization", ["h1", "s", "bb", "mu", "var"], ["n1"], name="bn1", **bn_extra),
            helper.make_node("Sigmoid", ["n1"], ["a1"], name="sig1"),
            helper.make_node("Gemm", ["a1", "w2", "b2"], ["h2"], name="fc2", **extra),
            helper.make_node("Softmax", ["h2"], ["y"], name="softmax"),
        ]
        g = helper.make_graph(nodes, "opset6", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 10])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])], initializer=inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="hlsrs-testdata")
        m.ir_version = 3
        return m
    m6, m7 = build(6), build(7)
    x = rng.standard_normal((N_SAMPLES, 10)).astype(np.float32)
    y = ort_run(m7, x)
    write_case("opset6_float_data", m6, x, y, {
        "source": "generated by scripts/make_testdata.py (seeded)",
        "what": "opset 6, initializers in float_data, Gemm broadcast=1, BatchNormalization is_test=1",
        "golden": "onnxruntime " + ort.__version__ + " on the same graph stamped opset 7 (ORT runs no opset-6 Gemm)",
        "classifier": True, "input": "standard normal, seeded", "opset": 6,
    })


def conv_weights(rng, cout, cin_g, k):
    fan_in = cin_g * int(np.prod(k))
    w = rng.uniform(-1, 1, (cout, cin_g) + tuple(k)) * np.sqrt(3.0 / fan_in)
    return w.astype(np.float32), rng.uniform(-0.2, 0.2, cout).astype(np.float32)


# Set while building the channels-last twin of a model (see conv_model).
NHWC = {"on": False}


def conv_model(name, rng, in_shape, build, opset=13, classifier=True, what="", twin=True, extra=None):
    """build(x, add_init, nodes) -> output tensor name and its shape; wraps a graph around it.
    With `twin`, also writes <name>_nhwc: the same network as Keras exports it (NHWC input, a
    Transpose to NCHW first, a Transpose back to NHWC before the Flatten)."""
    conv_model_one(name, rng, in_shape, build, opset, classifier, what, nhwc=False, extra=extra)
    if twin:
        NHWC["on"] = True
        NHWC["rank"] = len(in_shape) + 1
        try:
            nhwc_shape = list(in_shape[1:]) + [in_shape[0]]
            conv_model_one(name + "_nhwc", rng, nhwc_shape, build, opset, classifier,
                           what + " (channels-last twin: NHWC input and Transposes, as keras2onnx writes)", nhwc=True)
        finally:
            NHWC["on"] = False


def conv_model_one(name, rng, in_shape, build, opset, classifier, what, nhwc, extra=None):
    inits, nodes = [], []
    counter = [0]

    def add_init(arr, dtype=np.float32):
        counter[0] += 1
        n = f"p{counter[0]}"
        inits.append(numpy_helper.from_array(np.asarray(arr, dtype=dtype), n))
        return n

    if nhwc:
        nodes.append(helper.make_node("Transpose", ["x"], ["x_nchw"], name="to_nchw",
                                      perm=[0, len(in_shape)] + list(range(1, len(in_shape)))))
        out, out_shape = build("x_nchw", add_init, nodes)
    else:
        out, out_shape = build("x", add_init, nodes)
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N"] + list(in_shape))],
                          [helper.make_tensor_value_info(out, TensorProto.FLOAT, ["N"] + list(out_shape))],
                          initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="hlsrs-testdata")
    m.ir_version = 8
    onnx.checker.check_model(m)
    n_in = int(np.prod(in_shape))
    x = rng.standard_normal((N_SAMPLES,) + tuple(in_shape)).astype(np.float32)
    y = ort_run(m, x)
    write_case(name, m, x, y, {
        "source": "generated by scripts/make_testdata.py (seeded)",
        "what": what,
        "golden": "onnxruntime " + ort.__version__,
        "classifier": classifier,
        "input": "standard normal, seeded",
        "opset": opset,
        **(extra or {}),
    })


def head(x, n_in, n_out, add_init, nodes, rng, tag):
    """Flatten -> Gemm -> Softmax (after a Transpose back to channels-last in an NHWC twin)."""
    w, b = dense_weights(rng, n_in, n_out)
    if NHWC["on"]:
        rank = NHWC["rank"]
        nodes.append(helper.make_node("Transpose", [x], [tag + "_nhwc"], name=tag + "_to_nhwc",
                                      perm=[0] + list(range(2, rank)) + [1]))
        x = tag + "_nhwc"
    nodes.append(helper.make_node("Flatten", [x], [tag + "_flat"], name=tag + "_flatten", axis=1))
    nodes.append(helper.make_node("Gemm", [tag + "_flat", add_init(w), add_init(b)], [tag + "_logits"], name=tag + "_fc"))
    nodes.append(helper.make_node("Softmax", [tag + "_logits"], ["y"], name=tag + "_softmax", axis=-1))
    return "y", [n_out]


def conv_cases(rng):
    shared_case("conv1d_small_keras", (10, 4), True, rng)
    shared_case("conv2d_small_keras", (8, 8, 1), True, rng)
    def conv(nodes, add_init, x, out, cout, cin_g, k, group=1, bias=True, **attrs):
        w, b = conv_weights(rng, cout, cin_g, k)
        ins = [x, add_init(w)] + ([add_init(b)] if bias else [])
        nodes.append(helper.make_node("Conv", ins, [out], name=out, group=group, **attrs))
        return out

    # 1D, PyTorch layout: stride 2 with uneven padding, dilation, SAME_UPPER, max and average pools.
    def c1(x, add_init, nodes):
        h = conv(nodes, add_init, x, "conv_a", 6, 4, [3], strides=[2], pads=[1, 0])       # 20 -> 10
        nodes.append(helper.make_node("Relu", [h], ["r_a"], name="relu_a"))
        nodes.append(helper.make_node("MaxPool", ["r_a"], ["mp"], name="maxpool", kernel_shape=[2], strides=[2]))  # 5
        h = conv(nodes, add_init, "mp", "conv_b", 6, 6, [3], dilations=[2], pads=[2, 2])
        nodes.append(helper.make_node("AveragePool", [h], ["ap"], name="avgpool", kernel_shape=[3], strides=[1],
                                      pads=[1, 1], count_include_pad=0))
        h = conv(nodes, add_init, "ap", "conv_c", 6, 6, [2], auto_pad="SAME_UPPER")
        return head(h, 30, 5, add_init, nodes, rng, "head")
    conv_model("conv1d_nchw", rng, [4, 20], c1, what="PyTorch-layout Conv1D: stride 2, pads [1,0], dilation 2, SAME_UPPER with an even kernel, MaxPool, AveragePool (count_include_pad=0), Flatten after conv")

    # 2D, PyTorch layout, odd non-square input, stride 2, uneven pads, BN, depthwise + pointwise,
    # AveragePool with count_include_pad=1, global average pool.
    def c2(x, add_init, nodes):
        h = conv(nodes, add_init, x, "conv1", 8, 3, [3, 3], strides=[2, 2], pads=[1, 0, 0, 1])   # 11x9 -> 5x5
        bn = [add_init(rng.uniform(0.5, 1.5, 8)), add_init(rng.uniform(-0.2, 0.2, 8)),
              add_init(rng.uniform(-0.2, 0.2, 8)), add_init(rng.uniform(0.5, 1.5, 8))]
        nodes.append(helper.make_node("BatchNormalization", [h] + bn, ["bn1"], name="bn1"))
        nodes.append(helper.make_node("Relu", ["bn1"], ["r1"], name="relu1"))
        h = conv(nodes, add_init, "r1", "depthwise", 16, 1, [3, 3], group=8, pads=[1, 1, 1, 1])  # multiplier 2
        h = conv(nodes, add_init, h, "pointwise", 6, 16, [1, 1])
        nodes.append(helper.make_node("Relu", [h], ["r2"], name="relu2"))
        nodes.append(helper.make_node("AveragePool", ["r2"], ["ap"], name="avgpool", kernel_shape=[2, 2], strides=[2, 2],
                                      pads=[0, 0, 1, 1], count_include_pad=1))                  # 3x3
        nodes.append(helper.make_node("GlobalAveragePool", ["ap"], ["gap"], name="gap"))
        return head("gap", 6, 4, add_init, nodes, rng, "head")
    conv_model("conv2d_nchw", rng, [3, 11, 9], c2, what="PyTorch-layout Conv2D 11x9, stride 2, pads [1,0,0,1], BatchNormalization, depthwise (multiplier 2) + pointwise, AveragePool count_include_pad=1, GlobalAveragePool")

    # 2D, Keras layout: NHWC input wrapped in Transposes, SAME_LOWER with stride 2, MaxPool with
    # ceil_mode, Flatten after the transpose back.
    def c3(x, add_init, nodes):
        nodes.append(helper.make_node("Transpose", [x], ["xt"], name="to_nchw", perm=[0, 3, 1, 2]))
        h = conv(nodes, add_init, "xt", "conv1", 4, 2, [3, 3], strides=[2, 2], auto_pad="SAME_LOWER")  # 10x12 -> 5x6
        nodes.append(helper.make_node("Relu", [h], ["r1"], name="relu1"))
        nodes.append(helper.make_node("MaxPool", ["r1"], ["mp"], name="maxpool", kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1))  # 3x3
        nodes.append(helper.make_node("Transpose", ["mp"], ["back"], name="to_nhwc", perm=[0, 2, 3, 1]))
        return head("back", 36, 5, add_init, nodes, rng, "head")
    conv_model("conv2d_channels_last", rng, [10, 12, 2], c3, twin=False, what="Keras-layout Conv2D: NHWC input in Transposes, SAME_LOWER stride 2, MaxPool ceil_mode, Flatten after the transpose back")

    # 2D, PyTorch layout, Flatten straight after a convolution (the next Dense's weights are
    # permuted), GlobalMaxPool in a side branch, Concat on channels, constant Sub/Mul/Div.
    def c4(x, add_init, nodes):
        h = conv(nodes, add_init, x, "conv1", 4, 2, [3, 3], pads=[1, 1, 1, 1], bias=False)
        nodes.append(helper.make_node("Mul", [h, add_init(np.float32(0.5))], ["m"], name="mul_half"))
        nodes.append(helper.make_node("Sub", ["m", add_init(rng.uniform(-0.3, 0.3, (4, 1, 1)))], ["s"], name="sub_channel"))
        nodes.append(helper.make_node("Div", ["s", add_init(np.float32(0.75))], ["d"], name="div_const"))
        nodes.append(helper.make_node("Relu", ["d"], ["r"], name="relu1"))
        b = conv(nodes, add_init, x, "conv_side", 2, 2, [1, 1])
        nodes.append(helper.make_node("Concat", ["r", b], ["cat"], name="concat", axis=1))     # 6 channels
        h = conv(nodes, add_init, "cat", "conv2", 3, 6, [2, 2], strides=[2, 2], auto_pad="VALID")  # 6x7 -> 3x3
        return head(h, 27, 3, add_init, nodes, rng, "head")
    conv_model("conv2d_flatten_concat", rng, [2, 6, 7], c4, what="Flatten right after a PyTorch-layout conv (Dense weights permuted), constant Mul/Sub (per channel)/Div, Concat of two conv branches on channels, auto_pad VALID")

    # Residual block with elementwise Add, Sub and Mul between branches, GlobalMaxPool.
    def c5(x, add_init, nodes):
        h = conv(nodes, add_init, x, "stem", 4, 3, [3, 3], pads=[1, 1, 1, 1])
        nodes.append(helper.make_node("Relu", [h], ["r0"], name="relu0"))
        a = conv(nodes, add_init, "r0", "res_a", 4, 4, [3, 3], pads=[1, 1, 1, 1])
        nodes.append(helper.make_node("Relu", [a], ["ra"], name="relu_a"))
        b = conv(nodes, add_init, "ra", "res_b", 4, 4, [3, 3], pads=[1, 1, 1, 1])
        nodes.append(helper.make_node("Add", [b, "r0"], ["sum"], name="residual_add"))
        nodes.append(helper.make_node("Sub", ["sum", "ra"], ["diff"], name="branch_sub"))
        nodes.append(helper.make_node("Mul", ["diff", "r0"], ["prod"], name="branch_mul"))
        nodes.append(helper.make_node("GlobalMaxPool", ["prod"], ["gmp"], name="gmp"))
        return head("gmp", 4, 3, add_init, nodes, rng, "head")
    conv_model("residual_block", rng, [3, 8, 8], c5, what="residual block: Add of a skip connection, Sub and Mul between branches, GlobalMaxPool")


def conv1d_keras_cnn_case(rng):
    """The shape of hls4ml's KERAS_conv1d example (a Keras Conv1D jet tagger) as tf2onnx exports
    it: channels-last [100, 4] input, three Conv1D of 16-32 filters with ReLU and max pooling,
    Flatten, a Dense head. Seeded Glorot-like weights, not trained."""
    def conv(nodes, add_init, x, out, cout, cin, k, **attrs):
        w, b = conv_weights(rng, cout, cin, k)
        nodes.append(helper.make_node("Conv", [x, add_init(w), add_init(b)], [out], name=out, **attrs))
        return out

    def build(x, add_init, nodes):
        nodes.append(helper.make_node("Transpose", [x], ["x_ncw"], name="to_ncw", perm=[0, 2, 1]))
        h = conv(nodes, add_init, "x_ncw", "conv1", 16, 4, [3], pads=[1, 1])          # 100
        nodes.append(helper.make_node("Relu", [h], ["r1"], name="relu1"))
        h = conv(nodes, add_init, "r1", "conv2", 32, 16, [3], pads=[1, 1])             # 100
        nodes.append(helper.make_node("Relu", [h], ["r2"], name="relu2"))
        nodes.append(helper.make_node("MaxPool", ["r2"], ["mp2"], name="pool2", kernel_shape=[2], strides=[2]))  # 50
        h = conv(nodes, add_init, "mp2", "conv3", 32, 32, [3], pads=[1, 1])             # 50
        nodes.append(helper.make_node("Relu", [h], ["r3"], name="relu3"))
        nodes.append(helper.make_node("MaxPool", ["r3"], ["mp3"], name="pool3", kernel_shape=[2], strides=[2]))  # 25
        nodes.append(helper.make_node("Transpose", ["mp3"], ["mp3_nwc"], name="to_nwc", perm=[0, 2, 1]))
        return head("mp3_nwc", 25 * 32, 5, add_init, nodes, rng, "head")
    conv_model("conv1d_cnn_keras", rng, [100, 4], build, twin=False,
               what="KERAS_conv1d's shape: [100, 4] channels-last input, Conv1D 16/32/32 (kernel 3, same) with ReLU and MaxPool, Flatten, Dense 800 -> 5, Softmax")


def conv_cases_2(rng):
    def conv(nodes, add_init, x, out, cout, cin_g, k, group=1, **attrs):
        w, b = conv_weights(rng, cout, cin_g, k)
        nodes.append(helper.make_node("Conv", [x, add_init(w), add_init(b)], [out], name=out, group=group, **attrs))
        return out

    # Every remaining activation after convolutions; PRelu with one slope per channel.
    def act(x, add_init, nodes):
        h = conv(nodes, add_init, x, "conv1", 4, 2, [3, 3], pads=[1, 1, 1, 1])
        nodes.append(helper.make_node("Elu", [h], ["elu"], name="elu", alpha=0.8))
        h = conv(nodes, add_init, "elu", "conv2", 4, 4, [3, 3], pads=[1, 1, 1, 1])
        nodes.append(helper.make_node("Selu", [h], ["selu"], name="selu"))
        nodes.append(helper.make_node("PRelu", ["selu", add_init(rng.uniform(0.05, 0.4, (4, 1, 1)))], ["prelu"], name="prelu"))
        h = conv(nodes, add_init, "prelu", "conv3", 4, 4, [3, 3], pads=[1, 1, 1, 1])
        nodes.append(helper.make_node("Softsign", [h], ["softsign"], name="softsign"))
        h = conv(nodes, add_init, "softsign", "conv4", 3, 4, [3, 3])
        nodes.append(helper.make_node("Softplus", [h], ["softplus"], name="softplus"))
        return head("softplus", 3 * 5 * 6, 4, add_init, nodes, rng, "head")
    conv_model("conv2d_activations", rng, [2, 7, 8], act, what="Elu, Selu, PRelu (per channel), Softsign, Softplus after convolutions")

    # A small U-Net-like encoder/decoder: MaxPool down, Resize (nearest, scale 2) up, Concat with
    # the skip connection, Pad before a valid convolution.
    def unet(x, add_init, nodes):
        e1 = conv(nodes, add_init, x, "enc1", 4, 1, [3, 3], pads=[1, 1, 1, 1])
        nodes.append(helper.make_node("Relu", [e1], ["e1r"], name="enc1_relu"))
        nodes.append(helper.make_node("MaxPool", ["e1r"], ["down"], name="down", kernel_shape=[2, 2], strides=[2, 2]))
        b = conv(nodes, add_init, "down", "bottleneck", 6, 4, [3, 3], pads=[1, 1, 1, 1])
        nodes.append(helper.make_node("Relu", [b], ["br"], name="bottleneck_relu"))
        nodes.append(helper.make_node("Resize", ["br", "", add_init(np.array([1, 1, 2, 2], dtype=np.float32))], ["up"],
                                      name="up", mode="nearest"))
        nodes.append(helper.make_node("Concat", ["up", "e1r"], ["cat"], name="skip_concat", axis=1))
        nodes.append(helper.make_node("Pad", ["cat", add_init(np.array([0, 0, 1, 0, 0, 0, 0, 1], dtype=np.int64), np.int64),
                                              add_init(np.float32(0.25))], ["padded"], name="pad"))
        d = conv(nodes, add_init, "padded", "dec1", 3, 10, [2, 2])
        nodes.append(helper.make_node("Relu", [d], ["dr"], name="dec1_relu"))
        return head("dr", 3 * 8 * 10, 2, add_init, nodes, rng, "head")
    conv_model("unet_small", rng, [1, 8, 10], unet, what="U-Net-like: MaxPool, Resize nearest x2 (half_pixel, round_prefer_floor), Concat with the skip, Pad (constant 0.25), regression-free classifier head")

    # The same kind of network from a Keras-style export at opset 9: NHWC input, Upsample, Pad
    # with attributes, sizes-free scales.
    def unet9(x, add_init, nodes):
        nodes.append(helper.make_node("Transpose", [x], ["xt"], name="to_nchw", perm=[0, 3, 1, 2]))
        e1 = conv(nodes, add_init, "xt", "enc1", 3, 2, [3, 3], pads=[1, 1, 1, 1])
        nodes.append(helper.make_node("MaxPool", [e1], ["down"], name="down", kernel_shape=[2, 2], strides=[2, 2]))
        nodes.append(helper.make_node("Upsample", ["down", add_init(np.array([1, 1, 2, 3], dtype=np.float32))], ["up"],
                                      name="up", mode="nearest"))
        nodes.append(helper.make_node("Pad", ["up"], ["padded"], name="pad", pads=[0, 0, 0, 1, 0, 0, 0, 2], value=0.0))
        nodes.append(helper.make_node("Transpose", ["padded"], ["back"], name="to_nhwc", perm=[0, 2, 3, 1]))
        return head("back", 3 * 6 * 9, 3, add_init, nodes, rng, "head")
    conv_model("upsample_pad_opset9", rng, [6, 4, 2], unet9, opset=9, twin=False, what="Keras-layout opset 9: Upsample (nearest, scales 2x3), Pad with attributes, Transposes around")


def recurrent_cases(rng):
    """LSTM / GRU / RNN in layout 1 ([batch, seq, features]). ONNX Runtime implements only layout 0,
    so each golden output comes from ORT on a twin graph: the same layer in layout 0 between
    Transposes (the specification defines layout 1 as exactly that)."""
    seq, feat = 20, 6

    def rec_model(name, op, hidden, head, direction="forward", attrs=None, states=False, peep=False,
                  stack=False, what=""):
        dirs = 2 if direction == "bidirectional" else 1
        g = {"LSTM": 4, "GRU": 3, "RNN": 1}[op]
        sc = 1 / np.sqrt(hidden)
        params = []
        for k in range(2 if stack else 1):
            n_in = feat if k == 0 else hidden
            params.append({
                "W": rng.uniform(-sc, sc, (dirs, g * hidden, n_in)),
                "R": rng.uniform(-sc, sc, (dirs, g * hidden, hidden)),
                "B": rng.uniform(-0.1, 0.1, (dirs, 2 * g * hidden)),
                "h0": rng.uniform(-0.5, 0.5, (dirs, hidden)) if states else None,
                "c0": rng.uniform(-0.5, 0.5, (dirs, hidden)) if states and op == "LSTM" else None,
                "P": rng.uniform(-0.3, 0.3, (dirs, 3 * hidden)) if peep else None,
            })
        hw, hb = dense_weights(rng, (seq if head == "seq" else 1) * dirs * hidden, 5)

        def build(layout):
            inits, nodes = [], []

            def add(n, a, dt=np.float32):
                inits.append(numpy_helper.from_array(np.asarray(a, dtype=dt), n))
                return n

            def layer(x, tag, prm):
                if layout == 0:
                    nodes.append(helper.make_node("Transpose", [x], [tag + "_xt"], name=tag + "_to_seq_first", perm=[1, 0, 2]))
                    x = tag + "_xt"
                state = lambda a: a.reshape(1, dirs, hidden) if layout == 1 else a.reshape(dirs, 1, hidden)
                ins = [x, add(tag + "_W", prm["W"]), add(tag + "_R", prm["R"]), add(tag + "_B", prm["B"]), ""]
                ins.append(add(tag + "_h0", state(prm["h0"])) if prm["h0"] is not None else "")
                if op == "LSTM":
                    ins.append(add(tag + "_c0", state(prm["c0"])) if prm["c0"] is not None else "")
                    ins.append(add(tag + "_P", prm["P"]) if prm["P"] is not None else "")
                while ins and ins[-1] == "":
                    ins.pop()
                a = {"hidden_size": hidden, "direction": direction}
                if layout == 1:
                    a["layout"] = 1
                a.update(attrs or {})
                outs = [tag + "_Y", tag + "_Yh"] + ([tag + "_Yc"] if op == "LSTM" else [])
                nodes.append(helper.make_node(op, ins, outs, name=tag, **a))
                y, yh = outs[0], outs[1]
                if layout == 0:
                    nodes.append(helper.make_node("Transpose", [y], [y + "_b"], name=tag + "_y_batch_first", perm=[2, 0, 1, 3]))
                    nodes.append(helper.make_node("Transpose", [yh], [yh + "_b"], name=tag + "_yh_batch_first", perm=[1, 0, 2]))
                    y, yh = y + "_b", yh + "_b"
                return y, yh

            y, yh = layer("x", "rec1", params[0])
            if stack:
                nodes.append(helper.make_node("Reshape", [y, add("seq_shape", np.array([0, seq, hidden]), np.int64)], ["y1"], name="to_seq"))
                y, yh = layer("y1", "rec2", params[1])
            nodes.append(helper.make_node("Flatten", [y if head == "seq" else yh], ["flat"], name="flatten", axis=1))
            nodes.append(helper.make_node("Gemm", ["flat", add("fc_w", hw), add("fc_b", hb)], ["logits"], name="fc"))
            nodes.append(helper.make_node("Softmax", ["logits"], ["y"], name="softmax", axis=-1))
            batch = 1 if states else "N"
            gph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, seq, feat])],
                                    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 5])], initializer=inits)
            m = helper.make_model(gph, opset_imports=[helper.make_opsetid("", 14)], producer_name="hlsrs-testdata")
            m.ir_version = 8
            onnx.checker.check_model(m)
            return m

        model, twin = build(1), build(0)
        x = rng.standard_normal((N_SAMPLES, seq, feat)).astype(np.float32)
        y = ort_run(twin, x)
        d = os.path.join(TESTDATA, name)
        os.makedirs(d, exist_ok=True)
        onnx.save(model, os.path.join(d, "model.onnx"))
        np.save(os.path.join(d, "input.npy"), x)
        np.save(os.path.join(d, "golden.npy"), y.astype(np.float32))
        with open(os.path.join(d, "case.json"), "w") as f:
            # Issue 4 asks agreement >= 99% of the jet-tagger shape; for the others (untrained, with
            # near-uniform outputs) agreement is printed.
            json.dump({"source": "generated by scripts/make_testdata.py (seeded)", "what": what,
                       "golden": "onnxruntime " + ort.__version__ + " on the layout-0 twin (ORT has no layout 1)",
                       "classifier": True, "argmax_target": name == "lstm_jet_tagger",
                       "input": "standard normal, seeded", "opset": 14}, f, indent=2, sort_keys=True)
            f.write("\n")

    rec_model("lstm_jet_tagger", "LSTM", 16, "last", what="LSTM (seq 20, 6 features, hidden 16) -> Dense 5 -> Softmax, the seed paper's shape")
    rec_model("gru_lbr0", "GRU", 12, "last", what="GRU linear_before_reset=0")
    rec_model("gru_lbr1", "GRU", 12, "last", attrs={"linear_before_reset": 1}, what="GRU linear_before_reset=1")
    rec_model("lstm_bidirectional", "LSTM", 8, "seq", direction="bidirectional", what="bidirectional LSTM, full sequence to the Dense")
    rec_model("lstm_stacked", "LSTM", 10, "last", stack=True, what="two stacked LSTMs with the full sequence between them")
    rec_model("rnn_tanh", "RNN", 16, "last", what="RNN with tanh")
    rec_model("rnn_relu", "RNN", 16, "last", attrs={"activations": ["Relu"]}, what="RNN with relu")
    rec_model("lstm_reverse_peephole_clip", "LSTM", 8, "last", direction="reverse", states=True, peep=True,
              attrs={"clip": 2.5, "activations": ["HardSigmoid", "Tanh", "Tanh"], "activation_alpha": [0.3], "activation_beta": [0.45]},
              what="reverse LSTM with peepholes, clip, HardSigmoid(alpha, beta) gates, initial_h and initial_c")
    rec_model("gru_bidirectional_states", "GRU", 6, "last", direction="bidirectional", states=True,
              what="bidirectional GRU with initial_h")
    # The other activations the specification lists, with their alpha / beta (consumed in order).
    rec_model("lstm_activations", "LSTM", 8, "last",
              attrs={"activations": ["Softsign", "ScaledTanh", "Elu"], "activation_alpha": [1.5, 0.8],
                     "activation_beta": [0.7]},
              what="LSTM with Softsign gates, ScaledTanh(1.5, 0.7) cell input, Elu(0.8) output activation")
    rec_model("gru_activations", "GRU", 8, "last",
              attrs={"activations": ["HardSigmoid", "Softplus"], "activation_alpha": [0.25], "activation_beta": [0.5]},
              what="GRU with HardSigmoid(0.25, 0.5) gates and a Softplus candidate")
    rec_model("rnn_activations", "RNN", 8, "last", direction="bidirectional",
              attrs={"activations": ["LeakyRelu", "Affine"], "activation_alpha": [0.1, 0.6],
                     "activation_beta": [0.05]},
              what="bidirectional RNN: LeakyRelu(0.1) forward, Affine(0.6, 0.05) backward")
    rec_model("rnn_thresholded_relu", "RNN", 8, "last",
              attrs={"activations": ["ThresholdedRelu"], "activation_alpha": [0.2]},
              what="RNN with ThresholdedRelu(0.2)")


def pytorch_recurrent_cases(rng):
    """Recurrent layers as torch.onnx exports them: batch-first input transposed to sequence-first,
    the layer in layout 0, then Squeeze and Gather or Slice of the last step (or Y_h)."""
    seq, feat = 20, 6

    def model(name, op, hidden, tail, what):
        g = {"LSTM": 4, "GRU": 3, "RNN": 1}[op]
        sc = 1 / np.sqrt(hidden)
        inits, nodes = [], []

        def add(n, a, dt=np.float32):
            inits.append(numpy_helper.from_array(np.asarray(a, dtype=dt), n))
            return n

        nodes.append(helper.make_node("Transpose", ["x"], ["xs"], name="to_seq_first", perm=[1, 0, 2]))
        ins = ["xs", add("W", rng.uniform(-sc, sc, (1, g * hidden, feat))), add("R", rng.uniform(-sc, sc, (1, g * hidden, hidden))),
               add("B", rng.uniform(-0.1, 0.1, (1, 2 * g * hidden)))]
        outs = ["Y", "Y_h"] + (["Y_c"] if op == "LSTM" else [])
        nodes.append(helper.make_node(op, ins, outs, name="rnn", hidden_size=hidden))
        last = tail(nodes, add, hidden)
        w, b = dense_weights(rng, hidden, 5)
        nodes.append(helper.make_node("Gemm", [last, add("fc_w", w), add("fc_b", b)], ["logits"], name="fc"))
        nodes.append(helper.make_node("Softmax", ["logits"], ["y"], name="softmax", axis=-1))
        gph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", seq, feat])],
                                [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 5])], initializer=inits)
        m = helper.make_model(gph, opset_imports=[helper.make_opsetid("", 14)], producer_name="hlsrs-testdata")
        m.ir_version = 8
        onnx.checker.check_model(m)
        # Untrained, near-uniform outputs: agreement is printed (issue 4 targets the jet tagger).
        generated_case(name, m, (seq, feat), True, rng, what, argmax_target=False)

    def gather_last(nodes, add, hidden):
        nodes.append(helper.make_node("Squeeze", ["Y", add("ax1", np.array([1]), np.int64)], ["ys"], name="squeeze_dirs"))
        nodes.append(helper.make_node("Transpose", ["ys"], ["yb"], name="to_batch_first", perm=[1, 0, 2]))
        nodes.append(helper.make_node("Gather", ["yb", add("last", np.array(-1), np.int64)], ["h_last"], name="last_step", axis=1))
        return "h_last"

    def slice_last(nodes, add, hidden):
        nodes.append(helper.make_node("Squeeze", ["Y", add("ax1", np.array([1]), np.int64)], ["ys"], name="squeeze_dirs"))
        nodes.append(helper.make_node("Slice", ["ys", add("st", np.array([-1]), np.int64), add("en", np.array([2**62]), np.int64),
                                                add("axs", np.array([0]), np.int64)], ["yl"], name="slice_last"))
        nodes.append(helper.make_node("Squeeze", ["yl", add("ax0", np.array([0]), np.int64)], ["h_last"], name="squeeze_step"))
        return "h_last"

    def y_h(nodes, add, hidden):
        nodes.append(helper.make_node("Squeeze", ["Y_h", add("ax0", np.array([0]), np.int64)], ["h_last"], name="squeeze_dirs"))
        return "h_last"

    model("pytorch_lstm_gather", "LSTM", 16, gather_last, "torch.onnx-style LSTM: Transpose to sequence-first, layout 0, Squeeze, Transpose back, Gather of the last step")
    model("pytorch_gru_slice", "GRU", 12, slice_last, "torch.onnx-style GRU: layout 0, Squeeze, Slice of the last step, Squeeze")
    model("pytorch_rnn_yh", "RNN", 16, y_h, "torch.onnx-style RNN: layout 0, Squeeze of Y_h")

    # input_forget, with Y_h and Y_c both used (joined for the classifier).
    hidden = 8
    sc = 1 / np.sqrt(hidden)
    inits = [numpy_helper.from_array(rng.uniform(-sc, sc, (1, 4 * hidden, feat)).astype(np.float32), "W"),
             numpy_helper.from_array(rng.uniform(-sc, sc, (1, 4 * hidden, hidden)).astype(np.float32), "R"),
             numpy_helper.from_array(rng.uniform(-0.1, 0.1, (1, 8 * hidden)).astype(np.float32), "B"),
             numpy_helper.from_array(np.array([0], dtype=np.int64), "ax0")]
    w, b = dense_weights(rng, 2 * hidden, 5)
    inits += [numpy_helper.from_array(w, "fc_w"), numpy_helper.from_array(b, "fc_b")]
    nodes = [
        helper.make_node("Transpose", ["x"], ["xs"], name="to_seq_first", perm=[1, 0, 2]),
        helper.make_node("LSTM", ["xs", "W", "R", "B"], ["", "Y_h", "Y_c"], name="lstm", hidden_size=hidden, input_forget=1),
        helper.make_node("Squeeze", ["Y_h", "ax0"], ["h"], name="squeeze_h"),
        helper.make_node("Squeeze", ["Y_c", "ax0"], ["c"], name="squeeze_c"),
        helper.make_node("Concat", ["h", "c"], ["hc"], name="join", axis=1),
        helper.make_node("Gemm", ["hc", "fc_w", "fc_b"], ["logits"], name="fc"),
        helper.make_node("Softmax", ["logits"], ["y"], name="softmax", axis=-1),
    ]
    gph = helper.make_graph(nodes, "lstm_input_forget_yc", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", seq, feat])],
                            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 5])], initializer=inits)
    m = helper.make_model(gph, opset_imports=[helper.make_opsetid("", 14)], producer_name="hlsrs-testdata")
    m.ir_version = 8
    onnx.checker.check_model(m)
    generated_case("lstm_input_forget_yc", m, (seq, feat), True, rng, "LSTM with input_forget=1, Y_h and Y_c both used (joined)", argmax_target=False)

    # sequence_lens shorter than the sequence: must be refused (error test, no golden).
    inits2 = inits[:3] + [numpy_helper.from_array(np.array([seq - 3], dtype=np.int32), "lens")]
    nodes2 = [helper.make_node("Transpose", ["x"], ["xs"], name="to_seq_first", perm=[1, 0, 2]),
              helper.make_node("LSTM", ["xs", "W", "R", "B", "lens"], ["", "y"], name="lstm_short", hidden_size=hidden)]
    gph2 = helper.make_graph(nodes2, "short", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, seq, feat])],
                             [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, hidden])], initializer=inits2)
    onnx.save(helper.make_model(gph2, opset_imports=[helper.make_opsetid("", 14)]),
              os.path.join(TESTDATA, "errors", "lstm_sequence_lens.onnx"))


def json_every_op_case(rng):
    """A model written directly in the hlsrs JSON format (docs/json-format.md) using every op the IR
    has, weights partly inline and partly in .npy files. Golden output from numpy (float64)."""
    d = os.path.join(TESTDATA, "json_every_op")
    os.makedirs(d, exist_ok=True)
    w1, b1 = dense_weights(rng, 12, 16)
    w2, b2 = dense_weights(rng, 16, 16)
    w3, b3 = dense_weights(rng, 16, 4)
    scale = rng.uniform(0.5, 1.5, 16)
    shift = rng.uniform(-0.3, 0.3, 16)
    np.save(os.path.join(d, "fc1_weights.npy"), w1.astype(np.float64))
    np.save(os.path.join(d, "fc1_bias.npy"), b1.astype(np.float64))
    f = lambda a: [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]
    t = lambda a: {"shape": list(np.shape(a)), "data": f(a)}
    layers = [
        {"name": "fc1", "op": "dense", "inputs": ["x"], "weights": {"npy": "fc1_weights.npy"}, "bias": {"npy": "fc1_bias.npy"}},
        {"name": "norm", "op": "scale_shift", "inputs": ["fc1"], "scale": t(scale), "shift": t(shift)},
        {"name": "leaky", "op": "leaky_relu", "inputs": ["norm"], "alpha": 0.2},
        {"name": "grid", "op": "reshape", "inputs": ["leaky"], "shape": [4, 4]},
        {"name": "swap", "op": "transpose", "inputs": ["grid"], "perm": [1, 0]},
        {"name": "flat", "op": "reshape", "inputs": ["swap"], "shape": [16]},
        {"name": "clip", "op": "clip", "inputs": ["flat"], "min": -1.0, "max": 1.5},
        {"name": "th", "op": "tanh", "inputs": ["clip"]},
        {"name": "fc2", "op": "dense", "inputs": ["clip"], "weights": t(w2), "bias": t(b2)},
        {"name": "sig", "op": "sigmoid", "inputs": ["fc2"]},
        {"name": "hsig", "op": "hard_sigmoid", "inputs": ["fc2"], "alpha": 0.2, "beta": 0.5},
        {"name": "sum1", "op": "add", "inputs": ["th", "sig"]},
        {"name": "sum2", "op": "add", "inputs": ["sum1", "hsig"]},
        {"name": "act", "op": "relu", "inputs": ["sum2"]},
        {"name": "fc3", "op": "dense", "inputs": ["act"], "weights": t(w3), "bias": t(b3)},
        {"name": "probs", "op": "softmax", "inputs": ["fc3"]},
    ]
    doc = {"format": "hlsrs-model", "version": 1, "input": {"name": "x", "shape": [12]},
           "layers": layers, "output": "probs"}
    with open(os.path.join(d, "model.json"), "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")
    x = rng.standard_normal((N_SAMPLES, 12)).astype(np.float32)
    h = x.astype(np.float64) @ w1.astype(np.float64) + b1
    h = h * scale + shift
    h = np.where(h >= 0, h, 0.2 * h)
    h = h.reshape(-1, 4, 4).transpose(0, 2, 1).reshape(-1, 16)
    c = np.clip(h, -1.0, 1.5)
    g = c @ w2.astype(np.float64) + b2
    s = np.tanh(c) + 1 / (1 + np.exp(-g)) + np.clip(0.2 * g + 0.5, 0, 1)
    s = np.maximum(s, 0)
    o = s @ w3.astype(np.float64) + b3
    o = np.exp(o - o.max(1, keepdims=True))
    y = o / o.sum(1, keepdims=True)
    np.save(os.path.join(d, "input.npy"), x)
    np.save(os.path.join(d, "golden.npy"), y.astype(np.float32))
    with open(os.path.join(d, "case.json"), "w") as fh:
        json.dump({"source": "generated by scripts/make_testdata.py (seeded), written in the hlsrs JSON format",
                   "what": "every IR op: dense (npy and inline weights), scale_shift, leaky_relu, reshape, transpose, clip, tanh, sigmoid, hard_sigmoid, add, relu, softmax",
                   "golden": "numpy (float64)", "classifier": True, "input": "standard normal, seeded"},
                  fh, indent=2, sort_keys=True)
        fh.write("\n")


def mish_cases(rng):
    """Mish (x tanh(softplus(x)), ONNX opset 18) as a layer (golden from ONNX Runtime), and as the
    cell-input and output activations of an LSTM's gates in a JSON model (ONNX's LSTM cannot name
    Mish; golden from numpy, float64)."""
    generated_case("mlp_mish_opset18", mlp_activation_case(rng, "Mish", 18), 16, True, rng,
                   "Gemm(transB=1) -> Mish -> Gemm -> Softmax")
    name, seq, feat, hid, n_out = "lstm_mish_gates_json", 10, 6, 8, 5
    d = os.path.join(TESTDATA, name)
    os.makedirs(d, exist_ok=True)
    w = rng.uniform(-1, 1, (1, 4 * hid, feat)) * np.sqrt(3.0 / feat)
    r = rng.uniform(-1, 1, (1, 4 * hid, hid)) * np.sqrt(3.0 / hid)
    b = rng.uniform(-0.2, 0.2, (1, 8 * hid))
    wd, bd = dense_weights(rng, hid, n_out)
    f = lambda a: [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]
    t = lambda a: {"shape": list(np.shape(a)), "data": f(a)}
    layers = [
        {"name": "lstm", "op": "recurrent", "inputs": ["x"], "cell": {"kind": "lstm"},
         "direction": "forward", "hidden": hid,
         "activations": [{"fn": "sigmoid"}, {"fn": "mish"}, {"fn": "mish"}],
         "w": t(w), "r": t(r), "b": t(b), "output": "last_hidden"},
        {"name": "fc", "op": "dense", "inputs": ["lstm"], "weights": t(wd), "bias": t(bd)},
        {"name": "probs", "op": "softmax", "inputs": ["fc"]},
    ]
    doc = {"format": "hlsrs-model", "version": 1, "input": {"name": "x", "shape": [seq, feat]},
           "layers": layers, "output": "probs"}
    with open(os.path.join(d, "model.json"), "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")
    x = rng.standard_normal((N_SAMPLES, seq, feat)).astype(np.float32)
    sigmoid = lambda v: 1 / (1 + np.exp(-v))
    mish = lambda v: v * np.tanh(np.log1p(np.exp(v)))
    # ONNX's LSTM: gate rows i, o, f, c; biases Wb then Rb.
    wb, rb = b[0, :4 * hid], b[0, 4 * hid:]
    h = np.zeros((N_SAMPLES, hid))
    c = np.zeros((N_SAMPLES, hid))
    for step in range(seq):
        g = x[:, step].astype(np.float64) @ w[0].T + h @ r[0].T + wb + rb
        i_g, o_g, f_g, c_g = (g[:, k * hid:(k + 1) * hid] for k in range(4))
        c = sigmoid(f_g) * c + sigmoid(i_g) * mish(c_g)
        h = sigmoid(o_g) * mish(c)
    o = h @ wd.astype(np.float64) + bd
    o = np.exp(o - o.max(1, keepdims=True))
    y = o / o.sum(1, keepdims=True)
    np.save(os.path.join(d, "input.npy"), x)
    np.save(os.path.join(d, "golden.npy"), y.astype(np.float32))
    with open(os.path.join(d, "case.json"), "w") as fh:
        # Untrained, near-uniform outputs: agreement is printed (issue 4 targets the jet tagger).
        json.dump({"source": "generated by scripts/make_testdata.py (seeded), written in the hlsrs JSON format",
                   "what": "LSTM with Mish as its cell-input and output activations (sigmoid gates) -> Dense -> Softmax",
                   "golden": "numpy (float64)", "classifier": True, "argmax_target": False,
                   "input": "standard normal, seeded"},
                  fh, indent=2, sort_keys=True)
        fh.write("\n")


def max_min_case(rng):
    """Max and Min between two branches (elementwise), and Max / Min of data and a scalar (a
    one-sided clip, as torch.clamp_min writes it), joined by a Concat."""
    wa, ba = dense_weights(rng, 16, 12)
    wb, bb = dense_weights(rng, 16, 12)
    wo, bo = dense_weights(rng, 24, 5)
    inits = [tensor("wa", wa.T), tensor("ba", ba), tensor("wb", wb.T), tensor("bb", bb),
             tensor("wo", wo.T), tensor("bo", bo), tensor("hi", np.float32(0.75)),
             tensor("lo", np.float32(-0.5))]
    nodes = [
        helper.make_node("Gemm", ["x", "wa", "ba"], ["ha"], name="fc_a", transB=1),
        helper.make_node("Gemm", ["x", "wb", "bb"], ["hb"], name="fc_b", transB=1),
        helper.make_node("Max", ["ha", "hb"], ["m1"], name="larger"),
        helper.make_node("Min", ["ha", "hb"], ["m2"], name="smaller"),
        helper.make_node("Min", ["m1", "hi"], ["c1"], name="cap"),
        helper.make_node("Max", ["lo", "m2"], ["c2"], name="floor"),
        helper.make_node("Concat", ["c1", "c2"], ["cat"], name="join", axis=1),
        helper.make_node("Gemm", ["cat", "wo", "bo"], ["o"], name="fc_out", transB=1),
        helper.make_node("Softmax", ["o"], ["y"], name="softmax", axis=-1),
    ]
    generated_case("max_min_branches", make_model(nodes, inits, [16], [5], 13), 16, True, rng,
                   "Max and Min of two Gemm branches, Min / Max with a scalar (one-sided clips), Concat -> Gemm -> Softmax")


def split_cases(rng):
    """Split of a layer's output into parts (sizes as an input, opset 13; equal parts by
    num_outputs, opset 18), the parts through different layers and joined again."""
    w1, b1 = dense_weights(rng, 16, 12)
    w2, b2 = dense_weights(rng, 12, 5)
    inits = [tensor("w1", w1.T), tensor("b1", b1), tensor("w2", w2.T), tensor("b2", b2),
             numpy_helper.from_array(np.array([4, 8], dtype=np.int64), "parts")]
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], name="fc1", transB=1),
        helper.make_node("Split", ["h", "parts"], ["a", "c"], name="split", axis=1),
        helper.make_node("Relu", ["a"], ["ra"], name="relu"),
        helper.make_node("Tanh", ["c"], ["tc"], name="tanh"),
        helper.make_node("Concat", ["ra", "tc"], ["cat"], name="join", axis=1),
        helper.make_node("Gemm", ["cat", "w2", "b2"], ["o"], name="fc2", transB=1),
        helper.make_node("Softmax", ["o"], ["y"], name="softmax", axis=-1),
    ]
    generated_case("split_sizes_opset13", make_model(nodes, inits, [16], [5], 13), 16, True, rng,
                   "Gemm -> Split [4, 8] (sizes as an input) -> Relu / Tanh -> Concat -> Gemm -> Softmax")
    w1, b1 = dense_weights(rng, 16, 12)
    w2, b2 = dense_weights(rng, 6, 5)
    inits = [tensor("w1", w1.T), tensor("b1", b1), tensor("w2", w2.T), tensor("b2", b2)]
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], name="fc1", transB=1),
        helper.make_node("Split", ["h"], ["a", "c"], name="halves", axis=1, num_outputs=2),
        helper.make_node("Max", ["a", "c"], ["m"], name="larger"),
        helper.make_node("Gemm", ["m", "w2", "b2"], ["o"], name="fc2", transB=1),
        helper.make_node("Softmax", ["o"], ["y"], name="softmax", axis=-1),
    ]
    generated_case("split_equal_opset18", make_model(nodes, inits, [16], [5], 18), 16, True, rng,
                   "Gemm -> Split into two halves (num_outputs) -> Max of the halves -> Gemm -> Softmax")


def reduce_cases(rng):
    """Reductions as PyTorch writes them: mean and max over the time axis of [N, T, F]
    (`x.mean(1)`, `x.amax(1)`, axes as attributes, opset 13), and sum / mean over one axis of a
    reshaped layer output with axes as inputs (opset 18), keepdims both ways."""
    w, b = dense_weights(rng, 12, 5)
    inits = [tensor("w", w.T), tensor("b", b)]
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["mean"], name="mean_over_time", axes=[1], keepdims=0),
        helper.make_node("ReduceMax", ["x"], ["peak"], name="max_over_time", axes=[1], keepdims=0),
        helper.make_node("Concat", ["mean", "peak"], ["cat"], name="join", axis=1),
        helper.make_node("Gemm", ["cat", "w", "b"], ["o"], name="fc", transB=1),
        helper.make_node("Softmax", ["o"], ["y"], name="softmax", axis=-1),
    ]
    generated_case("reduce_time_opset13", make_model(nodes, inits, [10, 6], [5], 13), (10, 6), True, rng,
                   "ReduceMean and ReduceMax over the time axis of [N, 10, 6] (keepdims 0) -> Concat -> Gemm -> Softmax")
    w1, b1 = dense_weights(rng, 12, 16)
    w2, b2 = dense_weights(rng, 8, 5)
    inits = [tensor("w1", w1.T), tensor("b1", b1), tensor("w2", w2.T), tensor("b2", b2),
             numpy_helper.from_array(np.array([-1, 4, 4], dtype=np.int64), "grid"),
             numpy_helper.from_array(np.array([2], dtype=np.int64), "last"),
             numpy_helper.from_array(np.array([1], dtype=np.int64), "first")]
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], name="fc1", transB=1),
        helper.make_node("Reshape", ["h", "grid"], ["g"], name="to_grid"),
        helper.make_node("ReduceSum", ["g", "last"], ["rows"], name="row_sums", keepdims=1),
        helper.make_node("Flatten", ["rows"], ["rf"], name="flat", axis=1),
        helper.make_node("ReduceMean", ["g", "first"], ["cols"], name="col_means", keepdims=0),
        helper.make_node("Concat", ["rf", "cols"], ["cat"], name="join", axis=1),
        helper.make_node("Gemm", ["cat", "w2", "b2"], ["o"], name="fc2", transB=1),
        helper.make_node("Softmax", ["o"], ["y"], name="softmax", axis=-1),
    ]
    generated_case("reduce_axes_input_opset18", make_model(nodes, inits, [12], [5], 18), 12, True, rng,
                   "Gemm -> Reshape [4, 4] -> ReduceSum over the last axis (keepdims 1) and ReduceMean over the first (keepdims 0), axes as inputs -> Concat -> Gemm -> Softmax")


def argmax_cases(rng):
    """ArgMax as the design's output: a classifier's class index (keepdims 0), and per row of a
    [4, 3] layer output with keepdims 1 and select_last_index (opset 13)."""
    def model(nodes, inits, in_shape, out_shape, name):
        graph = helper.make_graph(
            nodes, name,
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N"] + in_shape)],
            [helper.make_tensor_value_info("y", TensorProto.INT64, ["N"] + out_shape)],
            initializer=inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="hlsrs-testdata")
        m.ir_version = 7
        onnx.checker.check_model(m)
        return m
    w1, b1 = dense_weights(rng, 16, 8)
    w2, b2 = dense_weights(rng, 8, 5)
    inits = [tensor("w1", w1.T), tensor("b1", b1), tensor("w2", w2.T), tensor("b2", b2)]
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], name="fc1", transB=1),
        helper.make_node("Relu", ["h"], ["r"], name="relu"),
        helper.make_node("Gemm", ["r", "w2", "b2"], ["o"], name="fc2", transB=1),
        helper.make_node("ArgMax", ["o"], ["y"], name="class_index", axis=1, keepdims=0),
    ]
    generated_case("argmax_class_index", model(nodes, inits, [16], [], "argmax_class_index"), 16, False, rng,
                   "Gemm -> Relu -> Gemm -> ArgMax (keepdims 0): the class index as the output")
    w1, b1 = dense_weights(rng, 10, 12)
    inits = [tensor("w1", w1.T), tensor("b1", b1),
             numpy_helper.from_array(np.array([-1, 4, 3], dtype=np.int64), "grid")]
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], name="fc1", transB=1),
        helper.make_node("Reshape", ["h", "grid"], ["g"], name="to_rows"),
        helper.make_node("Clip", ["g", "", ""], ["c"], name="no_op_clip"),
        helper.make_node("ArgMax", ["c"], ["y"], name="row_index", axis=-1, keepdims=1,
                         select_last_index=1),
    ]
    generated_case("argmax_rows_last_index", model(nodes, inits, [10], [4, 1], "argmax_rows_last_index"), 10, False, rng,
                   "Gemm -> Reshape [4, 3] -> ArgMax over the last axis per row (keepdims 1, select_last_index 1)")


def conv1d_lstm_cases(rng):
    """A Conv1D feeding an LSTM, as PyTorch exports it (hls4ml users report this graph
    mis-flattened, their issue #1052): [N, C, L] -> Conv1d -> ReLU, then permute(2, 0, 1) into a
    sequence-first LSTM and h_n.squeeze(0) into a Linear; and the batch_first module, whose export
    permutes to [N, L, F] then to [L, N, F], taking output[:, -1, :] (the last step of Y)."""
    c, l, f, h = 3, 12, 6, 8
    def build(batch_first):
        inits = [tensor("cw", rng.normal(0, 0.5, (f, c, 3))), tensor("cb", rng.normal(0, 0.1, f)),
                 tensor("W", rng.normal(0, 0.4, (1, 4 * h, f))), tensor("R", rng.normal(0, 0.4, (1, 4 * h, h))),
                 tensor("B", rng.normal(0, 0.1, (1, 8 * h))), tensor("fw", rng.normal(0, 0.4, (h, 3))),
                 tensor("fb", rng.normal(0, 0.1, 3)),
                 numpy_helper.from_array(np.array([0], dtype=np.int64), "ax0"),
                 numpy_helper.from_array(np.array(-1, dtype=np.int64), "last")]
        nodes = [helper.make_node("Conv", ["x", "cw", "cb"], ["cv"], name="conv", kernel_shape=[3], pads=[1, 1]),
                 helper.make_node("Relu", ["cv"], ["r"], name="relu")]
        if batch_first:
            nodes += [helper.make_node("Transpose", ["r"], ["nlf"], name="to_batch_first", perm=[0, 2, 1]),
                      helper.make_node("Transpose", ["nlf"], ["s"], name="to_seq_first", perm=[1, 0, 2]),
                      helper.make_node("LSTM", ["s", "W", "R", "B"], ["Y"], name="lstm", hidden_size=h),
                      helper.make_node("Squeeze", ["Y", "ax1"], ["ys"], name="squeeze_dirs"),
                      helper.make_node("Gather", ["ys", "last"], ["hl"], name="last_step", axis=0)]
            inits.append(numpy_helper.from_array(np.array([1], dtype=np.int64), "ax1"))
        else:
            nodes += [helper.make_node("Transpose", ["r"], ["s"], name="to_seq_first", perm=[2, 0, 1]),
                      helper.make_node("LSTM", ["s", "W", "R", "B"], ["Y", "Y_h"], name="lstm", hidden_size=h),
                      helper.make_node("Squeeze", ["Y_h", "ax0"], ["hl"], name="squeeze")]
        nodes += [helper.make_node("MatMul", ["hl", "fw"], ["m"], name="fc"),
                  helper.make_node("Add", ["m", "fb"], ["y"], name="bias")]
        graph = helper.make_graph(nodes, "conv1d_lstm",
                                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", c, l])],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
                                  initializer=inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)], producer_name="hlsrs-testdata")
        m.ir_version = 7
        onnx.checker.check_model(m)
        return m
    generated_case("pytorch_conv1d_lstm", build(False), (c, l), False, rng,
                   "Conv1d -> ReLU -> permute(2, 0, 1) -> LSTM -> h_n.squeeze(0) -> Linear (PyTorch)")
    generated_case("pytorch_conv1d_lstm_batch_first", build(True), (c, l), False, rng,
                   "Conv1d -> ReLU -> permute to [N, L, F] then [L, N, F] -> LSTM -> output[:, -1, :] -> Linear (PyTorch batch_first)")


def size1_axes_cases(rng):
    """Recurrent outputs read the ways users write them, with the batch fixed at one as a plain
    torch.onnx.export (no dynamic axes) writes it: the batch axis is one of several size-1 axes
    (directions, a merged batch), and Flatten, Reshape, Squeeze, Gather and Transpose move or merge
    them: h_n[-1], h_n.squeeze(0), h_n.view(-1, H), torch.flatten(h_n, 1), output[:, -1, :] of a
    batch_first module, a bidirectional Y reshaped to [T, batch, 2H] into a second layer, and
    torch.cat((h_n[-2], h_n[-1]), 1). Layout 1 models get their golden output from ONNX Runtime on
    a layout-0 twin (ORT has no layout 1; the specification defines it as the transposed layout 0)."""
    seq, feat = 12, 6

    def build(name, layout, body, out_n):
        inits, nodes = [], []

        def add(n, a, dt=np.float32):
            inits.append(numpy_helper.from_array(np.asarray(a, dtype=dt), n))
            return n

        def rec(op, x, n_in, hidden, tag, direction="forward"):
            dirs = 2 if direction == "bidirectional" else 1
            g = {"LSTM": 4, "GRU": 3}[op]
            sc = 1 / np.sqrt(hidden)
            ins = [x, add(tag + "_W", rng.uniform(-sc, sc, (dirs, g * hidden, n_in))),
                   add(tag + "_R", rng.uniform(-sc, sc, (dirs, g * hidden, hidden))),
                   add(tag + "_B", rng.uniform(-0.1, 0.1, (dirs, 2 * g * hidden)))]
            outs = [tag + "_Y", tag + "_Yh"] + ([tag + "_Yc"] if op == "LSTM" else [])
            if layout == 1 and twin:
                # The layout-0 twin: the same layer between Transposes.
                nodes.append(helper.make_node("Transpose", [x], [tag + "_xt"], name=tag + "_twin_in", perm=[1, 0, 2]))
                ins[0] = tag + "_xt"
                touts = [o + "_t" for o in outs]
                nodes.append(helper.make_node(op, ins, touts, name=tag, hidden_size=hidden, direction=direction))
                nodes.append(helper.make_node("Transpose", [touts[0]], [outs[0]], name=tag + "_twin_y", perm=[2, 0, 1, 3]))
                for o, t in zip(outs[1:], touts[1:]):
                    nodes.append(helper.make_node("Transpose", [t], [o], name=o + "_twin", perm=[1, 0, 2]))
            else:
                a = {"layout": 1} if layout == 1 else {}
                nodes.append(helper.make_node(op, ins, outs, name=tag, hidden_size=hidden, direction=direction, **a))
            return outs

        def node(op, ins, out, **a):
            nodes.append(helper.make_node(op, ins, [out], name=out, **a))
            return out

        def ints(n, v):
            return add(n, np.array(v), np.int64)

        last = body(rec, node, ints)
        w, b = dense_weights(rng, last[1], out_n)
        node("Gemm", [last[0], add("fc_w", w), add("fc_b", b)], "y")
        gph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, seq, feat])],
                                [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, out_n])], initializer=inits)
        m = helper.make_model(gph, opset_imports=[helper.make_opsetid("", 14)], producer_name="hlsrs-testdata")
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m

    def case(name, layout, body, what):
        nonlocal twin
        state = rng.bit_generator.state
        twin = False
        model = build(name, layout, body, 4)
        golden_from = model
        if layout == 1:
            rng.bit_generator.state = state  # the twin draws the same weights
            twin = True
            golden_from = build(name, layout, body, 4)
        x = rng.standard_normal((N_SAMPLES, seq, feat)).astype(np.float32)
        y = ort_run(golden_from, x)
        write_case(name, model, x, y, {
            "source": "generated by scripts/make_testdata.py (seeded)", "what": what,
            "golden": "onnxruntime " + ort.__version__ + (" on the layout-0 twin (ORT has no layout 1)" if layout == 1 else ""),
            "classifier": False, "input": "standard normal, seeded", "opset": 14})

    twin = False

    def lstm_tails(rec, node, ints):
        h = 8
        node("Transpose", ["x"], "seq_first", perm=[1, 0, 2])
        y, yh, _ = rec("LSTM", "seq_first", feat, h, "lstm")
        tails = [
            node("Gather", [yh, ints("minus1", -1)], "h_n_last", axis=0),             # h_n[-1]
            node("Squeeze", [yh, ints("ax0", [0])], "h_n_squeeze0"),                   # h_n.squeeze(0)
            node("Reshape", [yh, ints("view_shape", [-1, h])], "h_n_view"),            # h_n.view(-1, H)
            node("Flatten", [yh], "h_n_flatten", axis=1),                              # torch.flatten(h_n, 1)
        ]
        # batch_first module: Y to [T, N, D*H], then [N, T, D*H], then output[:, -1, :].
        node("Transpose", [y], "y_tndh", perm=[0, 2, 1, 3])
        node("Reshape", ["y_tndh", ints("keep2", [0, 0, -1])], "y_tnh")
        node("Transpose", ["y_tnh"], "y_nth", perm=[1, 0, 2])
        tails.append(node("Gather", ["y_nth", "minus1"], "output_last", axis=1))
        node("Concat", tails, "tails", axis=1)
        return "tails", 5 * h

    def gru_bidirectional(rec, node, ints):
        h, h2 = 6, 5
        node("Transpose", ["x"], "seq_first", perm=[1, 0, 2])
        y, yh = rec("GRU", "seq_first", feat, h, "gru1", "bidirectional")
        # PyTorch's bidirectional output: Y [T, 2, N, H] -> [T, N, 2, H] -> [T, N, 2H].
        node("Transpose", [y], "y_tndh", perm=[0, 2, 1, 3])
        node("Reshape", ["y_tndh", ints("keep2", [0, 0, -1])], "y_tn2h")
        _, yh2 = rec("GRU", "y_tn2h", 2 * h, h2, "gru2")
        tails = [node("Flatten", [yh2], "h2_flatten", axis=1)]
        # torch.cat((h_n[-2], h_n[-1]), dim=1) of the first layer.
        fwd = node("Gather", [yh, ints("minus2", -2)], "h_n_forward", axis=0)
        bwd = node("Gather", [yh, ints("minus1", -1)], "h_n_backward", axis=0)
        tails.append(node("Concat", [fwd, bwd], "h_n_both", axis=1))
        node("Concat", tails, "tails", axis=1)
        return "tails", h2 + 2 * h

    def lstm_layout1(rec, node, ints):
        h = 8
        y, yh, yc = rec("LSTM", "x", feat, h, "lstm")
        # Y [N, T, 1, H] -> [N, T, H] -> last step; Y_h / Y_c [N, 1, H] read three ways.
        node("Reshape", [y, ints("keep2", [0, 0, -1])], "y_nth")
        tails = [node("Gather", ["y_nth", ints("minus1", -1)], "output_last", axis=1),
                 node("Squeeze", [yh, ints("ax1", [1])], "h_n_squeeze1"),
                 node("Reshape", [yc, ints("view_shape", [-1, h])], "c_n_view"),
                 node("Flatten", [yh], "h_n_flatten", axis=1)]
        node("Concat", tails, "tails", axis=1)
        return "tails", 4 * h

    def gru_layout1_bidirectional(rec, node, ints):
        h = 6
        y, yh = rec("GRU", "x", feat, h, "gru", "bidirectional")
        node("Reshape", [y, ints("keep2", [0, 0, -1])], "y_nt2h")
        tails = [node("Gather", ["y_nt2h", ints("minus1", -1)], "output_last", axis=1),
                 node("Flatten", [yh], "h_n_flatten", axis=1)]
        node("Concat", tails, "tails", axis=1)
        return "tails", 4 * h

    case("size1_lstm_layout0_tails", 0, lstm_tails,
         "LSTM (layout 0, batch 1): h_n[-1], h_n.squeeze(0), h_n.view(-1, H), torch.flatten(h_n, 1) and batch_first output[:, -1, :], joined into a Gemm")
    case("size1_gru_bidirectional_layout0", 0, gru_bidirectional,
         "bidirectional GRU (layout 0, batch 1): Y reshaped to [T, N, 2H] into a second GRU, whose h_n is flattened; and torch.cat((h_n[-2], h_n[-1]), 1)")
    case("size1_lstm_layout1", 1, lstm_layout1,
         "LSTM (layout 1, batch 1): Y reshaped to [N, T, H] and its last step, h_n.squeeze(1), c_n.view(-1, H), flatten(h_n, 1)")
    case("size1_gru_bidirectional_layout1", 1, gru_layout1_bidirectional,
         "bidirectional GRU (layout 1, batch 1): Y reshaped to [N, T, 2H] and its last step, flatten(h_n, 1)")


def multi_io_cases(rng):
    """Models with several inputs and outputs, as trigger models have them: per-particle and
    event-level features in, class scores and a regressed quantity out. Inputs and golden outputs
    are .npz files keyed by the graph's input and output names."""

    def save(name, model, inputs, what):
        sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        outs = sess.run(None, inputs)
        d = os.path.join(TESTDATA, name)
        os.makedirs(d, exist_ok=True)
        onnx.save(model, os.path.join(d, "model.onnx"))
        np.savez(os.path.join(d, "input.npz"), **inputs)
        np.savez(os.path.join(d, "golden.npz"),
                 **{o.name: y.astype(np.float32) for o, y in zip(sess.get_outputs(), outs)})
        with open(os.path.join(d, "case.json"), "w") as f:
            json.dump({"source": "generated by scripts/make_testdata.py (seeded)", "what": what,
                       "golden": "onnxruntime " + ort.__version__, "classifier": False,
                       "input": "standard normal, seeded", "opset": 14}, f, indent=2, sort_keys=True)
            f.write("\n")

    def build(gname, nodes, inits, ins, outs):
        graph = helper.make_graph(nodes, gname,
                                  [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N"] + s) for n, s in ins],
                                  [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N"] + s) for n, s in outs],
                                  initializer=inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)], producer_name="hlsrs-testdata")
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m

    # Particles [8, 3] through a per-particle dense layer, averaged; event features [4] through
    # their own; joined, then a classifier head and a regression head.
    p, f, e = 8, 3, 4
    w = lambda *shape: rng.normal(0, 1 / np.sqrt(shape[0]), shape)
    inits = [tensor("pw", w(f, 6)), tensor("pb", rng.normal(0, 0.1, 6)),
             tensor("ew", w(e, 6)), tensor("eb", rng.normal(0, 0.1, 6)),
             tensor("jw", w(12, 8)), tensor("jb", rng.normal(0, 0.1, 8)),
             tensor("cw", w(8, 5)), tensor("cb", rng.normal(0, 0.1, 5)),
             tensor("rw", w(8, 1)), tensor("rb", rng.normal(0, 0.1, 1)),
             numpy_helper.from_array(np.array([1], dtype=np.int64), "ax1")]
    nodes = [helper.make_node("MatMul", ["particles", "pw"], ["pm"], name="particle_dense"),
             helper.make_node("Add", ["pm", "pb"], ["pa"], name="particle_bias"),
             helper.make_node("Relu", ["pa"], ["pr"], name="particle_relu"),
             helper.make_node("ReduceMean", ["pr"], ["pmean"], name="particle_mean", axes=[1], keepdims=0),
             helper.make_node("Gemm", ["event", "ew", "eb"], ["eg"], name="event_dense"),
             helper.make_node("Relu", ["eg"], ["er"], name="event_relu"),
             helper.make_node("Concat", ["pmean", "er"], ["joined"], name="join", axis=1),
             helper.make_node("Gemm", ["joined", "jw", "jb"], ["jg"], name="shared_dense"),
             helper.make_node("Relu", ["jg"], ["jr"], name="shared_relu"),
             helper.make_node("Gemm", ["jr", "cw", "cb"], ["logits"], name="class_dense"),
             helper.make_node("Softmax", ["logits"], ["class_scores"], name="class_softmax", axis=-1),
             helper.make_node("Gemm", ["jr", "rw", "rb"], ["mass"], name="mass_dense")]
    m = build("two_inputs_two_outputs", nodes, inits[:-1], [("particles", [p, f]), ("event", [e])],
              [("class_scores", [5]), ("mass", [1])])
    n = N_SAMPLES
    save("two_inputs_two_outputs", m,
         {"particles": rng.standard_normal((n, p, f)).astype(np.float32),
          "event": rng.standard_normal((n, e)).astype(np.float32)},
         "per-particle [8, 3] and event-level [4] inputs -> dense, mean, dense, joined -> a softmax classifier head and a regression head")

    # Two sequences into one LSTM, two heads on its last state (a static design steps both
    # inputs together).
    t, h = 10, 8
    sc = 1 / np.sqrt(h)
    inits = [tensor("W", rng.uniform(-sc, sc, (1, 4 * h, 6))), tensor("R", rng.uniform(-sc, sc, (1, 4 * h, h))),
             tensor("B", rng.uniform(-0.1, 0.1, (1, 8 * h))),
             tensor("cw", w(h, 3)), tensor("cb", rng.normal(0, 0.1, 3)),
             tensor("rw", w(h, 2)), tensor("rb", rng.normal(0, 0.1, 2)),
             numpy_helper.from_array(np.array([0], dtype=np.int64), "ax0")]
    nodes = [helper.make_node("Concat", ["tracks", "hits"], ["seq"], name="join", axis=2),
             helper.make_node("Transpose", ["seq"], ["seq_first"], name="to_seq_first", perm=[1, 0, 2]),
             helper.make_node("LSTM", ["seq_first", "W", "R", "B"], ["", "Y_h"], name="lstm", hidden_size=h),
             helper.make_node("Squeeze", ["Y_h", "ax0"], ["last"], name="squeeze"),
             helper.make_node("Gemm", ["last", "cw", "cb"], ["logits"], name="class_dense"),
             helper.make_node("Softmax", ["logits"], ["class_scores"], name="class_softmax", axis=-1),
             helper.make_node("Gemm", ["last", "rw", "rb"], ["kinematics"], name="kinematics_dense")]
    m = build("two_sequences_lstm", nodes, inits, [("tracks", [t, 3]), ("hits", [t, 3])],
              [("class_scores", [3]), ("kinematics", [2])])
    # Outputs other layers read: the hidden embedding (read by the next layer) and the class
    # scores (read by the ArgMax), beside the class index.
    rng2 = np.random.default_rng(16)
    w1, b1 = dense_weights(rng2, 16, 8)
    w2, b2 = dense_weights(rng2, 8, 5)
    nodes = [helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], name="fc1"),
             helper.make_node("Relu", ["h"], ["embedding"], name="relu1"),
             helper.make_node("Gemm", ["embedding", "w2", "b2"], ["logits"], name="fc2"),
             helper.make_node("Softmax", ["logits"], ["scores"], name="softmax", axis=-1),
             helper.make_node("ArgMax", ["scores"], ["class_index"], name="argmax", axis=1, keepdims=1)]
    graph = helper.make_graph(nodes, "outputs_read_by_layers",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 16])],
                              [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", 8]),
                               helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", 5]),
                               helper.make_tensor_value_info("class_index", TensorProto.INT64, ["N", 1])],
                              initializer=[tensor("w1", w1), tensor("b1", b1), tensor("w2", w2), tensor("b2", b2)])
    m2 = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)], producer_name="hlsrs-testdata")
    m2.ir_version = 8
    onnx.checker.check_model(m2)
    save("outputs_read_by_layers", m2, {"x": rng2.standard_normal((n, 16)).astype(np.float32)},
         "Gemm -> Relu (output 'embedding', also read by the next Gemm) -> Gemm -> Softmax (output 'scores', also read by the ArgMax) -> ArgMax (output 'class_index')")

    save("two_sequences_lstm", m,
         {"tracks": rng.standard_normal((n, t, 3)).astype(np.float32),
          "hits": rng.standard_normal((n, t, 3)).astype(np.float32)},
         "two sequence inputs [10, 3] and [10, 3] joined per step -> LSTM -> last state -> a classifier head and a regression head")


def error_models(rng):
    """Invalid or unsupported models for the error tests (no golden outputs)."""
    d = os.path.join(TESTDATA, "errors")
    os.makedirs(d, exist_ok=True)
    w, b = dense_weights(rng, 8, 4)
    inits = [tensor("w", w), tensor("b", b)]
    # Several unsupported ops, one from a custom domain: all must be listed in one error.
    nodes = [
        helper.make_node("Gemm", ["x", "w", "b"], ["h"], name="fc"),
        helper.make_node("Erf", ["h"], ["e"], name="erf_node"),
        helper.make_node("Relu", ["e"], ["r"], name="relu"),
        helper.make_node("TopK", ["r", "k"], ["t", "ti"], name="topk_node"),
        helper.make_node("MyCustomOp", ["t"], ["y"], name="custom_node", domain="com.example"),
    ]
    inits.append(numpy_helper.from_array(np.array([4], dtype=np.int64), "k"))
    graph = helper.make_graph(nodes, "unsupported",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])],
                              initializer=inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.example", 1)])
    onnx.save(m, os.path.join(d, "unsupported_ops.onnx"))
    # BatchNormalization whose parameters do not match the channel dimension (not the keras pattern).
    n = 6
    inits = [tensor("s", np.ones(n)), tensor("bb", np.zeros(n)), tensor("m", np.zeros(n)), tensor("v", np.ones(n))]
    nodes = [helper.make_node("BatchNormalization", ["x", "s", "bb", "m", "v"], ["y"], name="bn_bad")]
    graph = helper.make_graph(nodes, "bad_bn",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 8])],
                              initializer=inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
              os.path.join(d, "bn_wrong_channels.onnx"))
    # External data whose location leaves the model's folder.
    model = mlp_activation_case(rng, "Relu", 13)
    for t in model.graph.initializer:
        if t.name == "w1":
            t.data_location = onnx.TensorProto.EXTERNAL
            del t.external_data[:]
            e = t.external_data.add()
            e.key, e.value = "location", "../escape.bin"
            t.ClearField("raw_data")
    onnx.save(model, os.path.join(d, "external_escape.onnx"))
    # A recurrent layer left as a Loop over a cell (as tf2onnx exports Keras GRU and SimpleRNN):
    # refused, with a message saying what to export instead.
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"], name="keep_going"),
         helper.make_node("Tanh", ["h_in"], ["h_out"], name="cell")],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("h_in", TensorProto.FLOAT, ["N", 8])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("h_out", TensorProto.FLOAT, ["N", 8])])
    nodes = [helper.make_node("Loop", ["trips", "cond", "x"], ["y"], name="rnn_while_loop", body=body)]
    graph = helper.make_graph(nodes, "loop",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 8])],
                              initializer=[numpy_helper.from_array(np.array(20, dtype=np.int64), "trips"),
                                           numpy_helper.from_array(np.array(True), "cond")])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(d, "recurrent_loop.onnx"))
    # Max of three inputs, and Max of data and a per-feature constant: refused, naming the node.
    def small(nodes, inits, gname):
        graph = helper.make_graph(nodes, gname,
                                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])],
                                  initializer=inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        onnx.checker.check_model(m)
        return m
    onnx.save(small([helper.make_node("Relu", ["x"], ["r"], name="relu"),
                     helper.make_node("Max", ["x", "r", "r"], ["y"], name="max3")], [], "max3"),
              os.path.join(d, "max_three_inputs.onnx"))
    onnx.save(small([helper.make_node("Max", ["x", "c"], ["y"], name="max_vector")],
                    [tensor("c", np.ones(4))], "max_vector"),
              os.path.join(d, "max_vector_constant.onnx"))
    # The batch behind an axis of size > 1: a reshape that would merge it into the sample, and a
    # batch-first op reading it there. Refused, naming the node and the shape with N in place.
    def batch_moved(nodes, inits, out_shape, gname):
        graph = helper.make_graph(nodes, gname,
                                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 3])],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
                                  initializer=inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        onnx.checker.check_model(m)
        return m
    onnx.save(batch_moved([helper.make_node("Transpose", ["x"], ["t"], name="to_seq_first", perm=[1, 0, 2]),
                           helper.make_node("Flatten", ["t"], ["y"], name="flatten_time", axis=1)],
                          [], [4, None], "flatten_merges_batch"),
              os.path.join(d, "flatten_merges_batch.onnx"))
    onnx.save(batch_moved([helper.make_node("Transpose", ["x"], ["t"], name="to_seq_first", perm=[1, 0, 2]),
                           helper.make_node("Softmax", ["t"], ["y"], name="softmax_seq_first", axis=-1)],
                          [], [4, "N", 3], "softmax_batch_second"),
              os.path.join(d, "softmax_batch_second.onnx"))


def wrapping_cnn_case(rng):
    """A CNN whose activations exceed +-32 on standard-normal inputs, as hls4ml's
    jetTagger_Conv2D_Small_NoBatchNorm does: at the default ap_fixed<16,6> (AP_WRAP) its values
    wrap and argmax agreement collapses; the compile must say so and name the layers."""
    def conv(nodes, add_init, x, out, cout, cin, scale):
        w = rng.uniform(-1, 1, (cout, cin, 3, 3)) * scale
        b = rng.uniform(-0.5, 0.5, cout)
        nodes.append(helper.make_node("Conv", [x, add_init(w), add_init(b)], [out], name=out))
        return out

    def build(x, add_init, nodes):
        h = conv(nodes, add_init, x, "conv1", 6, 1, 3.0)           # 10x10 -> 8x8
        nodes.append(helper.make_node("Relu", [h], ["relu1"], name="relu1"))
        h = conv(nodes, add_init, "relu1", "conv2", 8, 6, 1.5)     # 8x8 -> 6x6
        nodes.append(helper.make_node("Relu", [h], ["relu2"], name="relu2"))
        nodes.append(helper.make_node("MaxPool", ["relu2"], ["pool"], name="pool", kernel_shape=[2, 2], strides=[2, 2]))
        return head("pool", 8 * 3 * 3, 5, add_init, nodes, rng, "head")
    conv_model("cnn_wraps_at_default", rng, [1, 10, 10], build, twin=False, extra={"argmax_target": False},
               what="Conv2D 3x3 (weights up to 3) -> Relu -> Conv2D 3x3 -> Relu -> MaxPool -> Gemm -> Softmax: activations far beyond +-32 on standard-normal inputs (hls4ml's jetTagger_Conv2D_Small_NoBatchNorm wraps alike)")
    write_intermediates("cnn_wraps_at_default", 50)


def write_intermediates(name, n):
    """ONNX Runtime's value of every node's output on the case's first n inputs, keyed by node name,
    as intermediates.npz (for `hlsrs predict --trace`'s float trace): every node output is made a
    graph output. 4-D values (NCHW) are written channels-last, as hlsrs lays them out."""
    d = os.path.join(TESTDATA, name)
    m = onnx.load(os.path.join(d, "model.onnx"))
    known = {o.name for o in m.graph.output}
    for node in m.graph.node:
        for out in node.output:
            if out not in known:
                m.graph.output.append(helper.make_empty_tensor_value_info(out))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(m.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    x = np.load(os.path.join(d, "input.npy"))[:n]
    names = [o.name for o in sess.get_outputs()]
    values = dict(zip(names, sess.run(None, {sess.get_inputs()[0].name: x})))
    arrays = {}
    for node in m.graph.node:
        v = values[node.output[0]]
        arrays[node.name] = np.transpose(v, (0, 2, 3, 1)) if v.ndim == 4 else v
    np.savez(os.path.join(d, "intermediates.npz"), **arrays)


def main():
    rng = np.random.default_rng(20261125)
    shared_case("two_layer_keras", 10, False, rng)
    shared_case("two_layer_pytorch", 10, False, rng)
    shared_case("three_layer_keras", 16, True, rng)
    shared_case("three_layer_pytorch", 16, True, rng)
    bn_keras_case(rng)
    acts = [("Relu", 7), ("LeakyRelu", 7), ("Sigmoid", 9), ("Tanh", 13), ("HardSigmoid", 17),
            ("Clip", 10), ("Clip", 21)]
    for act, opset in acts:
        name = f"mlp_{act.lower()}_opset{opset}"
        generated_case(name, mlp_activation_case(rng, act, opset), 16, True, rng,
                       f"Gemm(transB=1) -> {act} -> Gemm -> Softmax")
    generated_case("gemm_transb0_alpha_beta", gemm_case(rng, 0, 0.5, 2.0, 11), 12, False, rng,
                   "Gemm transB=0, alpha=0.5, beta=2 -> Tanh -> Gemm")
    generated_case("gemm_transb1_alpha_beta", gemm_case(rng, 1, 1.5, 0.25, 13), 12, False, rng,
                   "Gemm transB=1, alpha=1.5, beta=0.25 -> Tanh -> Gemm")
    generated_case("matmul_add", matmul_add_case(rng, 9), 10, False, rng,
                   "MatMul + Add (bias first and second operand) -> Relu -> MatMul + Add")
    generated_case("batchnorm", batchnorm_case(rng, 7), 8, True, rng,
                   "standalone BatchNormalization on the input, BatchNormalization after Gemm (fused)")
    generated_case("batchnorm_opset15", batchnorm_case(rng, 15), 8, True, rng,
                   "as batchnorm, opset 15")
    generated_case("shape_ops", shape_ops_case(rng, 11), 16, True, rng,
                   "Reshape, Transpose, Flatten, Unsqueeze, Squeeze, Identity, Dropout, Constant, Add of a constant, Add of two branches")
    generated_case("shape_ops_opset13", shape_ops_case(rng, 13), 16, True, rng,
                   "as shape_ops, opset 13 (axes as inputs)")
    external_data_case(rng)
    opset6_case(rng)
    # Later case groups draw from their own generators, so adding one does not change the others.
    conv_cases(np.random.default_rng(3))
    conv_cases_2(np.random.default_rng(4))
    conv1d_keras_cnn_case(np.random.default_rng(7))
    newest = onnx.defs.onnx_opset_version()
    generated_case(f"batchnorm_opset{newest}", batchnorm_case(rng, newest), 8, True, rng,
                   f"as batchnorm, at the newest opset onnx {onnx.__version__} knows ({newest})")
    json_every_op_case(rng)
    recurrent_cases(np.random.default_rng(5))
    pytorch_recurrent_cases(np.random.default_rng(6))
    mish_cases(np.random.default_rng(8))
    max_min_case(np.random.default_rng(9))
    split_cases(np.random.default_rng(10))
    reduce_cases(np.random.default_rng(11))
    argmax_cases(np.random.default_rng(12))
    conv1d_lstm_cases(np.random.default_rng(13))
    size1_axes_cases(np.random.default_rng(14))
    multi_io_cases(np.random.default_rng(15))
    wrapping_cnn_case(np.random.default_rng(17))
    error_models(rng)
    print("testdata written", file=sys.stderr)


if __name__ == "__main__":
    main()
