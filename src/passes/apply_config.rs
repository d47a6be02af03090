//! Gives every layer its fixed-point types and hardware settings from the configuration, checking
//! per-layer overrides against the model: unknown layer names and invalid reuse factors are user
//! errors; the model-wide reuse factor is adjusted per layer to the nearest valid value not above it.

use super::{Pass, PassContext};
use crate::config::{LayerConfig, nearest};
use crate::error::{Error, Result};
use crate::ir::{FixedType, Hardware, Model, Op, Precision};
use crate::kernels::dense::common_reuse_factors;

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

/// The reuse factor of a layer whose matrix products are `products` (n_in x n_out each; they share
/// it): the layer's own value must suit all of them; the model-wide one is lowered to the nearest
/// value that does.
fn pick_reuse(
    cx: &mut PassContext,
    layer: &str,
    kind: &str,
    own: Option<usize>,
    products: &[(usize, usize)],
    what: &str,
) -> Result<usize> {
    let valid = common_reuse_factors(products);
    let shapes = products
        .iter()
        .map(|(i, o)| format!("{i}x{o}"))
        .collect::<Vec<_>>()
        .join(" and ");
    match own {
        Some(r) if !valid.contains(&r) => Err(Error::input(format!(
            "[layers.{layer}]: {what}reuse factor {r} is not valid for this {shapes} {kind} layer; valid: {}",
            valid
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        Some(r) => Ok(r),
        None => {
            let global = cx.config.reuse;
            let r = *valid.iter().rev().find(|&&v| v <= global).unwrap_or(&1);
            if r != global {
                cx.notes.push(format!(
                    "layer '{layer}' ({what}{shapes}): reuse factor {global} is not valid, using {r}"
                ));
            }
            Ok(r)
        }
    }
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
            let mut p = Precision {
                result: lc.result.unwrap_or(base),
                weight,
                bias,
                accum: base,
                state: lc.state.or(lc.result).unwrap_or(base),
                table: lc.table.unwrap_or(c.table_precision),
                table_size: lc.table_size.unwrap_or(c.table_size),
            };
            p.accum = match (lc.accum.or(c.accum), &node.op, input_type) {
                (Some(t), _, _) => t,
                (None, Op::Dense { weights, .. }, Some(x)) => {
                    exact_accumulator(x, weight, bias, weights.shape[0])
                }
                (None, Op::Recurrent(r), Some(x)) => {
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
            if lc.state.is_some() && !matches!(node.op, Op::Recurrent(_)) {
                return Err(Error::input(format!(
                    "[layers.{}]: 'state' applies to recurrent layers; '{}' is a {} layer",
                    node.name,
                    node.name,
                    node.op.kind()
                )));
            }
            if node.op.moves_data_only() {
                p.result = input_type.expect("data movers have an input");
            }
            let strategy = lc.strategy.unwrap_or(c.strategy);
            let products = node.op.matrix_products();
            let kind = node.op.kind();
            let (reuse, recurrent_reuse) = match &node.op {
                Op::Dense { .. } | Op::Conv { .. } => (
                    pick_reuse(cx, &node.name, kind, lc.reuse, &products, "")?,
                    1,
                ),
                Op::Recurrent(_) => {
                    let input =
                        pick_reuse(cx, &node.name, kind, lc.reuse, &products[..1], "input ")?;
                    let rec = pick_reuse(
                        cx,
                        &node.name,
                        kind,
                        lc.recurrent_reuse.or(lc.reuse),
                        &products[1..],
                        "recurrent ",
                    )?;
                    (input, rec)
                }
                _ => {
                    if let Some(r) = lc.reuse.or(lc.recurrent_reuse).filter(|&r| r != 1) {
                        return Err(Error::input(format!(
                            "[layers.{}]: a {} layer has no multiplications to fold; reuse factor {r} does not apply",
                            node.name,
                            node.op.kind()
                        )));
                    }
                    (1, 1)
                }
            };
            let node = model.node_mut(n);
            node.precision = p;
            node.hardware = Hardware {
                reuse,
                recurrent_reuse,
                strategy,
            };
        }
        Ok(())
    }
}
