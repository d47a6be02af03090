//! How close the design's fixed point is to the model's float meaning on samples, and where it
//! overflows: every compile and `hlsrs estimate` measure it, so a design that wraps is never
//! silent. The emulator and the f64 evaluation run side by side on each sample; per output the
//! argmax agreement and |fixed - float|, per layer the values that wrapped or saturated (with
//! the type that would have held them) and the layer's own |fixed - float|.

use crate::emulate::Emulator;
use crate::error::Result;
use crate::ir::fixed::{Overflow, Overflowed, merge_overflows};
use crate::ir::{FixedType, Model, Op};
use crate::kernels::LayerPlan;
use crate::report::short_number as short;
use petgraph::stable_graph::NodeIndex;
use serde_json::json;
use std::collections::HashMap;

/// What the design did on the samples.
#[derive(Debug, Clone)]
pub struct Fidelity {
    /// Where the samples came from, for the user to judge (and replace with their own).
    pub samples: String,
    pub count: usize,
    pub outputs: Vec<OutputFidelity>,
    /// Every layer, in topological order.
    pub layers: Vec<LayerFidelity>,
    /// The constants of every layer that has them (weights and biases), against their types.
    pub constants: Vec<ConstFidelity>,
}

/// How values spread in magnitude: counts by binary exponent, floor(log2 |v|) (clamped to
/// [-64, 63]), zeros apart. It is the picture of hls4ml's profiling plots (a box of log2 |v|
/// beside the type's range), gathered in one pass without keeping the values.
#[derive(Debug, Clone, PartialEq)]
pub struct Magnitudes {
    pub zeros: u64,
    counts: [u64; 128],
}

impl Default for Magnitudes {
    fn default() -> Self {
        Magnitudes {
            zeros: 0,
            counts: [0; 128],
        }
    }
}

impl Magnitudes {
    /// The bucket of a nonzero value: the f64 exponent field is floor(log2 |v|) for every
    /// normal value (subnormals clamp).
    fn bucket(v: f64) -> usize {
        let e = ((v.to_bits() >> 52) & 0x7ff) as i32 - 1023;
        (e.clamp(-64, 63) + 64) as usize
    }

    pub fn add(&mut self, v: f64) {
        if v == 0.0 || v.is_nan() {
            self.zeros += 1;
            return;
        }
        self.counts[Self::bucket(v)] += 1;
    }

    pub fn of(values: &[f64]) -> Magnitudes {
        if values.len() < 1024 {
            let mut m = Magnitudes::default();
            for &v in values {
                m.add(v);
            }
            return m;
        }
        // Four counters per bucket, one per lane: neighbouring values mostly share a bucket,
        // and one counter would make each increment wait for the last (a million weights).
        let mut lanes = [[0u64; 128]; 4];
        let mut zeros = 0;
        for quad in values.chunks(4) {
            for (lane, &v) in lanes.iter_mut().zip(quad) {
                let zero = v == 0.0 || v.is_nan();
                zeros += zero as u64;
                lane[Self::bucket(v)] += (!zero) as u64;
            }
        }
        let mut m = Magnitudes {
            zeros,
            ..Magnitudes::default()
        };
        for lane in &lanes {
            for (c, n) in m.counts.iter_mut().zip(lane) {
                *c += n;
            }
        }
        m
    }

    pub fn merge(&mut self, other: &Magnitudes) {
        self.zeros += other.zeros;
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
    }

    /// (exponent, count) for every exponent with values, ascending.
    pub fn by_exponent(&self) -> Vec<(i32, u64)> {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(k, &n)| (k as i32 - 64, n))
            .collect()
    }

    pub fn to_json(&self) -> serde_json::Value {
        json!({ "zeros": self.zeros, "log2": self.by_exponent() })
    }
}

/// One constant array of a layer (weights or biases) against the type that stores it.
#[derive(Debug, Clone)]
pub struct ConstFidelity {
    pub layer: String,
    /// "weight" or "bias": the `[layers.X]` key of its type.
    pub role: &'static str,
    pub ty: FixedType,
    pub count: usize,
    pub float_range: (f64, f64),
    pub magnitudes: Magnitudes,
    /// Nonzero in the model, zero in the type (below half a step).
    pub vanished: usize,
    /// Beyond the type's range: stored saturated.
    pub saturated: usize,
}

