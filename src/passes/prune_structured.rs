//! prune_structured: removes whole neurons of dense layers (`neurons:`) and filters of
//! convolutions (`filters:`), shrinking the layer, the per-value layers after it (activations,
//! per-channel scale and shift, pooling, reshapes) and the inputs of the dense and conv layers
//! that read it.
//!
//! A unit whose outgoing weights are all zero is read by nobody: removing it changes nothing. A
//! unit whose incoming weights are all zero is a constant (its bias through the layers after it):
//! its contribution to each consumer is added to that consumer's bias, so removing it changes
//! nothing either, and removes nothing at all from the float sums when the constant is zero. A
//! unit pruned by norm is treated as if its incoming weights were zero, i.e. replaced by that
//! constant. Runs on float weights before types are chosen, so `apply_config` sizes the smaller
//! layers.

use super::{Pass, PassContext};
use crate::config::Units;
use crate::error::Result;
use crate::ir::eval::{is_per_value, per_value};
use crate::ir::ops::PoolKind;
use crate::ir::{Model, Op, Tensor};
use petgraph::stable_graph::NodeIndex;

pub struct PruneStructured;

/// How a layer's output channels reach the layers that read them.
struct Reach {
    /// Per-value layers, pools and reshapes between the layer and its readers, in order.
    chain: Vec<NodeIndex>,
    /// Dense layers and (ungrouped) convolutions reading the chain's last value.
    readers: Vec<NodeIndex>,
}

/// Follows a layer's output through a single-consumer chain to dense / conv readers; None when
/// anything else reads it (the model output, an add, a concat, a softmax...), so no unit of the
/// layer can be removed without changing those.
fn reach(model: &Model, n: NodeIndex, channels: usize) -> Option<Reach> {
    let mut chain = Vec::new();
    let mut cur = n;
    // After a reshape only channel-blind layers may follow (the channel axis is gone).
    let mut flat = false;
    loop {
        if model.is_output(cur) {
            return None;
        }
        let readers: Vec<NodeIndex> = model.consumers(cur).into_iter().map(|(c, _)| c).collect();
        if readers.is_empty() {
            return None;
        }
        let layer = |c: &NodeIndex| match &model.node(*c).op {
            Op::Dense { .. } => true,
            Op::Conv { groups: 1, .. } => !flat,
            _ => false,
        };
        if readers.iter().all(layer) {
            return Some(Reach { chain, readers });
        }
        if readers.len() != 1 {
            return None;
        }
        let next = readers[0];
        let node = model.node(next);
        let ok = match &node.op {
            Op::Reshape => node.shape.last().is_some_and(|l| l % channels == 0),
            Op::Pool { .. } => !flat,
            Op::ScaleShift { scale, shift } => !flat || (scale.len() == 1 && shift.len() == 1),
            Op::PRelu { slope } => !flat || slope.len() == 1,
            op => is_per_value(op),
        };
        if !ok {
            return None;
        }
        flat |= matches!(node.op, Op::Reshape);
        chain.push(next);
        cur = next;
    }
}

/// The value channel `c` has at the end of the chain when the layer outputs the constant `v`
/// there; None when it is not one constant (an average pool counting padding).
fn constant_through(model: &Model, chain: &[NodeIndex], mut v: f64, c: usize) -> Option<f64> {
    for &n in chain {
        v = match &model.node(n).op {
            Op::Reshape => v,
            Op::Pool {
                kind: PoolKind::Average,
                window,
                count_include_pad: true,
            } if v != 0.0
                && window
                    .pads_begin
                    .iter()
                    .chain(&window.pads_end)
                    .any(|&p| p > 0) =>
            {
                return None;
            }
            Op::Pool { .. } => v,
            op => per_value(op, v, c)?,
        };
    }
    Some(v)
}

/// A reader's weights as (row of the reader's input, output column) -> weight index, for input
/// channel `c` of `channels`.
fn reader_rows(model: &Model, reader: NodeIndex, channels: usize, c: usize) -> Vec<Vec<usize>> {
    match &model.node(reader).op {
        Op::Dense { weights, .. } => {
            let n_out = weights.shape[1];
            (0..weights.shape[0])
                .filter(|r| r % channels == c)
                .map(|r| (0..n_out).map(|j| r * n_out + j).collect())
                .collect()
        }
        Op::Conv { weights, .. } => {
            // [1, kernel..., cin, cout]
            let cout = *weights.shape.last().unwrap();
            let taps = weights.len() / (channels * cout);
            (0..taps)
                .map(|k| (0..cout).map(|j| (k * channels + c) * cout + j).collect())
                .collect()
        }
        _ => unreachable!("readers are dense or conv"),
    }
}

/// Can a constant input channel be folded into a reader's bias? Not for a convolution with
/// padding: its border positions read zeros instead of the constant.
fn reader_folds(model: &Model, reader: NodeIndex) -> bool {
    match &model.node(reader).op {
        Op::Conv { window, .. } => window
            .pads_begin
            .iter()
            .chain(&window.pads_end)
            .all(|&p| p == 0),
        _ => true,
    }
}

/// Keeps the entries of `t` whose index along the last axis is in `keep` (of `channels`).
fn keep_last_axis(t: &mut Tensor, channels: usize, keep: &[bool]) {
    let data = t
        .data
        .iter()
        .enumerate()
        .filter(|(i, _)| keep[i % channels])
        .map(|(_, &v)| v)
        .collect();
    let last = t.shape.len() - 1;
    t.shape[last] = t.shape[last] / channels * keep.iter().filter(|&&k| k).count();
    t.data = data;
}

