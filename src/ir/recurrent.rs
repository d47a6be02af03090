//! Recurrent layers as the ONNX specification defines them (LSTM, GRU, RNN): cell kinds,
//! directions, gate activations, and their float semantics (the reference the fixed-point kernels
//! will be checked against).
//!
//! Weights stay in ONNX's own layout: W [dirs, gates*hidden, input], R [dirs, gates*hidden,
//! hidden], B [dirs, 2*gates*hidden] (input biases then recurrent biases), gate order iofc for
//! LSTM, zrh for GRU.

pub use super::activation::Activation;
use super::tensor::Tensor;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cell {
    Lstm {
        #[serde(default)]
        input_forget: bool,
    },
    Gru {
        #[serde(default)]
        linear_before_reset: bool,
    },
    Rnn,
}

impl Cell {
    pub fn gates(&self) -> usize {
        match self {
            Cell::Lstm { .. } => 4,
            Cell::Gru { .. } => 3,
            Cell::Rnn => 1,
        }
    }
    /// Activations per direction (f, g, h).
    pub fn activation_count(&self) -> usize {
        match self {
            Cell::Lstm { .. } => 3,
            Cell::Gru { .. } => 2,
            Cell::Rnn => 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Forward,
    Reverse,
    Bidirectional,
}

impl Direction {
    pub fn count(self) -> usize {
        if self == Direction::Bidirectional {
            2
        } else {
            1
        }
    }
}

/// Which of the operator's outputs a node gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecurrentOutput {
    /// Y: every step, [seq, dirs, hidden].
    Sequence,
    /// Y_h: the last hidden state of each direction, [dirs, hidden].
    LastHidden,
    /// Y_c: the last cell state of each direction (LSTM), [dirs, hidden].
    LastCell,
}

/// Hidden and cell states of every direction, [dirs * hidden] each: f64 for the float
/// reference, raw bits of the state type for the fixed-point emulator.
#[derive(Debug, Clone, PartialEq)]
pub struct State<T> {
    pub h: Vec<T>,
    pub c: Vec<T>,
}

/// A recurrent layer's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recurrent {
    pub cell: Cell,
    pub direction: Direction,
    pub hidden: usize,
    /// `cell.activation_count()` per direction, forward's first.
    pub activations: Vec<Activation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip: Option<f64>,
    pub w: Tensor,
    pub r: Tensor,
    pub b: Tensor,
    /// LSTM peepholes [dirs, 3*hidden] (i, o, f).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p: Option<Tensor>,
    /// [dirs, hidden]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_h: Option<Tensor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_c: Option<Tensor>,
    pub output: RecurrentOutput,
    /// Static: one time step per call, the state kept between calls (set by the
    /// step_recurrent pass from the configuration, never read from a model file).
    #[serde(skip)]
    pub stateful: bool,
}

impl Recurrent {
    pub fn input_size(&self) -> usize {
        self.w.shape[2]
    }

    /// Output shape for a sequence of `seq` steps.
    pub fn output_shape(&self, seq: usize) -> Vec<usize> {
        let dirs = self.direction.count();
        match self.output {
            RecurrentOutput::Sequence => vec![seq, dirs, self.hidden],
            _ => vec![dirs, self.hidden],
        }
    }

    /// The state before the first step: initial_h and initial_c, or zeros.
    pub fn initial_state_f64(&self) -> State<f64> {
        let n = self.direction.count() * self.hidden;
        let or_zero = |t: &Option<Tensor>| t.as_ref().map_or(vec![0.0; n], |t| t.data.clone());
        State {
            h: or_zero(&self.initial_h),
            c: or_zero(&self.initial_c),
        }
    }

    /// Float evaluation of x [seq, input] (row-major) from the initial state.
    pub fn run_f64(&self, x: &[f64]) -> Vec<f64> {
        self.run_f64_from(x, &mut self.initial_state_f64())
    }

