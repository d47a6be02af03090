//! Gives every layer its fixed-point types and hardware settings from the configuration, checking
//! per-layer overrides against the model: unknown layer names and invalid reuse factors are user
//! errors; the model-wide reuse factor is adjusted per layer to the nearest valid value not above it.

use super::{Pass, PassContext};
use crate::config::{LayerConfig, nearest};
use crate::error::{Error, Result};
use crate::ir::fixed::MAX_WIDTH;
use crate::ir::ops::PoolKind;
use crate::ir::{Activation, FixedType, Hardware, Model, Op, Precision, Tensor};
use crate::kernels::Consts;
use crate::kernels::conv::valid_parallelization;
use crate::kernels::dense::common_reuse_factors;

pub struct ApplyConfig;

/// An accumulator that holds every partial sum of a dense or conv layer exactly, for any input of
/// type `x`: all fractional bits of the products, and the integer bits of the largest
/// |bias| + sum |w| * max|x| over the layer's outputs (its quantized weights, not their type's
/// range, so it is as narrow as exactness allows). Capped at the widest type we make, dropping
/// fractional bits first. `weights` is [.., n_out per group] (dense [n_in, n_out], conv
/// [groups, kernel.., cin/groups, cout/groups]).
pub fn exact_accumulator(
    x: FixedType,
    w: FixedType,
    b: FixedType,
    weights: &Tensor,
    bias: &Tensor,
) -> Result<FixedType> {
    let qb = Consts::quantize(b, bias.data.iter().copied())?;
    let og = *weights.shape.last().expect("weights have a shape");
    let groups = (bias.len() / og.max(1)).max(1);
    let rest = weights.len() / (groups * og).max(1);
    let xmax = x.max_value().max(-x.min_value());
    let frac = (x.frac() + w.frac()).max(b.frac());
    let fit = |reach: f64| {
        super::quantize_auto::fit((-reach, reach), 0, Some(frac), FixedType::fixed(2, 1))
    };
    // The largest |bias| + sum |w| max|x| over the outputs, from each output's sum of weight
    // magnitudes in steps (rows in order: memory order); two such sums at once (a lower and an
    // upper bound of the magnitudes, or the magnitudes twice). Generic, not a `dyn` closure:
    // the call per weight of a million-weight layer is inlined.
    let block = rest * og;
    let bias_of = |g: usize, jj: usize| b.to_f64(qb.raw[g * og + jj]).abs();
    let scale = w.lsb() * xmax;
    fn reach_of(
        weights: &[f64],
        (groups, block, og): (usize, usize, usize),
        bias_of: impl Fn(usize, usize) -> f64,
        scale: f64,
        mut per_weight: impl FnMut(f64) -> Result<[f64; 2]>,
    ) -> Result<[f64; 2]> {
        let mut reach = [0.0f64; 2];
        let mut sums = vec![[0.0f64; 2]; og];
        for g in 0..groups {
            sums.iter_mut().for_each(|s| *s = [0.0; 2]);
            for row in weights[g * block..(g + 1) * block].chunks_exact(og) {
                for (s, &v) in sums.iter_mut().zip(row) {
                    let [a, b] = per_weight(v)?;
                    s[0] += a;
                    s[1] += b;
                }
            }
            for (jj, s) in sums.iter().enumerate() {
                let bias = bias_of(g, jj);
                for (r, s) in reach.iter_mut().zip(s) {
                    *r = r.max(bias + s * scale);
                }
            }
        }
        Ok(reach)
    }
    let shape = (groups, block, og);
    // Quantizing a million weights is most of this pass, yet a weight's quantized magnitude is
    // within half a step of |w| / step (rounding to nearest; saturation only lowers it): when
    // the lowest and highest sums need the same integer bits, that is the type.
    if w.signed && !QUANTIZE_ALWAYS.with(|q| q.get()) {
        let inv = w.lsb().recip();
        let cap = w.raw_range().1 as f64;
        let [lowest, highest] = reach_of(&weights.data, shape, bias_of, scale, |v| {
            let m = v.abs() * inv;
            Ok([(m - 0.5).max(0.0).min(cap), (m + 0.5).min(cap + 1.0)])
        })?;
        let (lo, hi) = (fit(lowest * (1.0 - 1e-9)), fit(highest * (1.0 + 1e-9)));
        if lo == hi {
            return Ok(hi);
        }
        #[cfg(test)]
        FALLBACKS.with(|f| f.set(f.get() + 1));
    }
    let q = Consts::quantizer(w);
    let [reach, _] = reach_of(&weights.data, shape, bias_of, scale, |v| {
        let r = q(v)?;
        // (i64 -> f64 where it fits: the i128 conversion is a slow library call.)
        let m =
            i64::try_from(r).map_or_else(|_| r.unsigned_abs() as f64, |r| r.unsigned_abs() as f64);
        Ok([m, m])
    })?;
    Ok(fit(reach))
}

