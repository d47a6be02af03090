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

mod ops;

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
    /// Per base name, the first suffix `unique_name` has not yet tried.
    next_suffix: std::collections::HashMap<String, usize>,
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

/// An ONNX shape with `N` at the batch axis `b`.
fn full_shape_str(full: &[usize], b: usize) -> String {
    let dims: Vec<String> = full
        .iter()
        .enumerate()
        .map(|(k, d)| {
            if k == b {
                "N".to_string()
            } else {
                d.to_string()
            }
        })
        .collect();
    format!("[{}]", dims.join(", "))
}

fn shape_str(batchless: &[usize]) -> String {
    let full: Vec<usize> = std::iter::once(1)
        .chain(batchless.iter().copied())
        .collect();
    full_shape_str(&full, 0)
}

pub use crate::ir::tensor::MAX_VALUES;

/// The number of values of a shape, or an error when it is absurd.
fn checked_size(shape: &[usize], what: &str) -> Result<usize> {
    crate::ir::tensor::checked_size(shape).ok_or_else(|| {
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
    // data_type: 1 float, 2 uint8, 3 int8, 5 int16, 6 int32, 7 int64, 9 bool, 10 float16,
    // 11 double
    let dt = t.data_type;
    let data: Vec<f64> = if !raw.is_empty() {
        let size = match dt {
            1 | 6 => 4,
            7 | 11 => 8,
            2 | 3 | 9 => 1,
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
        // One loop per type (not a match per value): a million f32 weights convert in a
        // fraction of a millisecond.
        fn each<const N: usize>(raw: &[u8], f: impl Fn([u8; N]) -> f64) -> Vec<f64> {
            raw.chunks_exact(N)
                .map(|c| f(c.try_into().expect("chunks of N bytes")))
                .collect()
        }
        match dt {
            1 => each(raw, |b| f32::from_le_bytes(b) as f64),
            6 => each(raw, |b| i32::from_le_bytes(b) as f64),
            7 => each(raw, |b| i64::from_le_bytes(b) as f64),
            11 => each(raw, f64::from_le_bytes),
            2 | 9 => each(raw, |[b]: [u8; 1]| b as f64),
            3 => each(raw, |[b]: [u8; 1]| b as i8 as f64),
            5 => each(raw, |b| i16::from_le_bytes(b) as f64),
            _ => each(raw, |b| f16_to_f64(u16::from_le_bytes(b))),
        }
    } else {
        match dt {
            1 => t.float_data.iter().map(|&v| v as f64).collect(),
            11 => t.double_data.clone(),
            7 => t.int64_data.iter().map(|&v| v as f64).collect(),
            2 | 3 | 5 | 6 | 9 => t.int32_data.iter().map(|&v| v as f64).collect(),
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

/// A data input's shape without its batch (dim 0, any value or symbol); the others must be fixed.
fn input_shape(input: &onnx_protobuf::ValueInfoProto) -> Result<Vec<usize>> {
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
    Ok(shape)
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
            .filter(|n| ops::converter(n).is_none())
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
            return Err(Error::input(format!(
                "{} unsupported op(s):\n{}\nsupported: {}; QONNX (domain {}): {}; Conv in domain {}",
                unsupported.len(),
                unsupported.join("\n"),
                ops::supported_ops(ops::Domain::Onnx).join(", "),
                ops::quantizers::QUANT_DOMAINS.join(" / "),
                ops::supported_ops(ops::Domain::QonnxQuant).join(", "),
                ops::quantizers::CHANNELS_LAST_DOMAIN
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
        if data_inputs.is_empty() {
            return Err(Error::input(
                "the graph has no data input (every input is an initializer)",
            ));
        }
        let mut model: Option<Model> = None;
        for input in data_inputs.iter().copied() {
            let shape = input_shape(input)?;
            let node = Node::new(input.name.clone(), Op::Input, shape);
            let idx = match &mut model {
                None => {
                    let m = Model::new(name, node);
                    let idx = m.inputs[0];
                    model = Some(m);
                    idx
                }
                Some(m) => m.add_input(node),
            };
            let rank = model.as_ref().unwrap().node(idx).shape.len();
            values.insert(input.name.clone(), Value::Node(idx, identity(rank)));
        }
        let mut model = model.expect("one data input at least");
        let names: HashSet<String> = data_inputs.iter().map(|i| i.name.clone()).collect();
        model.name = name.to_string();
        model.source_name = Some(graph.name.clone()).filter(|n| !n.is_empty());
        let keras_bn_transposes = find_keras_bn_pattern(&graph.node, &graph.output);
        Ok(Converter {
            proto,
            dir,
            opset,
            model,
            values,
            names,
            next_suffix: Default::default(),
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
            // Errors name the node as the file does; the IR gets the readable name.
            let name = self.unique_name(&crate::ir::names::readable_layer_name(&node_name(node)));
            self.convert(node, &name)
                .map_err(|e| e.at_node(&node_name(node)))?;
        }
        if graph.output.is_empty() {
            return Err(Error::input("the graph has no output"));
        }
        let mut outputs = Vec::new();
        for o in &graph.output {
            let out = &o.name;
            match self.values.get(out).cloned() {
                Some(Value::Node(n, layout)) => {
                    // The user sees the output in ONNX order.
                    let n = self.relayout(n, &layout, &identity(layout.len()), out);
                    outputs.push((out.clone(), n));
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
        }
        self.model.set_outputs(&outputs);
        self.model.separate_outputs();
        Ok(self.model)
    }

    fn convert(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        if node.output.iter().all(String::is_empty) {
            return Err(Error::input(format!("{} node has no output", node.op_type)));
        }
        match ops::converter(node) {
            Some(convert) => convert(self, node, name),
            None => Err(Error::internal(format!(
                "op {} passed the supported-op check but has no converter",
                node.op_type
            ))),
        }
    }

    fn unique_name(&mut self, base: &str) -> String {
        let mut name = base.to_string();
        // Numbering resumes where the base's last name stopped: n layers of one name cost n
        // look-ups, not n^2 / 2.
        let k = self.next_suffix.entry(base.to_string()).or_insert(1);
        while self.names.contains(&name) {
            name = format!("{base}_{k}");
            *k += 1;
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
        if layout.len() != want.len() {
            return Err(Error::input(format!(
                "{} input {k} ('{}') has rank {} besides the batch; expected {}",
                node.op_type,
                node.input[k],
                layout.len(),
                want.len()
            )));
        }
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
        self.constant_ref(node, k).cloned()
    }

    /// `constant` without the copy (a million-weight matrix is 8 MB).
    fn constant_ref(&self, node: &NodeProto, k: usize) -> Result<&Tensor> {
        match self.value(node, k)? {
            Value::Const(t) => Ok(t),
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

    /// ONNX shape of a data tensor with its (size-1) batch axis in place; None for constants.
    fn full_shape_of(&self, tensor: &str) -> Option<Vec<usize>> {
        match self.values.get(tensor)? {
            Value::Node(n, layout) => {
                let mut s = self.onnx_shape(*n, layout);
                s.insert(self.batch_of(tensor).min(s.len()), 1);
                Some(s)
            }
            Value::Const(_) => None,
        }
    }

    /// The design handles one sample, so the batch is an axis of size 1, and moving it past
    /// other size-1 axes changes no value and not the sample's shape (dropping either of two
    /// neighbouring 1s leaves the same dims): only which axis later ops read as the batch. Places
    /// the batch of `tensor` at ONNX axis `p` when only size-1 axes lie between; false when an axis
    /// of size > 1 does (with a real batch that would be a transpose, not a relabelling).
    fn place_batch(&mut self, tensor: &str, p: usize) -> bool {
        let Some(s) = self.full_shape_of(tensor) else {
            return false;
        };
        let b = self.batch_of(tensor);
        let (lo, hi) = (p.min(b), p.max(b));
        if hi >= s.len() || s[lo..=hi].iter().any(|&d| d != 1) {
            return false;
        }
        self.batch_pos.insert(tensor.to_string(), p);
        true
    }

    /// Moves the batch of `tensor` off the ONNX axes `avoid` (to a size-1 neighbour), where it can.
    fn batch_off(&mut self, tensor: &str, avoid: &[usize]) -> bool {
        let b = self.batch_of(tensor);
        if !avoid.contains(&b) {
            return true;
        }
        let rank = self.full_shape_of(tensor).map_or(0, |s| s.len());
        (0..rank)
            .filter(|p| !avoid.contains(p))
            .any(|p| self.place_batch(tensor, p))
    }

    /// Ops that read ONNX axes as [batch, ...] need the batch first (moved there past size-1
    /// axes where it sits elsewhere).
    fn require_batch_first(&mut self, node: &NodeProto) -> Result<()> {
        for i in &node.input {
            if matches!(self.values.get(i), Some(Value::Node(..))) && !self.place_batch(i, 0) {
                let s = self.full_shape_of(i).unwrap_or_default();
                return Err(Error::input(format!(
                    "{} input '{i}' has its batch dimension at axis {} of {}, behind an axis of size > 1; \
                     expected it first (transpose it back first)",
                    node.op_type,
                    self.batch_of(i),
                    full_shape_str(&s, self.batch_of(i))
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