impl Pass for PruneStructured {
    fn name(&self) -> &'static str {
        "prune_structured"
    }

    fn run(&self, model: &mut Model, cx: &mut PassContext) -> Result<()> {
        let prune = &cx.config.prune;
        if prune.neurons.is_none() && prune.filters.is_none() {
            return Ok(());
        }
        for n in model.topo_order() {
            let (units, what) = match &model.node(n).op {
                Op::Dense { .. } => (prune.neurons, "neurons"),
                Op::Conv { groups: 1, .. } => (prune.filters, "filters"),
                _ => continue,
            };
            let Some(units) = units else { continue };
            let (weights, bias) = match &model.node(n).op {
                Op::Dense { weights, bias } | Op::Conv { weights, bias, .. } => (weights, bias),
                _ => unreachable!(),
            };
            let channels = bias.len();
            let Some(reach) = reach(model, n, channels) else {
                continue;
            };
            let incoming = |c: usize| weights.data.iter().skip(c).step_by(channels);
            let dead_out = |c: usize| {
                reach.readers.iter().all(|&r| {
                    let w = match &model.node(r).op {
                        Op::Dense { weights, .. } | Op::Conv { weights, .. } => weights,
                        _ => unreachable!(),
                    };
                    reader_rows(model, r, channels, c)
                        .iter()
                        .flatten()
                        .all(|&k| w.data[k] == 0.0)
                })
            };
            // The constant a unit becomes with its incoming weights zero, if it can be folded.
            let fold = |c: usize| {
                constant_through(model, &reach.chain, bias.data[c], c)
                    .filter(|&v| v == 0.0 || reach.readers.iter().all(|&r| reader_folds(model, r)))
            };
            let norm = |c: usize| incoming(c).map(|w| w * w).sum::<f64>();
            let mut order: Vec<usize> = (0..channels).collect();
            order.sort_by(|&a, &b| norm(a).total_cmp(&norm(b)).then(a.cmp(&b)));
            // (unit, the constant it leaves behind in the readers' biases)
            let mut remove: Vec<(usize, f64)> = Vec::new();
            for &c in &order {
                if dead_out(c) {
                    remove.push((c, 0.0));
                } else if norm(c) == 0.0
                    && let Some(v) = fold(c)
                {
                    remove.push((c, v));
                }
            }
            let dead = remove.len();
            if let Units::Fraction(s) = units {
                let want = ((s * channels as f64).ceil() as usize).min(channels - 1);
                for &c in &order {
                    if remove.len() >= want {
                        break;
                    }
                    if remove.iter().any(|&(r, _)| r == c) {
                        continue;
                    }
                    if let Some(v) = fold(c) {
                        remove.push((c, v));
                    }
                }
            }
            // Keep at least one unit: a layer of width zero is no layer.
            remove.truncate(channels - 1);
            if remove.is_empty() {
                continue;
            }
            let mut keep = vec![true; channels];
            for &(c, _) in &remove {
                keep[c] = false;
            }
            // Readers: fold the constants into their biases, then drop the channel's rows.
            for &r in &reach.readers {
                let rows: Vec<(Vec<Vec<usize>>, f64)> = remove
                    .iter()
                    .map(|&(c, v)| (reader_rows(model, r, channels, c), v))
                    .collect();
                let op = &mut model.node_mut(r).op;
                let is_dense = matches!(op, Op::Dense { .. });
                let (w, b) = match op {
                    Op::Dense { weights, bias } | Op::Conv { weights, bias, .. } => (weights, bias),
                    _ => unreachable!(),
                };
                for (taps, v) in &rows {
                    if *v == 0.0 {
                        continue;
                    }
                    for tap in taps {
                        for (j, &k) in tap.iter().enumerate() {
                            b.data[j] += v * w.data[k];
                        }
                    }
                }
                let mut drop = vec![false; w.len()];
                for (taps, _) in &rows {
                    for &k in taps.iter().flatten() {
                        drop[k] = true;
                    }
                }
                w.data = w
                    .data
                    .iter()
                    .zip(&drop)
                    .filter(|(_, d)| !**d)
                    .map(|(&v, _)| v)
                    .collect();
                // Dense [n_in, n_out]: fewer rows. Conv [1, kernel..., cin, cout]: fewer cin.
                let axis = w.shape.len() - 2;
                w.shape[axis] = if is_dense {
                    w.shape[axis] / channels * (channels - remove.len())
                } else {
                    channels - remove.len()
                };
            }
            // The chain: per-channel parameters and shapes.
            for &m in &reach.chain {
                let node = model.node_mut(m);
                match &mut node.op {
                    Op::ScaleShift { scale, shift } if scale.len() > 1 => {
                        keep_last_axis(scale, channels, &keep);
                        keep_last_axis(shift, channels, &keep);
                    }
                    Op::PRelu { slope } if slope.len() > 1 => {
                        keep_last_axis(slope, channels, &keep)
                    }
                    _ => {}
                }
                let last = node.shape.len() - 1;
                node.shape[last] = node.shape[last] / channels * (channels - remove.len());
            }
            // The layer itself.
            let node = model.node_mut(n);
            match &mut node.op {
                Op::Dense { weights, bias } | Op::Conv { weights, bias, .. } => {
                    keep_last_axis(weights, channels, &keep);
                    keep_last_axis(bias, channels, &keep);
                }
                _ => unreachable!(),
            }
            let last = node.shape.len() - 1;
            node.shape[last] = channels - remove.len();
            cx.notes.push(format!(
                "pruned {what} of '{}': {} -> {} ({} dead, {} by norm)",
                node.name,
                channels,
                channels - remove.len(),
                dead.min(remove.len()),
                remove.len().saturating_sub(dead)
            ));
        }
        Ok(())
    }
}
