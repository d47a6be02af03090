//! Loop as a recurrent layer: tf2onnx exports Keras GRU and SimpleRNN as a while loop over
//! TensorFlow's cell (a Gather of the time-major input at the iteration, the cell's MatMuls and
//! activations, the new state as a carried value and a scan output). The body is recognised as
//! a GRU (reset_after: ONNX linear_before_reset 1; else 0) or an RNN cell, converted as the ONNX
//! GRU / RNN node it is, and then checked: the body, evaluated in f64 on seeded states and
//! inputs, must give the new state the recognised cell gives. A Loop that is not such a cell is
//! refused with the reason.

use super::super::*;
use super::{Domain, Registration};
use crate::ir::recurrent::Recurrent;
use onnx_protobuf::GraphProto;

/// Ops the body may use to compute the new state (the evaluation below follows these); the
/// loop's own bookkeeping (counter, condition) is not evaluated.
const CELL_OPS: &[&str] = &[
    "MatMul",
    "Add",
    "Sub",
    "Mul",
    "Sigmoid",
    "HardSigmoid",
    "Tanh",
    "Relu",
    "Split",
    "Squeeze",
    "Slice",
    "Identity",
];

impl Converter<'_> {
    pub(in crate::frontend::onnx) fn loop_cell(
        &mut self,
        node: &NodeProto,
        name: &str,
    ) -> Result<()> {
        let refuse = |why: String| {
            Error::input(format!(
                "Loop: not a recurrent cell hlsrs recognises ({why}). hlsrs compiles a Loop only \
                 as the Keras GRU or SimpleRNN cell tf2onnx writes, and ONNX LSTM/GRU/RNN nodes: \
                 a recurrent layer the exporter could not turn into an ONNX LSTM/GRU/RNN node \
                 should be exported as one (torch.onnx does)"
            ))
        };
        let body = attr(node, "body")
            .and_then(|a| a.g.as_ref())
            .ok_or_else(|| refuse("it has no body".into()))?
            .clone();
        // Body inputs: iteration, condition, carried values; the node's: trip count,
        // condition, initial carried values.
        let carried = body.input.len().saturating_sub(2);
        if node.input.len() != 2 + carried || body.output.len() < 1 + carried {
            return Err(refuse("its inputs and outputs do not pair up".into()));
        }
        let iter = body.input[0].name.clone();
        let local: HashSet<&str> = body
            .node
            .iter()
            .flat_map(|n| n.output.iter().map(String::as_str))
            .chain(body.input.iter().map(|i| i.name.as_str()))
            .chain(body.initializer.iter().map(|t| t.name.as_str()))
            .collect();
        // The step: the iteration, or a carried counter from 0 that the body increments by 1
        // (Keras's own time variable).
        let body_const = |name: &str| -> Option<f64> {
            let t = body.initializer.iter().find(|t| t.name == name)?;
            tensor_from_proto(t, self.dir)
                .ok()
                .filter(|t| t.len() == 1)
                .map(|t| t.data[0])
        };
        let is_step = |name: &str| -> bool {
            if name == iter {
                return true;
            }
            let Some(k) = (0..carried).find(|&k| body.input[2 + k].name == name) else {
                return false;
            };
            let starts_at_0 = matches!(
                self.values.get(&node.input[2 + k]),
                Some(Value::Const(t)) if t.len() == 1 && t.data[0] == 0.0
            );
            let next = &body.output[1 + k].name;
            let counts = body.node.iter().any(|n| {
                n.op_type == "Add"
                    && n.output.first() == Some(next)
                    && n.input.len() == 2
                    && ((n.input[0] == name && body_const(&n.input[1]) == Some(1.0))
                        || (n.input[1] == name && body_const(&n.input[0]) == Some(1.0)))
            });
            starts_at_0 && counts
        };
        // The step's input: a Gather of an outer (time-major) tensor at the step.
        let gather = body
            .node
            .iter()
            .find(|n| {
                n.op_type == "Gather"
                    && n.input.len() == 2
                    && !n.output.is_empty()
                    && attr_i(n, "axis", 0) == 0
                    && is_step(&n.input[1])
                    && !local.contains(n.input[0].as_str())
            })
            .ok_or_else(|| refuse("no step reads a sequence at the iteration".into()))?;
        let seq_name = gather.input[0].clone();
        let x_t = gather.output[0].clone();
        // Carried values: their body names and initial values.
        let init = |k: usize| self.values.get(&node.input[2 + k]).cloned();
        let body_in = |k: usize| body.input[2 + k].name.clone();
        let consts: Vec<Option<Tensor>> = (0..carried)
            .map(|k| match init(k) {
                Some(Value::Const(t)) => Some(t),
                _ => None,
            })
            .collect();
        let uses = |a: usize, name: &str, op: &str| {
            body.node
                .iter()
                .any(|n| n.op_type == op && n.input.get(a).is_some_and(|i| i == name))
        };
        let w_k = (0..carried)
            .find(|&k| {
                body.node.iter().any(|n| {
                    n.op_type == "MatMul"
                        && n.input.len() == 2
                        && n.input == [x_t.clone(), body_in(k)]
                })
            })
            .ok_or_else(|| refuse("no matrix product of the step's input with a weight".into()))?;
        let h_k = (0..carried)
            .find(|&k| k != w_k && uses(0, &body_in(k), "MatMul"))
            .ok_or_else(|| refuse("no carried state multiplied by a weight".into()))?;
        let w = consts[w_k]
            .clone()
            .filter(|t| t.shape.len() == 2)
            .ok_or_else(|| refuse("the input weight is not a constant matrix".into()))?;
        let h0 = consts[h_k]
            .clone()
            .ok_or_else(|| refuse("the initial state is not a constant".into()))?;
        let (features, gh) = (w.shape[0], w.shape[1]);
        let hidden = h0.len();
        if hidden == 0 || gh % hidden != 0 {
            return Err(refuse(format!(
                "the input weight {:?} does not fit a state of {hidden}",
                w.shape
            )));
        }
        let gates = gh / hidden;
        let (op, gates_name) = match gates {
            1 => ("RNN", "SimpleRNN"),
            3 => ("GRU", "GRU"),
            g => {
                return Err(refuse(format!(
                    "{g} gates: neither a GRU (3) nor an RNN (1)"
                )));
            }
        };
        let r_k = (0..carried)
            .find(|&k| {
                k != w_k && k != h_k && consts[k].as_ref().is_some_and(|t| t.shape == [hidden, gh])
            })
            .ok_or_else(|| refuse(format!("no recurrent weight [{hidden}, {gh}]")))?;
        let b_k = (0..carried).find(|&k| {
            ![w_k, h_k, r_k].contains(&k)
                && consts[k]
                    .as_ref()
                    .is_some_and(|t| t.len() == gh || t.len() == 2 * gh)
        });
        let r = consts[r_k].clone().expect("found as a constant");
        let b = b_k.and_then(|k| consts[k].clone());
        // reset_after (two bias rows: input and recurrent) is ONNX's linear_before_reset = 1.
        let two_biases = b.as_ref().is_some_and(|t| t.len() == 2 * gh);
        let mut bias = vec![0.0; 2 * gh];
        if let Some(b) = &b {
            bias[..b.len()].copy_from_slice(&b.data);
        }
        // Keras keeps kernels [in, gates * hidden] (gates z, r, h for a GRU, as ONNX orders
        // them); ONNX's W and R are the transposes.
        let transpose = |t: &Tensor, rows: usize| -> Tensor {
            let cols = t.len() / rows;
            let mut d = vec![0.0; t.len()];
            for i in 0..rows {
                for j in 0..cols {
                    d[j * rows + i] = t.data[i * cols + j];
                }
            }
            Tensor::new(vec![1, cols, rows], d)
        };
        // The new state: the body output paired with the carried state, and the scan output.
        let new_h = body.output[1 + h_k].name.clone();
        let scans: Vec<String> = body.output[1 + carried..]
            .iter()
            .map(|o| o.name.clone())
            .collect();
        if scans.len() > 1 {
            return Err(refuse(format!(
                "{} scan outputs; a cell has one",
                scans.len()
            )));
        }
        let (trips, seq) = (self.constant(node, 0)?, self.full_shape_of(&seq_name));
        let seq_len = seq.as_ref().and_then(|s| s.first().copied());
        if trips.len() != 1 || seq_len != Some(trips.data[0] as usize) {
            return Err(refuse(format!(
                "it runs {:?} steps over a sequence of {seq_len:?}",
                trips.data
            )));
        }
        // Activations: the body's, gates first (a GRU's gate function is the one used twice).
        let act_nodes: Vec<&NodeProto> = body
            .node
            .iter()
            .filter(|n| ["Sigmoid", "HardSigmoid", "Tanh", "Relu"].contains(&n.op_type.as_str()))
            .collect();
        let by_use = |n: &&NodeProto| act_nodes.iter().filter(|m| m.op_type == n.op_type).count();
        let mut names: Vec<&NodeProto> = Vec::new();
        if gates == 3 {
            let gate = act_nodes.iter().find(|n| by_use(n) >= 2);
            let cand = act_nodes
                .iter()
                .find(|n| Some(n.op_type.as_str()) != gate.map(|g| g.op_type.as_str()))
                .or(gate);
            names.extend(gate.into_iter().chain(cand).copied());
        } else {
            names.extend(act_nodes.first().copied());
        }
        let mut act_names = Vec::new();
        let (mut alphas, mut betas) = (Vec::new(), Vec::new());
        for n in &names {
            act_names.push(n.op_type.clone().into_bytes());
            if n.op_type == "HardSigmoid" {
                alphas.push(attr_f(n, "alpha", 0.2) as f32);
                betas.push(attr_f(n, "beta", 0.5) as f32);
            }
        }
        if gates == 1 && names.is_empty() {
            // Keras's linear activation: no op on the sum.
            act_names.push(b"Affine".to_vec());
            alphas.push(1.0);
            betas.push(0.0);
        }
        // The ONNX node this Loop is, with its outputs renamed (Y [seq, 1, N, H] and
        // Y_h [1, N, H]; the Loop's are [seq, N, H] and [N, H]).
        let tag = node_name(node);
        let add_const = |c: &mut Self, what: &str, t: Tensor| {
            let n = format!("{tag}::{what}");
            c.values.insert(n.clone(), Value::Const(t));
            n
        };
        let wn = add_const(self, "W", transpose(&w, features));
        let rn = add_const(self, "R", transpose(&r, hidden));
        let bn = add_const(self, "B", Tensor::new(vec![1, 2 * gh], bias));
        let (y, y_h) = (format!("{tag}::Y"), format!("{tag}::Y_h"));
        let mut cell = NodeProto::new();
        cell.op_type = op.into();
        cell.name = tag.clone();
        cell.input = vec![seq_name.clone(), wn, rn, bn];
        cell.output = vec![y.clone(), y_h.clone()];
        let int = |n: &str, v: i64| {
            let mut a = onnx_protobuf::AttributeProto::new();
            a.name = n.into();
            a.i = v;
            a.type_ = onnx_protobuf::attribute_proto::AttributeType::INT.into();
            a
        };
        cell.attribute.push(int("hidden_size", hidden as i64));
        if gates == 3 {
            cell.attribute
                .push(int("linear_before_reset", two_biases as i64));
        } else if two_biases {
            return Err(refuse("an RNN cell with two bias rows".into()));
        }
        let mut acts = onnx_protobuf::AttributeProto::new();
        acts.name = "activations".into();
        acts.strings = act_names;
        acts.type_ = onnx_protobuf::attribute_proto::AttributeType::STRINGS.into();
        cell.attribute.push(acts);
        for (n, v) in [("activation_alpha", alphas), ("activation_beta", betas)] {
            if !v.is_empty() {
                let mut a = onnx_protobuf::AttributeProto::new();
                a.name = n.into();
                a.floats = v;
                a.type_ = onnx_protobuf::attribute_proto::AttributeType::FLOATS.into();
                cell.attribute.push(a);
            }
        }
        let graph = self.proto.graph.as_ref().unwrap();
        let read = |o: &str| {
            !o.is_empty()
                && (graph.node.iter().any(|n| n.input.iter().any(|i| i == o))
                    || graph.output.iter().any(|g| g.name == o))
        };
        let final_h = node.output.get(h_k).cloned().unwrap_or_default();
        let scan_out = node.output.get(carried).cloned().unwrap_or_default();
        for (k, o) in node.output.iter().enumerate() {
            if read(o) && k != h_k && k != carried {
                return Err(refuse(format!(
                    "its carried value {k} ('{o}') is read after the loop; only the state is an output"
                )));
            }
        }
        let (use_y, use_h) = (read(&scan_out), read(&final_h));
        self.recurrent_outputs(&cell, name, [use_y, use_h, false])
            .map_err(|e| refuse(e.message().to_string()))?;
        // The cell as converted, checked against the body.
        let converted = [&y, &y_h]
            .into_iter()
            .find_map(|t| match self.values.get(t) {
                Some(Value::Node(n, _)) => match &self.model.node(*n).op {
                    Op::Recurrent(r) => Some((**r).clone()),
                    _ => None,
                },
                _ => None,
            });
        if let Some(rec) = converted {
            // The carried weights under the body's names, in Keras's layout.
            let mut known = vec![(body_in(w_k), w.clone()), (body_in(r_k), r.clone())];
            if let (Some(k), Some(b)) = (b_k, &b) {
                known.push((body_in(k), b.clone()));
            }
            check_body(
                &body,
                &rec,
                &known,
                &x_t,
                &body_in(h_k),
                &new_h,
                &scans,
                self.dir,
            )
            .map_err(|why| refuse(format!("the {gates_name} cell recognised in it {why}")))?;
        }
        // The Loop's outputs: Y without its direction axis, Y_h likewise.
        for (src, dst, axis) in [(&y, &scan_out, 1), (&y_h, &final_h, 0)] {
            if self.values.contains_key(src.as_str()) && !dst.is_empty() {
                let axes = add_const(
                    self,
                    &format!("axes{axis}"),
                    Tensor::new(vec![1], vec![axis as f64]),
                );
                let mut sq = NodeProto::new();
                sq.op_type = "Squeeze".into();
                sq.input = vec![src.clone(), axes];
                sq.output = vec![dst.clone()];
                let n = self.unique_name(&format!("{name}_squeeze"));
                self.squeeze(&sq, &n)?;
            }
        }
        Ok(())
    }
}