impl ConstFidelity {
    fn new(
        layer: &str,
        role: &'static str,
        ty: FixedType,
        values: &[f64],
    ) -> Result<ConstFidelity> {
        // One pass over a million weights.
        let (q, lsb) = (crate::kernels::Consts::quantizer(ty), ty.lsb());
        let (lo, hi) = (ty.min_value(), ty.max_value());
        let (mut vanished, mut saturated) = (0, 0);
        let mut float_range = (f64::INFINITY, f64::NEG_INFINITY);
        let mut magnitudes = Magnitudes::default();
        for &v in values {
            float_range = (float_range.0.min(v), float_range.1.max(v));
            magnitudes.add(v);
            saturated += (v < lo || v > hi) as usize;
            if v != 0.0 && v.abs() < lsb {
                vanished += (q(v)? == 0) as usize;
            }
        }
        Ok(ConstFidelity {
            layer: layer.to_string(),
            role,
            ty,
            count: values.len(),
            float_range,
            magnitudes,
            vanished,
            saturated,
        })
    }
}

/// The weights and biases of every layer that has them, in topological order.
fn constants(model: &Model, plans: &[LayerPlan]) -> Result<Vec<ConstFidelity>> {
    let mut out = Vec::new();
    for p in plans {
        let node = model.node(p.node);
        let (name, t) = (&node.name, &node.precision);
        match &node.op {
            Op::Dense { weights, bias } | Op::Conv { weights, bias, .. } => {
                out.push(ConstFidelity::new(name, "weight", t.weight, &weights.data)?);
                out.push(ConstFidelity::new(name, "bias", t.bias, &bias.data)?);
            }
            Op::ScaleShift { scale, shift } => {
                out.push(ConstFidelity::new(name, "weight", t.weight, &scale.data)?);
                out.push(ConstFidelity::new(name, "bias", t.bias, &shift.data)?);
            }
            Op::Recurrent(r) => {
                let w = [&r.w.data[..], &r.r.data[..]].concat();
                out.push(ConstFidelity::new(name, "weight", t.weight, &w)?);
                out.push(ConstFidelity::new(name, "bias", t.bias, &r.b.data)?);
            }
            // No constants, or ones that are not weights of a type the user sets (a PReLU's
            // slopes, a Gather's indices, a quantizer's type).
            Op::Input
            | Op::Activation(_)
            | Op::PRelu { .. }
            | Op::Gather { .. }
            | Op::Quant { .. }
            | Op::Clip { .. }
            | Op::Softmax
            | Op::ArgMax { .. }
            | Op::Add
            | Op::Sub
            | Op::Mul
            | Op::Max
            | Op::Min
            | Op::Pool { .. }
            | Op::Concat { .. }
            | Op::Reshape
            | Op::Transpose { .. } => {}
        }
    }
    Ok(out)
}

#[derive(Debug, Clone)]
pub struct OutputFidelity {
    pub name: String,
    /// Rows along the last axis (per sample, every step of a static design).
    pub rows: usize,
    /// Rows whose argmax (first largest value) is the same in fixed point and in float; `None`
    /// for an output of one value per row.
    pub argmax_agree: Option<usize>,
    pub max_error: f64,
    pub mean_error: f64,
}

#[derive(Debug, Clone)]
pub struct LayerFidelity {
    pub name: String,
    pub result: FixedType,
    /// Values the layer computed on the samples.
    pub values: u64,
    /// Casts in the layer whose value did not fit their type, by type (the result type, or a
    /// type inside the kernel such as a configured accumulator).
    pub overflows: Vec<Overflowed>,
    /// The float model's smallest and largest value of this layer on the samples.
    pub float_range: (f64, f64),
    /// The float model's values of this layer outside the result type's range: they overflow
    /// once the layers before hold theirs, even where wrapped inputs hid them in fixed point.
    pub float_outside: u64,
    /// Largest |fixed - float| of the layer's values.
    pub max_error: f64,
    /// A quantizer of the source model (QONNX `Quant`): it saturates by definition.
    pub quantizer: bool,
    /// The float model's values of this layer by magnitude.
    pub magnitudes: Magnitudes,
}

