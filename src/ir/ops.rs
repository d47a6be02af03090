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
    Dense {
        weights: Tensor,
        bias: Tensor,
    },
    /// y = x * scale + shift per channel (last axis): BatchNormalization after folding, or an Add
    /// / Mul by constants.
    ScaleShift {
        scale: Tensor,
        shift: Tensor,
    },
    Relu,
    LeakyRelu {
        alpha: f64,
    },
    Sigmoid,
    Tanh,
    /// max(0, min(1, alpha * x + beta))
    HardSigmoid {
        alpha: f64,
        beta: f64,
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
    /// Elementwise sum of two inputs of the same shape.
    Add,
    /// Same data, new shape (the node's shape).
    Reshape,
    /// Output axis k is input axis perm[k].
    Transpose {
        perm: Vec<usize>,
    },
}

impl Op {
    /// The snake_case name used in the JSON format, the config and messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Input => "input",
            Op::Dense { .. } => "dense",
            Op::ScaleShift { .. } => "scale_shift",
            Op::Relu => "relu",
            Op::LeakyRelu { .. } => "leaky_relu",
            Op::Sigmoid => "sigmoid",
            Op::Tanh => "tanh",
            Op::HardSigmoid { .. } => "hard_sigmoid",
            Op::Clip { .. } => "clip",
            Op::Softmax => "softmax",
            Op::Add => "add",
            Op::Reshape => "reshape",
            Op::Transpose { .. } => "transpose",
        }
    }

    /// How many inputs the op takes.
    pub fn arity(&self) -> usize {
        match self {
            Op::Input => 0,
            Op::Add => 2,
            _ => 1,
        }
    }

    /// Ops that only move data: their result type is their input's type.
    pub fn moves_data_only(&self) -> bool {
        matches!(self, Op::Reshape | Op::Transpose { .. })
    }

    /// Ops whose kernel reads a lookup table.
    pub fn uses_table(&self) -> bool {
        matches!(self, Op::Sigmoid | Op::Tanh | Op::Softmax)
    }

    /// Ops with a reuse factor (multiplications that can be folded onto fewer multipliers).
    pub fn has_reuse(&self) -> bool {
        matches!(self, Op::Dense { .. })
    }
}
