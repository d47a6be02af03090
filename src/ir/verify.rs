//! The IR verifier: every invariant the passes and backends rely on. Run after every pass in tests
//! (and in debug builds); a failure is a compiler bug, never a user error.

use super::graph::Model;
use super::ops::Op;
use std::collections::HashSet;

/// Checks the model; the error names the node and the broken invariant.
pub fn verify(model: &Model) -> Result<(), String> {
    let g = &model.graph;
    if !g.contains_node(model.input) || !g.contains_node(model.output) {
        return Err("input or output node is missing".into());
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
        if matches!(node.op, Op::Input) != (n == model.input) {
            return Err(at("only the model input may be an input node".into()));
        }
        if node.shape.is_empty() || node.shape.contains(&0) {
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
            Op::Add => {
                if in_size(0) != size || in_size(1) != size {
                    return Err(at("add inputs and output must have the same size".into()));
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