/// `a op b` with numpy broadcasting (the constant folder's Expand makes the shapes equal).
fn elementwise(a: &Tensor, b: &Tensor, op: impl Fn(f64, f64) -> f64) -> Option<Tensor> {
    let dims = |t: &Tensor| t.shape.iter().map(|&d| d as i64).collect::<Vec<_>>();
    let a = crate::frontend::fold::expand(a, &dims(b)).ok()?;
    let b = crate::frontend::fold::expand(b, &dims(&a)).ok()?;
    let data = a
        .data
        .iter()
        .zip(&b.data)
        .map(|(&x, &y)| op(x, y))
        .collect();
    Some(Tensor::new(a.shape, data))
}

fn matmul(a: &Tensor, b: &Tensor) -> Option<Tensor> {
    let (&[m, k], &[k2, n]) = (&a.shape[..], &b.shape[..]) else {
        return None;
    };
    if k != k2 {
        return None;
    }
    let mut data = vec![0.0; m * n];
    for i in 0..m {
        for p in 0..k {
            for j in 0..n {
                data[i * n + j] += a.data[i * k + p] * b.data[p * n + j];
            }
        }
    }
    Some(Tensor::new(vec![m, n], data))
}

/// The values of `t` at `start..end` along `axis` (all of every other axis).
fn range_along(t: &Tensor, axis: usize, start: usize, end: usize) -> Option<Tensor> {
    if axis >= t.shape.len() || start > end || end > t.shape[axis] {
        return None;
    }
    let picks: Vec<Vec<usize>> = t
        .shape
        .iter()
        .enumerate()
        .map(|(a, &d)| {
            if a == axis {
                (start..end).collect()
            } else {
                (0..d).collect()
            }
        })
        .collect();
    Some(crate::frontend::fold::take(t, &picks))
}

