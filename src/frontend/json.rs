//! The hlsrs JSON model description (docs/json-format.md): the IR written as data, one object
//! per layer, weights inline or in .npy files beside the JSON. Loading checks every key, shape and
//! reference, with errors naming the layer; `write` produces it from any model.

use crate::arrays::{self, Array};
use crate::error::{Error, Result};
use crate::ir::{Activation, Model, Node, Op};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::path::{Component, Path};

pub const FORMAT: &str = "hlsrs-model";
pub const VERSION: u64 = 1;
const LAYER_KEYS: &[&str] = &["name", "op", "inputs", "shape"];

/// Reads a JSON model.
pub fn load(path: &Path, name: &str) -> Result<Model> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, "read the model", e))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    parse(&text, name, dir).map_err(|e| e.in_file(path))
}

fn obj<'v>(v: &'v Value, what: &str) -> Result<&'v Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| Error::input(format!("{what} must be an object")))
}

/// An optional string field: absent, or a string.
fn opt_string(v: Option<&Value>, what: &str) -> Result<Option<String>> {
    match v {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::input(format!("{what} must be a string"))),
    }
}

/// The top level's `one` (a single entry, described by `one_is`) or `many` (a non-empty list,
/// `many_is`): the entries, and whether they came as the list.
fn one_or_list<'v>(
    top: &'v Map<String, Value>,
    (one, one_is): (&str, &str),
    (many, many_is): (&str, &str),
) -> Result<(Vec<&'v Value>, bool)> {
    match (top.get(one), top.get(many)) {
        (Some(v), None) => Ok((vec![v], false)),
        (None, Some(Value::Array(list))) if !list.is_empty() => Ok((list.iter().collect(), true)),
        (Some(_), Some(_)) => Err(Error::input(format!(
            "give either \"{one}\" (one) or \"{many}\" (a list), not both"
        ))),
        _ => Err(Error::input(format!(
            "\"{one}\" {one_is} or \"{many}\" {many_is} is missing"
        ))),
    }
}

fn shape_of(v: &Value, what: &str) -> Result<Vec<usize>> {
    let shape: Vec<usize> = v
        .as_array()
        .and_then(|a| {
            a.iter()
                .map(|d| d.as_u64().filter(|&d| d > 0).map(|d| d as usize))
                .collect()
        })
        .ok_or_else(|| Error::input(format!("{what} must be a list of positive integers")))?;
    check_size(&shape, what)?;
    Ok(shape)
}

/// A shape of at most `MAX_VALUES` values (a layer's output, an input, a tensor).
fn check_size(shape: &[usize], what: &str) -> Result<()> {
    use crate::ir::tensor::{MAX_VALUES, checked_size};
    checked_size(shape).map(|_| ()).ok_or_else(|| {
        Error::input(format!(
            "{what} {shape:?} holds more than {MAX_VALUES} values, the most one layer may hold"
        ))
    })
}

