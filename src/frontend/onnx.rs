//! ONNX frontend: a `ModelProto` (opsets 6 through the newest) into the IR.
//!
//! Guarantees: every unsupported op is reported in one error with its node name; the batch
//! dimension (dim 0, any value or symbol) is dropped; constant inputs (initializers, Constant nodes,
//! shape-only ops on constants) are folded here, so the IR holds only data-carrying layers.
//!
//! Layout: the IR is channels-last while ONNX convolutions are channels-first. Each data value
//! carries a [`Layout`] (which ONNX axis each IR axis holds); ONNX Transposes only change the
//! layout, so pairs that undo each other cost nothing, and a Transpose node is added to the IR only
//! where an op needs another layout than the one its input has.
//! Converters are registered by op type in one table ([`CONVERTERS`]).

use crate::error::{Error, Result};
use crate::ir::ops::{PoolKind, Window};
use crate::ir::tensor::transpose_gather;
use crate::ir::{Model, Node, Op, Tensor};
use onnx_protobuf::{Message, ModelProto, NodeProto, TensorProto};
use petgraph::stable_graph::NodeIndex;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Reads and converts an ONNX file. External data is resolved next to the file.
pub fn load(path: &Path, name: &str) -> Result<Model> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, "read the model", e))?;
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    parse(&bytes, name, &dir).map_err(|e| e.in_file(path))
}

/// Converts ONNX bytes; `dir` is where external data files must live.
pub fn parse(bytes: &[u8], name: &str, dir: &Path) -> Result<Model> {
    let proto = ModelProto::parse_from_bytes(bytes).map_err(|e| {
        Error::input(format!(
            "not a valid ONNX protobuf ({e}); the file may be truncated or not an ONNX model"
        ))
    })?;
    Converter::new(&proto, name, dir)?.run()
}

/// The op table: every ONNX op type (default domain) the frontend converts. [`Converter::convert`]
/// dispatches on the same names.
pub const SUPPORTED_OPS: &[&str] = &[
    "Gemm",
    "MatMul",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Conv",
    "MaxPool",
    "AveragePool",
    "GlobalMaxPool",
    "GlobalAveragePool",
    "Concat",
    "Gather",
    "Slice",
    "LSTM",
    "GRU",
    "RNN",
    "Pad",
    "Resize",
    "Upsample",
    "Elu",
    "Selu",
    "Softsign",
    "Softplus",
    "PRelu",
    "Relu",
    "Sigmoid",
    "Tanh",
    "LeakyRelu",
    "HardSigmoid",
    "Softmax",
    "Clip",
    "BatchNormalization",
    "Flatten",
    "Reshape",
    "Squeeze",
    "Unsqueeze",
    "Transpose",
    "Identity",
    "Dropout",
    "Constant",
    "Shape",
    "Cast",
    "Expand",
    "QuantizeLinear",
    "DequantizeLinear",
];

mod qonnx;

/// QONNX quantizers, in one of `qonnx::QUANT_DOMAINS`.
const QONNX_OPS: &[&str] = &["Quant", "BipolarQuant", "Trunc"];

/// Whether the converter handles this node (op and domain).
fn supported(n: &NodeProto) -> bool {
    let op = n.op_type.as_str();
    match n.domain.as_str() {
        "" | "ai.onnx" => SUPPORTED_OPS.contains(&op),
        d if qonnx::QUANT_DOMAINS.contains(&d) => QONNX_OPS.contains(&op),
        qonnx::CHANNELS_LAST_DOMAIN => op == "Conv",
        _ => false,
    }
}

/// For each IR axis, the ONNX axis (batch excluded) it holds: IR shape[k] = ONNX shape[layout[k]].
type Layout = Vec<usize>;

fn identity(rank: usize) -> Layout {
    (0..rank).collect()
}

/// ONNX [C, spatial...] stored as IR [spatial..., C].
fn channels_last(rank: usize) -> Layout {
    (1..rank).chain(std::iter::once(0)).collect()
}

/// What an ONNX tensor name refers to during conversion.
#[derive(Clone)]
enum Value {
    /// Output of an IR node, in a layout.
    Node(NodeIndex, Layout),
    /// A constant (initializer, Constant node, or folded).
    Const(Tensor),
}

struct Converter<'a> {
    proto: &'a ModelProto,
    dir: &'a Path,
    opset: i64,
    model: Model,
    values: HashMap<String, Value>,
    names: HashSet<String>,
    /// Transposes that belong to a keras2onnx Transpose-BatchNormalization-Transpose pattern.
    keras_bn_transposes: HashSet<usize>,
    /// Index of the node being converted (for the pattern check).
    current: usize,
    /// Transposes already inserted to give a node another layout.
    relayouts: HashMap<(NodeIndex, Layout), NodeIndex>,
    /// Where the (size-1) batch axis sits in a data tensor's ONNX shape, where not first
    /// (PyTorch's sequence-first recurrent layers move it).
    batch_pos: HashMap<String, usize>,
    /// QuantizeLinear outputs (already dequantized) with their scale and zero point.
    dequantized: HashMap<String, (Tensor, Tensor)>,
}

fn attr<'p>(node: &'p NodeProto, name: &str) -> Option<&'p onnx_protobuf::AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}
fn attr_f(node: &NodeProto, name: &str, default: f64) -> f64 {
    attr(node, name).map(|a| a.f as f64).unwrap_or(default)
}
fn attr_i(node: &NodeProto, name: &str, default: i64) -> i64 {
    attr(node, name).map(|a| a.i).unwrap_or(default)
}
fn attr_ints(node: &NodeProto, name: &str) -> Option<Vec<i64>> {
    attr(node, name).map(|a| a.ints.clone())
}

/// Name of a node: its own, or op type and first output when the exporter left it empty.
fn node_name(node: &NodeProto) -> String {
    if !node.name.is_empty() {
        node.name.clone()
    } else {
        format!(
            "{}_{}",
            node.op_type,
            node.output.first().map(String::as_str).unwrap_or("")
        )
    }
}

fn shape_str(batchless: &[usize]) -> String {
    let dims: Vec<String> = std::iter::once("N".to_string())
        .chain(batchless.iter().map(|d| d.to_string()))
        .collect();
    format!("[{}]", dims.join(", "))
}

/// The most values one tensor may hold (weights or a layer's output): far beyond any FPGA design,
/// small enough that a corrupted dimension is an error rather than an allocation failure.
pub const MAX_VALUES: usize = 1 << 24;

/// The number of values of a shape, or an error when it is absurd.
fn checked_size(shape: &[usize], what: &str) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= MAX_VALUES)
        .ok_or_else(|| {
            Error::input(format!(
                "{what} of shape {shape:?} holds more than {MAX_VALUES} values; the file may be corrupt"
            ))
        })
}

/// Reads a TensorProto into f64 values.
fn tensor_from_proto(t: &TensorProto, dir: &Path) -> Result<Tensor> {
    let shape: Vec<usize> = t
        .dims
        .iter()
        .map(|&d| usize::try_from(d))
        .collect::<Result<_, _>>()
        .map_err(|_| Error::input(format!("tensor '{}' has a negative dimension", t.name)))?;
    let n = checked_size(&shape, &format!("tensor '{}'", t.name))?;
    let external;
    let raw: &[u8] = if t.data_location.value() == 1 {
        external = read_external(t, dir)?;
        &external
    } else {
        &t.raw_data
    };
    // data_type: 1 float, 2 uint8, 3 int8, 5 int16, 6 int32, 7 int64, 10 float16, 11 double
    let dt = t.data_type;
    let data: Vec<f64> = if !raw.is_empty() {
        let size = match dt {
            1 | 6 => 4,
            7 | 11 => 8,
            2 | 3 => 1,
            5 | 10 => 2,
            _ => 0,
        };
        if size == 0 {
            return Err(Error::input(format!(
                "tensor '{}' has unsupported data type {dt}",
                t.name
            )));
        }
        if raw.len() != n * size {
            return Err(Error::input(format!(
                "tensor '{}' holds {} bytes, expected {} for shape {:?}",
                t.name,
                raw.len(),
                n * size,
                shape
            )));
        }
        raw.chunks_exact(size)
            .map(|c| match dt {
                1 => f32::from_le_bytes(c.try_into().unwrap()) as f64,
                6 => i32::from_le_bytes(c.try_into().unwrap()) as f64,
                7 => i64::from_le_bytes(c.try_into().unwrap()) as f64,
                11 => f64::from_le_bytes(c.try_into().unwrap()),
                2 => c[0] as f64,
                3 => c[0] as i8 as f64,
                5 => i16::from_le_bytes(c.try_into().unwrap()) as f64,
                _ => f16_to_f64(u16::from_le_bytes(c.try_into().unwrap())),
            })
            .collect()
    } else {
        match dt {
            1 => t.float_data.iter().map(|&v| v as f64).collect(),
            11 => t.double_data.clone(),
            7 => t.int64_data.iter().map(|&v| v as f64).collect(),
            2 | 3 | 5 | 6 => t.int32_data.iter().map(|&v| v as f64).collect(),
            10 => t.int32_data.iter().map(|&v| f16_to_f64(v as u16)).collect(),
            _ => {
                return Err(Error::input(format!(
                    "tensor '{}' has unsupported data type {dt}",
                    t.name
                )));
            }
        }
    };
    if data.len() != n {
        return Err(Error::input(format!(
            "tensor '{}' holds {} values, expected {} for shape {:?}",
            t.name,
            data.len(),
            n,
            shape
        )));
    }
    Ok(Tensor::new(shape, data))
}

fn f16_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let mant = (h & 0x3ff) as f64;
    sign * match exp {
        0 => mant * 2f64.powi(-24),
        31 => f64::INFINITY,
        _ => (1.0 + mant / 1024.0) * 2f64.powi(exp - 15),
    }
}

/// Reads an external-data tensor, refusing any location outside the model's folder.
fn read_external(t: &TensorProto, dir: &Path) -> Result<Vec<u8>> {
    let get = |k: &str| {
        t.external_data
            .iter()
            .find(|e| e.key == k)
            .map(|e| e.value.clone())
    };
    let location = get("location").ok_or_else(|| {
        Error::input(format!(
            "tensor '{}' is external but names no location",
            t.name
        ))
    })?;
    let rel = Path::new(&location);
    let escapes = rel.is_absolute()
        || rel.components().any(|c| {
            !matches!(
                c,
                std::path::Component::Normal(_) | std::path::Component::CurDir
            )
        });
    let path = dir.join(rel);
    let inside = !escapes
        && match (path.canonicalize(), dir.canonicalize()) {
            (Ok(p), Ok(d)) => p.starts_with(d),
            _ => true, // does not exist: reported below as unreadable
        };
    if !inside {
        return Err(Error::input(format!(
            "tensor '{}': external data location '{}' leaves the model's folder; refused \
             (external data must be a file beside the model)",
            t.name, location
        )));
    }
    let bytes = std::fs::read(&path).map_err(|e| {
        Error::input(format!(
            "tensor '{}': cannot read external data '{}': {e}",
            t.name,
            path.display()
        ))
    })?;
    let offset: usize = get("offset").and_then(|s| s.parse().ok()).unwrap_or(0);
    let end = match get("length").and_then(|s| s.parse::<usize>().ok()) {
        Some(l) => offset.saturating_add(l),
        None => bytes.len(),
    };
    if offset > end || end > bytes.len() {
        return Err(Error::input(format!(
            "tensor '{}': external data range {offset}..{end} is outside '{}' ({} bytes)",
            t.name,
            path.display(),
            bytes.len()
        )));
    }
    Ok(bytes[offset..end].to_vec())
}

