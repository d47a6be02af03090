//! prune_magnitude: sets the weights of smallest magnitude of dense, conv and recurrent layers
//! (their input and recurrent matrices) to exactly zero. `prune = "magnitude:S"` removes the fraction S of the design's multiplications (its
//! weights that are nonzero in their fixed-point type) under one threshold for the model (layers
//! that matter less lose more); a layer's own `sparsity = S` removes the fraction S of its own.
//! Runs after BatchNorm folding and the type choice, so it prunes what the design holds. Zero
//! weights cost no multiplier: the kernels skip them (kernels::dense counts them out).

use super::{Pass, PassContext};
use crate::error::{Error, Result};
use crate::ir::{Model, Op, Tensor};
use crate::kernels::Consts;
use petgraph::stable_graph::NodeIndex;

pub struct PruneMagnitude;

/// The weight matrices of a layer that multiplies by constants (a recurrent layer's input
/// weights W and recurrent weights R; biases and peepholes are additions or kept).
fn weights(op: &Op) -> Vec<&Tensor> {
    match op {
        Op::Dense { weights, .. } | Op::Conv { weights, .. } => vec![weights],
        Op::Recurrent(r) => vec![&r.w, &r.r],
        _ => vec![],
    }
}

fn weights_mut(op: &mut Op) -> Vec<&mut Tensor> {
    match op {
        Op::Dense { weights, .. } | Op::Conv { weights, .. } => vec![weights],
        Op::Recurrent(r) => vec![&mut r.w, &mut r.r],
        _ => vec![],
    }
}

/// Whether `v` is nonzero once quantized as constants are (`Consts::quantize`).
fn nonzero_in(ty: crate::ir::FixedType, v: f64) -> bool {
    !matches!(Consts::quantize_one(ty, v), Ok(0))
}

/// A weight: its layer, its matrix (index into `weights`) and position.
type At = (NodeIndex, usize, usize);

/// The `k` entries of smallest magnitude (ties by position, so the choice is deterministic).
fn smallest(values: &[(At, f64)], k: usize) -> Vec<At> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| {
        values[a]
            .1
            .abs()
            .total_cmp(&values[b].1.abs())
            .then(a.cmp(&b))
    });
    order[..k].iter().map(|&i| values[i].0).collect()
}

impl Pass for PruneMagnitude {
    fn name(&self) -> &'static str {
        "prune_magnitude"
    }

    fn run(&self, model: &mut Model, cx: &mut PassContext) -> Result<()> {
        let c = cx.config;
        // Nothing asked: nothing to rank (a layer's `sparsity` on a layer without weights is
        // refused below only when some layer sets it).
        if c.prune.magnitude.is_none() && c.layers.values().all(|l| l.sparsity.is_none()) {
            return Ok(());
        }
        let mut pooled = Vec::new();
        let mut zero = Vec::new();
        let mut total = 0;
        for n in model.topo_order() {
            let node = model.node(n);
            let own = c.layers.get(&node.name).and_then(|l| l.sparsity);
            let matrices = weights(&node.op);
            if matrices.is_empty() {
                if own.is_some() {
                    return Err(Error::input(format!(
                        "[layers.{0}]: 'sparsity' applies to dense, conv and recurrent layers; '{0}' is a {1} layer",
                        node.name,
                        node.op.kind()
                    )));
                }
                continue;
            }
            // Weights already zero in the layer's type are no multiplication to remove.
            let ty = node.precision.weight;
            let values: Vec<(At, f64)> = matrices
                .iter()
                .enumerate()
                .flat_map(|(m, w)| w.data.iter().enumerate().map(move |(i, &v)| ((n, m, i), v)))
                .filter(|&(_, v)| nonzero_in(ty, v))
                .collect();
            total += values.len();
            match own {
                Some(s) => {
                    let k = (s * values.len() as f64).ceil() as usize;
                    zero.extend(smallest(&values, k));
                }
                None if c.prune.magnitude.is_some() => pooled.extend(values),
                None => {}
            }
        }
        if let Some(s) = c.prune.magnitude {
            let k = (s * pooled.len() as f64).ceil() as usize;
            zero.extend(smallest(&pooled, k));
        }
        if zero.is_empty() {
            return Ok(());
        }
        for &(n, m, i) in &zero {
            if let Some(w) = weights_mut(&mut model.node_mut(n).op).into_iter().nth(m) {
                w.data[i] = 0.0;
            }
        }
        // An accumulator left to the compiler is exact for the weights it holds: the pruned ones
        // reach less, so it narrows (as apply_config would have sized it).
        let pruned: std::collections::BTreeSet<NodeIndex> =
            zero.iter().map(|&(n, _, _)| n).collect();
        for n in pruned {
            let node = model.node(n);
            let own = c.layers.get(&node.name).and_then(|l| l.accum);
            let Some(&src) = model.inputs(n).first() else {
                continue;
            };
            let x = model.node(src).precision.result;
            let p = &node.precision;
            let accum = match (&node.op, own.or(c.accum)) {
                (Op::Dense { weights, bias } | Op::Conv { weights, bias, .. }, None) => {
                    crate::passes::exact_accumulator(x, p.weight, p.bias, weights, bias)?
                }
                _ => continue,
            };
            model.node_mut(n).precision.accum = accum;
        }
        cx.notes.push(format!(
            "pruned by magnitude: {} of {} dense/conv/recurrent multiplications removed",
            zero.len(),
            total
        ));
        Ok(())
    }
}
