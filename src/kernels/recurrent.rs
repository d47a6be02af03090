//! Recurrent layers in fixed point. Per step and direction, each gate's pre-activation is summed in
//! the accumulator type in a fixed order (bias, then input products in input order, then recurrent
//! products in hidden order, then peepholes), optionally clipped, then activated: sigmoid and tanh
//! through compiler tables indexed by the accumulator's bits, relu and hard sigmoid exactly. Gate
//! values are in the table type; the hidden and cell states in the layer's result type.

use super::Consts;
use super::activation::TablePlan;
use crate::error::{Error, Result};
use crate::ir::recurrent::{Activation, Cell, Recurrent};
use crate::ir::{FixedType, Op, Precision};

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
    /// W [dirs, gates*hidden, n_in], R [dirs, gates*hidden, hidden] as weights.
    pub w: Consts,
    pub r: Consts,
    /// Per gate row: Wb + Rb, except GRU's h gate with linear_before_reset (Wb only; Rb in rb_h).
    pub bias: Consts,
    /// GRU linear_before_reset: Rb of the h gate [dirs, hidden].
    pub rb_h: Consts,
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

pub fn plan(rec: &Recurrent, in_size: usize, p: &Precision) -> Result<RecurrentPlan> {
    let n_in = rec.w.shape[2];
    let (dirs, g, hs) = (rec.direction.count(), rec.cell.gates(), rec.hidden);
    let lbr = matches!(
        rec.cell,
        Cell::Gru {
            linear_before_reset: true
        }
    );
    let mut bias = Vec::with_capacity(dirs * g * hs);
    let mut rb_h = Vec::new();
    for d in 0..dirs {
        let b = &rec.b.data[d * 2 * g * hs..(d + 1) * 2 * g * hs];
        for row in 0..g * hs {
            let h_gate = row >= 2 * hs && matches!(rec.cell, Cell::Gru { .. });
            bias.push(if lbr && h_gate {
                b[row]
            } else {
                b[row] + b[g * hs + row]
            });
            if lbr && h_gate {
                rb_h.push(b[g * hs + row]);
            }
        }
    }
    let state = p.result;
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
        w: Consts::quantize(p.weight, rec.w.data.iter().copied())?,
        r: Consts::quantize(p.weight, rec.r.data.iter().copied())?,
        bias: Consts::quantize(p.bias, bias)?,
        rb_h: Consts::quantize(p.bias, rb_h)?,
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

/// The accumulator that holds a gate's sum exactly: products of the input (x type), the hidden
/// state (result type) or r*h (gate type x result type) with weights, plus biases and peepholes.
pub fn exact_gate_accumulator(x: FixedType, p: &Precision, n_terms: usize) -> FixedType {
    let (res, w, t) = (p.result, p.weight, p.table);
    let frac = x.frac().max(res.frac()).max(t.frac() + res.frac()) + w.frac();
    let frac = frac.max(p.bias.frac());
    let grow = (usize::BITS - (n_terms + 2).leading_zeros()) as i32;
    let int = (x.int.max(res.int).max(t.int + res.int) + w.int + grow).max(p.bias.int) + 1;
    let width = (int + frac).clamp(2, crate::ir::fixed::MAX_WIDTH as i32);
    FixedType::fixed(width as u32, int.min(width))
}
