//! The IR's meaning in f64: what the source model computes, before any quantization (checked
//! against ONNX Runtime's golden outputs). Passes evaluate with it too (value ranges, per-value
//! folding); `emulate::float` is this module.

use crate::ir::ops::{PoolKind, concat_sources};
use crate::ir::recurrent::State;
use crate::ir::tensor::TransposeSources;
use crate::ir::{Model, Op};
use petgraph::stable_graph::NodeIndex;
use std::collections::HashMap;

/// Runs one sample (flattened model input) and returns the flattened output. A static design
/// runs `model.steps` calls, its recurrent layers' states carried from one to the next.
pub fn run(model: &Model, input: &[f64]) -> Vec<f64> {
    let order = model.topo_order();
    let dead = model.dead_after(&order);
    let mut states = HashMap::new();
    let calls: Vec<Vec<f64>> = model
        .calls_of_sample(input)
        .iter()
        .map(|x| {
            let vals = values_of_call(model, &order, &dead, x, &mut states, &mut |_, _| {});
            outputs_of(model, &vals)
        })
        .collect();
    model.sample_of_calls(&calls)
}

/// `run`, showing every layer's values to `observe` as they are made: (layer, call, values). A
/// static design's calls come one after another.
pub fn run_observed(
    model: &Model,
    input: &[f64],
    observe: &mut dyn FnMut(NodeIndex, usize, &[f64]),
) -> Vec<f64> {
    let order = model.topo_order();
    let dead = model.dead_after(&order);
    let mut states = HashMap::new();
    let calls: Vec<Vec<f64>> = model
        .calls_of_sample(input)
        .iter()
        .enumerate()
        .map(|(c, x)| {
            let vals = values_of_call(model, &order, &dead, x, &mut states, &mut |n, v| {
                observe(n, c, v)
            });
            outputs_of(model, &vals)
        })
        .collect();
    model.sample_of_calls(&calls)
}

/// The smallest and largest value each layer computes over the samples `inputs` (every call of a
/// static design): the observed ranges calibration reads.
pub fn value_ranges<'a>(
    model: &Model,
    inputs: impl IntoIterator<Item = &'a [f64]>,
) -> HashMap<NodeIndex, (f64, f64)> {
    let order = model.topo_order();
    let dead = model.dead_after(&order);
    let mut ranges: HashMap<NodeIndex, (f64, f64)> = HashMap::new();
    for input in inputs {
        let mut states = HashMap::new();
        for x in model.calls_of_sample(input) {
            values_of_call(model, &order, &dead, &x, &mut states, &mut |n, v| {
                let r = ranges.entry(n).or_insert((f64::MAX, f64::MIN));
                for &y in v {
                    *r = (r.0.min(y), r.1.max(y));
                }
            });
        }
    }
    ranges
}

fn outputs_of(model: &Model, vals: &HashMap<NodeIndex, Vec<f64>>) -> Vec<f64> {
    model
        .outputs
        .iter()
        .flat_map(|o| vals[&o.node].iter().copied())
        .collect()
}

/// One call: every layer's values shown to `observe` as they are made, each dropped after its
/// last reader (`dead`, from `Model::dead_after(order)`); returns what is left, the outputs.
fn values_of_call(
    model: &Model,
    order: &[NodeIndex],
    dead: &[Vec<NodeIndex>],
    input: &[f64],
    states: &mut HashMap<NodeIndex, State<f64>>,
    observe: &mut dyn FnMut(NodeIndex, &[f64]),
) -> HashMap<NodeIndex, Vec<f64>> {
    let mut vals: HashMap<_, Vec<f64>> = HashMap::new();
    let ranges: HashMap<_, _> = model.call_input_ranges().into_iter().collect();
    for (step, &n) in order.iter().enumerate() {
        let ins: Vec<&Vec<f64>> = model.inputs(n).iter().map(|i| &vals[i]).collect();
        let out = node_values(model, n, &ins, input, &ranges, states);
        observe(n, &out);
        vals.insert(n, out);
        for d in &dead[step] {
            vals.remove(d);
        }
    }
    vals
}