thread_local! {
    /// Tests: take the quantizing path every time, to compare the bound's answers with it.
    static QUANTIZE_ALWAYS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[cfg(test)]
thread_local! {
    /// Tests: how often the bound left the answer open.
    static FALLBACKS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The narrowest signed type holding every value exactly (all of them multiples of one power of
/// two), or None if there is none within the widest type we make: the type a quantized model's
/// constants already have.
pub fn exact_type(values: &[f64]) -> Option<FixedType> {
    let frac = (-40..=40).find(|&f| {
        let scale = 2f64.powi(f);
        values.iter().all(|&v| {
            let s = v * scale;
            s.is_finite() && s == s.round()
        })
    })?;
    let mag = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let t = super::quantize_auto::fit((-mag, mag), 0, Some(frac), FixedType::fixed(2, 1));
    (t.frac() == frac).then_some(t)
}

/// A setting that must be one of `valid`: the layer's own value is checked (`invalid` says what
/// was wrong, before the list of valid values); the model-wide `global` is lowered to the nearest
/// valid value not above it (`lowered` words the note when that changes it).
fn pick_valid(
    cx: &mut PassContext,
    own: Option<usize>,
    global: usize,
    valid: &[usize],
    invalid: impl Fn(usize) -> String,
    lowered: impl Fn(usize, usize) -> String,
) -> Result<usize> {
    match own {
        Some(v) if !valid.contains(&v) => Err(Error::input(format!(
            "{}; valid: {}",
            invalid(v),
            valid
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        Some(v) => Ok(v),
        None => {
            let v = *valid.iter().rev().find(|&&v| v <= global).unwrap_or(&1);
            if v != global {
                cx.notes.push(lowered(global, v));
            }
            Ok(v)
        }
    }
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
    let shapes = products
        .iter()
        .map(|(i, o)| format!("{i}x{o}"))
        .collect::<Vec<_>>()
        .join(" and ");
    let global = cx.config.reuse;
    pick_valid(
        cx,
        own,
        global,
        &common_reuse_factors(products),
        |r| {
            format!(
                "[layers.{layer}]: {what}reuse factor {r} is not valid for this {shapes} {kind} layer"
            )
        },
        |g, r| {
            format!("layer '{layer}' ({what}{shapes}): reuse factor {g} is not valid, using {r}")
        },
    )
}

/// A dense or conv layer's strategy and reuse factor within what Vitis unrolls
/// (`kernels::dense::UNROLL_LIMIT`): a block past it is built with the resource strategy at
/// the smallest valid reuse factor that fits, said in a note, unless the layer's own settings
/// chose it, which is then an error naming the setting that fits.
fn fit_unroll_limit(
    cx: &mut PassContext,
    layer: &str,
    kind: &str,
    lc: &LayerConfig,
    strategy: crate::ir::Strategy,
    reuse: usize,
    products: &[(usize, usize)],
) -> Result<(crate::ir::Strategy, usize)> {
    use crate::kernels::dense::{UNROLL_LIMIT, common_reuse_factors, unrolled};
    let (n_in, n_out) = products[0];
    let now = unrolled(n_in, n_out, strategy, reuse);
    if now <= UNROLL_LIMIT {
        return Ok((strategy, reuse));
    }
    let least = (n_in * n_out).div_ceil(UNROLL_LIMIT);
    let fits = common_reuse_factors(products)
        .into_iter()
        .find(|&r| r >= least && r > 1)
        .ok_or_else(|| {
            Error::input(format!(
                "layer '{layer}' ({n_in}x{n_out} {kind}): no valid reuse factor keeps a block within the {UNROLL_LIMIT} multiplications Vitis unrolls"
            ))
        })?;
    let what = match strategy {
        crate::ir::Strategy::Latency => "the latency kernel".to_string(),
        crate::ir::Strategy::Resource => format!("the resource kernel at reuse {reuse}"),
        // (Never past the limit: its graph is straight-line code, `unrolled` is 0.)
        crate::ir::Strategy::DistributedArithmetic => "the adder graph".to_string(),
    };
    if lc.strategy.is_some() || lc.reuse.is_some() {
        return Err(Error::input(format!(
            "[layers.{layer}]: {what} unrolls {now} multiplications of this {n_in}x{n_out} {kind} layer, beyond the {UNROLL_LIMIT} Vitis unrolls (XFORM 203-504); use strategy = \"resource\" with reuse = {fits} or larger"
        )));
    }
    cx.notes.push(format!(
        "layer '{layer}' ({n_in}x{n_out}): {what} would unroll {now} multiplications, beyond the {UNROLL_LIMIT} Vitis unrolls; built with the resource strategy at reuse factor {fits}"
    ));
    Ok((crate::ir::Strategy::Resource, fits))
}

/// `fit_unroll_limit` for a recurrent layer: its input product at `reuse`, its recurrent
/// product(s) at `recurrent_reuse`, one strategy for all.
fn fit_recurrent_unroll_limit(
    cx: &mut PassContext,
    layer: &str,
    kind: &str,
    lc: &LayerConfig,
    strategy: crate::ir::Strategy,
    (reuse, recurrent_reuse): (usize, usize),
    products: &[(usize, usize)],
) -> Result<(crate::ir::Strategy, usize, usize)> {
    use crate::ir::Strategy::Resource;
    use crate::kernels::dense::{UNROLL_LIMIT, common_reuse_factors, past_unroll_limit};
    let Some((i, o, now)) = past_unroll_limit(products, strategy, reuse, recurrent_reuse) else {
        return Ok((strategy, reuse, recurrent_reuse));
    };
    // The smallest valid factor at least `from` within the limit for these products.
    let least = |part: &[(usize, usize)], from: usize| {
        let need = part
            .iter()
            .map(|&(i, o)| (i * o).div_ceil(UNROLL_LIMIT))
            .max()
            .unwrap_or(1)
            .max(from);
        common_reuse_factors(part).into_iter().find(|&r| r >= need)
    };
    let (Some(r), Some(q)) = (
        least(&products[..1], reuse),
        least(&products[1..], recurrent_reuse),
    ) else {
        return Err(Error::input(format!(
            "layer '{layer}' ({kind}): no valid reuse factors keep its products within the {UNROLL_LIMIT} multiplications Vitis unrolls"
        )));
    };
    if lc.strategy.is_some() || lc.reuse.is_some() || lc.recurrent_reuse.is_some() {
        return Err(Error::input(format!(
            "[layers.{layer}]: its {i}x{o} product unrolls {now} multiplications, beyond the {UNROLL_LIMIT} Vitis unrolls (XFORM 203-504); use strategy = \"resource\" with reuse = {r} and recurrent_reuse = {q} or larger"
        )));
    }
    cx.notes.push(format!(
        "layer '{layer}' ({kind}): its {i}x{o} product would unroll {now} multiplications, beyond the {UNROLL_LIMIT} Vitis unrolls; built with the resource strategy at reuse factors {r} (input) and {q} (recurrent)"
    ));
    Ok((Resource, r, q))
}

/// A conv or pooling layer's parallelization factor: its own value must divide its positions; the
/// model-wide one is lowered to the nearest divisor; without one, convolutions share one kernel
/// across positions (1) and pooling computes every position at once.
fn pick_parallelization(
    cx: &mut PassContext,
    layer: &str,
    kind: &str,
    own: Option<usize>,
    positions: usize,
) -> Result<usize> {
    // Without a model-wide value, the default (a divisor itself) passes through unchanged.
    let default = if kind.contains("pool") { positions } else { 1 };
    let global = cx.config.parallelization.unwrap_or(default);
    pick_valid(
        cx,
        own,
        global,
        &valid_parallelization(positions),
        |pf| {
            format!(
                "[layers.{layer}]: parallelization {pf} is not valid for this {kind} layer with {positions} output positions"
            )
        },
        |g, pf| {
            format!(
                "layer '{layer}' ({kind}, {positions} positions): parallelization {g} is not a divisor, using {pf}"
            )
        },
    )
}

impl Pass for ApplyConfig {
    fn name(&self) -> &'static str {
        "apply_config"
    }

    fn run(&self, model: &mut Model, cx: &mut PassContext) -> Result<()> {
        let c = cx.config;
        if c.backend == crate::config::Backend::Vitis
            && (c.pipeline_levels.is_some()
                || c.layers.values().any(|l| l.pipeline_levels.is_some()))
        {
            cx.notes.push(
                "pipeline_levels applies to the Verilog backend; Vitis places its registers by the clock period".into(),
            );
        }
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
        // A quantized model (QONNX) brings its own types: its quantizers', and exact ones elsewhere.
        let quantized = model
            .graph
            .node_weights()
            .any(|n| matches!(n.op, Op::Quant { .. }));
        for n in model.topo_order() {
            let input_type = model
                .inputs(n)
                .first()
                .map(|&i| model.node(i).precision.result);
            let node = model.node(n);
            let lc = c.layers.get(&node.name).unwrap_or(&default);
            let own = lc.precision.is_some();
            let base = lc.precision.unwrap_or(c.precision);
            let exact = |values: &[f64]| {
                Some(values)
                    .filter(|_| quantized && !own)
                    .and_then(exact_type)
                    .unwrap_or(base)
            };
            let (w_exact, b_exact) = match &node.op {
                Op::Dense { weights, bias } | Op::Conv { weights, bias, .. } => {
                    (exact(&weights.data), exact(&bias.data))
                }
                Op::ScaleShift { scale, shift } => (exact(&scale.data), exact(&shift.data)),
                _ => (base, base),
            };
            let weight = lc.weight.unwrap_or(w_exact);
            let bias = lc.bias.unwrap_or(b_exact);
            let model_result = match &node.op {
                Op::Quant { ty, .. } => Some(*ty),
                // The input takes the type of the quantizer reading it.
                Op::Input if quantized => {
                    let readers: Vec<_> = model
                        .consumers(n)
                        .iter()
                        .map(|&(r, _)| &model.node(r).op)
                        .collect();
                    match readers.first() {
                        Some(Op::Quant {
                            ty,
                            bipolar: false,
                            round: None,
                            codes: None,
                        }) if readers.iter().all(|o| *o == readers[0]) => Some(*ty),
                        _ => None,
                    }
                }
                _ => None,
            };
            let mut p = Precision {
                result: lc.result.or(lc.precision).or(model_result).unwrap_or(base),
                weight,
                bias,
                accum: base,
                state: lc.state.or(lc.result).unwrap_or(base),
                table: lc.table.unwrap_or(c.table_precision),
                table_size: lc.table_size.unwrap_or(c.table_size),
            };
            p.accum = match (lc.accum.or(c.accum), &node.op, input_type) {
                (Some(t), _, _) => t,
                (
                    None,
                    Op::Dense { weights, bias: b }
                    | Op::Conv {
                        weights, bias: b, ..
                    },
                    Some(x),
                ) => exact_accumulator(x, weight, bias, weights, b)?,
                (None, Op::Recurrent(r), Some(x)) => {
                    crate::kernels::recurrent::exact_gate_accumulator(
                        x,
                        &p,
                        r.w.shape[2] + r.hidden,
                    )
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
            // An index: the integer type that holds every index, unless the layer sets one.
            if let (Op::ArgMax { .. }, None) = (&node.op, lc.result.or(lc.precision)) {
                let n_in = *model.node(model.inputs(n)[0]).shape.last().unwrap();
                let bits = (usize::BITS - n_in.saturating_sub(1).leading_zeros()).max(1) as i32;
                p.result = FixedType::fixed(bits as u32 + 1, bits + 1);
            }
            // Exact results in a quantized model, so that its quantizers round what the source
            // model rounds (the sums and products themselves, not a rounded copy).
            if quantized && lc.result.is_none() && !own && model_result.is_none() {
                let ins: Vec<FixedType> = model
                    .inputs(n)
                    .iter()
                    .map(|&i| model.node(i).precision.result)
                    .collect();
                let sum = |a: FixedType, b: FixedType| {
                    let frac = a.frac().max(b.frac());
                    let int = a.int.max(b.int) + 1;
                    FixedType::fixed((int + frac).clamp(2, MAX_WIDTH as i32) as u32, int)
                };
                // Holds every value of either.
                let union = |a: FixedType, b: FixedType| {
                    let frac = a.frac().max(b.frac());
                    let int = a.int.max(b.int);
                    FixedType::fixed((int + frac).clamp(2, MAX_WIDTH as i32) as u32, int)
                };
                let product = |a: FixedType, b: FixedType| {
                    FixedType::fixed((a.width + b.width).min(MAX_WIDTH), a.int + b.int)
                };
                let exact_result = match &node.op {
                    Op::Dense { .. } | Op::Conv { .. } => Some(p.accum),
                    Op::Activation(Activation::Relu)
                    | Op::Pool {
                        kind: PoolKind::Max,
                        ..
                    }
                    | Op::Concat { .. } => ins.first().copied(),
                    // x on one side, alpha * x on the other.
                    Op::Activation(Activation::LeakyRelu { alpha }) => Some(union(
                        ins[0],
                        product(ins[0], crate::kernels::param_type(*alpha)),
                    )),
                    Op::ScaleShift { .. } => Some(sum(product(ins[0], p.weight), p.bias)),
                    Op::Add | Op::Sub => Some(sum(ins[0], ins[1])),
                    Op::Mul => Some(product(ins[0], ins[1])),
                    Op::Max | Op::Min => Some(union(ins[0], ins[1])),
                    // Tables, rounding quantizers and the rest: the configured type.
                    Op::Input
                    | Op::Activation(_)
                    | Op::PRelu { .. }
                    | Op::Gather { .. }
                    | Op::Quant { .. }
                    | Op::Clip { .. }
                    | Op::Softmax
                    | Op::ArgMax { .. }
                    | Op::Pool { .. }
                    | Op::Recurrent(_)
                    | Op::Reshape
                    | Op::Transpose { .. } => None,
                };
                if let Some(t) = exact_result {
                    p.result = t;
                }
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
            if strategy == crate::ir::Strategy::DistributedArithmetic
                && (reuse, recurrent_reuse) != (1, 1)
            {
                return Err(Error::input(format!(
                    "layer '{}': the distributed_arithmetic strategy builds every product as an adder graph at reuse factor 1 (as hls4ml's), not {}; set reuse = 1 (per layer: [layers.{}] reuse = 1)",
                    node.name,
                    reuse.max(recurrent_reuse),
                    node.name
                )));
            }
            let parallelization = match &node.op {
                Op::Conv { .. } | Op::Pool { .. } => {
                    let positions = node.shape[..node.shape.len() - 1].iter().product();
                    pick_parallelization(cx, &node.name, kind, lc.parallelization, positions)?
                }
                _ => {
                    if let Some(pf) = lc.parallelization.filter(|&pf| pf != 1) {
                        return Err(Error::input(format!(
                            "[layers.{}]: parallelization {pf} applies to convolution and pooling layers; '{}' is a {} layer",
                            node.name,
                            node.name,
                            node.op.kind()
                        )));
                    }
                    1
                }
            };
            // Reuse factor 1 shares no multiplier: the resource kernel would only add a module
            // call per block (a sub-function with a one-pass loop); the latency kernel is the
            // same multipliers, pipelined with its caller.
            let strategy = match &node.op {
                Op::Dense { .. } | Op::Conv { .. }
                    if strategy == crate::ir::Strategy::Resource && reuse == 1 =>
                {
                    cx.notes.push(format!(
                        "layer '{}': reuse factor 1 shares no multiplier, so the resource strategy is the latency kernel",
                        node.name
                    ));
                    crate::ir::Strategy::Latency
                }
                _ => strategy,
            };
            let (strategy, reuse, recurrent_reuse) = match &node.op {
                Op::Dense { .. } | Op::Conv { .. } => {
                    let (s, r) =
                        fit_unroll_limit(cx, &node.name, kind, lc, strategy, reuse, &products)?;
                    (s, r, recurrent_reuse)
                }
                Op::Recurrent(_) => fit_recurrent_unroll_limit(
                    cx,
                    &node.name,
                    kind,
                    lc,
                    strategy,
                    (reuse, recurrent_reuse),
                    &products,
                )?,
                _ => (strategy, reuse, recurrent_reuse),
            };
            let unroll_steps = match &node.op {
                Op::Recurrent(_) => {
                    let unroll = lc.unroll_steps.unwrap_or(c.unroll_steps);
                    if unroll
                        && (strategy == crate::ir::Strategy::Resource
                            || reuse > 1
                            || recurrent_reuse > 1)
                    {
                        return Err(Error::input(format!(
                            "[layers.{}]: unroll_steps unrolls every time step into one pipeline, which would unroll the resource kernels' reuse loops too; use the latency strategy with reuse 1, or leave the steps pipelined",
                            node.name
                        )));
                    }
                    unroll
                }
                _ => {
                    if lc.unroll_steps == Some(true) {
                        return Err(Error::input(format!(
                            "[layers.{}]: unroll_steps applies to recurrent layers; '{}' is a {} layer",
                            node.name,
                            node.name,
                            node.op.kind()
                        )));
                    }
                    false
                }
            };
            let pipeline_levels = lc.pipeline_levels.or(c.pipeline_levels).map(|n| n as u32);
            let node = model.node_mut(n);
            node.precision = p;
            node.hardware = Hardware {
                reuse,
                recurrent_reuse,
                strategy,
                parallelization,
                unroll_steps,
                pipeline_levels,
            };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bound's answer is the quantized weights' answer, on layers built so that the sum
    /// lands just below, on and just above powers of two (where the two could differ).
    #[test]
    fn the_bound_gives_the_quantized_weights_accumulator() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut cases = 0;
        for &(width, int) in &[(16, 6), (8, 3), (6, 1), (18, 8), (4, 2)] {
            let w = FixedType::fixed(width, int);
            let x = FixedType::fixed(16, 6);
            for n in [1usize, 3, 17, 64] {
                for target in [0.5, 1.0, 4.0, 37.0, 256.0] {
                    for nudge in [-1.5, -0.5, -0.25, 0.0, 0.25, 0.5, 1.5] {
                        // n weights of one output whose step magnitudes sum near target steps,
                        // some on half steps (ties), some beyond the type's range.
                        let per = (target + nudge) / n as f64 * w.lsb();
                        let data: Vec<f64> = (0..n)
                            .map(|k| {
                                let sign = if k % 2 == 0 { 1.0 } else { -1.0 };
                                let jitter = (next() - 0.5) * w.lsb() * (k % 3) as f64;
                                sign * (per + jitter)
                            })
                            .chain([w.max_value() * 1.7, w.lsb() * 2.5])
                            .collect();
                        let weights = Tensor::new(vec![n + 2, 1], data);
                        let bias = Tensor::new(vec![1], vec![next() - 0.5]);
                        let fast = exact_accumulator(x, w, w, &weights, &bias).unwrap();
                        QUANTIZE_ALWAYS.with(|q| q.set(true));
                        let exact = exact_accumulator(x, w, w, &weights, &bias).unwrap();
                        QUANTIZE_ALWAYS.with(|q| q.set(false));
                        assert_eq!(fast, exact, "{w} n={n} target={target} nudge={nudge}");
                        cases += 1;
                    }
                }
            }
        }
        // Both paths ran: mostly the bound, the quantizing one near powers of two.
        let fell_back = FALLBACKS.with(|f| f.get());
        assert!(
            cases > 500 && fell_back > 0 && fell_back < cases / 2,
            "{fell_back} of {cases}"
        );
    }
}
