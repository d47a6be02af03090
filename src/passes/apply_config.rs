//! Gives every layer its fixed-point types and hardware settings from the configuration, checking
//! per-layer overrides against the model: unknown layer names and invalid reuse factors are user
//! errors; the model-wide reuse factor is adjusted per layer to the nearest valid value not above it.

use super::{Pass, PassContext};
use crate::config::{LayerConfig, nearest};
use crate::error::{Error, Result};
use crate::ir::{FixedType, Hardware, Model, Op, Precision};
use crate::kernels::dense::valid_reuse_factors;

pub struct ApplyConfig;

/// An accumulator that holds any sum of `n` products x*w plus a bias exactly: all fractional bits
/// of the products, integer bits for the largest possible sum. Capped at the widest type we make,
/// dropping fractional bits first.
pub fn exact_accumulator(x: FixedType, w: FixedType, b: FixedType, n: usize) -> FixedType {
    let grow = (usize::BITS - n.max(1).leading_zeros()) as i32; // ceil(log2(n + 1))
    let frac = (x.frac() + w.frac()).max(b.frac());
    let int = (x.int + w.int + grow).max(b.int) + 1;
    let width = (int + frac).clamp(2, crate::ir::fixed::MAX_WIDTH as i32);
    FixedType::fixed(width as u32, int.min(width))
}

impl Pass for ApplyConfig {
    fn name(&self) -> &'static str {
        "apply_config"
    }

    fn run(&self, model: &mut Model, cx: &mut PassContext) -> Result<()> {
        let c = cx.config;
        for name in c.layers.keys() {
            if model.find(name).is_some() {
                continue;
            }
            let into = model
                .graph
                .node_indices()
                .find(|&n| model.node(n).fused.contains(name));
            let msg = match into {
                Some(n) => format!(
                    "[layers.{name}]: layer '{name}' was fused into '{}'; configure that layer instead",
                    model.node(n).name
                ),
                None => {
                    let names: Vec<&str> = model
                        .graph
                        .node_weights()
                        .map(|n| n.name.as_str())
                        .collect();
                    format!(
                        "[layers.{name}]: the model has no layer '{name}'; did you mean '{}'? (layers: {})",
                        nearest(name, names.iter().copied()).unwrap_or(""),
                        names.join(", ")
                    )
                }
            };
            return Err(Error::input(msg));
        }
        let default = LayerConfig::default();
        for n in model.topo_order() {
            let input_type = model
                .inputs(n)
                .first()
                .map(|&i| model.node(i).precision.result);
            let node = model.node(n);
            let lc = c.layers.get(&node.name).unwrap_or(&default);
            let base = lc.precision.unwrap_or(c.precision);
            let weight = lc.weight.unwrap_or(base);
            let bias = lc.bias.unwrap_or(base);
            let accum = match (lc.accum.or(c.accum), &node.op, input_type) {
                (Some(t), _, _) => t,
                (None, Op::Dense { weights, .. }, Some(x)) => {
                    exact_accumulator(x, weight, bias, weights.shape[0])
                }
                (None, Op::Recurrent(r), Some(x)) => {
                    let p = Precision {
                        result: lc.result.unwrap_or(base),
                        weight,
                        bias,
                        accum: base,
                        table: lc.table.unwrap_or(c.table_precision),
                        table_size: 0,
                    };
                    crate::kernels::recurrent::exact_gate_accumulator(
                        x,
                        &p,
                        r.w.shape[2] + r.hidden,
                    )
                }
                (None, Op::Conv { weights, .. }, Some(x)) => {
                    let s = &weights.shape;
                    exact_accumulator(x, weight, bias, s[1..s.len() - 1].iter().product())
                }
                (None, _, _) => base,
            };
            let mut p = Precision {
                result: lc.result.unwrap_or(base),
                weight,
                bias,
                accum,
                table: lc.table.unwrap_or(c.table_precision),
                table_size: lc.table_size.unwrap_or(c.table_size),
            };
            if node.op.moves_data_only() {
                p.result = input_type.expect("data movers have an input");
            }
            let strategy = lc.strategy.unwrap_or(c.strategy);
            let reuse = match &node.op {
                Op::Dense { .. } | Op::Conv { .. } => {
                    let (n_in, n_out) = match &node.op {
                        Op::Dense { weights, .. } => (weights.shape[0], weights.shape[1]),
                        Op::Conv { weights, .. } => {
                            let s = &weights.shape;
                            (s[1..s.len() - 1].iter().product(), s[s.len() - 1])
                        }
                        _ => unreachable!(),
                    };
                    let valid = valid_reuse_factors(n_in, n_out);
                    match lc.reuse {
                        Some(r) if !valid.contains(&r) => {
                            return Err(Error::input(format!(
                                "[layers.{}]: reuse factor {r} is not valid for this {n_in}x{n_out} {} layer; valid: {}",
                                node.name,
                                node.op.kind(),
                                valid
                                    .iter()
                                    .map(|v| v.to_string())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )));
                        }
                        Some(r) => r,
                        None => {
                            let r = *valid.iter().rev().find(|&&v| v <= c.reuse).unwrap_or(&1);
                            if r != c.reuse {
                                cx.notes.push(format!(
                                    "layer '{}' ({n_in}x{n_out}): reuse factor {} is not valid, using {r}",
                                    node.name, c.reuse
                                ));
                            }
                            r
                        }
                    }
                }
                _ => {
                    if let Some(r) = lc.reuse.filter(|&r| r != 1) {
                        return Err(Error::input(format!(
                            "[layers.{}]: a {} layer has no multiplications to fold; reuse factor {r} does not apply",
                            node.name,
                            node.op.kind()
                        )));
                    }
                    1
                }
            };
            let node = model.node_mut(n);
            node.precision = p;
            node.hardware = Hardware { reuse, strategy };
        }
        Ok(())
    }
}
