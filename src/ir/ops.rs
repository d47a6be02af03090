//! The layer operations of the IR. Each variant carries exactly the parameters its kernel needs;
//! layouts are channels-last and the batch dimension is gone.

use super::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// One layer. Shapes live on the node, not here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// The model input.
    Input,
    /// y[j] = b[j] + sum_i x[i] * w[i][j]; `weights` is [n_in, n_out], `bias` [n_out].
    Dense { weights: Tensor, bias: Tensor },
    /// y = x * scale + shift per channel (last axis): BatchNormalization after folding, or an Add
    /// / Mul by constants.
    ScaleShift { scale: Tensor, shift: Tensor },
    /// An activation function applied to every value (the same family as recurrent gates').
    Activation(super::activation::Activation),
    /// x > 0 ? x : slope[c] x, per channel (last axis) or one slope. `prelu` as its kind;
    /// `p_relu` (serde's spelling of the name) is read too.
    #[serde(rename = "prelu", alias = "p_relu")]
    PRelu { slope: Tensor },
    /// y[i] = x[index[i]], or `fill` where index[i] < 0: Pad and nearest Resize, wiring only.
    Gather { index: Vec<i64>, fill: f64 },
    /// A quantizer from the model (QONNX Quant / BipolarQuant / Trunc, QuantizeLinear +
    /// DequantizeLinear): rounds and saturates into `ty` with `ty`'s own modes, exactly as the
    /// source model computes; `bipolar`: -lsb or +lsb of `ty` by the sign (x >= 0 is +).
    Quant {
        ty: crate::ir::FixedType,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        bipolar: bool,
        /// A rounding no ap_fixed mode gives (QONNX CEIL, UP); None: `ty`'s quantization mode.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        round: Option<QuantRound>,
        /// Codes (raw values of `ty`) saturate into [lo, hi] (QONNX ranges no overflow mode
        /// gives, e.g. unsigned narrow); None: `ty`'s overflow mode.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        codes: Option<(i64, i64)>,
    },
    /// Clamp to [min, max]; an absent bound does not clamp.
    Clip {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<f64>,
    },
    /// Softmax over the last axis.
    Softmax,
    /// The index of the largest value over the last axis (the first of equal ones, or the last
    /// with `last`), as an integer; the node's shape is the input's with that axis 1 (so an
    /// io_stream design keeps its pixels; ONNX's keepdims=0 is a reshape after it).
    ArgMax {
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        last: bool,
    },
    /// Elementwise sum of two inputs of the same size.
    Add,
    /// Elementwise difference a - b.
    Sub,
    /// Elementwise product.
    Mul,
    /// Elementwise maximum of two inputs of the same size.
    Max,
    /// Elementwise minimum.
    Min,
    /// Convolution over 1 or 2 spatial axes of channels-last data ([L, C] or [H, W, C]).
    /// `weights` is [groups, kernel..., in_channels / groups, out_channels / groups]; groups is 1
    /// or the number of input channels (depthwise). Output channel g * (out/groups) + j.
    Conv {
        window: Window,
        groups: usize,
        weights: Tensor,
        bias: Tensor,
    },
    /// Max or average over windows of each channel; padding never wins a max, and counts in an
    /// average only with `count_include_pad`.
    Pool {
        kind: PoolKind,
        window: Window,
        #[serde(default)]
        count_include_pad: bool,
    },
    /// LSTM, GRU or RNN over a sequence [seq, input] (see ir::recurrent).
    Recurrent(Box<super::recurrent::Recurrent>),
    /// Joins two inputs along an axis (IR axis of the channels-last data).
    Concat { axis: usize },
    /// Same data, new shape (the node's shape).
    Reshape,
    /// Output axis k is input axis perm[k].
    Transpose { perm: Vec<usize> },
}

/// Roundings of a quantizer beyond ap_fixed's modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuantRound {
    /// Toward +infinity.
    Ceil,
    /// Away from zero.
    Up,
}

impl QuantRound {
    /// The code of `raw` (a value with `shift` more fractional bits than the code) rounded.
    pub fn apply(self, raw: i128, shift: i32) -> i128 {
        if shift <= 0 {
            return raw << (-shift);
        }
        let q = raw >> shift;
        let inexact = raw != q << shift;
        match self {
            QuantRound::Ceil => q + inexact as i128,
            QuantRound::Up => q + (inexact && raw >= 0) as i128,
        }
    }
}