/// Replaces `{"shape": .., "npy": "file"}` by inline data read from the file.
fn inline_npy(v: &mut Value, dir: &Path) -> Result<()> {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(file)) = m.get("npy").cloned() {
                let rel = Path::new(&file);
                if rel.is_absolute() || rel.components().any(|c| !matches!(c, Component::Normal(_)))
                {
                    return Err(Error::input(format!(
                        "weight file '{file}' must be a plain file name beside the JSON"
                    )));
                }
                // Beside the model and a regular file of bounded size (a link to /dev/zero
                // would be read forever).
                let path = dir.join(rel);
                let bytes = crate::confine::read(&path)
                    .map_err(|e| Error::io(&path, "read the weight file", e))?;
                let a: Array = arrays::parse_npy(&bytes).map_err(|e| e.in_file(&path))?;
                m.remove("npy");
                m.insert("shape".into(), json!(a.shape));
                m.insert("data".into(), json!(a.data));
            } else {
                for x in m.values_mut() {
                    inline_npy(x, dir)?;
                }
            }
        }
        Value::Array(a) => {
            for x in a {
                inline_npy(x, dir)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// A layer's op from its object (`op` and the op's own keys). An activation is spelled as its
/// function, `{"op": "leaky_relu", "alpha": 0.1}`, which is `Op::Activation` with the function
/// tagged `fn` as a recurrent gate's is.
fn op_from_json(v: Value) -> Result<Op> {
    let invalid = |e: serde_json::Error| Error::input(format!("invalid layer: {e}"));
    let name = v
        .get("op")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mut f = v.clone();
    if let Some(m) = f.as_object_mut() {
        m.remove("op");
        m.insert("fn".into(), json!(name));
    }
    let unknown_fn = match serde_json::from_value::<Activation>(f) {
        Ok(a) => return Ok(Op::Activation(a)),
        // Not an activation's name: a layer of another kind.
        Err(e) if e.to_string().starts_with("unknown variant") => e.to_string(),
        Err(e) => return Err(invalid(e)),
    };
    match serde_json::from_value::<Op>(v) {
        Ok(Op::Activation(_)) | Err(_) if name == "activation" || name.is_empty() => {
            Err(Error::input(format!(
                "invalid layer: \"op\" must name a layer kind or an activation function ({})",
                expected_names(&unknown_fn)
            )))
        }
        Ok(op) => Ok(op),
        Err(e) if e.to_string().starts_with("unknown variant") => Err(Error::input(format!(
            "invalid layer: unknown op '{name}'; expected a layer kind ({}) or an activation function ({})",
            expected_names(&e.to_string()).replace(", `activation`", ""),
            expected_names(&unknown_fn)
        ))),
        Err(e) => Err(invalid(e)),
    }
}

/// The list in serde's "unknown variant `x`, expected one of `a`, `b`" (at line ..).
fn expected_names(msg: &str) -> String {
    let list = msg.split_once("expected one of ").map_or(msg, |(_, l)| l);
    list.split(" at line").next().unwrap_or(list).to_string()
}

/// The op as a layer's keys: an activation flattened to `{"op": <function>, ...}`.
fn op_to_json(op: &Op) -> Result<Value> {
    let mut v = serde_json::to_value(op).map_err(|e| Error::internal(e.to_string()))?;
    if let (Op::Activation(a), Some(m)) = (op, v.as_object_mut()) {
        m.remove("fn");
        m.insert("op".into(), json!(a.name()));
    }
    Ok(v)
}

pub fn parse(text: &str, name: &str, dir: &Path) -> Result<Model> {
    let doc: Value =
        serde_json::from_str(text).map_err(|e| Error::input(format!("invalid JSON: {e}")))?;
    let top = obj(&doc, "the document")?;
    for k in top.keys() {
        if ![
            "format",
            "version",
            "name",
            "input",
            "inputs",
            "layers",
            "output",
            "output_shape",
            "output_name",
            "outputs",
        ]
        .contains(&k.as_str())
        {
            return Err(Error::input(format!(
                "unknown key '{k}' at the top level; expected format, version, name, input (or inputs), layers, output (with output_shape, output_name; or outputs)"
            )));
        }
    }
    if top.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(Error::input(format!("\"format\" must be \"{FORMAT}\"")));
    }
    if top.get("version").and_then(Value::as_u64) != Some(VERSION) {
        return Err(Error::input(format!("\"version\" must be {VERSION}")));
    }
    // One input as "input": {name, shape}, several as "inputs": [{name, shape}, ...].
    let (input_list, _) = one_or_list(
        top,
        ("input", "({\"name\", \"shape\"})"),
        ("inputs", "(a non-empty list of them)"),
    )?;
    let mut ends = Vec::new();
    for (k, input) in input_list.iter().enumerate() {
        let input = obj(input, "an input")?;
        let in_name = input
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::input(format!("input {k} needs a \"name\"")))?;
        let in_shape = shape_of(
            input.get("shape").unwrap_or(&Value::Null),
            &format!("input '{in_name}' \"shape\""),
        )?;
        ends.push(Node::new(in_name, Op::Input, in_shape));
    }
    let mut ends = ends.into_iter();
    let mut model = Model::new(name, ends.next().expect("one input at least"));
    for n in ends {
        model.add_input(n);
    }
    model.source_name = opt_string(top.get("name"), "\"name\"")?;
    let mut by_name: HashMap<String, petgraph::stable_graph::NodeIndex> = HashMap::new();
    for &i in &model.inputs {
        let n = model.node(i).name.clone();
        if by_name.insert(n.clone(), i).is_some() {
            return Err(Error::input(format!("two inputs are named '{n}'")));
        }
    }
    let layers = top
        .get("layers")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::input("\"layers\" must be a list"))?;
    for (k, layer) in layers.iter().enumerate() {
        let lname = layer
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::input(format!("layer {k} needs a \"name\"")))?
            .to_string();
        let n = convert_layer(&model, &by_name, layer, dir).map_err(|e| e.at_node(&lname))?;
        let (node, inputs) = n;
        if by_name.contains_key(&lname) {
            return Err(Error::input("a layer with this name already exists").at_node(&lname));
        }
        let idx = model.add(node, &inputs);
        by_name.insert(lname, idx);
    }
    // One output as "output": layer (+ "output_shape"), several as "outputs": [{"layer", "name",
    // "shape"}, ...] ("name" defaults to the layer's, "shape" to its shape).
    let (outs, listed) = one_or_list(
        top,
        ("output", "(a layer name)"),
        ("outputs", "(a non-empty list)"),
    )?;
    let out_list: Vec<(String, Option<String>, Option<&Value>)> = if !listed {
        let layer = outs[0]
            .as_str()
            .ok_or_else(|| Error::input("\"output\" must name a layer"))?;
        let name = opt_string(top.get("output_name"), "\"output_name\"")?;
        vec![(layer.to_string(), name, top.get("output_shape"))]
    } else {
        outs.iter()
            .enumerate()
            .map(|(k, o)| {
                let layer = o.get("layer").and_then(Value::as_str).ok_or_else(|| {
                    Error::input(format!("output {k} needs a \"layer\" (the layer it is)"))
                })?;
                let name = opt_string(o.get("name"), &format!("output {k}: \"name\""))?;
                Ok((layer.to_string(), name, o.get("shape")))
            })
            .collect::<Result<_>>()?
    };
    let mut outputs = Vec::new();
    for (layer, name, shape) in &out_list {
        let node = *by_name
            .get(layer)
            .ok_or_else(|| Error::input(format!("output names '{layer}', which is not a layer")))?;
        let shape = match shape {
            Some(v) => shape_of(v, &format!("output '{layer}' shape"))?,
            None => model.node(node).shape.clone(),
        };
        if shape.iter().product::<usize>() != model.node(node).size() {
            return Err(Error::input(format!(
                "output '{layer}': shape {shape:?} does not match the layer's size {}",
                model.node(node).size()
            )));
        }
        outputs.push((name.clone().unwrap_or_else(|| layer.clone()), node, shape));
    }
    model.set_outputs(
        &outputs
            .iter()
            .map(|(n, i, _)| (n.clone(), *i))
            .collect::<Vec<_>>(),
    );
    for (o, (_, _, shape)) in model.outputs.iter_mut().zip(outputs) {
        o.shape = shape;
    }
    model.separate_outputs();
    crate::ir::verify(&model).map_err(Error::input)?;
    Ok(model)
}