impl LayerFidelity {
    /// Overflowing casts of the layer's result type, and whether they wrapped.
    pub fn result_overflows(&self) -> Option<&Overflowed> {
        self.overflows.iter().find(|o| o.ty == self.result)
    }

    /// The type of the same fractional bits and modes that holds every value the layer reached
    /// (in float, and before any overflow in fixed point): the fix for a result that overflows.
    pub fn holding_type(&self) -> FixedType {
        let t = self.result;
        let largest = self
            .overflows
            .iter()
            .filter(|o| o.ty == t)
            .map(|o| o.largest)
            .fold(
                self.float_range.0.abs().max(self.float_range.1.abs()),
                f64::max,
            );
        let lo = if t.signed || self.float_range.0 < 0.0 {
            -largest
        } else {
            0.0
        };
        crate::passes::fit((lo, largest), t.width, Some(t.frac()), t)
    }
}

impl Fidelity {
    /// The layers that wrapped, or whose float values exceed a wrapping result type (not
    /// counting the source model's own quantizers).
    pub fn wrapped(&self) -> impl Iterator<Item = &LayerFidelity> {
        self.layers.iter().filter(|l| {
            !l.quantizer
                && (l.overflows.iter().any(|o| o.ty.overflow == Overflow::Wrap)
                    || (l.result.overflow == Overflow::Wrap && l.float_outside > 0))
        })
    }

