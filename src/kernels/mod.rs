//! Per-layer numeric plans: quantized constants, lookup tables, index shifts and loop orders.
//!
//! This is the one place where a layer's arithmetic is decided. The emulator executes a plan; the
//! Vitis backend writes the same constants and shifts into the C++ whose kernels (hls_lib/) loop
//! in the same order. Nothing here depends on the backend or the emulator.

pub mod activation;
pub mod conv;
pub mod da;
pub mod dense;
pub mod pool;
pub mod recurrent;
pub mod softmax;

use crate::error::{Error, Result};
use crate::ir::tensor::transpose_gather;
use crate::ir::{FixedType, Model, Op, Overflow, Quant};
use petgraph::stable_graph::NodeIndex;

/// Constants quantized into a type: the bits the design stores.
#[derive(Debug, Clone, PartialEq)]
pub struct Consts {
    pub ty: FixedType,
    pub raw: Vec<i128>,
}

/// Adding and removing 1.5 * 2^52 rounds an f64 to the nearest integer, ties to even (the
/// default rounding of every f64 addition), exactly below 2^51.
const SHIFTER: f64 = 6755399441055744.0;

impl Consts {
    /// Quantizes constants (weights, biases, scales, tables): rounded to nearest (ties to even)
    /// and saturated, whatever the type's own modes. Those modes govern casts at run time, and no
    /// value is ever cast into a constant at run time; rounding halves the error of truncation
    /// and removes its bias.
    pub fn quantize(ty: FixedType, values: impl IntoIterator<Item = f64>) -> Result<Consts> {
        let q = Consts::quantizer(ty);
        let raw = values.into_iter().map(q).collect::<Result<_>>()?;
        Ok(Consts { ty, raw })
    }

    /// One constant's bits, as `quantize` makes them.
    pub fn quantize_one(ty: FixedType, v: f64) -> Result<i128> {
        Consts::quantizer(ty)(v)
    }

    /// `quantize` of `values` onto the end of `raw`. For a type of at most 50 bits without a
    /// branch per value (a million weights in about a millisecond): every finite value rounds
    /// as `quantizer` rounds it below 2^51 steps, and saturates above (the type's largest value
    /// is below 2^50 steps); `quantizer` one by one otherwise, or for the error of a value that
    /// is not finite.
    pub fn quantize_into(ty: FixedType, values: &[f64], raw: &mut Vec<i128>) -> Result<()> {
        if ty.width <= 50 {
            let inv = ty.lsb().recip();
            let (lo, hi) = ty.raw_range();
            let (lo, hi) = (lo as i64, hi as i64);
            let start = raw.len();
            let mut finite = true;
            raw.extend(values.iter().map(|&v| {
                finite &= v.is_finite();
                ((v * inv + SHIFTER - SHIFTER) as i64).clamp(lo, hi) as i128
            }));
            if finite {
                return Ok(());
            }
            raw.truncate(start);
        }
        let q = Consts::quantizer(ty);
        for &v in values {
            raw.push(q(v)?);
        }
        Ok(())
    }

    /// `quantize_one` for many constants of one type: the type's scale and range worked out once
    /// (a million weights are quantized in a few milliseconds).
    pub fn quantizer(ty: FixedType) -> impl Fn(f64) -> Result<i128> + Copy {
        let inv = ty.lsb().recip();
        let (lo, hi) = ty.raw_range();
        let (lo, hi) = (lo as i64, hi as i64);
        let fast = ty.width <= 50;
        move |v: f64| {
            // Most constants: a scaled value below 2^52 rounds (ties to even) exactly in f64,
            // and a type of at most 52 bits saturates exactly there too.
            let scaled = v * inv;
            if fast && scaled.abs() < 2e15 {
                let rounded = (scaled + SHIFTER) - SHIFTER;
                return Ok((rounded as i64).clamp(lo, hi) as i128);
            }
            ty.with_modes(Quant::RndConv, Overflow::Sat)
                .quantize_f64(v)
                .map_err(|e| Error::input(e.0))
        }
    }
}

/// A scalar parameter (alpha, beta, clip bound) in an 18-bit type with just enough integer bits.
pub fn param_type(v: f64) -> FixedType {
    let mag = v.abs().max(1e-30);
    let int = (mag.log2().floor() as i32 + 2).clamp(-2, 17);
    FixedType::fixed(18, int)
}

pub fn param(v: f64) -> Result<Consts> {
    Consts::quantize(param_type(v), [v])
}

