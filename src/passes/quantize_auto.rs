//! quantize_auto (`quantize = "auto"`): chooses every type by interval analysis, so that no value
//! the design can compute overflows its type.
//!
//! From the input range (`input_range`, or the input type's whole range), each layer's output
//! interval per value is derived from its inputs' intervals and its quantized constants: a dense
//! or conv output j lies in b_j + sum_i [min(w x), max(w x)] over x in the input interval. The
//! result type gets the fewest integer bits holding that interval (unsigned when it cannot be
//! negative) and the configured precision's width; weights and biases the fewest integer bits
//! holding their values; accumulators every fractional bit of the products (exact sums) and the
//! integer bits of any partial sum, in any order. A type holding an interval holds every
//! rounding of its values, whatever the quantization mode. Layers given types in the config keep
//! them, and layers this analysis does not model (table activations other than sigmoid and tanh,
//! recurrent layers) keep the configured types, whose whole range then bounds what follows.

use super::{Pass, PassContext};
use crate::config::{LayerConfig, Quantize};
use crate::error::Result;
use crate::ir::fixed::MAX_WIDTH;
use crate::ir::ops::{PoolKind, concat_sources};
use crate::ir::tensor::transpose_gather;
use crate::ir::{FixedType, Model, Op, Tensor};
use crate::kernels::Consts;
use std::collections::HashMap;

pub struct QuantizeAuto;

/// Calibrated ranges are widened by this factor before types are fitted to them.
pub const CALIB_MARGIN: f64 = 1.25;

/// A closed interval of values.
type Iv = (f64, f64);

fn hull(a: Iv, b: Iv) -> Iv {
    (a.0.min(b.0), a.1.max(b.1))
}

/// The products of an interval by a constant.
fn scale(x: Iv, w: f64) -> Iv {
    let (p, q) = (x.0 * w, x.1 * w);
    (p.min(q), p.max(q))
}

/// The narrowest type with `frac` fractional bits (None: `width` bits in all) holding `iv`, with
/// the quantization and overflow modes of `modes`.
pub fn fit(iv: Iv, width: u32, frac: Option<i32>, modes: FixedType) -> FixedType {
    let unsigned = iv.0 >= 0.0;
    let mut int: i32 = if unsigned { 0 } else { 1 };
    loop {
        let w = match frac {
            Some(f) => (int + f).max(1) as u32,
            None => width.max(int.max(1) as u32),
        };
        let w = w.min(MAX_WIDTH);
        let t = if unsigned {
            FixedType::ufixed(w, int)
        } else {
            FixedType::fixed(w, int)
        }
        .with_modes(modes.quant, modes.overflow);
        if (t.min_value() <= iv.0 && iv.1 <= t.max_value()) || w == MAX_WIDTH && int >= w as i32 {
            return t;
        }
        int += 1;
    }
}

/// The interval of every value of a type.
fn whole(t: FixedType) -> Iv {
    (t.min_value(), t.max_value())
}

/// Values of a type at most one resolution step outside `iv` (what rounding into it can give).
fn rounded(iv: Iv, t: FixedType) -> Iv {
    let (lo, hi) = whole(t);
    ((iv.0 - t.lsb()).max(lo), (iv.1 + t.lsb()).min(hi))
}

/// Constants as the design holds them.
fn quantized(t: FixedType, v: &Tensor) -> Result<Vec<f64>> {
    Ok(Consts::quantize(t, v.data.iter().copied())?
        .raw
        .iter()
        .map(|&r| t.to_f64(r))
        .collect())
}

fn span(values: &[f64]) -> Iv {
    values
        .iter()
        .fold((0.0f64, 0.0f64), |(lo, hi), &v| (lo.min(v), hi.max(v)))
}