    /// A warning per layer that wrapped, naming the fix, and one for the design naming the
    /// fixes of them all.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let wrapped: Vec<&LayerFidelity> = self.wrapped().collect();
        if wrapped.is_empty() {
            return out;
        }
        let agree: Vec<String> = self
            .outputs
            .iter()
            .filter_map(|o| {
                o.argmax_agree.map(|a| {
                    format!(
                        "output {} argmax agrees with float on {:.1}%",
                        o.name,
                        100.0 * a as f64 / o.rows.max(1) as f64
                    )
                })
            })
            .collect();
        out.push(format!(
            "warning: {} layer(s) wrap on the {}{}; fix each as below, or all at once with --quantize auto --calib X (types from the ranges your data reaches) or --input-range LO,HI, or saturate instead of wrapping (e.g. --precision \"{}\")",
            wrapped.len(),
            self.samples,
            if agree.is_empty() {
                String::new()
            } else {
                format!(" ({})", agree.join(", "))
            },
            wrapped[0].result.with_modes(wrapped[0].result.quant, Overflow::Sat)
        ));
        for l in wrapped {
            let t = l.result;
            let wrapped = l.result_overflows().map_or(0, |o| o.count);
            let reached = l
                .result_overflows()
                .map_or(0.0, |o| o.largest)
                .max(l.float_range.0.abs())
                .max(l.float_range.1.abs());
            if wrapped > 0 || l.float_outside > 0 {
                out.push(format!(
                    "warning: layer '{}': {wrapped} of {} values wrapped in {t} (float: {} beyond its range [{}, {}], up to {}); fix: [layers.{}] result = \"{}\"",
                    l.name,
                    l.values,
                    l.float_outside,
                    t.min_value(),
                    t.max_value(),
                    short(reached),
                    l.name,
                    l.holding_type()
                ));
            }
            for o in l
                .overflows
                .iter()
                .filter(|o| o.ty != t && o.ty.overflow == Overflow::Wrap)
            {
                out.push(format!(
                    "warning: layer '{}': {} casts inside the layer wrapped in {} (values up to {}); fix: a wider accumulator ([layers.{}] accum, or leave accum unset: exact)",
                    l.name,
                    o.count,
                    o.ty,
                    short(o.largest),
                    l.name
                ));
            }
        }
        out
    }

    /// The lines the compile summary prints.
    pub fn summary(&self) -> Vec<String> {
        let mut out = vec![format!(
            "fidelity on the {} (your own: --tb-input X or --calib X):",
            self.samples
        )];
        for o in &self.outputs {
            let agree = match o.argmax_agree {
                Some(a) => format!(
                    "argmax agrees with float on {a} of {} ({:.1}%), ",
                    o.rows,
                    100.0 * a as f64 / o.rows.max(1) as f64
                ),
                None => String::new(),
            };
            out.push(format!(
                "  output {}: {agree}max |fixed - float| {}, mean {}",
                o.name,
                short(o.max_error),
                short(o.mean_error)
            ));
        }
        let over: Vec<&LayerFidelity> = self
            .layers
            .iter()
            .filter(|l| !l.overflows.is_empty() || l.float_outside > 0)
            .collect();
        if over.is_empty() {
            out.push("  no value wrapped or saturated in any layer".into());
        }
        for l in over {
            if l.result_overflows().is_none() {
                out.push(format!(
                    "  layer {}: 0 values overflowed {}, but {} of its float values lie beyond it ({} holds them)",
                    l.name,
                    l.result,
                    l.float_outside,
                    l.holding_type()
                ));
            }
            for o in &l.overflows {
                out.push(format!(
                    "  layer {}: {} values {} in {}{}{}",
                    l.name,
                    o.count,
                    if o.ty.overflow == Overflow::Wrap {
                        "wrapped"
                    } else {
                        "saturated"
                    },
                    o.ty,
                    if o.ty == l.result {
                        format!(" (of {}; {} holds them)", l.values, l.holding_type())
                    } else {
                        " (inside the layer)".into()
                    },
                    if l.quantizer {
                        ", a quantizer of the model"
                    } else {
                        ""
                    }
                ));
            }
        }
        out
    }

    /// The record hlsrs.json keeps (figures to 6 significant digits: enough to read, and the
    /// file does not change with the last bits of a libm).
    pub fn to_json(&self) -> serde_json::Value {
        let r = |v: f64| json!(significant(v, 6));
        json!({
            "samples": self.samples,
            "count": self.count,
            "outputs": self.outputs.iter().map(|o| json!({
                "name": o.name,
                "rows": o.rows,
                "argmax_agree": o.argmax_agree,
                "max_error": r(o.max_error),
                "mean_error": r(o.mean_error),
            })).collect::<Vec<_>>(),
            "layers": self.layers.iter().map(|l| json!({
                "name": l.name,
                "result": l.result.to_string(),
                "values": l.values,
                "float_min": r(l.float_range.0),
                "float_max": r(l.float_range.1),
                "max_error": r(l.max_error),
                "float_outside": l.float_outside,
                "overflows": l.overflows.iter().map(|o| json!({
                    "type": o.ty.to_string(),
                    "count": o.count,
                    "wrapped": o.ty.overflow == Overflow::Wrap,
                    "largest": r(o.largest),
                })).collect::<Vec<_>>(),
                "holding_type": l.holding_type().to_string(),
                "magnitudes": l.magnitudes.to_json(),
            })).collect::<Vec<_>>(),
            "constants": self.constants.iter().map(|c| json!({
                "layer": c.layer,
                "role": c.role,
                "type": c.ty.to_string(),
                "count": c.count,
                "float_min": r(c.float_range.0),
                "float_max": r(c.float_range.1),
                "vanished": c.vanished,
                "saturated": c.saturated,
                "magnitudes": c.magnitudes.to_json(),
            })).collect::<Vec<_>>(),
        })
    }
}

/// `v` rounded to `digits` significant decimal digits.
fn significant(v: f64, digits: i32) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let scale = 10f64.powi(digits - 1 - v.abs().log10().floor() as i32);
    (v * scale).round() / scale
}

/// Values of every layer (per plan).
type LayerValues = Vec<Vec<f64>>;

/// One layer on one sample.
struct SampleLayer {
    overflows: Vec<Overflowed>,
    float_range: (f64, f64),
    float_outside: u64,
    max_error: f64,
    values: usize,
    magnitudes: Magnitudes,
}

/// One sample's part of the measure (summed over samples in order).
struct SampleStats {
    input_bits: Vec<i128>,
    output_bits: Vec<i128>,
    /// Per plan.
    layers: Vec<SampleLayer>,
    /// Per output: agreeing rows, rows, max error, sum of errors, values.
    outputs: Vec<(usize, usize, f64, f64, usize)>,
    /// With `keep`: the fixed-point and float values, per plan.
    traced: Option<(LayerValues, LayerValues)>,
}