fn convert_layer(
    model: &Model,
    by_name: &HashMap<String, petgraph::stable_graph::NodeIndex>,
    layer: &Value,
    dir: &Path,
) -> Result<(Node, Vec<petgraph::stable_graph::NodeIndex>)> {
    let name = layer["name"].as_str().unwrap_or_default();
    let mut fields = obj(layer, "a layer")?.clone();
    let inputs: Vec<_> = fields
        .get("inputs")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::input("\"inputs\" must be a list of layer names"))?
        .iter()
        .map(|v| {
            let s = v.as_str().unwrap_or_default();
            by_name.get(s).copied().ok_or_else(|| {
                Error::input(format!(
                    "input '{s}' is not the model input or an earlier layer"
                ))
            })
        })
        .collect::<Result<_>>()?;
    let shape = fields
        .get("shape")
        .map(|v| shape_of(v, "\"shape\""))
        .transpose()?;
    for k in LAYER_KEYS.iter().filter(|k| **k != "op") {
        fields.remove(*k);
    }
    let mut op_value = Value::Object(fields.clone());
    inline_npy(&mut op_value, dir)?;
    let op = op_from_json(op_value)?;
    // Every key must mean something: compare with the op written back.
    let back = op_to_json(&op)?;
    for k in fields.keys() {
        if back.get(k).is_none() {
            return Err(Error::input(format!(
                "unknown key '{k}' for a {} layer",
                op.kind()
            )));
        }
    }
    if inputs.len() != op.arity() || matches!(op, Op::Input) {
        return Err(Error::input(format!(
            "a {} layer takes {} input(s), {} given",
            op.kind(),
            op.arity(),
            inputs.len()
        )));
    }
    let in_shape = &model.node(inputs[0]).shape;
    let inferred = match &op {
        Op::Dense { bias, .. } => Some(vec![bias.len()]),
        // Given by the layer (an argmax keeps its reduced axis as 1 or drops it).
        Op::Reshape | Op::Gather { .. } | Op::ArgMax { .. } => None,
        Op::Transpose { perm } => {
            if perm.iter().any(|&p| p >= in_shape.len()) {
                return Err(Error::input(format!(
                    "perm {perm:?} does not fit input shape {in_shape:?}"
                )));
            }
            Some(perm.iter().map(|&p| in_shape[p]).collect())
        }
        Op::Conv { window, bias, .. } => {
            let sr = window.kernel.len();
            if in_shape.len() != sr + 1 {
                return Err(Error::input(format!(
                    "a {sr}D conv needs [spatial..., channels] input, got {in_shape:?}"
                )));
            }
            let mut s = window
                .output(&in_shape[..sr])
                .ok_or_else(|| Error::input("the window does not fit the input"))?;
            s.push(bias.len());
            Some(s)
        }
        Op::Pool { window, .. } => {
            let sr = window.kernel.len();
            if in_shape.len() != sr + 1 {
                return Err(Error::input(format!(
                    "a {sr}D pool needs [spatial..., channels] input, got {in_shape:?}"
                )));
            }
            let mut s = window
                .output(&in_shape[..sr])
                .ok_or_else(|| Error::input("the window does not fit the input"))?;
            s.push(in_shape[sr]);
            Some(s)
        }
        Op::Recurrent(r) => {
            let n: usize = in_shape.iter().product();
            if r.w.shape.len() != 3 || r.w.shape[2] == 0 || !n.is_multiple_of(r.w.shape[2]) {
                return Err(Error::input(format!(
                    "a recurrent layer with {:?} input weights cannot read input {in_shape:?}",
                    r.w.shape
                )));
            }
            Some(r.output_shape(n / r.w.shape[2]))
        }
        Op::Concat { axis } => {
            let other = &model.node(inputs[1]).shape;
            if *axis >= in_shape.len() || other.len() != in_shape.len() {
                return Err(Error::input(format!(
                    "cannot concatenate {in_shape:?} and {other:?} on axis {axis}"
                )));
            }
            let mut s = in_shape.clone();
            s[*axis] += other[*axis];
            Some(s)
        }
        // Per-value and elementwise layers keep their input's shape.
        Op::ScaleShift { .. }
        | Op::Activation(_)
        | Op::PRelu { .. }
        | Op::Quant { .. }
        | Op::Clip { .. }
        | Op::Softmax
        | Op::Add
        | Op::Sub
        | Op::Mul
        | Op::Max
        | Op::Min => Some(in_shape.clone()),
        Op::Input => unreachable!("refused above: an input layer"),
    };
    let shape = match (shape, inferred) {
        (Some(s), Some(i)) if s != i => {
            return Err(Error::input(format!(
                "\"shape\" {s:?} does not match the computed shape {i:?}"
            )));
        }
        (_, Some(i)) => i,
        (Some(s), None) => s,
        (None, None) => {
            return Err(Error::input(format!(
                "a {} layer needs \"shape\"",
                op.kind()
            )));
        }
    };
    check_size(&shape, "the layer's shape")?;
    let node = Node::new(name, op, shape);
    Ok((node, inputs))
}