/// Sees each layer's values of several samples: (sample, layer, call, values).
pub type BatchObserver<'a> = dyn FnMut(usize, NodeIndex, usize, &[f64]) + 'a;

/// `run_observed` on several samples at once, `observe` also told the sample: a dense layer
/// reads each weight row once for all of them instead of once per sample (a million-weight
/// layer streams its 8 MB once). The values are the same, bit for bit, as one sample at a time.
/// A static design (several calls per sample) runs sample by sample.
pub fn run_batch_observed(
    model: &Model,
    xs: &[&[f64]],
    observe: &mut BatchObserver,
) -> Vec<Vec<f64>> {
    if model.steps > 1 {
        return xs
            .iter()
            .enumerate()
            .map(|(s, x)| run_observed(model, x, &mut |n, c, v| observe(s, n, c, v)))
            .collect();
    }
    let order = model.topo_order();
    let dead = model.dead_after(&order);
    let ranges: HashMap<_, _> = model.call_input_ranges().into_iter().collect();
    let mut vals: Vec<HashMap<NodeIndex, Vec<f64>>> = vec![HashMap::new(); xs.len()];
    let mut states: Vec<HashMap<NodeIndex, State<f64>>> = vec![HashMap::new(); xs.len()];
    for (step, &n) in order.iter().enumerate() {
        let outs: Vec<Vec<f64>> = match &model.node(n).op {
            Op::Dense { weights, bias } => {
                let x = model.inputs(n)[0];
                let ins: Vec<&[f64]> = vals.iter().map(|v| v[&x].as_slice()).collect();
                dense(weights, bias, &ins)
            }
            _ => (0..xs.len())
                .map(|s| {
                    let ins: Vec<&Vec<f64>> = model.inputs(n).iter().map(|i| &vals[s][i]).collect();
                    node_values(model, n, &ins, xs[s], &ranges, &mut states[s])
                })
                .collect(),
        };
        for (s, out) in outs.into_iter().enumerate() {
            observe(s, n, 0, &out);
            vals[s].insert(n, out);
            for d in &dead[step] {
                vals[s].remove(d);
            }
        }
    }
    vals.iter().map(|v| outputs_of(model, v)).collect()
}

/// A dense layer on samples `xs`: per sample, the bias plus each input times its weight row, in
/// input order; the rows outer, so each is read once for every sample. A zero input (half of
/// them after a ReLU) adds nothing: its row is skipped (weights are finite).
fn dense(weights: &crate::ir::Tensor, bias: &crate::ir::Tensor, xs: &[&[f64]]) -> Vec<Vec<f64>> {
    let n_out = bias.len();
    let mut ys: Vec<Vec<f64>> = xs.iter().map(|_| bias.data.clone()).collect();
    for (i, row) in weights.data.chunks_exact(n_out.max(1)).enumerate() {
        for (y, x) in ys.iter_mut().zip(xs) {
            let xi = x[i];
            if xi == 0.0 {
                continue;
            }
            for (yj, &w) in y.iter_mut().zip(row) {
                *yj += xi * w;
            }
        }
    }
    ys
}