/// One sample's input bits and output bits (a testbench row).
pub type SampleBits = (Vec<i128>, Vec<i128>);

/// One layer's values on every sample, in fixed point (the exact values of its bits) and in
/// float: `[samples, ...shape]`, a static design's steps as a second axis.
#[derive(Debug, Clone)]
pub struct TracedLayer {
    pub name: String,
    pub fixed: crate::arrays::Array,
    pub float: crate::arrays::Array,
}

/// Runs every sample (model input values) in fixed point and in float. Returns the fidelity and
/// each sample's input and output bits (the testbench's data, so the emulator runs once).
pub fn measure(
    model: &Model,
    plans: &[LayerPlan],
    rows: &[Vec<f64>],
    samples: String,
) -> Result<(Fidelity, Vec<SampleBits>)> {
    let (f, bits, _) = run(model, plans, rows, samples, false)?;
    Ok((f, bits))
}

/// [`measure`], keeping every layer's values on every sample (`hlsrs predict --trace`).
pub fn trace(
    model: &Model,
    plans: &[LayerPlan],
    rows: &[Vec<f64>],
    samples: String,
) -> Result<(Fidelity, Vec<TracedLayer>)> {
    let (f, _, traced) = run(model, plans, rows, samples, true)?;
    Ok((f, traced))
}

impl Fidelity {
    /// The first layer (in topological order) where fixed point and float part ways: its
    /// largest error exceeds both 4 steps of its type and 5% of its largest float value. Before
    /// it the design follows float to rounding; from it on, the cause is in that layer (a wrap,
    /// a coarse type or table) or in its type's range.
    pub fn parting(&self) -> Option<&LayerFidelity> {
        self.layers.iter().find(|l| {
            let scale = l.float_range.0.abs().max(l.float_range.1.abs());
            l.max_error > 4.0 * l.result.lsb() && l.max_error > 0.05 * scale
        })
    }
}