/// Normalises a possibly negative axis for a tensor of `rank` dims.
fn norm_axis(axis: i64, rank: usize) -> Result<usize> {
    let r = rank as i64;
    if axis < -r || axis >= r {
        return Err(Error::input(format!(
            "axis {axis} is out of range for rank {rank}"
        )));
    }
    Ok(if axis < 0 {
        (axis + r) as usize
    } else {
        axis as usize
    })
}

impl<'a> Converter<'a> {
    fn new(proto: &'a ModelProto, name: &str, dir: &'a Path) -> Result<Converter<'a>> {
        let graph = proto
            .graph
            .as_ref()
            .ok_or_else(|| Error::input("the model has no graph"))?;
        let opset = proto
            .opset_import
            .iter()
            .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
            .map(|o| o.version)
            .unwrap_or(1);
        if opset < 6 {
            return Err(Error::input(format!(
                "opset {opset} is older than the oldest supported (6)"
            )));
        }
        // Every unsupported op, at once.
        let unsupported: Vec<String> = graph
            .node
            .iter()
            .filter(|n| !supported(n))
            .map(|n| {
                let domain = if n.domain.is_empty() {
                    String::new()
                } else {
                    format!(", domain {}", n.domain)
                };
                format!("  node '{}': {}{}", node_name(n), n.op_type, domain)
            })
            .collect();
        if !unsupported.is_empty() {
            let hint = if graph.node.iter().any(|n| n.op_type == "Loop") {
                "\nA Loop is a recurrent layer the exporter could not turn into an ONNX LSTM/GRU/RNN \
                 node (tf2onnx does this with Keras GRU and SimpleRNN); hlsrs compiles those \
                 operators, so export the layer as one (torch.onnx does)."
            } else {
                ""
            };
            return Err(Error::input(format!(
                "{} unsupported op(s):\n{}\nsupported: {}; QONNX (domain {}): {}; Conv in domain {}{hint}",
                unsupported.len(),
                unsupported.join("\n"),
                SUPPORTED_OPS.join(", "),
                qonnx::QUANT_DOMAINS.join(" / "),
                QONNX_OPS.join(", "),
                qonnx::CHANNELS_LAST_DOMAIN
            )));
        }