    /// Float evaluation of x [seq, input] from `state`, which is left holding the final state
    /// (a static layer's state between calls).
    pub fn run_f64_from(&self, x: &[f64], state: &mut State<f64>) -> Vec<f64> {
        let (n_in, hs) = (self.input_size(), self.hidden);
        let seq = x.len() / n_in;
        let dirs = self.direction.count();
        let g = self.cell.gates();
        let mut y = vec![0.0; seq * dirs * hs];
        for d in 0..dirs {
            let reverse = self.direction == Direction::Reverse || d == 1;
            let acts = &self.activations[d * self.cell.activation_count()..];
            let w = &self.w.data[d * g * hs * n_in..];
            let r = &self.r.data[d * g * hs * hs..];
            let b = &self.b.data[d * 2 * g * hs..];
            let mut h: Vec<f64> = state.h[d * hs..(d + 1) * hs].to_vec();
            let mut c: Vec<f64> = state.c[d * hs..(d + 1) * hs].to_vec();
            let clip = |v: f64| match self.clip {
                Some(cl) => v.clamp(-cl, cl),
                None => v,
            };
            // gate k, unit j: Wb + Rb + x W^T (+ h R^T unless `no_r`)
            let pre = |k: usize, j: usize, xt: &[f64], h: &[f64], with_r: bool| {
                let row = k * hs + j;
                let mut s = b[row] + if with_r { b[g * hs + row] } else { 0.0 };
                s += (0..n_in).map(|i| xt[i] * w[row * n_in + i]).sum::<f64>();
                if with_r {
                    s += (0..hs).map(|i| h[i] * r[row * hs + i]).sum::<f64>();
                }
                s
            };
            for step in 0..seq {
                let t = if reverse { seq - 1 - step } else { step };
                let xt = &x[t * n_in..(t + 1) * n_in];
                let new_h: Vec<f64> = match &self.cell {
                    Cell::Rnn => (0..hs)
                        .map(|j| acts[0].apply(clip(pre(0, j, xt, &h, true))))
                        .collect(),
                    Cell::Lstm { input_forget } => {
                        let p = self
                            .p
                            .as_ref()
                            .map(|p| &p.data[d * 3 * hs..(d + 1) * 3 * hs]);
                        let peep =
                            |k: usize, j: usize, cv: f64| p.map_or(0.0, |p| p[k * hs + j] * cv);
                        let mut nh = vec![0.0; hs];
                        let mut nc = vec![0.0; hs];
                        for j in 0..hs {
                            let i_g =
                                acts[0].apply(clip(pre(0, j, xt, &h, true) + peep(0, j, c[j])));
                            let f_g = if *input_forget {
                                1.0 - i_g
                            } else {
                                acts[0].apply(clip(pre(2, j, xt, &h, true) + peep(2, j, c[j])))
                            };
                            let c_g = acts[1].apply(clip(pre(3, j, xt, &h, true)));
                            nc[j] = f_g * c[j] + i_g * c_g;
                            let o_g =
                                acts[0].apply(clip(pre(1, j, xt, &h, true) + peep(1, j, nc[j])));
                            nh[j] = o_g * acts[2].apply(nc[j]);
                        }
                        c = nc;
                        nh
                    }
                    Cell::Gru {
                        linear_before_reset,
                    } => {
                        let z: Vec<f64> = (0..hs)
                            .map(|j| acts[0].apply(clip(pre(0, j, xt, &h, true))))
                            .collect();
                        let rg: Vec<f64> = (0..hs)
                            .map(|j| acts[0].apply(clip(pre(1, j, xt, &h, true))))
                            .collect();
                        (0..hs)
                            .map(|j| {
                                let row = 2 * hs + j;
                                let xw: f64 = b[row]
                                    + (0..n_in).map(|i| xt[i] * w[row * n_in + i]).sum::<f64>();
                                let hr = if *linear_before_reset {
                                    rg[j]
                                        * (b[g * hs + row]
                                            + (0..hs).map(|i| h[i] * r[row * hs + i]).sum::<f64>())
                                } else {
                                    b[g * hs + row]
                                        + (0..hs)
                                            .map(|i| rg[i] * h[i] * r[row * hs + i])
                                            .sum::<f64>()
                                };
                                let hh = acts[1].apply(clip(xw + hr));
                                (1.0 - z[j]) * hh + z[j] * h[j]
                            })
                            .collect()
                    }
                };
                h = new_h;
                for j in 0..hs {
                    y[(t * dirs + d) * hs + j] = h[j];
                }
            }
            state.h[d * hs..(d + 1) * hs].copy_from_slice(&h);
            state.c[d * hs..(d + 1) * hs].copy_from_slice(&c);
        }
        match self.output {
            RecurrentOutput::Sequence => y,
            RecurrentOutput::LastHidden => state.h.clone(),
            RecurrentOutput::LastCell => state.c.clone(),
        }
    }
}