/// The geometry of a sliding window over the spatial axes (all but the last, channel axis).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub kernel: Vec<usize>,
    pub strides: Vec<usize>,
    pub dilations: Vec<usize>,
    pub pads_begin: Vec<usize>,
    pub pads_end: Vec<usize>,
}

impl Window {
    /// Output size of each spatial axis for input sizes `input`.
    pub fn output(&self, input: &[usize]) -> Option<Vec<usize>> {
        input
            .iter()
            .enumerate()
            .map(|(a, &n)| {
                let span = (self.kernel[a] - 1) * self.dilations[a] + 1;
                let padded = n + self.pads_begin[a] + self.pads_end[a];
                (padded >= span && self.strides[a] > 0)
                    .then(|| (padded - span) / self.strides[a] + 1)
            })
            .collect()
    }
    /// Number of kernel positions.
    pub fn size(&self) -> usize {
        self.kernel.iter().product()
    }

    /// For each output position (row-major over the spatial axes) and each kernel position
    /// (row-major), the input position it reads (row-major spatial index), or None in padding.
    pub fn taps(&self, input: &[usize]) -> Vec<Vec<Option<usize>>> {
        let mut all = Vec::new();
        self.for_each_position(input, |taps| all.push(taps.to_vec()));
        all
    }

    /// `taps`, one output position at a time into one buffer: what a large image needs (its
    /// positions' tap lists would take more memory than its values).
    pub fn for_each_position(&self, input: &[usize], f: impl FnMut(&[Option<usize>])) {
        self.for_positions(input, 0..self.positions(input), f)
    }

    /// Output positions of the window over `input`.
    pub fn positions(&self, input: &[usize]) -> usize {
        self.output(input).unwrap_or_default().iter().product()
    }

    /// `for_each_position` over the output positions `range` only (a share of the work).
    pub fn for_positions(
        &self,
        input: &[usize],
        range: std::ops::Range<usize>,
        mut f: impl FnMut(&[Option<usize>]),
    ) {
        let out = self.output(input).unwrap_or_default();
        let sr = input.len();
        let n_k = self.size();
        let kpos: Vec<Vec<usize>> = (0..n_k).map(|k| unflatten(k, &self.kernel)).collect();
        let mut taps = vec![None; n_k];
        for o in range {
            let opos = unflatten(o, &out);
            for (t, kp) in taps.iter_mut().zip(&kpos) {
                let mut idx = 0;
                *t = None;
                let mut inside = true;
                for a in 0..sr {
                    let p = (opos[a] * self.strides[a] + kp[a] * self.dilations[a]) as isize
                        - self.pads_begin[a] as isize;
                    if p < 0 || p >= input[a] as isize {
                        inside = false;
                        break;
                    }
                    idx = idx * input[a] + p as usize;
                }
                if inside {
                    *t = Some(idx);
                }
            }
            f(&taps);
        }
    }
}

/// A per-spatial-axis list as (height, width): a 1D window is 1 x L (`fill` for the height).
/// The C++ kernels see every window this way. One row of L: an io_stream window process
/// (hlsrs_stream.h) runs one pipelined loop over the pixels with a shift-register window and a
/// line buffer per row it spans above the current one, so a 1D window needs no line buffer and
/// answers a sample as soon as the window fills.
pub fn as_hw(v: &[usize], fill: usize) -> (usize, usize) {
    if v.len() == 2 {
        (v[0], v[1])
    } else {
        (fill, v[0])
    }
}

/// Row-major coordinates of a flat index.
pub fn unflatten(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut c = vec![0; shape.len()];
    for a in (0..shape.len()).rev() {
        c[a] = i % shape[a];
        i /= shape[a];
    }
    c
}