/// One node's values from its inputs' (`input`: the call's model input, which an input node
/// takes its part of).
fn node_values(
    model: &Model,
    n: NodeIndex,
    ins: &[&Vec<f64>],
    input: &[f64],
    ranges: &HashMap<NodeIndex, std::ops::Range<usize>>,
    states: &mut HashMap<NodeIndex, State<f64>>,
) -> Vec<f64> {
    let node = model.node(n);
    match &node.op {
        Op::Input => input[ranges[&n].clone()].to_vec(),
        Op::Dense { weights, bias } => dense(weights, bias, &[ins[0].as_slice()])
            .pop()
            .expect("one sample"),
        Op::Gather { index, fill } => index
            .iter()
            .map(|&i| if i < 0 { *fill } else { ins[0][i as usize] })
            .collect(),
        Op::Softmax => {
            let c = *node.shape.last().unwrap();
            ins[0]
                .chunks(c)
                .flat_map(|row| {
                    let m = row.iter().cloned().fold(f64::MIN, f64::max);
                    let e: Vec<f64> = row.iter().map(|&x| (x - m).exp()).collect();
                    let s: f64 = e.iter().sum();
                    e.into_iter().map(move |v| v / s)
                })
                .collect()
        }
        Op::Add => ins[0]
            .iter()
            .zip(ins[1].iter())
            .map(|(a, b)| a + b)
            .collect(),
        Op::Sub => ins[0]
            .iter()
            .zip(ins[1].iter())
            .map(|(a, b)| a - b)
            .collect(),
        Op::Mul => ins[0]
            .iter()
            .zip(ins[1].iter())
            .map(|(a, b)| a * b)
            .collect(),
        Op::ArgMax { last } => {
            let n_in = *model.node(model.inputs(n)[0]).shape.last().unwrap();
            ins[0]
                .chunks(n_in)
                .map(|row| {
                    let better = |v: f64, best: f64| v > best || (*last && v == best);
                    let mut k = 0;
                    for (i, &v) in row.iter().enumerate().skip(1) {
                        if better(v, row[k]) {
                            k = i;
                        }
                    }
                    k as f64
                })
                .collect()
        }
        Op::Max => ins[0]
            .iter()
            .zip(ins[1].iter())
            .map(|(a, b)| a.max(*b))
            .collect(),
        Op::Min => ins[0]
            .iter()
            .zip(ins[1].iter())
            .map(|(a, b)| a.min(*b))
            .collect(),
        Op::Conv {
            window,
            groups,
            weights,
            bias,
        } => {
            let in_shape = &model.node(model.inputs(n)[0]).shape;
            let sr = window.kernel.len();
            let cin = in_shape[sr];
            let cout = node.shape[sr];
            let (cg, og) = (cin / groups, cout / groups);
            let ksize = window.size();
            // Each output's sum in the order bias, then taps, then channels; the outputs
            // side by side over contiguous weight rows; a large one's positions shared
            // among the cores.
            let spatial = &in_shape[..sr];
            let cost = groups * ksize * cg * og;
            crate::ir::parallel::par_ranges(window.positions(spatial), cost, |range| {
                let mut y = Vec::with_capacity(range.len() * cout);
                window.for_positions(spatial, range, |taps| {
                    for g in 0..*groups {
                        let start = y.len();
                        y.extend_from_slice(&bias.data[g * og..(g + 1) * og]);
                        let acc = &mut y[start..];
                        for (kk, tap) in taps.iter().enumerate() {
                            let Some(p) = tap else { continue };
                            for ci in 0..cg {
                                let x = ins[0][p * cin + g * cg + ci];
                                if x == 0.0 {
                                    continue;
                                }
                                let row = ((g * ksize + kk) * cg + ci) * og;
                                let w = &weights.data[row..row + og];
                                for (a, &w) in acc.iter_mut().zip(w) {
                                    *a += x * w;
                                }
                            }
                        }
                    }
                });
                y
            })
        }
        Op::Pool {
            kind,
            window,
            count_include_pad,
        } => {
            let in_shape = &model.node(model.inputs(n)[0]).shape;
            let sr = window.kernel.len();
            let c = in_shape[sr];
            let mut y = Vec::with_capacity(node.size());
            window.for_each_position(&in_shape[..sr], |taps| {
                for ch in 0..c {
                    let vals: Vec<f64> =
                        taps.iter().flatten().map(|&p| ins[0][p * c + ch]).collect();
                    y.push(match kind {
                        PoolKind::Max => vals.iter().cloned().fold(f64::MIN, f64::max),
                        PoolKind::Average => {
                            let count = if *count_include_pad {
                                taps.len()
                            } else {
                                vals.len()
                            };
                            vals.iter().sum::<f64>() / count as f64
                        }
                    });
                }
            });
            y
        }
        Op::Concat { axis } => {
            let shapes: Vec<Vec<usize>> = model
                .inputs(n)
                .iter()
                .map(|&i| model.node(i).shape.clone())
                .collect();
            concat_sources(&shapes, *axis)
                .into_iter()
                .map(|(k, i)| ins[k][i])
                .collect()
        }
        Op::Reshape => ins[0].clone(),
        Op::Recurrent(r) if r.stateful => {
            let state = states.entry(n).or_insert_with(|| r.initial_state_f64());
            r.run_f64_from(ins[0], state)
        }
        Op::Recurrent(r) => r.run_f64(ins[0]),
        Op::Transpose { perm } => {
            let in_shape = &model.node(model.inputs(n)[0]).shape;
            TransposeSources::new(in_shape, perm)
                .map(|i| ins[0][i])
                .collect()
        }
        op @ (Op::ScaleShift { .. }
        | Op::Activation(_)
        | Op::PRelu { .. }
        | Op::Clip { .. }
        | Op::Quant { .. }) => ins[0]
            .iter()
            .enumerate()
            .map(|(i, &x)| per_value(op, x, i).expect("a per-value op"))
            .collect(),
    }
}