        let mut values = HashMap::new();
        for t in &graph.initializer {
            values.insert(t.name.clone(), Value::Const(tensor_from_proto(t, dir)?));
        }
        let data_inputs: Vec<_> = graph
            .input
            .iter()
            .filter(|i| !values.contains_key(&i.name))
            .collect();
        if data_inputs.len() != 1 {
            let names: Vec<&str> = data_inputs.iter().map(|i| i.name.as_str()).collect();
            return Err(Error::input(format!(
                "expected exactly one data input, found {}: {:?}",
                names.len(),
                names
            )));
        }
        let input = data_inputs[0];
        let dims = match input.type_.as_ref().and_then(|t| t.value.as_ref()) {
            Some(onnx_protobuf::type_proto::Value::TensorType(tt)) => tt
                .shape
                .as_ref()
                .map(|s| s.dim.clone())
                .ok_or_else(|| Error::input(format!("input '{}' has no shape", input.name)))?,
            _ => {
                return Err(Error::input(format!(
                    "input '{}' is not a tensor",
                    input.name
                )));
            }
        };
        use onnx_protobuf::tensor_shape_proto::dimension::Value as Dim;
        if dims.len() < 2 {
            return Err(Error::input(format!(
                "input '{}' has rank {}; expected a batch dimension followed by the sample's shape",
                input.name,
                dims.len()
            )));
        }
        let mut shape = Vec::new();
        for (k, d) in dims.iter().enumerate().skip(1) {
            match d.value {
                Some(Dim::DimValue(v)) if v > 0 => shape.push(v as usize),
                _ => {
                    return Err(Error::input(format!(
                        "input '{}' dimension {k} is not a fixed size; only dim 0 (batch) may be symbolic",
                        input.name
                    )));
                }
            }
        }
        checked_size(&shape, &format!("input '{}'", input.name))?;
        let mut model = Model::new(name, Node::new(input.name.clone(), Op::Input, shape));
        let input_idx = model.input;
        let rank = model.node(input_idx).shape.len();
        values.insert(input.name.clone(), Value::Node(input_idx, identity(rank)));
        let mut names = HashSet::new();
        names.insert(input.name.clone());
        model.name = name.to_string();
        let keras_bn_transposes = find_keras_bn_pattern(&graph.node, &graph.output);
        Ok(Converter {
            proto,
            dir,
            opset,
            model,
            values,
            names,
            keras_bn_transposes,
            current: 0,
            relayouts: HashMap::new(),
            batch_pos: HashMap::new(),
            dequantized: HashMap::new(),
        })
    }

    fn run(mut self) -> Result<Model> {
        let graph = self.proto.graph.as_ref().expect("checked in new");
        for (k, node) in graph.node.iter().enumerate() {
            self.current = k;
            let name = self.unique_name(&node_name(node));
            self.convert(node, &name).map_err(|e| e.at_node(&name))?;
        }
        if graph.output.len() != 1 {
            return Err(Error::input(format!(
                "expected exactly one graph output, found {}",
                graph.output.len()
            )));
        }
        let out = &graph.output[0].name;
        match self.values.get(out).cloned() {
            Some(Value::Node(n, layout)) => {
                // The user sees the output in ONNX order.
                let n = self.relayout(n, &layout, &identity(layout.len()), out);
                self.model.output = n;
                self.model.output_shape = self.model.node(n).shape.clone();
            }
            Some(Value::Const(_)) => {
                return Err(Error::input(format!("graph output '{out}' is a constant")));
            }
            None => {
                return Err(Error::input(format!(
                    "graph output '{out}' is produced by no node"
                )));
            }
        }
        Ok(self.model)
    }

    fn convert(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        if node.output.iter().all(String::is_empty) {
            return Err(Error::input(format!("{} node has no output", node.op_type)));
        }
        match node.op_type.as_str() {
            "Gemm" => self.gemm(node, name),
            "MatMul" => self.matmul(node, name),
            "Add" | "Sub" | "Mul" | "Div" => self.arith(node, name),
            "Conv" => self.conv(node, name),
            "MaxPool" | "AveragePool" | "GlobalMaxPool" | "GlobalAveragePool" => {
                self.pool(node, name)
            }
            "Concat" => self.concat(node, name),
            "LSTM" | "GRU" | "RNN" => self.recurrent(node, name),
            "Gather" => self.gather(node, name),
            "Slice" => self.slice(node, name),
            "Relu" | "Sigmoid" | "Tanh" | "LeakyRelu" | "HardSigmoid" | "Elu" | "Selu"
            | "Softsign" | "Softplus" => self.simple(node, name),
            "PRelu" => self.prelu(node, name),
            "Pad" => self.pad(node, name),
            "Resize" | "Upsample" => self.resize(node, name),
            "Softmax" => self.softmax(node, name),
            "Clip" => self.clip(node, name),
            "BatchNormalization" => self.batchnorm(node, name),
            "Flatten" => self.flatten(node, name),
            "Reshape" => self.reshape(node, name),
            "Squeeze" => self.squeeze(node, name),
            "Unsqueeze" => self.unsqueeze(node, name),
            "Transpose" => self.transpose(node, name),
            "Identity" | "Dropout" => self.identity(node),
            "Constant" => self.constant_node(node),
            "Shape" => self.shape_of(node),
            "Cast" => self.cast(node),
            "Expand" => self.expand(node),
            "Quant" => self.quant(node, name),
            "BipolarQuant" => self.bipolar_quant(node, name),
            "Trunc" => self.trunc(node, name),
            "QuantizeLinear" => self.quantize_linear(node, name),
            "DequantizeLinear" => self.dequantize_linear(node),
            other => Err(Error::internal(format!(
                "op {other} is listed but has no converter"
            ))),
        }
    }

    fn unique_name(&mut self, base: &str) -> String {
        let mut name = base.to_string();
        let mut k = 1;
        while self.names.contains(&name) {
            name = format!("{base}_{k}");
            k += 1;
        }
        self.names.insert(name.clone());
        name
    }

    fn value(&self, node: &NodeProto, k: usize) -> Result<&Value> {
        let name = node.input.get(k).filter(|s| !s.is_empty()).ok_or_else(|| {
            Error::input(format!(
                "{} expects input {k}, which is missing",
                node.op_type
            ))
        })?;
        self.values.get(name).ok_or_else(|| {
            Error::input(format!(
                "input '{name}' is not produced before this node (the graph must be topologically sorted)"
            ))
        })
    }

    fn has_input(&self, node: &NodeProto, k: usize) -> bool {
        node.input.get(k).is_some_and(|s| !s.is_empty())
    }

    /// A data-carrying (non-constant) input in ONNX's own axis order.
    fn data(&mut self, node: &NodeProto, k: usize) -> Result<NodeIndex> {
        let (n, layout) = self.data_any(node, k)?;
        let rank = layout.len();
        Ok(self.relayout(n, &layout, &identity(rank), &node.input[k]))
    }

    /// A data-carrying input in whatever layout it has.
    fn data_any(&self, node: &NodeProto, k: usize) -> Result<(NodeIndex, Layout)> {
        match self.value(node, k)? {
            Value::Node(n, l) => Ok((*n, l.clone())),
            Value::Const(_) => Err(Error::input(format!(
                "{} input {k} ('{}') is a constant; expected the data flowing through the network",
                node.op_type, node.input[k]
            ))),
        }
    }

    /// A data-carrying input in a given layout.
    fn data_in(&mut self, node: &NodeProto, k: usize, want: &Layout) -> Result<NodeIndex> {
        let (n, layout) = self.data_any(node, k)?;
        Ok(self.relayout(n, &layout, want, &node.input[k]))
    }

    /// The node holding `n`'s values in layout `to` (a Transpose added once where needed).
    fn relayout(&mut self, n: NodeIndex, from: &Layout, to: &Layout, tensor: &str) -> NodeIndex {
        if from == to {
            return n;
        }
        if let Some(&t) = self.relayouts.get(&(n, to.clone())) {
            return t;
        }
        // IR output axis k holds ONNX axis to[k], which the input holds at axis perm[k].
        let perm: Vec<usize> = to
            .iter()
            .map(|a| {
                from.iter()
                    .position(|b| b == a)
                    .expect("layouts are permutations")
            })
            .collect();
        let in_shape = self.shape(n);
        let shape = perm.iter().map(|&p| in_shape[p]).collect();
        let name = self.unique_name(&format!("{tensor}_to_layout"));
        let t = self
            .model
            .add(Node::new(name, Op::Transpose { perm }, shape), &[n]);
        self.relayouts.insert((n, to.clone()), t);
        t
    }

    /// ONNX shape (batch excluded) of a value in a layout.
    fn onnx_shape(&self, n: NodeIndex, layout: &Layout) -> Vec<usize> {
        let ir = self.shape(n);
        let mut s = vec![0; ir.len()];
        for (k, &a) in layout.iter().enumerate() {
            s[a] = ir[k];
        }
        s
    }

    fn constant(&self, node: &NodeProto, k: usize) -> Result<Tensor> {
        match self.value(node, k)? {
            Value::Const(t) => Ok(t.clone()),
            Value::Node(..) => Err(Error::input(format!(
                "{} input {k} ('{}') must be a constant (initializer or Constant node)",
                node.op_type, node.input[k]
            ))),
        }
    }

    fn shape(&self, n: NodeIndex) -> Vec<usize> {
        self.model.node(n).shape.clone()
    }

    fn set_output(&mut self, node: &NodeProto, v: Value) {
        if let Some(o) = node.output.first() {
            // By default the batch stays where the first input had it.
            let b = node.input.first().map_or(0, |i| self.batch_of(i));
            self.batch_pos.insert(o.clone(), b);
            self.values.insert(o.clone(), v);
        }
    }

    /// ONNX axis of the batch in a tensor (0 unless an op moved it).
    fn batch_of(&self, tensor: &str) -> usize {
        self.batch_pos.get(tensor).copied().unwrap_or(0)
    }

    /// Ops that read ONNX axes as [batch, ...] need the batch first.
    fn require_batch_first(&self, node: &NodeProto) -> Result<()> {
        for i in &node.input {
            if matches!(self.values.get(i), Some(Value::Node(..))) && self.batch_of(i) != 0 {
                return Err(Error::input(format!(
                    "{} input '{i}' has its batch dimension at axis {}; expected it first (transpose it back first)",
                    node.op_type,
                    self.batch_of(i)
                )));
            }
        }
        Ok(())
    }

    fn add_node(
        &mut self,
        node: &NodeProto,
        name: &str,
        op: Op,
        shape: Vec<usize>,
        inputs: &[NodeIndex],
    ) {
        let rank = shape.len();
        self.add_node_in(node, name, op, shape, inputs, identity(rank));
    }

    /// Adds a node whose output is in `layout` (its IR shape is already permuted).
    fn add_node_in(
        &mut self,
        node: &NodeProto,
        name: &str,
        op: Op,
        shape: Vec<usize>,
        inputs: &[NodeIndex],
        layout: Layout,
    ) {
        let n = self.model.add(Node::new(name, op, shape), inputs);
        self.set_output(node, Value::Node(n, layout));
    }

    /// Refuses absurd result shapes before anything is allocated for them.
    fn check_result(&self, shape: &[usize]) -> Result<()> {
        checked_size(shape, "the result").map(|_| ())
    }

    /// Refuses nodes whose secondary outputs (Dropout mask, BatchNormalization running stats) are
    /// used: the design computes only inference outputs.
    fn only_first_output_used(&self, node: &NodeProto) -> Result<()> {
        let graph = self.proto.graph.as_ref().unwrap();
        for extra in node.output.iter().skip(1).filter(|o| !o.is_empty()) {
            let used = graph.node.iter().any(|n| n.input.contains(extra))
                || graph.output.iter().any(|o| &o.name == extra);
            if used {
                return Err(Error::input(format!(
                    "output '{extra}' (a training-only output) is used by the graph; only inference outputs are supported"
                )));
            }
        }
        Ok(())
    }

    fn gemm(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        self.require_batch_first(node)?;
        let x = self.data(node, 0)?;
        if attr_i(node, "transA", 0) != 0 {
            return Err(Error::input(
                "Gemm with transA=1 on the data input would transpose the batch dimension; expected transA=0",
            ));
        }
        let b = self.constant(node, 1)?;
        let trans_b = attr_i(node, "transB", 0) != 0;
        let alpha = attr_f(node, "alpha", 1.0);
        let beta = attr_f(node, "beta", 1.0);
        let bias = if self.has_input(node, 2) {
            Some(self.constant(node, 2)?)
        } else {
            None
        };
        self.dense(node, name, x, b, trans_b, alpha, bias, beta)
    }

    fn matmul(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        self.require_batch_first(node)?;
        let x = self.data(node, 0)?;
        let b = self.constant(node, 1)?;
        self.dense(node, name, x, b, false, 1.0, None, 1.0)
    }

    #[allow(clippy::too_many_arguments)]
    fn dense(
        &mut self,
        node: &NodeProto,
        name: &str,
        x: NodeIndex,
        b: Tensor,
        trans_b: bool,
        alpha: f64,
        bias: Option<Tensor>,
        beta: f64,
    ) -> Result<()> {
        let xs = self.shape(x);
        if xs.len() != 1 {
            return Err(Error::input(format!(
                "{} on data of shape {} is not supported; expected [N, features]",
                node.op_type,
                shape_str(&xs)
            )));
        }
        if b.shape.len() != 2 {
            return Err(Error::input(format!(
                "weight '{}' has shape {:?}; expected a matrix",
                node.input[1], b.shape
            )));
        }
        let (k, n) = if trans_b {
            (b.shape[1], b.shape[0])
        } else {
            (b.shape[0], b.shape[1])
        };
        if k != xs[0] {
            return Err(Error::input(format!(
                "weight '{}' of shape {:?}{} expects {k} input features, but the input has shape {}",
                node.input[1],
                b.shape,
                if trans_b { " (transB=1)" } else { "" },
                shape_str(&xs)
            )));
        }
        let mut w = vec![0.0; k * n];
        for i in 0..k {
            for j in 0..n {
                let v = if trans_b {
                    b.data[j * k + i]
                } else {
                    b.data[i * n + j]
                };
                w[i * n + j] = alpha * v;
            }
        }
        let bias = match bias {
            None => vec![0.0; n],
            Some(c) => broadcast_channels(&c, n)
                .ok_or_else(|| {
                    Error::input(format!(
                        "bias '{}' of shape {:?} does not broadcast to {n} outputs",
                        node.input[2], c.shape
                    ))
                })?
                .into_iter()
                .map(|v| beta * v)
                .collect(),
        };
        let op = Op::Dense {
            weights: Tensor::new(vec![k, n], w),
            bias: Tensor::new(vec![n], bias),
        };
        self.add_node(node, name, op, vec![n], &[x]);
        Ok(())
    }

    /// Add, Sub, Mul, Div: between two branches, or with a constant (a scale_shift layer).
    fn arith(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        let op = node.op_type.as_str();
        let a = self.value(node, 0)?.clone();
        let b = self.value(node, 1)?.clone();
        match (a, b) {
            (Value::Node(x, lx), Value::Node(_, _)) => {
                let y = self.data_in(node, 1, &lx)?;
                let (xs, ys) = (self.shape(x), self.shape(y));
                if xs != ys {
                    return Err(Error::input(format!(
                        "{op} of two tensors with shapes {} and {}: broadcasting between branches is not supported; expected equal shapes",
                        shape_str(&self.onnx_shape(x, &lx)),
                        shape_str(&self.onnx_shape(y, &lx))
                    )));
                }
                let ir = match op {
                    "Add" => Op::Add,
                    "Sub" => Op::Sub,
                    "Mul" => Op::Mul,
                    _ => {
                        return Err(Error::input(
                            "Div of two tensors is not supported; expected a constant divisor",
                        ));
                    }
                };
                self.add_node_in(node, name, ir, xs, &[x, y], lx);
            }
            (Value::Node(_, _), Value::Const(c)) => {
                self.scale_shift_const(node, name, 0, c, false)?
            }
            (Value::Const(c), Value::Node(_, _)) => {
                self.scale_shift_const(node, name, 1, c, true)?
            }
            (Value::Const(a), Value::Const(b)) => {
                if a.shape != b.shape {
                    return Err(Error::input(format!(
                        "{op} of two constants with different shapes is not supported"
                    )));
                }
                let f = |x: f64, y: f64| match op {
                    "Add" => x + y,
                    "Sub" => x - y,
                    "Mul" => x * y,
                    _ => x / y,
                };
                let data = a.data.iter().zip(&b.data).map(|(x, y)| f(*x, *y)).collect();
                self.set_output(node, Value::Const(Tensor::new(a.shape, data)));
            }
        }
        Ok(())
    }

    /// Which ONNX axis (batch excluded) a constant varies along when broadcast against data of
    /// ONNX shape `onnx` (None: a scalar), or an error when it varies along more than one.
    fn varying_axis(&self, what: &str, c: &Tensor, onnx: &[usize]) -> Result<Option<usize>> {
        let rank = onnx.len() + 1;
        if c.shape.len() > rank {
            return Err(Error::input(format!(
                "{what} of shape {:?} has more axes than the data",
                c.shape
            )));
        }
        let padded: Vec<usize> = std::iter::repeat_n(1, rank - c.shape.len())
            .chain(c.shape.iter().copied())
            .collect();
        let varying: Vec<usize> = (1..rank).filter(|&a| padded[a] != 1).collect();
        if padded[0] != 1 || varying.len() > 1 || varying.iter().any(|&a| padded[a] != onnx[a - 1])
        {
            return Err(Error::input(format!(
                "{what} of shape {:?} on data {}: expected a scalar or one value per entry of a single axis",
                c.shape,
                shape_str(onnx)
            )));
        }
        Ok(varying.first().map(|a| a - 1))
    }

    /// The layout with ONNX axis `a` moved last (other axes keep their order).
    fn with_last(layout: &Layout, a: usize) -> Layout {
        let mut l: Layout = layout.iter().copied().filter(|&b| b != a).collect();
        l.push(a);
        l
    }

    fn prelu(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        self.require_batch_first(node)?;
        let (x0, layout) = self.data_any(node, 0)?;
        let slope = self.constant(node, 1)?;
        let onnx = self.onnx_shape(x0, &layout);
        let (x, layout) = match self.varying_axis("PRelu slope", &slope, &onnx)? {
            None => (x0, layout),
            Some(a) => {
                let l = Self::with_last(&layout, a);
                (self.data_in(node, 0, &l)?, l)
            }
        };
        let xs = self.shape(x);
        let slope = Tensor::new(vec![slope.len()], slope.data);
        self.add_node_in(node, name, Op::PRelu { slope }, xs, &[x], layout);
        Ok(())
    }

    /// A gather in the value's own layout: `source(onnx output coordinate)` gives the ONNX input
    /// coordinate read, or None for the fill value.
    fn gather_node(
        &mut self,
        node: &NodeProto,
        name: &str,
        out_onnx: Vec<usize>,
        fill: f64,
        source: impl Fn(&[usize]) -> Option<Vec<usize>>,
    ) -> Result<()> {
        let (x, layout) = self.data_any(node, 0)?;
        let in_ir = self.shape(x);
        let out_ir: Vec<usize> = layout.iter().map(|&a| out_onnx[a]).collect();
        let n = checked_size(&out_ir, "the result")?;
        let index: Vec<i64> = (0..n)
            .map(|o| {
                let c_ir = crate::ir::ops::unflatten(o, &out_ir);
                let mut c_onnx = vec![0; c_ir.len()];
                for (k, &a) in layout.iter().enumerate() {
                    c_onnx[a] = c_ir[k];
                }
                match source(&c_onnx) {
                    None => -1,
                    Some(src) => layout
                        .iter()
                        .enumerate()
                        .fold(0usize, |acc, (k, &a)| acc * in_ir[k] + src[a])
                        as i64,
                }
            })
            .collect();
        self.add_node_in(node, name, Op::Gather { index, fill }, out_ir, &[x], layout);
        Ok(())
    }

    fn pad(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        self.require_batch_first(node)?;
        let (x0, layout) = self.data_any(node, 0)?;
        let onnx = self.onnx_shape(x0, &layout);
        let rank = onnx.len() + 1;
        let mode = attr(node, "mode")
            .map(|a| String::from_utf8_lossy(&a.s).into_owned())
            .unwrap_or_else(|| "constant".into());
        if mode != "constant" {
            return Err(Error::input(format!(
                "Pad mode '{mode}' is not supported; expected 'constant'"
            )));
        }
        let (pads, value): (Vec<i64>, f64) = if self.opset < 11 {
            (
                attr_ints(node, "pads").ok_or_else(|| Error::input("Pad needs 'pads'"))?,
                attr_f(node, "value", 0.0),
            )
        } else {
            let p = self
                .constant(node, 1)?
                .data
                .iter()
                .map(|&v| v as i64)
                .collect();
            let v = if self.has_input(node, 2) {
                self.constant(node, 2)?.data.first().copied().unwrap_or(0.0)
            } else {
                0.0
            };
            (p, v)
        };
        let axes: Vec<usize> = if self.has_input(node, 3) {
            self.constant(node, 3)?
                .data
                .iter()
                .map(|&a| norm_axis(a as i64, rank))
                .collect::<Result<_>>()?
        } else {
            (0..rank).collect()
        };
        if pads.len() != 2 * axes.len() {
            return Err(Error::input(format!(
                "'pads' has {} values, expected {}",
                pads.len(),
                2 * axes.len()
            )));
        }
        let (mut pb, mut pe) = (vec![0i64; rank], vec![0i64; rank]);
        for (k, &a) in axes.iter().enumerate() {
            pb[a] = pads[k];
            pe[a] = pads[k + axes.len()];
        }
        if pb[0] != 0 || pe[0] != 0 {
            return Err(Error::input("Pad of the batch dimension is not supported"));
        }
        let out: Vec<usize> = (0..onnx.len())
            .map(|a| onnx[a] as i64 + pb[a + 1] + pe[a + 1])
            .map(|v| usize::try_from(v).ok().filter(|&v| v > 0))
            .collect::<Option<_>>()
            .ok_or_else(|| Error::input("Pad removes every value along an axis"))?;
        let pb = pb[1..].to_vec();
        self.gather_node(node, name, out, value, move |c| {
            c.iter()
                .enumerate()
                .map(|(a, &v)| {
                    let i = v as i64 - pb[a];
                    (i >= 0 && i < onnx[a] as i64).then_some(i as usize)
                })
                .collect()
        })
    }

    fn resize(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        self.require_batch_first(node)?;
        let (x0, layout) = self.data_any(node, 0)?;
        let onnx = self.onnx_shape(x0, &layout);
        let rank = onnx.len() + 1;
        let s_attr = |key: &str, default: &str| {
            attr(node, key)
                .map(|a| String::from_utf8_lossy(&a.s).into_owned())
                .unwrap_or_else(|| default.into())
        };
        let mode = s_attr("mode", "nearest");
        if mode != "nearest" {
            return Err(Error::input(format!(
                "{} mode '{mode}' is not supported; expected 'nearest'",
                node.op_type
            )));
        }
        let upsample = node.op_type == "Upsample";
        let (coord, nearest) = if upsample || self.opset < 11 {
            ("asymmetric".to_string(), "floor".to_string())
        } else {
            (
                s_attr("coordinate_transformation_mode", "half_pixel"),
                s_attr("nearest_mode", "round_prefer_floor"),
            )
        };
        // Scales and sizes per axis (batch included).
        let const_at = |k: usize| -> Result<Option<Tensor>> {
            if self.has_input(node, k) {
                Ok(Some(self.constant(node, k)?)).map(|t| t.filter(|t: &Tensor| !t.is_empty()))
            } else {
                Ok(None)
            }
        };
        let (scales, sizes): (Option<Vec<f64>>, Option<Vec<usize>>) = if upsample && self.opset < 9
        {
            (
                attr(node, "scales").map(|a| a.floats.iter().map(|&v| v as f64).collect()),
                None,
            )
        } else if upsample || self.opset < 11 {
            (const_at(1)?.map(|t| t.data), None)
        } else {
            (
                const_at(2)?.map(|t| t.data),
                const_at(3)?.map(|t| t.data.iter().map(|&v| v as usize).collect()),
            )
        };
        let (scales, out): (Vec<f64>, Vec<usize>) = match (scales, sizes) {
            (_, Some(sz)) if sz.len() == rank => {
                let sc = (0..rank)
                    .map(|a| sz[a] as f64 / if a == 0 { 1.0 } else { onnx[a - 1] as f64 })
                    .collect();
                (sc, sz[1..].to_vec())
            }
            (Some(sc), _) if sc.len() == rank => {
                let out = (1..rank)
                    .map(|a| (onnx[a - 1] as f64 * sc[a]).floor() as usize)
                    .collect();
                (sc, out)
            }
            _ => {
                return Err(Error::input(format!(
                    "{} needs scales or sizes for all {rank} axes",
                    node.op_type
                )));
            }
        };
        if scales[0] != 1.0 || out.contains(&0) {
            return Err(Error::input(format!(
                "{} scales {scales:?}: the batch must keep scale 1 and every axis a size",
                node.op_type
            )));
        }
        let coord_fn = coord.clone();
        let (onnx_c, out_c) = (onnx.clone(), out.clone());
        let map_axis = move |a: usize, x: usize| -> Result<usize> {
            let (onnx, out) = (&onnx_c, &out_c);
            let (n_in, n_out, s) = (onnx[a] as f64, out[a] as f64, scales[a + 1]);
            let x = x as f64;
            let orig = match coord_fn.as_str() {
                "half_pixel" => (x + 0.5) / s - 0.5,
                "pytorch_half_pixel" => {
                    if n_out > 1.0 {
                        (x + 0.5) / s - 0.5
                    } else {
                        0.0
                    }
                }
                "asymmetric" => x / s,
                "tf_half_pixel_for_nn" => (x + 0.5) / s,
                "align_corners" => {
                    if n_out > 1.0 {
                        x * (n_in - 1.0) / (n_out - 1.0)
                    } else {
                        0.0
                    }
                }
                other => {
                    return Err(Error::input(format!(
                        "coordinate_transformation_mode '{other}' is not supported"
                    )));
                }
            };
            let r = match nearest.as_str() {
                "round_prefer_floor" => {
                    if orig.fract().abs() == 0.5 {
                        orig.floor()
                    } else {
                        orig.round()
                    }
                }
                "round_prefer_ceil" => {
                    if orig.fract().abs() == 0.5 {
                        orig.ceil()
                    } else {
                        orig.round()
                    }
                }
                "floor" => orig.floor(),
                "ceil" => orig.ceil(),
                other => {
                    return Err(Error::input(format!(
                        "nearest_mode '{other}' is not supported"
                    )));
                }
            };
            Ok(r.clamp(0.0, n_in - 1.0) as usize)
        };
        self.check_result(&out)?;
        // Resolve every axis' map once (errors surface here, not inside the gather).
        let maps: Vec<Vec<usize>> = (0..onnx.len())
            .map(|a| (0..out[a]).map(|x| map_axis(a, x)).collect::<Result<_>>())
            .collect::<Result<_>>()?;
        let out_shape: Vec<usize> = maps.iter().map(Vec::len).collect();
        self.gather_node(node, name, out_shape, 0.0, move |c| {
            Some(c.iter().enumerate().map(|(a, &v)| maps[a][v]).collect())
        })
    }

    fn recurrent(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        use crate::ir::recurrent::{Activation, Cell, Direction, Recurrent, RecurrentOutput};
        let op = node.op_type.as_str();
        let layout = attr_i(node, "layout", 0);
        // Layout 0 is [seq, batch, features], layout 1 [batch, seq, features].
        let want_b = if layout == 0 { 1 } else { 0 };
        if self.batch_of(&node.input[0]) != want_b {
            return Err(Error::input(format!(
                "{op} (layout {layout}) expects the batch at axis {want_b} of its input, found it at axis {}",
                self.batch_of(&node.input[0])
            )));
        }
        let x = self.data(node, 0)?;
        let xs = self.shape(x);
        if xs.len() != 2 {
            return Err(Error::input(format!(
                "{op} input: expected [seq, features] besides the batch, got {xs:?}"
            )));
        }
        let (w, r) = (self.constant(node, 1)?, self.constant(node, 2)?);
        let hidden = attr_i(node, "hidden_size", 0) as usize;
        let direction = match attr(node, "direction")
            .map(|a| String::from_utf8_lossy(&a.s).into_owned())
            .as_deref()
        {
            None | Some("forward") => Direction::Forward,
            Some("reverse") => Direction::Reverse,
            Some("bidirectional") => Direction::Bidirectional,
            Some(other) => {
                return Err(Error::input(format!(
                    "direction '{other}' is not forward, reverse or bidirectional"
                )));
            }
        };
        let cell = match op {
            "LSTM" => Cell::Lstm {
                input_forget: attr_i(node, "input_forget", 0) != 0,
            },
            "GRU" => Cell::Gru {
                linear_before_reset: attr_i(node, "linear_before_reset", 0) != 0,
            },
            _ => Cell::Rnn,
        };
        let (dirs, g) = (direction.count(), cell.gates());
        if hidden == 0
            || w.shape != [dirs, g * hidden, xs[1]]
            || r.shape != [dirs, g * hidden, hidden]
        {
            return Err(Error::input(format!(
                "{op} weights W {:?} / R {:?} do not fit hidden_size {hidden}, {dirs} direction(s), {} input features",
                w.shape, r.shape, xs[1]
            )));
        }
        let opt = |k: usize| -> Result<Option<Tensor>> {
            if self.has_input(node, k) {
                Ok(Some(self.constant(node, k)?))
            } else {
                Ok(None)
            }
        };
        let b = opt(3)?.unwrap_or_else(|| Tensor::filled(vec![dirs, 2 * g * hidden], 0.0));
        if b.len() != dirs * 2 * g * hidden {
            return Err(Error::input(format!(
                "{op} bias B has {} values, expected {}",
                b.len(),
                dirs * 2 * g * hidden
            )));
        }
        let b = Tensor::new(vec![dirs, 2 * g * hidden], b.data);
        if self.has_input(node, 4) {
            let lens = self.constant(node, 4)?;
            if lens.data.iter().any(|&l| l as usize != xs[0]) {
                return Err(Error::input(format!(
                    "sequence_lens {:?} differ from the sequence length {}; only full-length sequences are supported",
                    lens.data, xs[0]
                )));
            }
        }
        // Sizes are checked before the constants take their IR shapes.
        let sized = |t: Option<Tensor>, shape: Vec<usize>, what: &str| -> Result<Option<Tensor>> {
            match t {
                Some(t) if t.len() != shape.iter().product::<usize>() => {
                    Err(Error::input(format!(
                        "{op} {what} has {} values, expected {}",
                        t.len(),
                        shape.iter().product::<usize>()
                    )))
                }
                t => Ok(t.map(|t| Tensor::new(shape, t.data))),
            }
        };
        let initial_h = sized(opt(5)?, vec![dirs, hidden], "initial state")?;
        let initial_c = if op == "LSTM" {
            sized(opt(6)?, vec![dirs, hidden], "initial state")?
        } else {
            None
        };
        let p = if op == "LSTM" {
            sized(opt(7)?, vec![dirs, 3 * hidden], "peepholes P")?
        } else {
            None
        };
        // Activations: names with alpha/beta consumed in order for those that take them.
        let names: Vec<String> = attr(node, "activations")
            .map(|a| {
                a.strings
                    .iter()
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let defaults: &[&str] = match op {
            "LSTM" => &["Sigmoid", "Tanh", "Tanh"],
            "GRU" => &["Sigmoid", "Tanh"],
            _ => &["Tanh"],
        };
        let names: Vec<String> = if names.is_empty() {
            (0..dirs)
                .flat_map(|_| defaults.iter().map(|s| s.to_string()))
                .collect()
        } else {
            names
        };
        let alphas: Vec<f64> = attr(node, "activation_alpha")
            .map(|a| a.floats.iter().map(|&v| v as f64).collect())
            .unwrap_or_default();
        let betas: Vec<f64> = attr(node, "activation_beta")
            .map(|a| a.floats.iter().map(|&v| v as f64).collect())
            .unwrap_or_default();
        let (mut ai, mut bi) = (0, 0);
        let mut activations = Vec::new();
        for n in &names {
            let mut alpha = |d: f64| {
                let v = alphas.get(ai).copied().unwrap_or(d);
                ai += 1;
                v
            };
            let a = match n.to_ascii_lowercase().as_str() {
                "sigmoid" => Activation::Sigmoid,
                "tanh" => Activation::Tanh,
                "relu" => Activation::Relu,
                "hardsigmoid" => {
                    let a = alpha(0.2);
                    let b = betas.get(bi).copied().unwrap_or(0.5);
                    bi += 1;
                    Activation::HardSigmoid { alpha: a, beta: b }
                }
                "leakyrelu" => Activation::LeakyRelu { alpha: alpha(0.01) },
                "thresholdedrelu" => Activation::ThresholdedRelu { alpha: alpha(1.0) },
                "scaledtanh" => {
                    let a = alpha(1.0);
                    let b = betas.get(bi).copied().unwrap_or(1.0);
                    bi += 1;
                    Activation::ScaledTanh { alpha: a, beta: b }
                }
                "affine" => {
                    let a = alpha(1.0);
                    let b = betas.get(bi).copied().unwrap_or(0.0);
                    bi += 1;
                    Activation::Affine { alpha: a, beta: b }
                }
                "elu" => Activation::Elu { alpha: alpha(1.0) },
                "softsign" => Activation::Softsign,
                "softplus" => Activation::Softplus,
                other => {
                    return Err(Error::input(format!(
                        "{op} activation '{other}' is not one the specification lists"
                    )));
                }
            };
            activations.push(a);
        }
        if activations.len() != dirs * cell.activation_count() {
            return Err(Error::input(format!(
                "{op} has {} activations, expected {}",
                activations.len(),
                dirs * cell.activation_count()
            )));
        }
        let clip = attr(node, "clip").map(|a| a.f as f64);
        let graph = self.proto.graph.as_ref().unwrap();
        let used = |k: usize| {
            node.output
                .get(k)
                .filter(|o| !o.is_empty())
                .is_some_and(|o| {
                    graph.node.iter().any(|n| n.input.contains(o))
                        || graph.output.iter().any(|g| &g.name == o)
                })
        };
        let outputs = [
            RecurrentOutput::Sequence,
            RecurrentOutput::LastHidden,
            RecurrentOutput::LastCell,
        ];
        for (k, out) in outputs.into_iter().enumerate() {
            if !used(k) {
                continue;
            }
            let rec = Recurrent {
                cell: cell.clone(),
                direction,
                hidden,
                activations: activations.clone(),
                clip,
                w: w.clone(),
                r: r.clone(),
                b: b.clone(),
                p: p.clone(),
                initial_h: initial_h.clone(),
                initial_c: initial_c.clone(),
                output: out,
                stateful: false,
            };
            let shape = rec.output_shape(xs[0]);
            let n = if k == 0 {
                name.to_string()
            } else {
                self.unique_name(&format!("{name}_{}", ["y", "y_h", "y_c"][k]))
            };
            let idx = self.model.add(
                Node::new(n, Op::Recurrent(Box::new(rec)), shape.clone()),
                &[x],
            );
            let rank = shape.len();
            self.values
                .insert(node.output[k].clone(), Value::Node(idx, identity(rank)));
            // Y is [seq, dirs, batch, hidden] in layout 0, Y_h / Y_c [dirs, batch, hidden].
            let b = if layout == 1 {
                0
            } else if k == 0 {
                2
            } else {
                1
            };
            self.batch_pos.insert(node.output[k].clone(), b);
        }
        Ok(())
    }

    /// data (op) constant, as y = x * scale + shift per channel. `const_first`: the constant is
    /// the left operand (c - x, c + x, c * x).
    fn scale_shift_const(
        &mut self,
        node: &NodeProto,
        name: &str,
        k: usize,
        c: Tensor,
        const_first: bool,
    ) -> Result<()> {
        self.require_batch_first(node)?;
        let op = node.op_type.as_str();
        let (x0, layout) = self.data_any(node, k)?;
        let onnx = self.onnx_shape(x0, &layout);
        // The constant broadcasts against [N, onnx...]; the axis it varies along goes last
        // (channels), the layout is kept otherwise.
        let (x, layout) = match self.varying_axis(&format!("{op} with a constant"), &c, &onnx)? {
            None => (self.data_in(node, k, &layout)?, layout),
            Some(a) => {
                let l = Self::with_last(&layout, a);
                (self.data_in(node, k, &l)?, l)
            }
        };
        let xs = self.shape(x);
        let ch = *xs.last().unwrap();
        let vals: Vec<f64> = if c.len() == 1 {
            vec![c.data[0]; ch]
        } else {
            c.data.clone()
        };
        let (scale, shift): (Vec<f64>, Vec<f64>) = match (op, const_first) {
            ("Add", _) => (vec![1.0; ch], vals),
            ("Sub", false) => (vec![1.0; ch], vals.iter().map(|v| -v).collect()),
            ("Sub", true) => (vec![-1.0; ch], vals),
            ("Mul", _) => (vals, vec![0.0; ch]),
            ("Div", false) => (vals.iter().map(|v| 1.0 / v).collect(), vec![0.0; ch]),
            _ => {
                return Err(Error::input(
                    "Div of a constant by data is not supported; expected a constant divisor",
                ));
            }
        };
        if scale.iter().any(|v| !v.is_finite()) {
            return Err(Error::input("division by a zero constant"));
        }
        let op = Op::ScaleShift {
            scale: Tensor::new(vec![ch], scale),
            shift: Tensor::new(vec![ch], shift),
        };
        self.add_node_in(node, name, op, xs, &[x], layout);
        Ok(())
    }

    fn simple(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        let (x, layout) = self.data_any(node, 0)?;
        let op = match node.op_type.as_str() {
            "Relu" => Op::Relu,
            "Sigmoid" => Op::Sigmoid,
            "Tanh" => Op::Tanh,
            "LeakyRelu" => Op::LeakyRelu {
                alpha: attr_f(node, "alpha", 0.01),
            },
            "HardSigmoid" => Op::HardSigmoid {
                alpha: attr_f(node, "alpha", 0.2),
                beta: attr_f(node, "beta", 0.5),
            },
            "Elu" => Op::Elu {
                alpha: attr_f(node, "alpha", 1.0),
            },
            "Selu" => Op::Selu {
                alpha: attr_f(node, "alpha", 1.673_263_192_176_818_8),
                gamma: attr_f(node, "gamma", 1.050_701_022_148_132_3),
            },
            "Softsign" => Op::Softsign,
            "Softplus" => Op::Softplus,
            other => return Err(Error::internal(format!("no simple converter for {other}"))),
        };
        let s = self.shape(x);
        self.add_node_in(node, name, op, s, &[x], layout);
        Ok(())
    }

    fn softmax(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        self.require_batch_first(node)?;
        let x = self.data(node, 0)?;
        let s = self.shape(x);
        let rank = s.len() + 1;
        let default = if self.opset < 13 { 1 } else { -1 };
        let axis = norm_axis(attr_i(node, "axis", default), rank)?;
        // Before opset 13 Softmax flattens dims axis.. into one; from 13 it is over one axis. Both
        // equal a softmax over the last axis when that is the only one after the batch.
        let over_last = axis == rank - 1 && (self.opset >= 13 || s.len() == 1);
        if !over_last {
            return Err(Error::input(format!(
                "Softmax over axis {axis} of data {} (opset {}) is not supported; expected the last axis",
                shape_str(&s),
                self.opset
            )));
        }
        self.add_node(node, name, Op::Softmax, s, &[x]);
        Ok(())
    }

    fn clip(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        let (x, layout) = self.data_any(node, 0)?;
        // f32 lowest / max are the spec's "no bound" defaults.
        let bound = |v: f64| (v.abs() < 3.0e38).then_some(v);
        let (min, max) = if self.opset < 11 {
            (
                attr(node, "min").and_then(|a| bound(a.f as f64)),
                attr(node, "max").and_then(|a| bound(a.f as f64)),
            )
        } else {
            let get = |k| -> Result<Option<f64>> {
                if !self.has_input(node, k) {
                    return Ok(None);
                }
                let t = self.constant(node, k)?;
                if t.len() != 1 {
                    return Err(Error::input(format!(
                        "Clip bound '{}' must be a scalar",
                        node.input[k]
                    )));
                }
                Ok(bound(t.data[0]))
            };
            (get(1)?, get(2)?)
        };
        let s = self.shape(x);
        self.add_node_in(node, name, Op::Clip { min, max }, s, &[x], layout);
        Ok(())
    }

    fn batchnorm(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        self.require_batch_first(node)?;
        self.only_first_output_used(node)?;
        if attr_i(node, "training_mode", 0) != 0 {
            return Err(Error::input(
                "BatchNormalization with training_mode=1 is not supported; expected inference mode",
            ));
        }
        let (x0, layout) = self.data_any(node, 0)?;
        let onnx = self.onnx_shape(x0, &layout);
        let params: Vec<Tensor> = (1..5)
            .map(|k| self.constant(node, k))
            .collect::<Result<_>>()?;
        let eps = attr_f(node, "epsilon", 1e-5);
        // ONNX normalises over dim 1, the first after the batch.
        let c = onnx[0];
        for (k, p) in params.iter().enumerate() {
            if p.len() != c {
                return Err(Error::input(format!(
                    "parameter '{}' has {} values but the channel dimension (dim 1) of input {} has {c}; \
                     the graph is invalid",
                    node.input[k + 1],
                    p.len(),
                    shape_str(&onnx)
                )));
            }
        }
        // Channels last: the layout conv layers produce anyway.
        let cl = channels_last(onnx.len());
        let x = self.data_in(node, 0, &cl)?;
        let (gamma, beta, mean, var) = (&params[0], &params[1], &params[2], &params[3]);
        let scale: Vec<f64> = (0..c)
            .map(|i| gamma.data[i] / (var.data[i] + eps).sqrt())
            .collect();
        let shift: Vec<f64> = (0..c)
            .map(|i| beta.data[i] - mean.data[i] * scale[i])
            .collect();
        let op = Op::ScaleShift {
            scale: Tensor::new(vec![c], scale),
            shift: Tensor::new(vec![c], shift),
        };
        let xs = self.shape(x);
        self.add_node_in(node, name, op, xs, &[x], cl);
        Ok(())
    }

    /// The geometry of Conv / MaxPool / AveragePool for spatial input sizes `input`.
    fn window(
        &self,
        node: &NodeProto,
        input: &[usize],
        kernel: Vec<usize>,
    ) -> Result<(Window, Vec<usize>)> {
        let sr = input.len();
        let list = |key: &str, default: usize| -> Result<Vec<usize>> {
            match attr_ints(node, key) {
                Some(v) if v.len() == sr && v.iter().all(|&x| x >= 1) => {
                    Ok(v.iter().map(|&x| x as usize).collect())
                }
                Some(v) => Err(Error::input(format!(
                    "'{key}' {v:?} must hold {sr} positive values"
                ))),
                None => Ok(vec![default; sr]),
            }
        };
        let strides = list("strides", 1)?;
        let dilations = list("dilations", 1)?;
        let auto_pad = attr(node, "auto_pad")
            .map(|a| String::from_utf8_lossy(&a.s).into_owned())
            .unwrap_or_else(|| "NOTSET".into());
        let ceil_mode = attr_i(node, "ceil_mode", 0) != 0;
        let span = |a: usize| (kernel[a] - 1) * dilations[a] + 1;
        let (mut pb, mut pe) = (vec![0; sr], vec![0; sr]);
        match auto_pad.as_str() {
            "NOTSET" => {
                if let Some(p) = attr_ints(node, "pads") {
                    if p.len() != 2 * sr || p.iter().any(|&v| v < 0) {
                        return Err(Error::input(format!(
                            "'pads' {p:?} must hold {} non-negative values",
                            2 * sr
                        )));
                    }
                    pb = p[..sr].iter().map(|&v| v as usize).collect();
                    pe = p[sr..].iter().map(|&v| v as usize).collect();
                }
            }
            "VALID" => {}
            "SAME_UPPER" | "SAME_LOWER" => {
                for a in 0..sr {
                    let out = input[a].div_ceil(strides[a]);
                    let total = ((out - 1) * strides[a] + span(a)).saturating_sub(input[a]);
                    let small = total / 2;
                    let (b, e) = if auto_pad == "SAME_UPPER" {
                        (small, total - small)
                    } else {
                        (total - small, small)
                    };
                    pb[a] = b;
                    pe[a] = e;
                }
            }
            other => {
                return Err(Error::input(format!(
                    "auto_pad '{other}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID"
                )));
            }
        }
        if ceil_mode {
            // Extra end padding so the last partial window counts, as ceil_mode does (the window
            // must still start inside the input or its begin padding).
            for a in 0..sr {
                let padded = input[a] + pb[a] + pe[a];
                if padded >= span(a) {
                    let rem = (padded - span(a)) % strides[a];
                    if rem != 0 {
                        let out_ceil = (padded - span(a)).div_ceil(strides[a]) + 1;
                        if (out_ceil - 1) * strides[a] < input[a] + pb[a] {
                            pe[a] += strides[a] - rem;
                        }
                    }
                }
            }
        }
        let w = Window {
            kernel,
            strides,
            dilations,
            pads_begin: pb,
            pads_end: pe,
        };
        let out = w.output(input).ok_or_else(|| {
            Error::input(format!(
                "the window {:?} does not fit the input {input:?}",
                w.kernel
            ))
        })?;
        Ok((w, out))
    }

    fn conv(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        self.require_batch_first(node)?;
        // QONNX's channels-last Conv: data [N, spatial..., C] and weights [M, kernel..., C/group].
        let channels_last_io = node.domain == qonnx::CHANNELS_LAST_DOMAIN;
        let mut w = self.constant(node, 1)?;
        if channels_last_io && w.shape.len() >= 3 {
            let r = w.shape.len();
            let (m, cg) = (w.shape[0], w.shape[r - 1]);
            let k: usize = w.shape[1..r - 1].iter().product();
            let mut data = vec![0.0; w.len()];
            for o in 0..m {
                for kk in 0..k {
                    for ci in 0..cg {
                        data[(o * cg + ci) * k + kk] = w.data[(o * k + kk) * cg + ci];
                    }
                }
            }
            let mut shape = vec![m, cg];
            shape.extend(&w.shape[1..r - 1]);
            w = Tensor::new(shape, data);
        }
        let sr = w.shape.len().saturating_sub(2);
        if !(1..=2).contains(&sr) {
            return Err(Error::input(format!(
                "Conv weight '{}' of shape {:?}: only 1D and 2D convolutions are supported",
                node.input[1], w.shape
            )));
        }
        let (x0, layout) = self.data_any(node, 0)?;
        if layout.len() != sr + 1 {
            return Err(Error::input(format!(
                "Conv with a {sr}D kernel on data {}: expected [N, C, {}]",
                shape_str(&self.onnx_shape(x0, &layout)),
                if sr == 1 { "L" } else { "H, W" }
            )));
        }
        // The IR layout of ONNX's [C, spatial...] (or of QONNX's [spatial..., C], the same IR).
        let cl = if channels_last_io {
            identity(sr + 1)
        } else {
            channels_last(sr + 1)
        };
        let x = self.data_in(node, 0, &cl)?;
        let xs = self.shape(x);
        let c = xs[sr];
        let (m, cg) = (w.shape[0], w.shape[1]);
        let group = attr_i(node, "group", 1).max(1) as usize;
        let kernel: Vec<usize> = w.shape[2..].to_vec();
        if let Some(k) = attr_ints(node, "kernel_shape")
            && k.iter().map(|&v| v as usize).collect::<Vec<_>>() != kernel
        {
            return Err(Error::input(format!(
                "kernel_shape {k:?} does not match weight shape {:?}",
                w.shape
            )));
        }
        let ok = if group == 1 {
            cg == c
        } else {
            group == c && cg == 1 && m % c == 0
        };
        if !ok {
            return Err(Error::input(format!(
                "Conv with group={group}, weight {:?} on {c} input channels: supported are group=1 and depthwise (group = channels)",
                w.shape
            )));
        }
        let (window, out) = self.window(node, &xs[..sr], kernel.clone())?;
        let mut check = out.clone();
        check.push(m);
        self.check_result(&check)?;
        let cout_g = m / group;
        let ksize: usize = kernel.iter().product();
        // ONNX W[g*cout_g + j][ci][k...] -> IR [g][k...][ci][j]
        let mut data = vec![0.0; group * ksize * cg * cout_g];
        for g in 0..group {
            for kk in 0..ksize {
                for ci in 0..cg {
                    for j in 0..cout_g {
                        data[((g * ksize + kk) * cg + ci) * cout_g + j] =
                            w.data[((g * cout_g + j) * cg + ci) * ksize + kk];
                    }
                }
            }
        }
        let mut wshape = vec![group];
        wshape.extend(&kernel);
        wshape.extend([cg, cout_g]);
        let bias = if self.has_input(node, 2) {
            let b = self.constant(node, 2)?;
            if b.len() != m {
                return Err(Error::input(format!(
                    "bias '{}' has {} values, expected {m}",
                    node.input[2],
                    b.len()
                )));
            }
            b.data
        } else {
            vec![0.0; m]
        };
        let mut shape = out;
        shape.push(m);
        let op = Op::Conv {
            window,
            groups: group,
            weights: Tensor::new(wshape, data),
            bias: Tensor::new(vec![m], bias),
        };
        self.add_node_in(node, name, op, shape, &[x], cl);
        Ok(())
    }

    fn pool(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        self.require_batch_first(node)?;
        self.only_first_output_used(node)?;
        let (x0, layout) = self.data_any(node, 0)?;
        let sr = layout.len() - 1;
        if !(1..=2).contains(&sr) {
            return Err(Error::input(format!(
                "{} on data {}: only 1D and 2D pooling is supported",
                node.op_type,
                shape_str(&self.onnx_shape(x0, &layout))
            )));
        }
        let cl = channels_last(sr + 1);
        let x = self.data_in(node, 0, &cl)?;
        let xs = self.shape(x);
        let global = node.op_type.starts_with("Global");
        let (window, out) = if global {
            let w = Window {
                kernel: xs[..sr].to_vec(),
                strides: vec![1; sr],
                dilations: vec![1; sr],
                pads_begin: vec![0; sr],
                pads_end: vec![0; sr],
            };
            (w, vec![1; sr])
        } else {
            let k = attr_ints(node, "kernel_shape")
                .ok_or_else(|| Error::input(format!("{} needs kernel_shape", node.op_type)))?;
            if k.len() != sr || k.iter().any(|&v| v < 1) {
                return Err(Error::input(format!(
                    "kernel_shape {k:?} must hold {sr} positive values"
                )));
            }
            self.window(node, &xs[..sr], k.iter().map(|&v| v as usize).collect())?
        };
        let kind = if node.op_type.contains("Max") {
            PoolKind::Max
        } else {
            PoolKind::Average
        };
        if attr_i(node, "storage_order", 0) != 0 {
            return Err(Error::input("MaxPool storage_order=1 is not supported"));
        }
        let count_include_pad = attr_i(node, "count_include_pad", 0) != 0;
        let mut shape = out;
        shape.push(xs[sr]);
        self.add_node_in(
            node,
            name,
            Op::Pool {
                kind,
                window,
                count_include_pad,
            },
            shape,
            &[x],
            cl,
        );
        Ok(())
    }

    fn concat(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        let consts: Option<Vec<Tensor>> = (0..node.input.len())
            .map(|k| match self.value(node, k) {
                Ok(Value::Const(t)) => Some(t.clone()),
                _ => None,
            })
            .collect();
        if let Some(ts) = consts.filter(|ts| !ts.is_empty()) {
            let rank = ts[0].shape.len();
            let axis = norm_axis(attr_i(node, "axis", 0), rank)?;
            self.set_output(node, Value::Const(super::fold::concat(&ts, axis)?));
            return Ok(());
        }
        self.require_batch_first(node)?;
        let (_, layout) = self.data_any(node, 0)?;
        let rank = layout.len() + 1;
        let axis = norm_axis(attr_i(node, "axis", 1), rank)?;
        if axis == 0 {
            return Err(Error::input(
                "Concat along axis 0 would join batches; expected an axis after the batch",
            ));
        }
        let mut inputs = Vec::new();
        for k in 0..node.input.len() {
            inputs.push(self.data_in(node, k, &layout)?);
        }
        let ir_axis = layout.iter().position(|&a| a == axis - 1).unwrap();
        let mut shape = self.shape(inputs[0]);
        for &i in &inputs[1..] {
            let s = self.shape(i);
            if s.len() != shape.len() || (0..s.len()).any(|a| a != ir_axis && s[a] != shape[a]) {
                return Err(Error::input(format!(
                    "Concat inputs {} and {} differ outside axis {axis}",
                    shape_str(&self.onnx_shape(inputs[0], &layout)),
                    shape_str(&self.onnx_shape(i, &layout))
                )));
            }
            shape[ir_axis] += s[ir_axis];
        }
        if inputs.len() == 1 {
            self.set_output(node, Value::Node(inputs[0], layout));
            return Ok(());
        }
        // The kernel joins two inputs: more are joined pairwise, left to right.
        let mut acc = inputs[0];
        let mut acc_shape = self.shape(acc);
        for (k, &i) in inputs.iter().enumerate().skip(1) {
            acc_shape[ir_axis] += self.shape(i)[ir_axis];
            let n = if k + 1 == inputs.len() {
                name.to_string()
            } else {
                self.unique_name(&format!("{name}_part{k}"))
            };
            acc = self.model.add(
                Node::new(n, Op::Concat { axis: ir_axis }, acc_shape.clone()),
                &[acc, i],
            );
        }
        debug_assert_eq!(acc_shape, shape);
        self.set_output(node, Value::Node(acc, layout));
        Ok(())
    }

    /// Shape-only ops: folded when the input is a constant, else a Reshape node.
    fn reshape_to(&mut self, node: &NodeProto, name: &str, out: Vec<usize>) -> Result<()> {
        match self.value(node, 0)?.clone() {
            Value::Const(t) => {
                self.set_output(node, Value::Const(Tensor::new(out, t.data)));
            }
            Value::Node(..) => {
                let x = self.data(node, 0)?;
                if out.is_empty() {
                    return Err(Error::input(
                        "the result keeps no dimension after the batch",
                    ));
                }
                self.add_node(node, name, Op::Reshape, out, &[x]);
            }
        }
        Ok(())
    }

    /// The ONNX shape of input 0 with the batch (batch 1 for data, as stored for constants).
    fn full_shape(&self, node: &NodeProto) -> Result<(Vec<usize>, bool)> {
        Ok(match self.value(node, 0)? {
            Value::Node(n, layout) => {
                let mut s = self.onnx_shape(*n, layout);
                s.insert(self.batch_of(&node.input[0]).min(s.len()), 1);
                (s, true)
            }
            Value::Const(t) => (t.shape.clone(), false),
        })
    }

    /// For data, checks the new shape keeps the batch first and returns the rest.
    fn strip_batch(&self, new: Vec<usize>, is_data: bool, old: &[usize]) -> Result<Vec<usize>> {
        if !is_data {
            return Ok(new);
        }
        if new.first() != Some(&1) || new.len() < 2 {
            return Err(Error::input(format!(
                "{} of data {} to {:?} would merge the batch dimension into the sample; expected the batch to stay dim 0",
                "reshape",
                shape_str(&old[1..]),
                new
            )));
        }
        Ok(new[1..].to_vec())
    }

    fn flatten(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        self.require_batch_first(node)?;
        let (s, is_data) = self.full_shape(node)?;
        let mut axis = norm_axis(attr_i(node, "axis", 1), s.len() + 1)?;
        if is_data && axis == 0 {
            // keras2onnx writes axis 0 for a batch of one: [1, everything]. The design handles
            // one sample, which is the same as axis 1.
            axis = 1;
        }
        if is_data && axis != 1 {
            return Err(Error::input(format!(
                "Flatten with axis {axis} would split the sample across the batch dimension; expected axis 0 or 1"
            )));
        }
        let new = vec![s[..axis].iter().product(), s[axis..].iter().product()];
        let out = self.strip_batch(new, is_data, &s)?;
        self.reshape_to(node, name, out)
    }

    fn reshape(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        self.require_batch_first(node)?;
        let (s, is_data) = self.full_shape(node)?;
        let target = self.constant(node, 1)?;
        let allow_zero = attr_i(node, "allowzero", 0) != 0;
        let total: usize = s.iter().product();
        let mut new: Vec<i64> = Vec::new();
        for (k, &d) in target.data.iter().enumerate() {
            let d = d as i64;
            new.push(if d == 0 && !allow_zero {
                *s.get(k)
                    .ok_or_else(|| Error::input("shape entry 0 refers to a missing dim"))?
                    as i64
            } else {
                d
            });
        }
        let known: i64 = new
            .iter()
            .filter(|&&d| d != -1)
            .try_fold(1i64, |a, &d| a.checked_mul(d))
            .unwrap_or(-1);
        let unknown = new.iter().filter(|&&d| d == -1).count();
        if unknown > 1 || new.iter().any(|&d| d < -1) || known <= 0 {
            return Err(Error::input(format!(
                "invalid target shape {:?}",
                target.data
            )));
        }
        let new: Vec<usize> = new
            .iter()
            .map(|&d| {
                if d == -1 {
                    total / known as usize
                } else {
                    d as usize
                }
            })
            .collect();
        if new.iter().product::<usize>() != total {
            return Err(Error::input(format!(
                "cannot reshape {} values (shape {:?}) to {:?}",
                total, s, target.data
            )));
        }
        let out = self.strip_batch(new, is_data, &s)?;
        self.reshape_to(node, name, out)
    }

    fn axes(&self, node: &NodeProto) -> Result<Option<Vec<i64>>> {
        if self.opset >= 13 {
            if self.has_input(node, 1) {
                return Ok(Some(
                    self.constant(node, 1)?
                        .data
                        .iter()
                        .map(|&v| v as i64)
                        .collect(),
                ));
            }
            Ok(None)
        } else {
            Ok(attr_ints(node, "axes"))
        }
    }

    fn squeeze(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        let (s, is_data) = self.full_shape(node)?;
        let b = if is_data {
            self.batch_of(&node.input[0])
        } else {
            usize::MAX
        };
        let axes: Vec<usize> = match self.axes(node)? {
            Some(a) => a
                .iter()
                .map(|&x| norm_axis(x, s.len()))
                .collect::<Result<_>>()?,
            None => (0..s.len()).filter(|&k| s[k] == 1 && k != b).collect(),
        };
        if axes.contains(&b) {
            return Err(Error::input(format!(
                "Squeeze of axis {b} would remove the batch dimension"
            )));
        }
        if let Some(&k) = axes.iter().find(|&&k| s[k] != 1) {
            return Err(Error::input(format!(
                "Squeeze of axis {k} of size {} (expected size 1)",
                s[k]
            )));
        }
        let new: Vec<usize> = (0..s.len())
            .filter(|k| !axes.contains(k))
            .map(|k| s[k])
            .collect();
        if !is_data {
            return self.reshape_to(node, name, new);
        }
        let nb = b - axes.iter().filter(|&&a| a < b).count();
        self.reshape_keeping_batch(node, name, new, nb)
    }

    fn unsqueeze(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        let (s, is_data) = self.full_shape(node)?;
        let axes = self
            .axes(node)?
            .ok_or_else(|| Error::input("Unsqueeze needs axes"))?;
        let rank = s.len() + axes.len();
        let axes: Vec<usize> = axes
            .iter()
            .map(|&a| norm_axis(a, rank))
            .collect::<Result<_>>()?;
        let b = if is_data {
            self.batch_of(&node.input[0])
        } else {
            usize::MAX
        };
        let mut rest = s.iter().enumerate();
        let mut nb = usize::MAX;
        let new: Vec<usize> = (0..rank)
            .map(|k| {
                if axes.contains(&k) {
                    1
                } else {
                    let (i, &d) = rest.next().unwrap();
                    if i == b {
                        nb = k;
                    }
                    d
                }
            })
            .collect();
        if !is_data {
            return self.reshape_to(node, name, new);
        }
        self.reshape_keeping_batch(node, name, new, nb)
    }

    /// A reshape of data whose new ONNX shape `full` holds the batch at `b`.
    fn reshape_keeping_batch(
        &mut self,
        node: &NodeProto,
        name: &str,
        full: Vec<usize>,
        b: usize,
    ) -> Result<()> {
        let mut out = full;
        out.remove(b);
        if out.is_empty() {
            return Err(Error::input(
                "the result keeps no dimension besides the batch",
            ));
        }
        let x = self.data(node, 0)?;
        self.add_node(node, name, Op::Reshape, out, &[x]);
        self.batch_pos.insert(node.output[0].clone(), b);
        Ok(())
    }

    /// Gather with constant indices along a non-batch axis (e.g. the last step of a sequence).
    fn gather(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        let (s, is_data) = self.full_shape(node)?;
        if !is_data {
            return Err(Error::input("Gather on a constant is not supported"));
        }
        let b = self.batch_of(&node.input[0]);
        let axis = norm_axis(attr_i(node, "axis", 0), s.len())?;
        if axis == b {
            return Err(Error::input(
                "Gather along the batch dimension is not supported",
            ));
        }
        let idx = self.constant(node, 1)?;
        let n = s[axis] as i64;
        let picks: Vec<usize> = idx
            .data
            .iter()
            .map(|&v| {
                let v = v as i64;
                let v = if v < 0 { v + n } else { v };
                usize::try_from(v).ok().filter(|&v| (v as i64) < n)
            })
            .collect::<Option<_>>()
            .ok_or_else(|| {
                Error::input(format!(
                    "Gather indices {:?} out of range for size {n}",
                    idx.data
                ))
            })?;
        let scalar = idx.shape.is_empty();
        if !scalar && idx.shape.len() != 1 {
            return Err(Error::input("Gather indices must be a scalar or a list"));
        }
        // Non-batch axis numbering.
        let a = axis - usize::from(axis > b);
        let (x0, layout) = self.data_any(node, 0)?;
        let onnx = self.onnx_shape(x0, &layout);
        let mut out = onnx.clone();
        out[a] = picks.len();
        let picks2 = picks.clone();
        self.gather_node(node, name, out.clone(), 0.0, move |c| {
            let mut src = c.to_vec();
            src[a] = picks2[c[a]];
            Some(src)
        })?;
        if scalar {
            // The axis disappears: a reshape to the shape without it.
            let tensor = node.output[0].clone();
            let Some(Value::Node(g, gl)) = self.values.get(&tensor).cloned() else {
                unreachable!()
            };
            let g = self.relayout(g, &gl, &identity(gl.len()), &tensor);
            let mut full: Vec<usize> = out.clone();
            full.remove(a);
            if full.is_empty() {
                return Err(Error::input("Gather leaves no dimension besides the batch"));
            }
            let rname = self.unique_name(&format!("{name}_squeeze"));
            let r = self
                .model
                .add(Node::new(rname, Op::Reshape, full.clone()), &[g]);
            self.values
                .insert(tensor.clone(), Value::Node(r, identity(full.len())));
            self.batch_pos.insert(tensor, b - usize::from(axis < b));
        }
        Ok(())
    }

    /// Slice with constant starts/ends/axes/steps along non-batch axes.
    fn slice(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        let (s, is_data) = self.full_shape(node)?;
        let b = self.batch_of(&node.input[0]);
        let ints = |k: usize| -> Result<Option<Vec<i64>>> {
            if self.has_input(node, k) {
                Ok(Some(
                    self.constant(node, k)?
                        .data
                        .iter()
                        .map(|&v| v as i64)
                        .collect(),
                ))
            } else {
                Ok(None)
            }
        };
        let (starts, ends, axes, steps) = if self.opset < 10 {
            (
                attr_ints(node, "starts").unwrap_or_default(),
                attr_ints(node, "ends").unwrap_or_default(),
                attr_ints(node, "axes"),
                None,
            )
        } else {
            (
                ints(1)?.unwrap_or_default(),
                ints(2)?.unwrap_or_default(),
                ints(3)?,
                ints(4)?,
            )
        };
        let axes: Vec<usize> = match axes {
            Some(a) => a
                .iter()
                .map(|&x| norm_axis(x, s.len()))
                .collect::<Result<_>>()?,
            None => (0..starts.len()).collect(),
        };
        if starts.len() != axes.len()
            || ends.len() != axes.len()
            || steps.as_ref().is_some_and(|st| st.len() != axes.len())
        {
            return Err(Error::input(
                "Slice starts, ends, axes and steps differ in length",
            ));
        }
        let picks = super::fold::slice_picks(&s, &starts, &ends, &axes, steps.as_deref())?;
        if let Some(a) = picks.iter().position(Vec::is_empty) {
            return Err(Error::input(format!("Slice leaves axis {a} empty")));
        }
        if !is_data {
            let t = self.constant(node, 0)?;
            self.set_output(node, Value::Const(super::fold::take(&t, &picks)));
            return Ok(());
        }
        if axes.contains(&b) && picks[b].len() != s[b] {
            return Err(Error::input(
                "Slice along the batch dimension is not supported",
            ));
        }
        // Non-batch numbering.
        let picks: Vec<Vec<usize>> = picks
            .into_iter()
            .enumerate()
            .filter(|(a, _)| *a != b)
            .map(|(_, p)| p)
            .collect();
        let out: Vec<usize> = picks.iter().map(Vec::len).collect();
        self.gather_node(node, name, out, 0.0, move |c| {
            Some(c.iter().enumerate().map(|(a, &v)| picks[a][v]).collect())
        })
    }

    fn transpose(&mut self, node: &NodeProto, _name: &str) -> Result<()> {
        let (s, _) = self.full_shape(node)?;
        let perm: Vec<usize> = match attr_ints(node, "perm") {
            Some(p) => p
                .iter()
                .map(|&a| norm_axis(a, s.len()))
                .collect::<Result<_>>()?,
            None => (0..s.len()).rev().collect(),
        };
        let mut sorted = perm.clone();
        sorted.sort();
        if sorted != (0..s.len()).collect::<Vec<_>>() {
            return Err(Error::input(format!(
                "perm {perm:?} is not a permutation of {} axes",
                s.len()
            )));
        }
        match self.value(node, 0)?.clone() {
            Value::Const(t) => {
                let idx = transpose_gather(&t.shape, &perm);
                let data = idx.iter().map(|&i| t.data[i]).collect();
                let shape = perm.iter().map(|&p| t.shape[p]).collect();
                self.set_output(node, Value::Const(Tensor::new(shape, data)));
            }
            Value::Node(x, layout) => {
                let b = self.batch_of(&node.input[0]);
                if perm[0] != b
                    && self.keras_bn_transposes.contains(&self.current)
                    && s.len() == 2
                    && b == 0
                {
                    // keras2onnx's [N,C] -> [C,N] around BatchNormalization: with the batch
                    // ignored the data is unchanged, and the BatchNormalization between the
                    // pair is per feature, as its authors meant.
                    self.set_output(node, Value::Node(x, layout));
                    return Ok(());
                }
                // The batch (size 1) may move: only its position and the layout change. In
                // non-batch numbering, output axis j is input axis inner[j].
                let nb = perm.iter().position(|&p| p == b).unwrap();
                let inner: Vec<usize> = perm
                    .iter()
                    .filter(|&&p| p != b)
                    .map(|&p| p - usize::from(p > b))
                    .collect();
                let new_layout: Layout = layout
                    .iter()
                    .map(|a| inner.iter().position(|q| q == a).unwrap())
                    .collect();
                self.set_output(node, Value::Node(x, new_layout));
                self.batch_pos.insert(node.output[0].clone(), nb);
            }
        }
        Ok(())
    }

    fn identity(&mut self, node: &NodeProto) -> Result<()> {
        self.only_first_output_used(node)?;
        let v = self.value(node, 0)?.clone();
        self.set_output(node, v);
        Ok(())
    }

    /// Shape of a value as a constant: the design handles one sample, so the batch is 1.
    fn shape_of(&mut self, node: &NodeProto) -> Result<()> {
        let (s, _) = self.full_shape(node)?;
        let r = s.len() as i64;
        let clamp = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
        let (start, end) = (
            clamp(attr_i(node, "start", 0)),
            clamp(attr_i(node, "end", r)),
        );
        let dims: Vec<f64> = s[start..end.max(start)].iter().map(|&d| d as f64).collect();
        let t = Tensor::new(vec![dims.len()], dims);
        if let Some(o) = node.output.first() {
            self.values.insert(o.clone(), Value::Const(t));
        }
        Ok(())
    }

    /// Cast: folded on constants; on data, only to float (the IR's values are numbers already).
    fn cast(&mut self, node: &NodeProto) -> Result<()> {
        let to = attr_i(node, "to", 0) as i32;
        match self.value(node, 0)?.clone() {
            Value::Const(t) => {
                let t = super::fold::cast(&t, to)?;
                self.set_output(node, Value::Const(t));
                Ok(())
            }
            // FLOAT, DOUBLE, FLOAT16, BFLOAT16: the fixed-point types decide precision anyway.
            Value::Node(..) if matches!(to, 1 | 10 | 11 | 16) => self.identity(node),
            Value::Node(..) => Err(Error::input(format!(
                "Cast of data to type {to} is not supported; only casts to float types are"
            ))),
        }
    }

    /// Expand of a constant to a constant shape (a zero initial state made for any batch).
    fn expand(&mut self, node: &NodeProto) -> Result<()> {
        let t = self
            .constant(node, 0)
            .map_err(|_| Error::input("Expand of data is not supported; only of constants"))?;
        let shape: Vec<i64> = self
            .constant(node, 1)?
            .data
            .iter()
            .map(|&v| v as i64)
            .collect();
        let t = super::fold::expand(&t, &shape)?;
        self.set_output(node, Value::Const(t));
        Ok(())
    }

    fn constant_node(&mut self, node: &NodeProto) -> Result<()> {
        let t = if let Some(a) = attr(node, "value") {
            let t =
                a.t.as_ref()
                    .ok_or_else(|| Error::input("Constant 'value' is not a tensor"))?;
            tensor_from_proto(t, self.dir)?
        } else if let Some(a) = attr(node, "value_float") {
            Tensor::new(vec![], vec![a.f as f64])
        } else if let Some(a) = attr(node, "value_floats") {
            Tensor::new(
                vec![a.floats.len()],
                a.floats.iter().map(|&v| v as f64).collect(),
            )
        } else if let Some(a) = attr(node, "value_int") {
            Tensor::new(vec![], vec![a.i as f64])
        } else if let Some(a) = attr(node, "value_ints") {
            Tensor::new(
                vec![a.ints.len()],
                a.ints.iter().map(|&v| v as f64).collect(),
            )
        } else {
            return Err(Error::input(
                "Constant without a supported value attribute (value, value_float(s), value_int(s))",
            ));
        };
        self.set_output(node, Value::Const(t));
        Ok(())
    }
}

/// Broadcasts a constant to `n` channels: a scalar, or a tensor whose only non-1 dim is `n` and
/// is last.
fn broadcast_channels(c: &Tensor, n: usize) -> Option<Vec<f64>> {
    let non1: Vec<usize> = c.shape.iter().copied().filter(|&d| d != 1).collect();
    if c.len() == 1 {
        Some(vec![c.data[0]; n])
    } else if non1 == [n] && c.shape.last() == Some(&n) {
        Some(c.data.clone())
    } else {
        None
    }
}

/// Finds keras2onnx's Transpose -> BatchNormalization -> Transpose chains (both transposes swap two
/// axes, each tensor between them has exactly one consumer). Returns the transposes' node indices.
fn find_keras_bn_pattern(
    nodes: &[NodeProto],
    outputs: &[onnx_protobuf::ValueInfoProto],
) -> HashSet<usize> {
    let consumers = |t: &str| -> Vec<usize> {
        let mut v: Vec<usize> = nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.input.iter().any(|i| i == t))
            .map(|(k, _)| k)
            .collect();
        if outputs.iter().any(|o| o.name == t) {
            v.push(usize::MAX);
        }
        v
    };
    let swaps = |n: &NodeProto| {
        n.op_type == "Transpose" && attr_ints(n, "perm").is_none_or(|p| p == [1, 0])
    };
    let mut found = HashSet::new();
    for (k, t1) in nodes.iter().enumerate() {
        if !swaps(t1) {
            continue;
        }
        let Some(t1_out) = t1.output.first() else {
            continue;
        };
        let c1 = consumers(t1_out);
        let [bn] = c1[..] else { continue };
        let Some(bn_node) = nodes.get(bn) else {
            continue;
        };
        if bn_node.op_type != "BatchNormalization" || bn_node.input.first() != Some(t1_out) {
            continue;
        }
        let Some(bn_out) = bn_node.output.first() else {
            continue;
        };
        let c2 = consumers(bn_out);
        let [t2] = c2[..] else { continue };
        if nodes.get(t2).is_some_and(swaps) {
            found.insert(k);
            found.insert(t2);
        }
    }
    found
}