/// Per output value of a matrix product: (output interval, partial-sum interval). `terms(j)` lists
/// (input interval, weight) of output j.
fn products(bias: &[f64], terms: impl Fn(usize) -> Vec<(Iv, f64)>) -> Vec<(Iv, Iv)> {
    (0..bias.len())
        .map(|j| {
            let b = bias[j];
            let (mut out, mut part) = ((b, b), (b, b));
            for (x, w) in terms(j) {
                let p = scale(x, w);
                out = (out.0 + p.0, out.1 + p.1);
                part = (part.0 + p.0.min(0.0), part.1 + p.1.max(0.0));
            }
            (out, part)
        })
        .collect()
}

impl Pass for QuantizeAuto {
    fn name(&self) -> &'static str {
        "quantize_auto"
    }

    fn run(&self, model: &mut Model, cx: &mut PassContext) -> Result<()> {
        let c = cx.config;
        if c.quantize != Quantize::Auto {
            // (search makes its types explicit per layer and runs the pipeline with them)
            return Ok(());
        }
        let width = c.precision.width;
        let modes = c.precision;
        // Calibration: observed ranges replace the intervals for result types, which saturate
        // (a value beyond what calibration saw clips rather than wraps).
        let calib = match &c.calib {
            Some(path) => {
                let x =
                    crate::arrays::read_model_inputs(path, model).map_err(|e| e.in_file(path))?;
                let rows: Vec<Vec<f64>> = crate::arrays::rows_of(&x);
                let ranges =
                    crate::ir::eval::value_ranges(model, rows.iter().map(|r| r.as_slice()));
                Some((rows, ranges))
            }
            None => None,
        };
        let sat = modes.with_modes(modes.quant, crate::ir::Overflow::Sat);
        let none = LayerConfig::default();
        let mut ivs: HashMap<_, Vec<Iv>> = HashMap::new();
        let mut typed = 0;
        for n in model.topo_order() {
            let ins: Vec<_> = model.inputs(n);
            let node = model.node(n);
            let lc = c.layers.get(&node.name).unwrap_or(&none);
            let own_result = lc.result.or(lc.precision).is_some();
            let own_weight = lc.weight.or(lc.precision).is_some();
            let own_bias = lc.bias.or(lc.precision).is_some();
            let own_accum = lc.accum.or(c.accum).is_some();
            let mut p = node.precision.clone();
            let x = |k: usize| &ivs[&ins[k]];
            let in_type = |k: usize| model.node(ins[k]).precision.result;
            // Output intervals before rounding into the result type; None: not modelled.
            let out: Option<Vec<Iv>> = match &node.op {
                Op::Input => {
                    let r = c.input_range.unwrap_or(whole(p.result));
                    Some(vec![r; node.size()])
                }
                Op::Dense { weights, bias } | Op::Conv { weights, bias, .. } => {
                    // Fractional bits: the width's, or enough for the error bound (rounding to
                    // nearest errs by half a step at most).
                    let frac = c
                        .max_weight_error
                        .map(|e| (1.0 / (2.0 * e)).log2().ceil() as i32);
                    if !own_weight {
                        p.weight = fit(span(&weights.data), width, frac, modes);
                    }
                    if !own_bias {
                        p.bias = fit(span(&bias.data), width, frac, modes);
                    }
                    let (w, b) = (quantized(p.weight, weights)?, quantized(p.bias, bias)?);
                    let xs = x(0);
                    let rows = match &node.op {
                        Op::Dense { .. } => {
                            let n_out = b.len();
                            products(&b, |j| {
                                xs.iter()
                                    .enumerate()
                                    .map(|(i, &xi)| (xi, w[i * n_out + j]))
                                    .collect()
                            })
                        }
                        Op::Conv { window, groups, .. } => {
                            let in_shape = &model.node(ins[0]).shape;
                            let cin = *in_shape.last().unwrap();
                            let (cg, og) = (cin / groups, b.len() / groups);
                            let ksize = window.size();
                            // Per input channel; padding reads zeros.
                            let padded = window
                                .pads_begin
                                .iter()
                                .chain(&window.pads_end)
                                .any(|&q| q > 0);
                            let mut chan = vec![if padded { (0.0, 0.0) } else { xs[0] }; cin];
                            for (i, &v) in xs.iter().enumerate() {
                                chan[i % cin] = hull(chan[i % cin], v);
                            }
                            let per_channel = products(&b, |j| {
                                let (g, jj) = (j / og, j % og);
                                (0..ksize)
                                    .flat_map(|kk| (0..cg).map(move |ci| (kk, ci)))
                                    .map(|(kk, ci)| {
                                        (
                                            chan[g * cg + ci],
                                            w[((g * ksize + kk) * cg + ci) * og + jj],
                                        )
                                    })
                                    .collect()
                            });
                            (0..node.size()).map(|i| per_channel[i % b.len()]).collect()
                        }
                        _ => unreachable!(),
                    };
                    if !own_accum && calib.is_some() {
                        p.accum = super::apply_config::exact_accumulator(
                            in_type(0),
                            p.weight,
                            p.bias,
                            weights,
                            bias,
                        )?;
                    } else if !own_accum {
                        // Signed, as the kernels' accumulators are.
                        let part = rows
                            .iter()
                            .fold((-f64::MIN_POSITIVE, 0.0f64), |a, r| hull(a, r.1));
                        let frac = (in_type(0).frac() + p.weight.frac()).max(p.bias.frac());
                        p.accum = fit(part, width, Some(frac), FixedType::fixed(2, 1));
                    }
                    Some(rows.into_iter().map(|r| r.0).collect())
                }
                Op::ScaleShift { scale: s, shift: t } => {
                    let (s, t) = (&s.data, &t.data);
                    Some(
                        x(0).iter()
                            .enumerate()
                            .map(|(i, &v)| {
                                let y = scale(v, s[i % s.len()]);
                                (y.0 + t[i % t.len()], y.1 + t[i % t.len()])
                            })
                            .collect(),
                    )
                }
                Op::Activation(a) => x(0).iter().map(|&(lo, hi)| a.interval(lo, hi)).collect(),
                Op::PRelu { .. } | Op::Clip { .. } => {
                    // Piecewise linear, monotone but for a kink at 0 (a negative slope): the
                    // extremes are at the ends or at 0.
                    Some(
                        x(0).iter()
                            .enumerate()
                            .map(|(i, &(a, b))| {
                                let f = |v| crate::ir::eval::per_value(&node.op, v, i).unwrap();
                                let mut y = hull((f(a), f(a)), (f(b), f(b)));
                                if a < 0.0 && 0.0 < b {
                                    y = hull(y, (f(0.0), f(0.0)));
                                }
                                y
                            })
                            .collect(),
                    )
                }
                Op::Softmax => Some(vec![(0.0, 1.0); node.size()]),
                Op::ArgMax { .. } => {
                    let n_in = *model.node(ins[0]).shape.last().unwrap();
                    Some(vec![(0.0, n_in.saturating_sub(1) as f64); node.size()])
                }
                Op::Add | Op::Sub | Op::Mul | Op::Max | Op::Min => Some(
                    x(0).iter()
                        .zip(x(1))
                        .map(|(&(a, b), &(c2, d))| match &node.op {
                            Op::Add => (a + c2, b + d),
                            Op::Sub => (a - d, b - c2),
                            Op::Max => (a.max(c2), b.max(d)),
                            Op::Min => (a.min(c2), b.min(d)),
                            _ => {
                                let v = [a * c2, a * d, b * c2, b * d];
                                (
                                    v.iter().cloned().fold(f64::MAX, f64::min),
                                    v.iter().cloned().fold(f64::MIN, f64::max),
                                )
                            }
                        })
                        .collect(),
                ),
                Op::Pool {
                    kind,
                    window,
                    count_include_pad,
                } => {
                    let in_shape = &model.node(ins[0]).shape;
                    let ch = *in_shape.last().unwrap();
                    let mut per = vec![None::<Iv>; ch];
                    for (i, &v) in x(0).iter().enumerate() {
                        per[i % ch] = Some(per[i % ch].map_or(v, |h| hull(h, v)));
                    }
                    let pads = window
                        .pads_begin
                        .iter()
                        .chain(&window.pads_end)
                        .any(|&q| q > 0);
                    let zero = *kind == PoolKind::Average && *count_include_pad && pads;
                    Some(
                        (0..node.size())
                            .map(|i| {
                                let v = per[i % ch].unwrap_or((0.0, 0.0));
                                if zero { hull(v, (0.0, 0.0)) } else { v }
                            })
                            .collect(),
                    )
                }
                Op::Concat { axis } => {
                    let shapes: Vec<Vec<usize>> =
                        ins.iter().map(|&i| model.node(i).shape.clone()).collect();
                    Some(
                        concat_sources(&shapes, *axis)
                            .into_iter()
                            .map(|(k, i)| x(k)[i])
                            .collect(),
                    )
                }
                Op::Reshape => Some(x(0).clone()),
                Op::Transpose { perm } => Some(
                    transpose_gather(&model.node(ins[0]).shape, perm)
                        .into_iter()
                        .map(|i| x(0)[i])
                        .collect(),
                ),
                Op::Gather { index, fill } => Some(
                    index
                        .iter()
                        .map(|&k| {
                            if k < 0 {
                                (*fill, *fill)
                            } else {
                                x(0)[k as usize]
                            }
                        })
                        .collect(),
                ),
                Op::Recurrent(_) => None,
                // The model's own quantizer keeps its type.
                Op::Quant { .. } => None,
            };
            let result_iv = match out {
                Some(iv) if node.op.moves_data_only() => {
                    // Data movers keep their input's type.
                    p.result = in_type(0);
                    iv
                }
                Some(iv) => {
                    let observed = calib.as_ref().and_then(|(_, r)| r.get(&n));
                    let chosen = match observed {
                        _ if own_result => None,
                        Some(&(lo, hi)) => Some(fit(
                            (lo * CALIB_MARGIN, hi * CALIB_MARGIN),
                            width,
                            None,
                            sat,
                        )),
                        None if !model.is_input(n) || c.input_range.is_some() => Some(fit(
                            iv.iter().fold(iv[0], |a, &b| hull(a, b)),
                            width,
                            None,
                            modes,
                        )),
                        None => None,
                    };
                    if let Some(t) = chosen {
                        p.result = t;
                        typed += 1;
                    }
                    iv.iter().map(|&v| rounded(v, p.result)).collect()
                }
                None => vec![whole(p.result); node.size()],
            };
            model.node_mut(n).precision = p;
            ivs.insert(n, result_iv);
        }
        match &calib {
            Some((rows, _)) => {
                cx.notes.push(format!(
                    "quantize auto: {typed} layer types from the ranges observed on {} calibration samples (x{CALIB_MARGIN} margin, saturating)",
                    rows.len()
                ));
                // (lint reports what the chosen types do to the calibration data itself)
            }
            None => {
                let (lo, hi) = (
                    model
                        .inputs
                        .iter()
                        .flat_map(|i| &ivs[i])
                        .fold(f64::MAX, |a, v| a.min(v.0)),
                    model
                        .inputs
                        .iter()
                        .flat_map(|i| &ivs[i])
                        .fold(f64::MIN, |a, v| a.max(v.1)),
                );
                cx.notes.push(format!(
                    "quantize auto: {typed} layer types from interval analysis of the input range [{lo}, {hi}]"
                ));
                if c.input_range.is_none() {
                    // Every value the input type holds is assumed possible: the types hold the
                    // worst case of that, and spend on integer bits what the data never uses.
                    cx.notes.push(format!(
                        "warning: --quantize auto without --input-range or --calib assumes any input value its type holds, [{lo}, {hi}]: the chosen types are wide for that and coarse for your data; fix: --input-range LO,HI (the values your inputs can take) or --calib X.npy (samples of them)"
                    ));
                }
            }
        }
        Ok(())
    }
}