/// The JSON document for a model; with `npy_dir`, tensors go to .npy files there.
pub fn to_json(model: &Model, npy: Option<(&Path, &str)>) -> Result<(Value, Vec<(String, Array)>)> {
    let mut files = Vec::new();
    let mut used = std::collections::HashSet::new();
    let mut layers = Vec::new();
    for n in model.topo_order() {
        if model.is_input(n) {
            continue;
        }
        let node = model.node(n);
        let mut v = op_to_json(&node.op)?;
        let m = v.as_object_mut().expect("ops serialize to objects");
        if let Some((_, stem)) = npy {
            for (key, t) in m.iter_mut() {
                if let Some(shape) = t.get("shape").cloned().filter(|_| t.get("data").is_some()) {
                    // Names that differ only in characters a file name drops (`fc-1`,
                    // `fc.1`) are numbered apart: one file per tensor.
                    let base = crate::ir::names::c_identifier(&node.name);
                    let mut file = format!("{stem}.{base}.{key}.npy");
                    let mut k = 2;
                    while !used.insert(file.to_ascii_lowercase()) {
                        file = format!("{stem}.{base}_{k}.{key}.npy");
                        k += 1;
                    }
                    let data: Vec<f64> = serde_json::from_value(t["data"].clone())
                        .map_err(|e| Error::internal(e.to_string()))?;
                    let shape: Vec<usize> = serde_json::from_value(shape)
                        .map_err(|e| Error::internal(e.to_string()))?;
                    files.push((file.clone(), Array { shape, data }));
                    *t = json!({ "npy": file });
                }
            }
        }
        let mut layer = Map::new();
        layer.insert("name".into(), json!(node.name));
        layer.insert("op".into(), m.remove("op").unwrap());
        let inputs: Vec<&str> = model
            .inputs(n)
            .iter()
            .map(|&i| model.node(i).name.as_str())
            .collect();
        layer.insert("inputs".into(), json!(inputs));
        layer.insert("shape".into(), json!(node.shape));
        layer.extend(m.clone());
        layers.push(Value::Object(layer));
    }
    let inputs: Vec<Value> = model
        .inputs
        .iter()
        .map(|&i| json!({ "name": model.node(i).name, "shape": model.node(i).shape }))
        .collect();
    let mut doc = json!({
        "format": FORMAT,
        "version": VERSION,
        "name": model.name,
    });
    match &inputs[..] {
        [one] => doc["input"] = one.clone(),
        _ => doc["inputs"] = json!(inputs),
    }
    doc["layers"] = json!(layers);
    match &model.outputs[..] {
        [o] => {
            doc["output"] = json!(model.node(o.node).name);
            doc["output_shape"] = json!(o.shape);
            if o.name != model.node(o.node).name {
                doc["output_name"] = json!(o.name);
            }
        }
        outs => {
            doc["outputs"] = outs
                .iter()
                .map(|o| json!({ "layer": model.node(o.node).name, "name": o.name, "shape": o.shape }))
                .collect();
        }
    }
    Ok((doc, files))
}

/// Writes the model as JSON at `path` (and its .npy weight files beside it with `npy_weights`).
pub fn write(model: &Model, path: &Path, npy_weights: bool) -> Result<()> {
    let stem = path
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let (doc, files) = to_json(model, npy_weights.then_some((dir, stem.as_str())))?;
    for (file, a) in &files {
        arrays::write(&dir.join(file), a)?;
    }
    let mut s = serde_json::to_string_pretty(&doc).map_err(|e| Error::internal(e.to_string()))?;
    s.push('\n');
    std::fs::write(path, s).map_err(|e| Error::io(path, "write the JSON model", e))
}
