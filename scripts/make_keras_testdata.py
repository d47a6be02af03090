#!/usr/bin/env python3
"""Makes the Keras-exported recurrent test cases: Keras models with seeded weights, exported by
tf2onnx (the converter hls4ml users reach for), seeded inputs, golden outputs from ONNX Runtime.

Run through scripts/make_keras_testdata.sh (a venv with TensorFlow CPU, tf2onnx and
onnxruntime). tf2onnx keeps Keras LSTMs as ONNX LSTM nodes around a zero initial state built
from the input's shape (Shape, Cast, Slice, Concat, Expand); it leaves Keras GRU and SimpleRNN as
Loop nodes (a while loop over TensorFlow's cell), whose cells hlsrs recognises (keras_gru*,
keras_simplernn_*); a Loop that is no such cell is refused (testdata/errors/recurrent_loop.onnx,
from make_testdata.py).
Tensors and nodes are renamed by position (tf2onnx's own names vary from run to run), so
re-running gives byte-identical files. Never edit the outputs by hand.
"""
import json
import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["CUDA_VISIBLE_DEVICES"] = ""

import numpy as np
import onnx
import onnxruntime as ort
import tensorflow as tf
import tf2onnx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTDATA = os.path.join(ROOT, "testdata")
SEQ, FEAT, N_SAMPLES = 20, 6, 500


def randomize(model, rng):
    # Seeded uniform weights everywhere (Keras's own initialisers leave biases at zero).
    for layer in model.layers:
        ws = layer.get_weights()
        if ws:
            layer.set_weights([rng.uniform(-0.4, 0.4, w.shape).astype(np.float32) for w in ws])


def canonical_names(proto):
    """tf2onnx's constant and node names vary from run to run (TensorFlow's graph optimiser): name
    every tensor but the graph's input and output, and every node, by its position instead (loop
    bodies included, which may read the outer graph's tensors)."""
    g = proto.graph
    keep = {v.name for v in list(g.input) + list(g.output)}
    rename = {}
    nodes = [0]

    def name(t):
        if t and t not in keep and t not in rename:
            rename[t] = f"t{len(rename)}"
        return rename.get(t, t)

    def walk(graph):
        for v in list(graph.input) + list(graph.output):
            v.name = name(v.name)
        for n in graph.node:
            n.input[:] = [name(t) for t in n.input]
            n.output[:] = [name(t) for t in n.output]
            n.name = f"{n.op_type.lower()}_{nodes[0]}"
            nodes[0] += 1
            for a in n.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    walk(a.g)
        for t in graph.initializer:
            t.name = name(t.name)
        for v in graph.value_info:
            v.name = name(v.name)
        # Initializers in order of first use.
        order = {t: i for i, t in enumerate(rename.values())}
        inits = sorted(graph.initializer, key=lambda t: order.get(t.name, len(order)))
        del graph.initializer[:]
        graph.initializer.extend(inits)

    walk(g)
    # Symbolic dims and loop-body names come from TensorFlow's global counters, which depend on
    # what was exported before in the same process: number them per model instead.
    dims = {}

    def dims_of(graph):
        for v in list(graph.input) + list(graph.output) + list(graph.value_info):
            for d in v.type.tensor_type.shape.dim:
                if d.HasField("dim_param") and d.dim_param.startswith("unk__"):
                    d.dim_param = dims.setdefault(d.dim_param, f"unk{len(dims)}")
        for n in graph.node:
            for a in n.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    a.g.name = f"{n.name}_body"
                    dims_of(a.g)

    dims_of(g)


def normalize_loop_bodies(graph):
    """tf2onnx writes a loop body's last Identity either way round between the carried state and
    the scan output (and sets an empty domain or not) from run to run: make one form, the
    Identity from the earlier body output to the later, with the same values."""
    for n in graph.node:
        if n.domain == "":
            n.ClearField("domain")
        for a in n.attribute:
            if a.type != onnx.AttributeProto.GRAPH:
                continue
            body = a.g
            outs = [o.name for o in body.output]
            for m in body.node:
                if m.op_type == "Identity" and m.input[0] in outs and m.output[0] in outs \
                        and outs.index(m.input[0]) > outs.index(m.output[0]):
                    x, y = m.input[0], m.output[0]
                    swap = {x: y, y: x}
                    for k in body.node:
                        k.input[:] = [swap.get(t, t) for t in k.input]
                        k.output[:] = [swap.get(t, t) for t in k.output]
            normalize_loop_bodies(body)