/// Ops whose every output value is a function of the input value at the same index (and of the
/// index's channel, through per-channel parameters).
pub fn is_per_value(op: &Op) -> bool {
    per_value(op, 0.0, 0).is_some()
}

/// A per-value op on the value `x` at flat index `i` (per-channel parameters repeat along the
/// flat data); None for other ops.
pub fn per_value(op: &Op, x: f64, i: usize) -> Option<f64> {
    Some(match op {
        Op::ScaleShift { scale, shift } => {
            x * scale.data[i % scale.len()] + shift.data[i % shift.len()]
        }
        Op::Activation(a) => a.apply(x),
        Op::PRelu { slope } => {
            if x >= 0.0 {
                x
            } else {
                x * slope.data[i % slope.len()]
            }
        }
        Op::Clip { min, max } => x.max(min.unwrap_or(f64::MIN)).min(max.unwrap_or(f64::MAX)),
        Op::Quant {
            ty, bipolar: true, ..
        } => {
            if x >= 0.0 {
                ty.lsb()
            } else {
                -ty.lsb()
            }
        }
        Op::Quant {
            ty, round, codes, ..
        } => {
            let code = match round {
                // x / lsb exactly (a power of two), rounded as asked.
                Some(r) => {
                    let scaled = x / ty.lsb();
                    let c = match r {
                        crate::ir::ops::QuantRound::Ceil => scaled.ceil(),
                        crate::ir::ops::QuantRound::Up => scaled.signum() * scaled.abs().ceil(),
                    };
                    let (lo, hi) = ty.raw_range();
                    c.clamp(lo as f64, hi as f64) as i128
                }
                None => ty.quantize_f64(x).ok()?,
            };
            let code = match codes {
                Some((lo, hi)) => code.clamp(*lo as i128, *hi as i128),
                None => code,
            };
            ty.to_f64(code)
        }
        Op::Input
        | Op::Dense { .. }
        | Op::Gather { .. }
        | Op::Softmax
        | Op::ArgMax { .. }
        | Op::Add
        | Op::Sub
        | Op::Mul
        | Op::Max
        | Op::Min
        | Op::Conv { .. }
        | Op::Pool { .. }
        | Op::Recurrent(_)
        | Op::Concat { .. }
        | Op::Reshape
        | Op::Transpose { .. } => return None,
    })
}
