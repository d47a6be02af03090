//! Warnings about a prepared design, each naming the layer and the fix. They do not stop a
//! compile: the design is what the configuration asked for, but probably not what was meant.
//!
//! - a constant (weight, bias, scale, shift, slope) that does not fit its type and saturates;
//! - a layer whose weights are all below one step of their type (none of them kept);
//! - an accumulator with more integer bits than any reachable sum needs (from the input type's
//!   whole range and the layer's weights);
//! - a lookup table whose input type is coarser than the table's bins, so most entries are
//!   never read (our tables cover a fixed range, so wide integer parts cost no resolution: the
//!   hls4ml softmax failure of an index made of the top bits cannot happen; a coarse input can);
//! - a design whose estimate exceeds the part, with the layers that take most of it.

use crate::config::Config;
use crate::error::Result;
use crate::ir::{FixedType, Model, Op, Tensor};
use crate::kernels::{Consts, Kernel, plan_model};

/// The signed type of `t`'s width and modes with the fewest integer bits holding every value.
fn fitting_type(t: FixedType, values: &[f64]) -> FixedType {
    let mag = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    crate::passes::fit((-mag, mag), t.width, None, t)
}

fn constants_fit(
    layer: &str,
    what: &str,
    key: &str,
    t: FixedType,
    v: &Tensor,
    out: &mut Vec<String>,
) {
    // Within a step of the type's range every value rounds or saturates by at most a step:
    // nothing to name (and no need to quantize a large tensor again).
    let (lo, hi) = v
        .data
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    if lo >= t.min_value() - t.lsb() && hi <= t.max_value() + t.lsb() {
        return;
    }
    let Ok(q) = Consts::quantize(t, v.data.iter().copied()) else {
        return;
    };
    let worst = v
        .data
        .iter()
        .zip(&q.raw)
        .map(|(&x, &r)| (x, (x - t.to_f64(r)).abs()))
        .filter(|&(_, e)| e > t.lsb())
        .fold(None, |m: Option<(f64, f64)>, (x, e)| match m {
            Some((_, me)) if me >= e => m,
            _ => Some((x, e)),
        });
    if let Some((x, _)) = worst {
        let n = v
            .data
            .iter()
            .zip(&q.raw)
            .filter(|&(&x, &r)| (x - t.to_f64(r)).abs() > t.lsb())
            .count();
        out.push(format!(
            "warning: layer '{layer}': {n} {what} do not fit {t} (e.g. {x}, saturated to {}); fix: [layers.{layer}] {key} = \"{}\"",
            if x > 0.0 { t.max_value() } else { t.min_value() },
            fitting_type(t, &v.data)
        ));
    }
}

/// A layer whose weights are not all zero but all smaller than one step of their type keeps
/// none of them: each rounds to zero (or, truncating, a negative one to -1 step), so the layer's
/// multipliers vanish or compute noise. Name the type that keeps them.
fn all_vanish(layer: &str, t: FixedType, weights: &[f64], out: &mut Vec<String>) {
    let largest = weights.iter().fold(0.0f64, |m, w| m.max(w.abs()));
    if largest == 0.0 || largest >= t.lsb() {
        return;
    }
    // The same width with as few integer bits as hold the largest (negative for tiny weights:
    // ap_fixed<16,-17> steps by 2^-33).
    let mut keep = FixedType {
        int: largest.log2().floor() as i32,
        signed: true,
        ..t
    };
    while keep.max_value() < largest || keep.min_value() > -largest {
        keep.int += 1;
    }
    // Pruning may have left only the weights the type cannot hold.
    let zeros = weights.iter().filter(|&&w| w == 0.0).count();
    let pruned = if zeros > 0 {
        format!(
            " ({zeros} of {} weights are exactly zero, e.g. pruned: or prune this layer less, [layers.{layer}] sparsity)",
            weights.len()
        )
    } else {
        String::new()
    };
    out.push(format!(
        "warning: layer '{layer}': every weight is below one step of {t} ({}; the largest is {largest:e}), so each rounds to zero or one step and the layer computes none of them; fix: [layers.{layer}] weight = \"{keep}\"{pruned}",
        t.lsb(),
    ));
}

/// Warnings for `model` as prepared with `config`.
pub fn lint(model: &Model, config: &Config, part: &crate::parts::Part) -> Result<Vec<String>> {
    let plans = plan_model(model)?;
    let e = crate::estimate::estimate_planned(model, &plans, config.io, config.clock, part)?;
    lint_planned(model, &plans, &e, config, part)
}