/// What the kernel of one layer computes, with all constants decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Kernel {
    Input,
    Dense(dense::DensePlan),
    /// y = x * scale[c] + shift[c], channel c = index % channels.
    ScaleShift {
        channels: usize,
        scale: Consts,
        shift: Consts,
    },
    Activation(activation::ActPlan),
    Clip {
        min: Option<Consts>,
        max: Option<Consts>,
    },
    /// A cast into the result type (its modes); bipolar: -lsb / +lsb by the sign.
    Quant {
        bipolar: bool,
        round: Option<crate::ir::ops::QuantRound>,
        codes: Option<(i64, i64)>,
    },
    Softmax(softmax::SoftmaxPlan),
    /// Per row of `n` values: the index of the largest (exact comparisons; the first of equal
    /// ones, or the last with `last`) in the result type.
    ArgMax {
        n: usize,
        rows: usize,
        last: bool,
    },
    Add,
    Sub,
    Mul,
    Max,
    Min,
    /// x > 0 ? x : x * slope[i % slope.len()]
    PRelu {
        slope: Consts,
    },
    Conv(conv::ConvPlan),
    Recurrent(Box<recurrent::RecurrentPlan>),
    Pool(pool::PoolPlan),
    /// y[i] = input sources[i].0 at flat index sources[i].1
    Concat {
        sources: Vec<(usize, usize)>,
    },
    /// y = x transposed: output axis k is input axis perm[k]. The source of each output is
    /// counted, not tabled (`TransposeSources`): a big image's transpose carries no index array.
    /// Wiring only. At most [`MAX_TRANSPOSE_RANK`] axes (beyond, a `Gather` with a table).
    Transpose {
        in_shape: Vec<usize>,
        perm: Vec<usize>,
    },
    /// y[i] = x[index[i]], or the fill value (raw, result type) where index[i] < 0: pad,
    /// nearest resize, a transpose of many axes. Wiring only.
    Gather {
        index: Vec<i64>,
        fill: i128,
    },
}

/// How a layer runs as a process of an io_parallel DATAFLOW top (docs/synthesis.md): the one
/// decision the generated top and the estimate both follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Process {
    /// One process `PIPELINE II=1`, its loops unrolled: a new input every cycle.
    Pipeline,
    /// A resource kernel's ReuseLoop pipelined inside a process that is not: the process starts
    /// again only after its whole run.
    Folded,
    /// A recurrent layer's steps, one loop inside the process.
    Steps,
    /// A window layer's loop over groups of positions inside the process.
    Positions,
}

impl Process {
    pub fn name(self) -> &'static str {
        match self {
            Process::Pipeline => "pipeline",
            Process::Folded => "folded",
            Process::Steps => "steps",
            Process::Positions => "positions",
        }
    }
}

impl Kernel {
    /// How this layer runs as a process of an io_parallel DATAFLOW top.
    pub fn process(&self) -> Process {
        let folded = |d: &dense::DensePlan| d.strategy == crate::ir::Strategy::Resource;
        match self {
            Kernel::Dense(d) if folded(d) => Process::Folded,
            Kernel::Conv(c) if folded(&c.dense) => Process::Folded,
            Kernel::Conv(c) if c.partitions() > 1 => Process::Positions,
            Kernel::Pool(p) if p.partitions() > 1 => Process::Positions,
            Kernel::Recurrent(r) if !r.unrolled => Process::Steps,
            _ => Process::Pipeline,
        }
    }

    /// Whether an io_parallel design holding this layer needs a DATAFLOW top instead of one
    /// pipelined function: a pipelined function unrolls every loop below it, which would undo a
    /// resource layer's ReuseLoop, a recurrent layer's step loop and a window layer's position
    /// loop (docs/synthesis.md). A static recurrent layer of latency kernels is one step per call
    /// and stays in the pipelined top.
    pub fn needs_dataflow(&self) -> bool {
        match self {
            Kernel::Recurrent(r) => (!r.rec.stateful && !r.unrolled) || !r.latency_products(),
            other => other.process() != Process::Pipeline,
        }
    }
}

/// Whether an io_parallel design of these layers has a DATAFLOW top.
pub fn dataflow_top(plans: &[LayerPlan]) -> bool {
    plans.iter().any(|p| p.kernel.needs_dataflow())
}