fn run(
    model: &Model,
    plans: &[LayerPlan],
    rows: &[Vec<f64>],
    samples: String,
    keep: bool,
) -> Result<(Fidelity, Vec<SampleBits>, Vec<TracedLayer>)> {
    let emu = Emulator::with_plans(model, plans);
    let index: HashMap<NodeIndex, usize> =
        plans.iter().enumerate().map(|(k, p)| (p.node, k)).collect();
    // A batch of samples per core, as long as a batch's values of every layer stay near 4 M
    // (a big image's layers run a sample at a time, as before); all in one here when they are
    // too little work for threads (a small model's compile).
    let per_sample: usize = plans.iter().map(|p| p.size).sum::<usize>() * model.steps;
    let mults: usize = plans.iter().map(LayerPlan::multiplications).sum();
    let work = rows.len().saturating_mul(per_sample + mults * model.steps);
    let ways = if crate::ir::parallel::worth_threads(work) {
        crate::ir::parallel::cores()
    } else {
        1
    };
    let batch = rows
        .len()
        .div_ceil(ways)
        .min((1 << 22) / per_sample.max(1))
        .max(1);
    let batches: Vec<&[Vec<f64>]> = rows.chunks(batch).collect();
    let stats: Vec<SampleStats> = crate::emulate::par_map(batches.len(), |b| {
        run_samples(model, plans, &emu, &index, batches[b], keep)
    })?
    .into_iter()
    .flatten()
    .collect();
    let mut layers: Vec<LayerFidelity> = plans
        .iter()
        .map(|p| {
            let node = model.node(p.node);
            LayerFidelity {
                name: node.name.clone(),
                result: p.result,
                values: 0,
                overflows: Vec::new(),
                float_range: (f64::INFINITY, f64::NEG_INFINITY),
                float_outside: 0,
                max_error: 0.0,
                quantizer: matches!(node.op, Op::Quant { .. }),
                magnitudes: Magnitudes::default(),
            }
        })
        .collect();
    let shapes = model.sample_output_shapes();
    let mut outputs: Vec<OutputFidelity> = model
        .outputs
        .iter()
        .zip(&shapes)
        .map(|(o, shape)| OutputFidelity {
            name: o.name.clone(),
            rows: 0,
            argmax_agree: (*shape.last().unwrap_or(&1) > 1).then_some(0),
            max_error: 0.0,
            mean_error: 0.0,
        })
        .collect();
    let mut sums = vec![(0.0f64, 0usize); outputs.len()];
    let mut bits = Vec::with_capacity(stats.len());
    let mut traced: Vec<(Vec<f64>, Vec<f64>)> =
        vec![(Vec::new(), Vec::new()); if keep { plans.len() } else { 0 }];
    for s in stats {
        if let Some((fx, fl)) = s.traced {
            for ((t, a), b) in traced.iter_mut().zip(fx).zip(fl) {
                t.0.extend(a);
                t.1.extend(b);
            }
        }
        for (l, s) in layers.iter_mut().zip(s.layers) {
            merge_overflows(&mut l.overflows, s.overflows);
            l.float_range = (
                l.float_range.0.min(s.float_range.0),
                l.float_range.1.max(s.float_range.1),
            );
            l.float_outside += s.float_outside;
            l.max_error = l.max_error.max(s.max_error);
            l.values += s.values as u64;
            l.magnitudes.merge(&s.magnitudes);
        }
        for ((o, sum), (agree, rows, max, esum, n)) in
            outputs.iter_mut().zip(&mut sums).zip(s.outputs)
        {
            o.rows += rows;
            if let Some(a) = &mut o.argmax_agree {
                *a += agree;
            }
            o.max_error = o.max_error.max(max);
            sum.0 += esum;
            sum.1 += n;
        }
        bits.push((s.input_bits, s.output_bits));
    }
    for (o, (sum, n)) in outputs.iter_mut().zip(sums) {
        o.mean_error = sum / n.max(1) as f64;
    }
    for l in &mut layers {
        if !l.float_range.0.is_finite() {
            l.float_range = (0.0, 0.0);
        }
    }
    // A layer's values per sample: its shape, a static design's steps first.
    let traced = traced
        .into_iter()
        .zip(plans)
        .map(|((fx, fl), p)| {
            let node = model.node(p.node);
            let calls = fx.len() / (node.size() * rows.len()).max(1);
            let shape = if model.steps > 1 {
                [vec![calls], node.shape.clone()].concat()
            } else {
                node.shape.clone()
            };
            let array = |data: Vec<f64>| crate::arrays::Array {
                shape: [vec![rows.len()], shape.clone()].concat(),
                data,
            };
            TracedLayer {
                name: node.name.clone(),
                fixed: array(fx),
                float: array(fl),
            }
        })
        .collect();
    Ok((
        Fidelity {
            samples,
            count: rows.len(),
            outputs,
            layers,
            constants: constants(model, plans)?,
        },
        bits,
        traced,
    ))
}

