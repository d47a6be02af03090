//! The pointwise activation functions, one family for activation layers (`Op::Activation`) and
//! recurrent gates (`Recurrent::activations`): their parameters, their f64 meaning and the form
//! fixed point computes them in. Adding one is a variant here (name, `apply`, `form`) plus a
//! frontend line; the kernels, the emulator and the C++ (`hlsrs::activate`) follow `form`.

use serde::{Deserialize, Serialize};

/// An activation function. In the JSON description a layer spells it `{"op": "leaky_relu",
/// "alpha": 0.1}` and a recurrent gate `{"fn": "leaky_relu", "alpha": 0.1}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fn", rename_all = "snake_case")]
pub enum Activation {
    /// max(0, x)
    Relu,
    /// x >= 0 ? x : alpha x
    LeakyRelu {
        alpha: f64,
    },
    /// x > alpha ? x : 0
    ThresholdedRelu {
        alpha: f64,
    },
    /// max(0, min(1, alpha x + beta))
    HardSigmoid {
        alpha: f64,
        beta: f64,
    },
    /// alpha x + beta
    Affine {
        alpha: f64,
        beta: f64,
    },
    Sigmoid,
    Tanh,
    /// alpha tanh(beta x)
    ScaledTanh {
        alpha: f64,
        beta: f64,
    },
    /// x >= 0 ? x : alpha (exp(x) - 1)
    Elu {
        alpha: f64,
    },
    /// gamma (x >= 0 ? x : alpha (exp(x) - 1))
    Selu {
        alpha: f64,
        gamma: f64,
    },
    /// x / (1 + |x|)
    Softsign,
    /// ln(1 + exp(x))
    Softplus,
    /// x tanh(softplus(x))
    Mish,
}

/// How fixed point computes an activation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Form {
    /// Piecewise linear: computed exactly from the input's bits with quantized parameters.
    Exact(Piecewise<f64>),
    /// Looked up in a table of the function (kernels::activation plans it).
    Table(TableSpec),
}

/// The piecewise-linear shapes the kernels compute exactly; `P` is a parameter: f64 here, the
/// quantized constant in a plan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Piecewise<P> {
    Relu,
    LeakyRelu { alpha: P },
    ThresholdedRelu { alpha: P },
    HardSigmoid { alpha: P, beta: P },
    Affine { alpha: P, beta: P },
}

impl<P> Piecewise<P> {
    /// The same shape with every parameter mapped by `f`.
    pub fn try_map<Q, E>(self, mut f: impl FnMut(P) -> Result<Q, E>) -> Result<Piecewise<Q>, E> {
        Ok(match self {
            Piecewise::Relu => Piecewise::Relu,
            Piecewise::LeakyRelu { alpha } => Piecewise::LeakyRelu { alpha: f(alpha)? },
            Piecewise::ThresholdedRelu { alpha } => Piecewise::ThresholdedRelu { alpha: f(alpha)? },
            Piecewise::HardSigmoid { alpha, beta } => Piecewise::HardSigmoid {
                alpha: f(alpha)?,
                beta: f(beta)?,
            },
            Piecewise::Affine { alpha, beta } => Piecewise::Affine {
                alpha: f(alpha)?,
                beta: f(beta)?,
            },
        })
    }
}

/// A table over [-2^range_log2, 2^range_log2): where the function's shape lies; beyond it the
/// function is flat (the table's end entries hold) or exact in a way `mode` says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TableSpec {
    pub range_log2: i32,
    pub mode: TableMode,
    /// The slope of the positive side (`TableMode::PositiveScale`).
    pub gamma: f64,
}

/// How a table kernel uses its table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableMode {
    /// y = table(x)
    Table = 0,
    /// y = x > 0 ? x : table(x)
    PositivePass = 1,
    /// y = x > 0 ? gamma * x : table(x)
    PositiveScale = 2,
    /// y = x >= 2^range_log2 ? x : table(x)
    AbovePass = 3,
}

impl TableSpec {
    fn new(range_log2: i32, mode: TableMode) -> TableSpec {
        TableSpec {
            range_log2,
            mode,
            gamma: 1.0,
        }
    }
}

