//! Recurrent layers in fixed point. Per step and direction, two dense products give each gate's
//! partial sums in the accumulator type: the input product x W^T + (Wb + Rb) and the recurrent
//! product h R^T (each a dense kernel with its own reuse factor and multiply-accumulate order);
//! their sum (plus peepholes) is optionally clipped, then activated: sigmoid and tanh through
//! compiler tables indexed by the accumulator's bits, relu and hard sigmoid exactly. Gate values
//! are in the table type; the hidden and cell states in the layer's state type. GRU's h gate
//! without linear_before_reset multiplies R_h by r*h, rounded to the state type first.

use super::Consts;
use super::activation::TablePlan;
use super::dense::DensePlan;
use crate::error::{Error, Result};
use crate::ir::recurrent::{Activation, Cell, Recurrent};
use crate::ir::{FixedType, Hardware, Op, Precision, Tensor};

/// A gate activation in fixed point.
#[derive(Debug, Clone, PartialEq)]
pub enum GateAct {
    Table(TablePlan),
    Relu,
    HardSigmoid { alpha: Consts, beta: Consts },
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecurrentPlan {
    pub rec: Recurrent,
    pub n_in: usize,
    pub seq: usize,
    /// Per direction: x -> every gate row; biases Wb + Rb (GRU's h gate with linear_before_reset:
    /// Wb only).
    pub wx: Vec<DensePlan>,
    /// Per direction: h -> gate rows (all of them; GRU without linear_before_reset: z and r only).
    /// Biases zero, except GRU's h gate with linear_before_reset: its Rb.
    pub rh: Vec<DensePlan>,
    /// GRU without linear_before_reset, per direction: r*h -> h-gate rows.
    pub rhh: Vec<DensePlan>,
    pub p: Option<Consts>,
    pub clip: Option<Consts>,
    /// The one type of every scalar parameter (hard sigmoid alpha/beta, clip).
    pub param: FixedType,
    pub accum: FixedType,
    pub state: FixedType,
    pub gate_type: FixedType,
    /// f, g, h per direction (as many as the cell uses).
    pub acts: Vec<GateAct>,
    pub h0: Consts,
    pub c0: Consts,
}

fn gate_act(
    a: &Activation,
    accum: FixedType,
    p: &Precision,
    param_ty: FixedType,
) -> Result<GateAct> {
    let param = |v: f64| Consts::quantize(param_ty, [v]);
    Ok(match a {
        Activation::Sigmoid => {
            GateAct::Table(super::activation::table_plan(&Op::Sigmoid, accum, p)?)
        }
        Activation::Tanh => GateAct::Table(super::activation::table_plan(&Op::Tanh, accum, p)?),
        Activation::Relu => GateAct::Relu,
        Activation::HardSigmoid { alpha, beta } => GateAct::HardSigmoid {
            alpha: param(*alpha)?,
            beta: param(*beta)?,
        },
        other => {
            return Err(Error::input(format!(
                "recurrent activation {other:?} has no fixed-point kernel; supported: Sigmoid, Tanh, Relu, HardSigmoid"
            )));
        }
    })
}

/// Rows `rows` of one direction's [gates*hidden, n] matrix as a dense layer's [n, rows] weights.
fn dense_rows(m: &Tensor, d: usize, rows: std::ops::Range<usize>, bias: Vec<f64>) -> (Tensor, Tensor) {
    let (gh, n) = (m.shape[1], m.shape[2]);
    let base = d * gh * n;
    let n_out = rows.len();
    let data = (0..n)
        .flat_map(|i| rows.clone().map(move |row| (row, i)))
        .map(|(row, i)| m.data[base + row * n + i])
        .collect();
    (
        Tensor::new(vec![n, n_out], data),
        Tensor::new(vec![n_out], bias),
    )
}

pub fn plan(
    rec: &Recurrent,
    in_size: usize,
    p: &Precision,
    hw: &Hardware,
) -> Result<RecurrentPlan> {
    let n_in = rec.w.shape[2];
    let (dirs, g, hs) = (rec.direction.count(), rec.cell.gates(), rec.hidden);
    let lbr = matches!(
        rec.cell,
        Cell::Gru {
            linear_before_reset: true
        }
    );
    let (mut wx, mut rh, mut rhh) = (Vec::new(), Vec::new(), Vec::new());
    let (reuse, rreuse, strategy) = (hw.reuse, hw.recurrent_reuse, hw.strategy);
    let dense = |(w, b): (Tensor, Tensor), reuse| super::dense::plan(&w, &b, p, reuse, strategy);
    for d in 0..dirs {
        let b = &rec.b.data[d * 2 * g * hs..(d + 1) * 2 * g * hs];
        let is_gru = matches!(rec.cell, Cell::Gru { .. });
        let h_gate = |row: usize| is_gru && row >= 2 * hs;
        let wx_bias = (0..g * hs)
            .map(|row| {
                if lbr && h_gate(row) {
                    b[row]
                } else {
                    b[row] + b[g * hs + row]
                }
            })
            .collect();
        wx.push(dense(dense_rows(&rec.w, d, 0..g * hs, wx_bias), reuse)?);
        let rh_rows = if is_gru && !lbr { 2 * hs } else { g * hs };
        let rh_bias = (0..rh_rows)
            .map(|row| if lbr && h_gate(row) { b[g * hs + row] } else { 0.0 })
            .collect();
        rh.push(dense(dense_rows(&rec.r, d, 0..rh_rows, rh_bias), rreuse)?);
        if is_gru && !lbr {
            rhh.push(dense(
                dense_rows(&rec.r, d, 2 * hs..3 * hs, vec![0.0; hs]),
                rreuse,
            )?);
        }
    }
    let state = p.state;
    // Gate sums: products of the input or the hidden state (or r*h for GRU) with weights.
    let accum = p.accum;
    let scalars = rec.activations.iter().flat_map(|a| match a {
        Activation::HardSigmoid { alpha, beta } => vec![alpha.abs(), beta.abs()],
        _ => vec![],
    });
    let max = scalars.chain(rec.clip).fold(1.0f64, f64::max);
    let param_ty = super::param_type(max);
    let mut acts = Vec::new();
    let per_dir = rec.cell.activation_count();
    for (k, a) in rec.activations.iter().enumerate() {
        // LSTM's third activation reads the cell state, the others a gate sum.
        let reads = if matches!(rec.cell, Cell::Lstm { .. }) && k % per_dir == 2 {
            state
        } else {
            accum
        };
        acts.push(gate_act(a, reads, p, param_ty)?);
    }
    let zeros = |n| vec![0.0; n];
    Ok(RecurrentPlan {
        rec: rec.clone(),
        n_in,
        seq: in_size / n_in,
        wx,
        rh,
        rhh,
        p: rec
            .p
            .as_ref()
            .map(|t| Consts::quantize(p.weight, t.data.iter().copied()))
            .transpose()?,
        clip: rec
            .clip
            .map(|c| Consts::quantize(param_ty, [c]))
            .transpose()?,
        param: param_ty,
        accum,
        state,
        gate_type: p.table,
        acts,
        h0: Consts::quantize(
            state,
            rec.initial_h
                .as_ref()
                .map_or(zeros(dirs * hs), |t| t.data.clone()),
        )?,
        c0: Consts::quantize(
            state,
            rec.initial_c
                .as_ref()
                .map_or(zeros(dirs * hs), |t| t.data.clone()),
        )?,
    })
}

/// The accumulator that holds a gate's sum exactly: products of the input (x type) or the hidden
/// state (state type; GRU's r*h is rounded to it) with weights, plus biases and peepholes (state x
/// weight), and GRU's r * (h-gate sum) with linear_before_reset.
pub fn exact_gate_accumulator(x: FixedType, p: &Precision, n_terms: usize) -> FixedType {
    let (res, w, t) = (p.state, p.weight, p.table);
    let frac = x.frac().max(res.frac()) + w.frac();
    let frac = frac.max(p.bias.frac());
    let grow = (usize::BITS - (n_terms + 2).leading_zeros()) as i32;
    let int = (x.int.max(res.int).max(t.int + res.int) + w.int + grow).max(p.bias.int) + 1;
    let width = (int + frac).clamp(2, crate::ir::fixed::MAX_WIDTH as i32);
    FixedType::fixed(width as u32, int.min(width))
}