/// Samples through the design and the float model, together: dense layers read each weight row
/// once for all of them (`run_batch_observed`); each sample's stats as if run alone.
fn run_samples(
    model: &Model,
    plans: &[LayerPlan],
    emu: &Emulator,
    index: &HashMap<NodeIndex, usize>,
    xs: &[Vec<f64>],
    keep: bool,
) -> Result<Vec<SampleStats>> {
    // The float model first, every layer kept (a static design's calls one after another).
    let mut float: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); plans.len()]; xs.len()];
    let refs: Vec<&[f64]> = xs.iter().map(Vec::as_slice).collect();
    let float_outs = crate::emulate::float::run_batch_observed(model, &refs, &mut |s, n, _, v| {
        if let Some(&k) = index.get(&n) {
            float[s][k].extend_from_slice(v);
        }
    });
    let mut layers: Vec<Vec<SampleLayer>> = float
        .iter()
        .map(|f| {
            f.iter()
                .zip(plans)
                .map(|(v, p)| SampleLayer::of_float(v, p.result))
                .collect()
        })
        .collect();
    // Each input's own quantization, attributed to it.
    let mut input_bits = Vec::with_capacity(xs.len());
    for (s, x) in xs.iter().enumerate() {
        input_bits.push(emu.quantize_input_observed(x, &mut |n, over| {
            if let Some(&k) = index.get(&n) {
                merge_overflows(&mut layers[s][k].overflows, over);
            }
        })?);
    }
    let mut offsets = vec![vec![0usize; plans.len()]; xs.len()];
    let mut fixed: Vec<Vec<Vec<f64>>> =
        vec![vec![Vec::new(); if keep { plans.len() } else { 0 }]; xs.len()];
    let output_bits = emu.run_batch_observed(&input_bits, &mut |s, k, _, bits, over| {
        let l = &mut layers[s][k];
        merge_overflows(&mut l.overflows, over);
        let lsb = plans[k].result.lsb();
        let f = &float[s][k][offsets[s][k]..];
        // (Bits as i64: the i128 -> f64 conversion is a slow library call.)
        for (&b, &y) in bits.iter().zip(f) {
            l.max_error = l.max_error.max((b as i64 as f64 * lsb - y).abs());
        }
        offsets[s][k] += bits.len();
        if keep {
            fixed[s][k].extend(bits.iter().map(|&b| b as i64 as f64 * lsb));
        } else if offsets[s][k] == float[s][k].len() {
            // Compared on every call: a big image's layer is not held to the end.
            float[s][k] = Vec::new();
        }
    });
    let mut stats = Vec::with_capacity(xs.len());
    let per_sample = layers
        .into_iter()
        .zip(input_bits)
        .zip(output_bits)
        .zip(float_outs)
        .zip(fixed.into_iter().zip(float));
    for ((((layers, input_bits), output_bits), float_out), (fixed, float)) in per_sample {
        stats.push(SampleStats {
            outputs: output_stats(model, &emu.output_values(&output_bits), &float_out),
            input_bits,
            output_bits,
            layers,
            traced: keep.then_some((fixed, float)),
        });
    }
    Ok(stats)
}

impl SampleLayer {
    /// A layer's float values on one sample, against its result type; no fixed point yet.
    fn of_float(v: &[f64], result: FixedType) -> SampleLayer {
        let (lo, hi) = (result.min_value(), result.max_value());
        SampleLayer {
            overflows: Vec::new(),
            float_range: v
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &y| {
                    (a.min(y), b.max(y))
                }),
            float_outside: v.iter().filter(|&&y| y < lo || y > hi).count() as u64,
            max_error: 0.0,
            values: v.len(),
            magnitudes: Magnitudes::of(v),
        }
    }
}

/// Per output of one sample, fixed against float: agreeing rows, rows, max error, sum of errors,
/// values.
fn output_stats(
    model: &Model,
    fixed_out: &[f64],
    float_out: &[f64],
) -> Vec<(usize, usize, f64, f64, usize)> {
    model
        .sample_output_ranges()
        .into_iter()
        .zip(model.sample_output_shapes())
        .map(|((_, r), shape)| {
            let width = *shape.last().unwrap_or(&1);
            let (fx, fl) = (&fixed_out[r.clone()], &float_out[r]);
            let errs = fx.iter().zip(fl).map(|(a, b)| (a - b).abs());
            let max = errs.clone().fold(0.0, f64::max);
            let sum: f64 = errs.sum();
            let rows = fx.len() / width.max(1);
            let agree = (0..rows)
                .filter(|&i| {
                    let row = i * width..(i + 1) * width;
                    argmax(&fx[row.clone()]) == argmax(&fl[row])
                })
                .count();
            (agree, rows, max, sum, fx.len())
        })
        .collect()
}

/// The index of the first largest value.
fn argmax(v: &[f64]) -> usize {
    let mut k = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[k] {
            k = i;
        }
    }
    k
}

#[cfg(test)]
mod tests {
    use super::Magnitudes;

    #[test]
    fn magnitudes_of_many_values_equal_them_added_one_by_one() {
        let mut values = vec![0.0, -0.0, f64::NAN, 1e-310, -3.5, 1e300, 0.75, 2.0, -2.0];
        values.extend((0..1001).map(|k| ((k * 7919) % 2003) as f64 / 97.0 - 10.0));
        values.extend((0..2000).map(|k| (k as f64 - 999.5) * 1e-3));
        for n in [0, 1, 3, 4, 5, 1023, 1024, 1025, values.len()] {
            let mut one_by_one = Magnitudes::default();
            for &v in &values[..n] {
                one_by_one.add(v);
            }
            assert_eq!(Magnitudes::of(&values[..n]), one_by_one, "first {n}");
        }
    }
}