/// `lint` with the model's plans and estimate already made (as `prepare` has them).
pub fn lint_planned(
    model: &Model,
    plans: &[crate::kernels::LayerPlan],
    estimate: &crate::estimate::Estimate,
    config: &Config,
    part: &crate::parts::Part,
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for n in model.topo_order() {
        let node = model.node(n);
        let p = &node.precision;
        let name = &node.name;
        match &node.op {
            Op::Dense { weights, bias } | Op::Conv { weights, bias, .. } => {
                constants_fit(name, "weights", "weight", p.weight, weights, &mut out);
                constants_fit(name, "biases", "bias", p.bias, bias, &mut out);
                all_vanish(name, p.weight, &weights.data, &mut out);
            }
            Op::Recurrent(r) => all_vanish(
                name,
                p.weight,
                &[&r.w.data[..], &r.r.data[..]].concat(),
                &mut out,
            ),
            _ => {}
        }
    }
    for plan in plans {
        let node = model.node(plan.node);
        let name = &node.name;
        let x = plan.input_types.first().copied();
        match (&plan.kernel, x) {
            (Kernel::Dense(d), Some(x))
            | (Kernel::Conv(crate::kernels::conv::ConvPlan { dense: d, .. }), Some(x)) => {
                // The integer bits of the exact accumulator: enough for the largest partial
                // sum any input of the input type can make.
                // An accumulator left to the compiler is the exact one: nothing to compare.
                let own = config.layers.get(name).and_then(|l| l.accum);
                if own.or(config.accum).is_none() {
                    continue;
                }
                let need = match &node.op {
                    Op::Dense { weights, bias } | Op::Conv { weights, bias, .. } => {
                        crate::passes::exact_accumulator(
                            x,
                            node.precision.weight,
                            node.precision.bias,
                            weights,
                            bias,
                        )?
                        .int
                    }
                    _ => continue,
                };
                if d.accum.int > need + 1 {
                    out.push(format!(
                        "warning: layer '{name}': accumulator {} has {} integer bits; no sum of inputs of {x} needs more than {need}; fix: [layers.{name}] accum = \"{}\" (or leave accum unset: exact and as narrow as the weights allow)",
                        d.accum,
                        d.accum.int,
                        FixedType { width: (d.accum.width as i32 - (d.accum.int - need)).max(2) as u32, int: need, ..d.accum }
                    ));
                }
            }
            _ => {}
        }
        let table_step = match &plan.kernel {
            Kernel::Activation(crate::kernels::activation::ActPlan::Table(t)) => {
                Some((t.func, 2f64.powi(t.range_log2 + 1) / t.size() as f64))
            }
            Kernel::Softmax(s) => Some((
                "softmax exp",
                2f64.powi(crate::kernels::softmax::EXP_RANGE_LOG2) / s.exp_table.raw.len() as f64,
            )),
            _ => None,
        };
        if let (Some((func, step)), Some(x)) = (table_step, x)
            && x.lsb() >= 4.0 * step
        {
            let producer = model.node(model.inputs(plan.node)[0]).name.clone();
            out.push(format!(
                "warning: layer '{name}': its input type {x} has steps of {}, coarser than the {func} table's {step}: {:.0}% of the table is never read and the function is sampled at the input's steps; fix: more fractional bits for '{producer}' ([layers.{producer}] result = \"{}\")",
                x.lsb(),
                100.0 * (1.0 - step / x.lsb()),
                FixedType { width: x.width + (x.lsb() / step).log2().ceil() as u32, ..x }
            ));
        }
    }
    does_not_fit(model, estimate, config, part, &mut out)?;
    Ok(out)
}

/// The figures of the estimate beyond the part, and what to do: the layers that take most of the
/// worst one; io_stream when convolutions are unrolled over every position; reuse factors.
fn does_not_fit(
    model: &Model,
    e: &crate::estimate::Estimate,
    config: &Config,
    part: &crate::parts::Part,
    out: &mut Vec<String>,
) -> Result<()> {
    let names = ["DSP", "LUT", "FF", "BRAM_18K", "URAM"];
    let over: Vec<String> = names
        .iter()
        .zip(e.utilisation)
        .filter(|(_, u)| *u > 100.0)
        .map(|(n, u)| format!("{n} {u:.0}%"))
        .collect();
    if over.is_empty() {
        return Ok(());
    }
    let worst = (0..5)
        .max_by(|&a, &b| e.utilisation[a].total_cmp(&e.utilisation[b]))
        .unwrap_or(0);
    let of = |c: &crate::estimate::Cost| [c.dsp, c.lut, c.ff, c.bram_18k, c.uram][worst];
    let mut layers: Vec<&crate::estimate::LayerEstimate> = e.layers.iter().collect();
    layers.sort_by_key(|l| std::cmp::Reverse(of(&l.cost)));
    let total = of(&e.total).max(1) as f64;
    let top: Vec<String> = layers
        .iter()
        .take(3)
        .filter(|l| of(&l.cost) > 0)
        .map(|l| format!("'{}' {:.0}%", l.name, 100.0 * of(&l.cost) as f64 / total))
        .collect();
    let parallel_conv = config.io == crate::config::IoType::Parallel
        && model.topo_order().into_iter().any(|n| {
            let node = model.node(n);
            matches!(node.op, Op::Conv { .. }) && node.hardware.parallelization > 1
        });
    // The arrays between an io_parallel DATAFLOW top's processes (the estimate's channel row)
    // are registers of whole tensors, where io_stream passes pixels through FIFOs.
    let channels = layers
        .iter()
        .take(3)
        .any(|l| l.kind == "channel" && of(&l.cost) > 0);
    // Every time step its own hardware multiplies a recurrent layer's cost by its steps.
    let unrolled_steps = model.topo_order().into_iter().any(|n| {
        matches!(model.node(n).op, Op::Recurrent(_)) && model.node(n).hardware.unroll_steps
    });
    out.push(format!(
        "warning: the estimate exceeds {}: {} (of the {}: {}); fix: {}{}{}higher reuse factors (`hlsrs estimate --advise`; `--target-ii N` chooses them), or a larger part",
        part.full,
        over.join(", "),
        names[worst],
        top.join(", "),
        if channels {
            "--io stream (the '(channels)' between the DATAFLOW processes hold whole tensors in registers; a stream holds pixels), "
        } else {
            ""
        },
        if unrolled_steps {
            "the time steps pipelined instead of unrolled (no --unroll-steps: one step's multipliers, used by every step), "
        } else {
            ""
        },
        if parallel_conv {
            "a lower `parallelization` (io_parallel convolutions computing several positions at once repeat their kernel), --io stream, "
        } else {
            ""
        }
    ));
    Ok(())
}