/// Evaluates the body's cell on seeded states and inputs and compares its new state (and scan
/// output) with the recognised cell's step; the error says how they differ.
#[allow(clippy::too_many_arguments)]
fn check_body(
    body: &GraphProto,
    rec: &Recurrent,
    known: &[(String, Tensor)],
    x_t: &str,
    h_in: &str,
    h_out: &str,
    scans: &[String],
    dir: &Path,
) -> std::result::Result<(), String> {
    let features = rec.w.shape[2];
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut draw = |n: usize| crate::ir::tensor::seeded_uniform(&mut seed, n);
    let mut fixed: HashMap<String, Tensor> = HashMap::new();
    for t in &body.initializer {
        let v = tensor_from_proto(t, dir).map_err(|e| e.message().to_string())?;
        fixed.insert(t.name.clone(), v);
    }
    fixed.extend(known.iter().cloned());
    for _ in 0..3 {
        let (x, h) = (draw(features), draw(rec.hidden));
        let mut env = fixed.clone();
        env.insert(x_t.into(), Tensor::new(vec![1, features], x.clone()));
        env.insert(h_in.into(), Tensor::new(vec![1, rec.hidden], h.clone()));
        evaluate(body, &mut env)?;
        let want = {
            let mut state = crate::ir::recurrent::State {
                h: h.clone(),
                c: vec![0.0; rec.hidden],
            };
            let y = rec.run_f64_from(&x, &mut state);
            y[y.len() - rec.hidden..].to_vec()
        };
        for out in std::iter::once(h_out).chain(scans.iter().map(String::as_str)) {
            let got = env.get(out).ok_or_else(|| {
                format!("computes its state '{out}' with ops beyond {CELL_OPS:?}")
            })?;
            let worst = got
                .data
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            if got.data.len() != want.len() || worst > 1e-9 {
                return Err(format!(
                    "computes another state than the cell (off by {worst:.3e} in '{out}')"
                ));
            }
        }
    }
    Ok(())
}