/// For a concatenation of `shapes` along `axis`: (input, flat index in it) of each output value.
pub fn concat_sources(shapes: &[Vec<usize>], axis: usize) -> Vec<(usize, usize)> {
    let mut out_shape = shapes[0].clone();
    out_shape[axis] = shapes.iter().map(|s| s[axis]).sum();
    let n: usize = out_shape.iter().product();
    (0..n)
        .map(|o| {
            let mut c = unflatten(o, &out_shape);
            let mut k = 0;
            while c[axis] >= shapes[k][axis] {
                c[axis] -= shapes[k][axis];
                k += 1;
            }
            let flat = c.iter().zip(&shapes[k]).fold(0, |acc, (x, d)| acc * d + x);
            (k, flat)
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolKind {
    Max,
    Average,
}

impl Op {
    /// The snake_case name used in the JSON format, the config and messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Input => "input",
            Op::Dense { .. } => "dense",
            Op::ScaleShift { .. } => "scale_shift",
            Op::Activation(a) => a.name(),
            Op::PRelu { .. } => "prelu",
            Op::Gather { .. } => "gather",
            Op::Clip { .. } => "clip",
            Op::Quant { .. } => "quant",
            Op::Softmax => "softmax",
            Op::ArgMax { .. } => "argmax",
            Op::Add => "add",
            Op::Sub => "sub",
            Op::Mul => "mul",
            Op::Max => "max",
            Op::Min => "min",
            Op::Conv { .. } => "conv",
            Op::Pool {
                kind: PoolKind::Max,
                ..
            } => "max_pool",
            Op::Pool { .. } => "average_pool",
            Op::Concat { .. } => "concat",
            Op::Recurrent(r) => match r.cell {
                super::recurrent::Cell::Lstm { .. } => "lstm",
                super::recurrent::Cell::Gru { .. } => "gru",
                super::recurrent::Cell::Rnn => "rnn",
            },
            Op::Reshape => "reshape",
            Op::Transpose { .. } => "transpose",
        }
    }

    /// How many inputs the op takes.
    pub fn arity(&self) -> usize {
        match self {
            Op::Input => 0,
            Op::Add | Op::Sub | Op::Mul | Op::Max | Op::Min | Op::Concat { .. } => 2,
            Op::Dense { .. }
            | Op::ScaleShift { .. }
            | Op::Activation(_)
            | Op::PRelu { .. }
            | Op::Gather { .. }
            | Op::Quant { .. }
            | Op::Clip { .. }
            | Op::Softmax
            | Op::ArgMax { .. }
            | Op::Conv { .. }
            | Op::Pool { .. }
            | Op::Recurrent(_)
            | Op::Reshape
            | Op::Transpose { .. } => 1,
        }
    }

    /// Ops that only move data: their result type is their input's type.
    pub fn moves_data_only(&self) -> bool {
        matches!(self, Op::Reshape | Op::Transpose { .. } | Op::Gather { .. })
    }

    /// Ops whose meaning depends on their input's shape, not only its flat values: a reshape
    /// feeding one of them must stay.
    pub fn reads_input_shape(&self) -> bool {
        matches!(
            self,
            Op::Transpose { .. } | Op::Concat { .. } | Op::Conv { .. } | Op::Pool { .. }
        )
    }

    /// Ops whose kernel reads a lookup table.
    pub fn uses_table(&self) -> bool {
        match self {
            Op::Softmax => true,
            Op::Activation(a) => matches!(a.form(), super::activation::Form::Table(_)),
            Op::Input
            | Op::Dense { .. }
            | Op::ScaleShift { .. }
            | Op::PRelu { .. }
            | Op::Gather { .. }
            | Op::Quant { .. }
            | Op::Clip { .. }
            | Op::ArgMax { .. }
            | Op::Add
            | Op::Sub
            | Op::Mul
            | Op::Max
            | Op::Min
            | Op::Conv { .. }
            | Op::Pool { .. }
            | Op::Recurrent(_)
            | Op::Concat { .. }
            | Op::Reshape
            | Op::Transpose { .. } => false,
        }
    }

    /// Ops with a reuse factor (multiplications that can be folded onto fewer multipliers).
    pub fn has_reuse(&self) -> bool {
        !self.matrix_products().is_empty()
    }

    /// The matrix products (n_in x n_out) a layer computes per output position or time step, in
    /// the order the reuse factors apply: a recurrent layer's input product first, then its
    /// recurrent products (which share the recurrent reuse factor).
    pub fn matrix_products(&self) -> Vec<(usize, usize)> {
        match self {
            Op::Dense { weights, .. } => vec![(weights.shape[0], weights.shape[1])],
            Op::Conv { weights, .. } => {
                let s = &weights.shape;
                vec![(s[1..s.len() - 1].iter().product(), s[s.len() - 1])]
            }
            Op::Recurrent(r) => {
                use super::recurrent::Cell;
                let (g, hs) = (r.cell.gates(), r.hidden);
                match r.cell {
                    Cell::Gru {
                        linear_before_reset: false,
                    } => vec![(r.input_size(), g * hs), (hs, 2 * hs), (hs, hs)],
                    _ => vec![(r.input_size(), g * hs), (hs, g * hs)],
                }
            }
            // No constant products.
            Op::Input
            | Op::ScaleShift { .. }
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
            | Op::Transpose { .. } => vec![],
        }
    }
}