/// The most axes a `Kernel::Transpose` has: the C++ kernel unravels an output index over four
/// axes (hls_lib `transpose`).
pub const MAX_TRANSPOSE_RANK: usize = 4;

/// A layer ready to run or to write: its kernel, its inputs' types and its result type.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerPlan {
    pub node: NodeIndex,
    pub kernel: Kernel,
    pub input_types: Vec<FixedType>,
    pub result: FixedType,
    pub size: usize,
}

impl LayerPlan {
    /// Multiplications by nonzero weights in one call of the layer (a convolution's every
    /// position, a recurrent layer's every step).
    pub fn multiplications(&self) -> usize {
        match &self.kernel {
            Kernel::Dense(d) => d.multiplications,
            Kernel::Conv(c) => c.dense.multiplications * c.positions(),
            Kernel::Recurrent(r) => r.multiplications_per_step() * r.seq,
            Kernel::Input
            | Kernel::ScaleShift { .. }
            | Kernel::Activation(_)
            | Kernel::Clip { .. }
            | Kernel::Quant { .. }
            | Kernel::Softmax(_)
            | Kernel::ArgMax { .. }
            | Kernel::Add
            | Kernel::Sub
            | Kernel::Mul
            | Kernel::Max
            | Kernel::Min
            | Kernel::PRelu { .. }
            | Kernel::Pool(_)
            | Kernel::Concat { .. }
            | Kernel::Transpose { .. }
            | Kernel::Gather { .. } => 0,
        }
    }
}

