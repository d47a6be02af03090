//! The IR verifier: every invariant the passes and backends rely on. Run after every pass in tests
//! (and in debug builds); a failure is a compiler bug, never a user error.

use super::graph::Model;
use super::ops::Op;
use std::collections::HashSet;

/// Checks the model; the error names the node and the broken invariant.
pub fn verify(model: &Model) -> Result<(), String> {
    let g = &model.graph;
    if model.inputs.is_empty() || model.outputs.is_empty() {
        return Err("the model has no input or no output".into());
    }
    let ends = model.outputs.iter().map(|o| o.node);
    if !model
        .inputs
        .iter()
        .copied()
        .chain(ends)
        .all(|n| g.contains_node(n))
    {
        return Err("an input or output node is missing".into());
    }
    let order = model.topo_order();
    if order.len() != g.node_count() {
        return Err("the graph has a cycle".into());
    }
    let mut names = HashSet::new();
    for n in order {
        let node = &g[n];
        let at = |msg: String| format!("node '{}' ({}): {msg}", node.name, node.op.kind());
        if !names.insert(node.name.as_str()) {
            return Err(at("duplicate name".into()));
        }
        let inputs = model.inputs(n);
        if inputs.len() != node.op.arity() {
            return Err(at(format!(
                "has {} inputs, expected {}",
                inputs.len(),
                node.op.arity()
            )));
        }
        if matches!(node.op, Op::Input) != model.is_input(n) {
            return Err(at("only the model's inputs may be input nodes".into()));
        }
        if node.shape.is_empty()
            || node.shape.contains(&0)
            || super::tensor::checked_size(&node.shape).is_none()
        {
            return Err(at(format!("bad shape {:?}", node.shape)));
        }
        let in_shapes: Vec<&Vec<usize>> = inputs.iter().map(|&i| &g[i].shape).collect();
        let size = node.size();
        let in_size = |k: usize| in_shapes[k].iter().product::<usize>();
        match &node.op {
            Op::Input => {}
            Op::Dense { weights, bias } => {
                let n_in = in_size(0);
                let n_out = size;
                if node.shape.len() != 1 {
                    return Err(at("dense gives one-dimensional data".into()));
                }
                if weights.shape != [n_in, n_out] || bias.shape != [n_out] {
                    return Err(at(format!(
                        "weights {:?} / bias {:?} do not match {n_in} -> {n_out}",
                        weights.shape, bias.shape
                    )));
                }
            }
            Op::ScaleShift { scale, shift } => {
                let c = *node.shape.last().unwrap();
                if scale.shape != [c] || shift.shape != [c] || in_size(0) != size {
                    return Err(at("scale/shift must have one entry per channel".into()));
                }
            }
            Op::Conv {
                window,
                groups,
                weights,
                bias,
            } => {
                let x = in_shapes[0];
                let sr = window.kernel.len();
                if x.len() != sr + 1 || node.shape.len() != sr + 1 || !(1..=2).contains(&sr) {
                    return Err(at(format!(
                        "conv over {sr} spatial axes needs [spatial..., C] data, got {x:?}"
                    )));
                }
                let (cin, cout) = (x[sr], node.shape[sr]);
                let mut ws = vec![*groups];
                ws.extend(&window.kernel);
                ws.extend([cin / groups, cout / groups]);
                if *groups == 0
                    || cin % groups != 0
                    || cout % groups != 0
                    || weights.shape != ws
                    || bias.shape != [cout]
                {
                    return Err(at(format!(
                        "weights {:?} / bias {:?} do not fit {cin} -> {cout} channels in {groups} groups",
                        weights.shape, bias.shape
                    )));
                }
                if window.output(&x[..sr]).as_deref() != Some(&node.shape[..sr]) {
                    return Err(at("output size does not follow from the window".into()));
                }
            }
            Op::Pool { window, .. } => {
                let x = in_shapes[0];
                let sr = window.kernel.len();
                if x.len() != sr + 1
                    || node.shape.len() != sr + 1
                    || x[sr] != node.shape[sr]
                    || window.output(&x[..sr]).as_deref() != Some(&node.shape[..sr])
                {
                    return Err(at(format!(
                        "pool output {:?} does not follow from input {x:?}",
                        node.shape
                    )));
                }
            }
            Op::Concat { axis } => {
                let mut total = 0;
                for s in &in_shapes {
                    if s.len() != node.shape.len()
                        || *axis >= s.len()
                        || (0..s.len()).any(|a| a != *axis && s[a] != node.shape[a])
                    {
                        return Err(at(format!(
                            "cannot concatenate {in_shapes:?} on axis {axis}"
                        )));
                    }
                    total += s[*axis];
                }
                if total != node.shape[*axis] {
                    return Err(at("concat output size".into()));
                }
            }
            Op::Add | Op::Sub | Op::Mul => {
                if in_size(0) != size || in_size(1) != size {
                    return Err(at("add inputs and output must have the same size".into()));
                }
            }
            Op::Gather { index, .. } => {
                if index.len() != size || index.iter().any(|&i| i >= in_size(0) as i64) {
                    return Err(at("gather indices do not fit".into()));
                }
            }
            Op::PRelu { slope } => {
                if in_size(0) != size
                    || !(slope.len() == 1 || slope.len() == *node.shape.last().unwrap())
                {
                    return Err(at("prelu slope must be one value or one per channel".into()));
                }
            }
            Op::Recurrent(r) => {
                // The input is read flat as [seq, input] (a reshape before it may have been dropped).
                let x = in_shapes[0];
                let (dirs, g, hs) = (r.direction.count(), r.cell.gates(), r.hidden);
                let n_in = r.w.shape.get(2).copied().unwrap_or(0);
                let ok = n_in > 0
                    && in_size(0) % n_in == 0
                    && r.w.shape == [dirs, g * hs, n_in]
                    && r.r.shape == [dirs, g * hs, hs]
                    && r.b.shape == [dirs, 2 * g * hs]
                    && r.activations.len() == dirs * r.cell.activation_count()
                    && node.shape == r.output_shape(in_size(0) / n_in);
                if !ok {
                    return Err(at(format!(
                        "recurrent parameters do not fit input {x:?} and output {:?}",
                        node.shape
                    )));
                }
            }
            Op::Reshape => {
                if in_size(0) != size {
                    return Err(at("reshape changes the number of values".into()));
                }
            }
            Op::Transpose { perm } => {
                let mut sorted = perm.clone();
                sorted.sort();
                if sorted != (0..in_shapes[0].len()).collect::<Vec<_>>()
                    || perm.iter().map(|&p| in_shapes[0][p]).collect::<Vec<_>>() != node.shape
                {
                    return Err(at(format!("bad permutation {perm:?}")));
                }
            }
            Op::ArgMax { .. } => {
                let rows = in_shapes[0][..in_shapes[0].len() - 1]
                    .iter()
                    .product::<usize>();
                if node.shape.last() != Some(&1) || size != rows {
                    return Err(at(format!(
                        "an argmax of {:?} gives one index per row, shaped [..., 1]; got {:?}",
                        in_shapes[0], node.shape
                    )));
                }
            }
            // Elementwise ops and softmax (over the last axis of the node's own shape) read their
            // input as a flat array: only the size must agree.
            _ => {
                if in_size(0) != size {
                    return Err(at("elementwise op changes the number of values".into()));
                }
            }
        }
        if node.op.uses_table() && !node.precision.table_size.is_power_of_two() {
            return Err(at("table size must be a power of two".into()));
        }
        if node.hardware.reuse == 0 {
            return Err(at("reuse factor 0".into()));
        }
    }
    Ok(())
}
