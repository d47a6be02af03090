//! Per-layer numeric plans: quantized constants, lookup tables, index shifts and loop orders.
//!
//! This is the one place where a layer's arithmetic is decided. The emulator executes a plan; the
//! Vitis backend writes the same constants and shifts into the C++ whose kernels (hls_lib/) loop
//! in the same order. Nothing here depends on the backend or the emulator.

pub mod activation;
pub mod conv;
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

impl Consts {
    /// Quantizes constants (weights, biases, scales, tables): rounded to nearest (ties to even)
    /// and saturated, whatever the type's own modes. Those modes govern casts at run time, and no
    /// value is ever cast into a constant at run time; rounding halves the error of truncation
    /// and removes its bias.
    pub fn quantize(ty: FixedType, values: impl IntoIterator<Item = f64>) -> Result<Consts> {
        let q = ty.with_modes(Quant::RndConv, Overflow::Sat);
        let raw = values
            .into_iter()
            .map(|v| q.quantize_f64(v).map_err(|e| Error::input(e.0)))
            .collect::<Result<_>>()?;
        Ok(Consts { ty, raw })
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
    /// y[i] = x[index[i]], or the fill value (raw, result type) where index[i] < 0: transpose,
    /// reshape, pad, nearest resize. Wiring only.
    Gather {
        index: Vec<i64>,
        fill: i128,
    },
}

/// A layer ready to run or to write: its kernel, its inputs' types and its result type.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerPlan {
    pub node: NodeIndex,
    pub kernel: Kernel,
    pub input_types: Vec<FixedType>,
    pub result: FixedType,
    pub size: usize,
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