/// Runs the body's nodes whose inputs are known, in order (the loop's bookkeeping, whose inputs
/// are not, is skipped). Activations are the IR's own (`Activation::apply`), shapes follow the
/// constant folder's Slice and Expand.
fn evaluate(
    body: &GraphProto,
    env: &mut HashMap<String, Tensor>,
) -> std::result::Result<(), String> {
    use crate::ir::activation::Activation;
    for n in &body.node {
        if !CELL_OPS.contains(&n.op_type.as_str())
            || n.output.first().is_none_or(|o| env.contains_key(o))
        {
            continue;
        }
        let ins: Option<Vec<&Tensor>> = n
            .input
            .iter()
            .filter(|i| !i.is_empty())
            .map(|i| env.get(i))
            .collect();
        let Some(ins) = ins else { continue };
        let arity = match n.op_type.as_str() {
            "MatMul" | "Add" | "Sub" | "Mul" => 2,
            _ => 1,
        };
        if ins.len() < arity {
            return Err(format!("has a {} with {} inputs", n.op_type, ins.len()));
        }
        let ints = |k: usize| -> Option<Vec<i64>> {
            ins.get(k)
                .map(|t| t.data.iter().map(|&v| v as i64).collect())
        };
        let axis_of = |a: i64, rank: usize| norm_axis(a, rank).ok();
        let act = |f: Activation| {
            let x = ins[0];
            Some(vec![Tensor::new(
                x.shape.clone(),
                x.data.iter().map(|&v| f.apply(v)).collect(),
            )])
        };
        let outs: Option<Vec<Tensor>> = match n.op_type.as_str() {
            "MatMul" => matmul(ins[0], ins[1]).map(|v| vec![v]),
            "Add" => elementwise(ins[0], ins[1], |a, b| a + b).map(|v| vec![v]),
            "Sub" => elementwise(ins[0], ins[1], |a, b| a - b).map(|v| vec![v]),
            "Mul" => elementwise(ins[0], ins[1], |a, b| a * b).map(|v| vec![v]),
            "Sigmoid" => act(Activation::Sigmoid),
            "Tanh" => act(Activation::Tanh),
            "Relu" => act(Activation::Relu),
            "HardSigmoid" => act(Activation::HardSigmoid {
                alpha: attr_f(n, "alpha", 0.2),
                beta: attr_f(n, "beta", 0.5),
            }),
            "Identity" => Some(vec![ins[0].clone()]),
            "Squeeze" => {
                let x = ins[0];
                let listed = ints(1).or_else(|| attr_ints(n, "axes")).unwrap_or_default();
                let axes: Option<Vec<usize>> =
                    listed.iter().map(|&a| axis_of(a, x.shape.len())).collect();
                axes.map(|axes| {
                    let shape = x
                        .shape
                        .iter()
                        .enumerate()
                        .filter(|(k, d)| !(axes.contains(k) || (axes.is_empty() && **d == 1)))
                        .map(|(_, &d)| d)
                        .collect();
                    vec![Tensor::new(shape, x.data.clone())]
                })
            }
            "Split" => {
                let x = ins[0];
                let parts = n.output.len().max(1);
                axis_of(attr_i(n, "axis", 0), x.shape.len()).and_then(|axis| {
                    let sizes: Vec<usize> = ints(1)
                        .or_else(|| attr_ints(n, "split"))
                        .map(|v| v.iter().map(|&s| s.max(0) as usize).collect())
                        .unwrap_or_else(|| vec![x.shape[axis] / parts; parts]);
                    let mut at = 0;
                    sizes
                        .iter()
                        .map(|&len| {
                            at += len;
                            range_along(x, axis, at - len, at)
                        })
                        .collect()
                })
            }
            "Slice" => {
                let x = ins[0];
                let (starts, ends) = (ints(1).unwrap_or_default(), ints(2).unwrap_or_default());
                let axes: Option<Vec<usize>> = ints(3)
                    .unwrap_or_else(|| (0..starts.len() as i64).collect())
                    .iter()
                    .map(|&a| axis_of(a, x.shape.len()))
                    .collect();
                let steps = ints(4);
                axes.filter(|a| {
                    a.len() == starts.len()
                        && a.len() == ends.len()
                        && steps.as_ref().is_none_or(|s| s.len() == a.len())
                })
                .and_then(|axes| {
                    crate::frontend::fold::slice_picks(
                        &x.shape,
                        &starts,
                        &ends,
                        &axes,
                        steps.as_deref(),
                    )
                    .ok()
                })
                .map(|picks| vec![crate::frontend::fold::take(x, &picks)])
            }
            _ => None,
        };
        let outs = outs.ok_or_else(|| format!("has a {} it cannot evaluate", n.op_type))?;
        for (o, v) in n.output.iter().zip(outs) {
            env.insert(o.clone(), v);
        }
    }
    Ok(())
}

/// This family's ops in the registry (`ops::OPS`).
pub(in crate::frontend::onnx) const OPS: &[Registration] =
    &[(Domain::Onnx, "Loop", |c, n, name| c.loop_cell(n, name))];