thread_local! {
    static PLANNED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// How many times this thread has planned a whole model (`plan_model`): a command plans once
/// (`prepare` keeps the plans in `Prepared`); tests read it to prove so.
pub fn models_planned() -> usize {
    PLANNED.with(|c| c.get())
}

/// Plans every layer, in topological order.
pub fn plan_model(model: &Model) -> Result<Vec<LayerPlan>> {
    PLANNED.with(|c| c.set(c.get() + 1));
    model
        .topo_order()
        .into_iter()
        .map(|n| plan_layer(model, n).map_err(|e| e.at_node(&model.node(n).name)))
        .collect()
}

pub fn plan_layer(model: &Model, n: NodeIndex) -> Result<LayerPlan> {
    let node = model.node(n);
    let p = &node.precision;
    let inputs = model.inputs(n);
    let input_types: Vec<FixedType> = inputs
        .iter()
        .map(|&i| model.node(i).precision.result)
        .collect();
    let kernel = match &node.op {
        Op::Input => Kernel::Input,
        Op::Dense { weights, bias } => Kernel::Dense(dense::plan(
            weights,
            bias,
            p,
            node.hardware.reuse,
            node.hardware.strategy,
        )?),
        Op::ScaleShift { scale, shift } => Kernel::ScaleShift {
            channels: scale.len(),
            scale: Consts::quantize(p.weight, scale.data.iter().copied())?,
            shift: Consts::quantize(p.bias, shift.data.iter().copied())?,
        },
        Op::Activation(a) => {
            Kernel::Activation(activation::plan(a, input_types[0], p, &mut param)?)
        }
        Op::Quant {
            bipolar,
            round,
            codes,
            ty,
        } => Kernel::Quant {
            bipolar: *bipolar,
            round: *round,
            // A rounding of our own saturates explicitly (the type's range by default).
            codes: codes.or_else(|| {
                round.map(|_| {
                    let (lo, hi) = ty.raw_range();
                    (lo as i64, hi as i64)
                })
            }),
        },
        Op::Clip { min, max } => Kernel::Clip {
            min: min.map(param).transpose()?,
            max: max.map(param).transpose()?,
        },
        Op::Softmax => Kernel::Softmax(softmax::plan(
            input_types[0],
            *node.shape.last().unwrap(),
            node.size(),
            p,
        )?),
        Op::ArgMax { last } => {
            let n = *model.node(inputs[0]).shape.last().unwrap();
            Kernel::ArgMax {
                n,
                rows: model.node(inputs[0]).size() / n,
                last: *last,
            }
        }
        Op::Add => Kernel::Add,
        Op::Sub => Kernel::Sub,
        Op::Mul => Kernel::Mul,
        Op::Max => Kernel::Max,
        Op::Min => Kernel::Min,
        Op::Conv {
            window,
            groups,
            weights,
            bias,
        } => Kernel::Conv(conv::ConvPlan {
            parallel: node.hardware.parallelization,
            ..conv::plan(
                window,
                &model.node(inputs[0]).shape,
                &node.shape,
                *groups,
                weights,
                bias,
                p,
                node.hardware.reuse,
                node.hardware.strategy,
            )?
        }),
        Op::Pool {
            kind,
            window,
            count_include_pad,
        } => Kernel::Pool(pool::PoolPlan {
            parallel: node.hardware.parallelization,
            ..pool::plan(
                *kind,
                window,
                *count_include_pad,
                &model.node(inputs[0]).shape,
                &node.shape,
                input_types[0],
            )?
        }),
        Op::Concat { axis } => {
            let shapes: Vec<Vec<usize>> = inputs
                .iter()
                .map(|&i| model.node(i).shape.clone())
                .collect();
            Kernel::Concat {
                sources: crate::ir::ops::concat_sources(&shapes, *axis),
            }
        }
        Op::Recurrent(r) => Kernel::Recurrent(Box::new(recurrent::plan(
            r,
            model.node(inputs[0]).size(),
            p,
            &node.hardware,
        )?)),
        Op::Reshape => Kernel::Gather {
            index: (0..node.size() as i64).collect(),
            fill: 0,
        },
        Op::Transpose { perm } if perm.len() <= MAX_TRANSPOSE_RANK => Kernel::Transpose {
            in_shape: model.node(inputs[0]).shape.clone(),
            perm: perm.clone(),
        },
        Op::Transpose { perm } => Kernel::Gather {
            index: transpose_gather(&model.node(inputs[0]).shape, perm)
                .into_iter()
                .map(|i| i as i64)
                .collect(),
            fill: 0,
        },
        Op::Gather { index, fill } => Kernel::Gather {
            index: index.clone(),
            fill: Consts::quantize(p.result, [*fill])?.raw[0],
        },
        Op::PRelu { slope } => {
            let max = slope.data.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            Kernel::PRelu {
                slope: Consts::quantize(param_type(max), slope.data.iter().copied())?,
            }
        }
    };
    Ok(LayerPlan {
        node: n,
        kernel,
        input_types,
        result: p.result,
        size: node.size(),
    })
}

#[cfg(test)]
mod tests {
    use super::Consts;
    use crate::ir::{FixedType, Overflow, Quant};

    #[test]
    fn constants_take_the_f64_fast_path_to_the_same_bits() {
        // The fast path against the type's own rounding (to nearest, ties to even, saturating),
        // on ties, near-ties, values beyond the range and tiny ones, over many widths.
        let mut s = 0x1234_5678_9ABC_DEF0u64;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let types = [2u32, 8, 16, 18, 32, 50, 51, 60]
            .into_iter()
            .flat_map(|width| {
                [-8, 0, 1, 6, 16].into_iter().flat_map(move |int| {
                    [FixedType::fixed(width, int), FixedType::ufixed(width, int)]
                })
            });
        for t in types {
            let int = t.int;
            let slow = t.with_modes(Quant::RndConv, Overflow::Sat);
            // Far beyond every range, both signs; also through the slice path.
            let mut all = vec![1e300, -1e300, 3e15 * t.lsb(), -3e15 * t.lsb()];
            for k in 0..2000 {
                let r = next();
                let v = match k % 4 {
                    // exact ties and their neighbours
                    0 => ((r % 2001) as f64 - 1000.0 + 0.5) * t.lsb(),
                    1 => f64::from_bits(((r % 2001) as f64 * t.lsb()).to_bits() + 1),
                    2 => (r as i64 as f64) * 2f64.powi(-40),
                    _ => (r as i64 as f64) * 2f64.powi(-63) * 2f64.powi(int),
                };
                all.push(v);
            }
            let mut sliced = Vec::new();
            Consts::quantize_into(t, &all, &mut sliced).unwrap();
            assert_eq!(sliced.len(), all.len());
            for (&v, &q) in all.iter().zip(&sliced) {
                let want = slow.quantize_f64(v).unwrap();
                assert_eq!(Consts::quantize_one(t, v).unwrap(), want, "{t} {v:e}");
                assert_eq!(q, want, "{t} {v:e} (slice)");
            }
            // A value that is not finite is the one-by-one path's error.
            all.push(f64::NAN);
            let e = Consts::quantize_into(t, &all, &mut sliced).unwrap_err();
            assert_eq!(
                e.to_string(),
                Consts::quantize_one(t, f64::NAN).unwrap_err().to_string()
            );
        }
    }
}