impl Activation {
    /// The snake_case name: the layer kind in messages and the config, the JSON spelling.
    pub fn name(&self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::LeakyRelu { .. } => "leaky_relu",
            Activation::ThresholdedRelu { .. } => "thresholded_relu",
            Activation::HardSigmoid { .. } => "hard_sigmoid",
            Activation::Affine { .. } => "affine",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::ScaledTanh { .. } => "scaled_tanh",
            Activation::Elu { .. } => "elu",
            Activation::Selu { .. } => "selu",
            Activation::Softsign => "softsign",
            Activation::Softplus => "softplus",
            Activation::Mish => "mish",
        }
    }

    /// The function in f64: the float reference and the values a table holds.
    pub fn apply(&self, x: f64) -> f64 {
        let elu = |alpha: f64| if x >= 0.0 { x } else { alpha * x.exp_m1() };
        match *self {
            Activation::Relu => x.max(0.0),
            Activation::LeakyRelu { alpha } => {
                if x >= 0.0 {
                    x
                } else {
                    alpha * x
                }
            }
            Activation::ThresholdedRelu { alpha } => {
                if x > alpha {
                    x
                } else {
                    0.0
                }
            }
            Activation::HardSigmoid { alpha, beta } => (alpha * x + beta).clamp(0.0, 1.0),
            Activation::Affine { alpha, beta } => alpha * x + beta,
            Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            Activation::Tanh => x.tanh(),
            Activation::ScaledTanh { alpha, beta } => alpha * (beta * x).tanh(),
            Activation::Elu { alpha } => elu(alpha),
            Activation::Selu { alpha, gamma } => gamma * elu(alpha),
            Activation::Softsign => x / (1.0 + x.abs()),
            Activation::Softplus => x.exp().ln_1p(),
            Activation::Mish => x * x.exp().ln_1p().tanh(),
        }
    }

    /// How fixed point computes it. Table ranges: where the function has its shape (sigmoid and
    /// tanh are flat to 3e-4 beyond 8; softsign's tail is slow, so 16); where a side is exact and
    /// cheap (elu and selu above 0, softplus above the range) it is computed, not tabled.
    pub fn form(&self) -> Form {
        match *self {
            Activation::Relu => Form::Exact(Piecewise::Relu),
            Activation::LeakyRelu { alpha } => Form::Exact(Piecewise::LeakyRelu { alpha }),
            Activation::ThresholdedRelu { alpha } => {
                Form::Exact(Piecewise::ThresholdedRelu { alpha })
            }
            Activation::HardSigmoid { alpha, beta } => {
                Form::Exact(Piecewise::HardSigmoid { alpha, beta })
            }
            Activation::Affine { alpha, beta } => Form::Exact(Piecewise::Affine { alpha, beta }),
            Activation::Sigmoid | Activation::Tanh => {
                Form::Table(TableSpec::new(3, TableMode::Table))
            }
            // tanh(beta x) is flat beyond |beta x| = 8, as the tanh table's range assumes.
            Activation::ScaledTanh { beta, .. } => Form::Table(TableSpec::new(
                (8.0 / beta.abs().max(1e-9)).log2().ceil().clamp(0.0, 16.0) as i32,
                TableMode::Table,
            )),
            Activation::Softsign => Form::Table(TableSpec::new(4, TableMode::Table)),
            Activation::Elu { .. } => Form::Table(TableSpec::new(3, TableMode::PositivePass)),
            Activation::Selu { gamma, .. } => Form::Table(TableSpec {
                gamma,
                ..TableSpec::new(3, TableMode::PositiveScale)
            }),
            Activation::Softplus => Form::Table(TableSpec::new(3, TableMode::AbovePass)),
            // x to 1e-13 above 8; below -8 within 3e-3 of 0, the table's first entry.
            Activation::Mish => Form::Table(TableSpec::new(3, TableMode::AbovePass)),
        }
    }

    /// Bounds of the values on inputs in [lo, hi], where known without searching: piecewise-
    /// linear functions have their extremes at the ends or at the kink at 0; None leaves the
    /// configured type.
    pub fn interval(&self, lo: f64, hi: f64) -> Option<(f64, f64)> {
        let ends_and_zero = || {
            let mut ys = vec![self.apply(lo), self.apply(hi)];
            if lo < 0.0 && 0.0 < hi {
                ys.push(self.apply(0.0));
            }
            Some((
                ys.iter().copied().fold(f64::INFINITY, f64::min),
                ys.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            ))
        };
        match *self {
            Activation::Relu
            | Activation::LeakyRelu { .. }
            | Activation::HardSigmoid { .. }
            | Activation::Affine { .. } => ends_and_zero(),
            // 0 up to alpha, then x: (alpha, hi] and 0.
            Activation::ThresholdedRelu { alpha } if lo <= alpha => {
                Some((alpha.min(0.0), hi.max(0.0)))
            }
            Activation::ThresholdedRelu { .. } => Some((lo, hi)),
            Activation::Sigmoid => Some((0.0, 1.0)),
            Activation::Tanh => Some((-1.0, 1.0)),
            Activation::ScaledTanh { .. }
            | Activation::Elu { .. }
            | Activation::Selu { .. }
            | Activation::Softsign
            | Activation::Softplus
            | Activation::Mish => None,
        }
    }
}