def export(name, build, rng):
    tf.keras.backend.clear_session()
    tf.keras.utils.set_random_seed(1)
    inp = tf.keras.Input((SEQ, FEAT), name="x")
    model = tf.keras.Model(inp, build(inp), name=name)
    randomize(model, rng)
    spec = (tf.TensorSpec((None, SEQ, FEAT), tf.float32, name="x"),)
    proto, _ = tf2onnx.convert.from_keras(model, input_signature=spec, opset=13)
    proto.producer_version = ""  # keep the file independent of the converter's build string
    normalize_loop_bodies(proto.graph)
    canonical_names(proto)
    onnx.checker.check_model(proto)
    return proto


def case(name, build, what, rng):
    proto = export(name, build, rng)
    d = os.path.join(TESTDATA, name)
    os.makedirs(d, exist_ok=True)
    onnx.save(proto, os.path.join(d, "model.onnx"))
    x = rng.standard_normal((N_SAMPLES, SEQ, FEAT)).astype(np.float32)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(proto.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    y = sess.run(None, {"x": x})[0]
    np.save(os.path.join(d, "input.npy"), x)
    np.save(os.path.join(d, "golden.npy"), y.astype(np.float32))
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump({"source": "generated by scripts/make_keras_testdata.py (seeded)", "what": what,
                   "golden": "onnxruntime " + ort.__version__,
                   "exporter": f"tensorflow {tf.__version__}, tf2onnx {tf2onnx.__version__}",
                   "classifier": True, "argmax_target": False,
                   "input": "standard normal, seeded", "opset": 13}, f, indent=2, sort_keys=True)
        f.write("\n")


def main():
    rng = np.random.default_rng(7)
    dense = lambda h: tf.keras.layers.Dense(5, activation="softmax", name="fc")(h)
    case("keras_lstm", lambda x: dense(tf.keras.layers.LSTM(16, name="lstm")(x)),
         "Keras LSTM(16) -> Dense(5, softmax), exported by tf2onnx", rng)
    case("keras_lstm_stacked",
         lambda x: dense(tf.keras.layers.LSTM(10, name="lstm2")(
             tf.keras.layers.LSTM(10, return_sequences=True, name="lstm1")(x))),
         "Keras LSTM(10, return_sequences) -> LSTM(10) -> Dense(5, softmax), exported by tf2onnx", rng)
    # tf2onnx leaves these as Loop nodes over TensorFlow's cell; hlsrs recognises the cell.
    # Each draws from its own generator, so adding one changes no other case.
    layers = tf.keras.layers
    for name, build, what, seed in [
        ("keras_gru", lambda x: dense(layers.GRU(12, name="gru")(x)),
         "Keras GRU(12) (reset_after, the Keras default) -> Dense(5, softmax), exported by tf2onnx as a Loop", 11),
        ("keras_gru_reset_before",
         lambda x: dense(layers.GRU(12, reset_after=False, name="gru")(x)),
         "Keras GRU(12, reset_after=False) -> Dense(5, softmax), exported by tf2onnx as a Loop", 12),
        ("keras_gru_stacked",
         lambda x: dense(layers.GRU(8, name="gru2")(layers.GRU(8, return_sequences=True, name="gru1")(x))),
         "Keras GRU(8, return_sequences) -> GRU(8) -> Dense(5, softmax), exported by tf2onnx as two Loops", 13),
        ("keras_simplernn_tanh", lambda x: dense(layers.SimpleRNN(16, name="rnn")(x)),
         "Keras SimpleRNN(16) (tanh) -> Dense(5, softmax), exported by tf2onnx as a Loop", 14),
        ("keras_conv1d_lstm",
         lambda x: dense(layers.LSTM(8, name="lstm")(
             layers.Conv1D(8, 3, padding="same", activation="relu", name="conv")(x))),
         "Keras Conv1D(8, 3, same, relu) over [20, 6] channels-last -> LSTM(8) -> Dense(5, softmax), exported by tf2onnx (hls4ml issue #1052's graph)", 16),
        ("keras_simplernn_relu",
         lambda x: dense(layers.SimpleRNN(16, activation="relu", name="rnn")(x)),
         "Keras SimpleRNN(16, relu) -> Dense(5, softmax), exported by tf2onnx as a Loop", 15),
    ]:
        case(name, build, what, np.random.default_rng(seed))


if __name__ == "__main__":
    main()
