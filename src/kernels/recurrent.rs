//! Recurrent layers in fixed point. Per step and direction, two dense products give each gate's
//! partial sums in the accumulator type: the input product x W^T + (Wb + Rb) and the recurrent
//! product h R^T (each a dense kernel with its own reuse factor and multiply-accumulate order);
//! their sum (plus peepholes) is optionally clipped, then activated: sigmoid, tanh, softsign,
//! scaled tanh, elu and softplus through compiler tables indexed by the accumulator's bits; relu,
//! leaky and thresholded relu, hard sigmoid and affine exactly. Gate values are in the table type
//! (with the state's integer bits where an activation is unbounded); the hidden and cell states
//! in the layer's state type. GRU's h gate without linear_before_reset multiplies R_h by r*h,
//! rounded to the state type first.

use super::Consts;
use super::activation::ActPlan;
use super::dense::DensePlan;
use crate::error::Result;
use crate::ir::recurrent::{Cell, Recurrent};
use crate::ir::{FixedType, Hardware, Precision, Tensor};

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
    pub acts: Vec<ActPlan>,
    pub h0: Consts,
    pub c0: Consts,
    /// Every time step unrolled (`Hardware::unroll_steps`), not the step loop pipelined.
    pub unrolled: bool,
}

impl RecurrentPlan {
    /// Every product of a step, every direction: input, recurrent, GRU's r*h.
    fn products(&self) -> impl Iterator<Item = &DensePlan> {
        self.wx.iter().chain(&self.rh).chain(&self.rhh)
    }

    /// Whether no product is a resource kernel (latency or distributed arithmetic: unrolled
    /// code), so that the step loop can be pipelined (a pipeline would unroll a resource
    /// kernel's ReuseLoop): hlsrs_recurrent.h's `pipeline_steps`, and what the estimate and the
    /// DATAFLOW decision read.
    pub fn latency_products(&self) -> bool {
        self.products()
            .all(|d| d.strategy != crate::ir::Strategy::Resource)
    }

    /// Multiplications of one time step and direction set: every product's nonzero weights.
    pub fn multiplications_per_step(&self) -> usize {
        self.products().map(|d| d.multiplications).sum()
    }
}

/// Rows `rows` of one direction's [gates*hidden, n] matrix as a dense layer's [n, rows] weights.
fn dense_rows(
    m: &Tensor,
    d: usize,
    rows: std::ops::Range<usize>,
    bias: Vec<f64>,
) -> (Tensor, Tensor) {
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

/// One product's directions (weights and biases each) planned as the groups of one kernel, then
/// split into one plan per direction that share its layout and slot count.
fn directions(
    blocks: &[(Tensor, Tensor)],
    p: &Precision,
    reuse: usize,
    strategy: crate::ir::Strategy,
) -> Result<Vec<DensePlan>> {
    if blocks.is_empty() {
        return Ok(Vec::new());
    }
    let refs: Vec<(&Tensor, &Tensor)> = blocks.iter().map(|(w, b)| (w, b)).collect();
    let all = super::dense::plan_groups(&refs, p, reuse, strategy, true)?;
    let slots = all.slots();
    Ok((0..blocks.len())
        .map(|d| {
            let raw = all.weights.raw[d * slots..(d + 1) * slots].to_vec();
            DensePlan {
                multiplications: raw.iter().filter(|&&w| w != 0).count(),
                weights: Consts {
                    ty: all.weights.ty,
                    raw,
                },
                bias: Consts {
                    ty: all.bias.ty,
                    raw: all.bias.raw[d * all.n_out..(d + 1) * all.n_out].to_vec(),
                },
                sparse: all.sparse.as_ref().map(|sp| super::dense::Sparse {
                    index: sp.index[d * slots..(d + 1) * slots].to_vec(),
                    slots,
                    lane_start: sp.lane_start.clone(),
                }),
                da: all.da.get(d).cloned().into_iter().collect(),
                ..all.clone()
            }
        })
        .collect())
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
        wx.push(dense_rows(&rec.w, d, 0..g * hs, wx_bias));
        let rh_rows = if is_gru && !lbr { 2 * hs } else { g * hs };
        let rh_bias = (0..rh_rows)
            .map(|row| {
                if lbr && h_gate(row) {
                    b[g * hs + row]
                } else {
                    0.0
                }
            })
            .collect();
        rh.push(dense_rows(&rec.r, d, 0..rh_rows, rh_bias));
        if is_gru && !lbr {
            rhh.push(dense_rows(&rec.r, d, 2 * hs..3 * hs, vec![0.0; hs]));
        }
    }
    // Each product planned over every direction as groups, so that the directions share one
    // layout and one stride (the kernel finds direction d's weights at d x slots), dense or
    // sparse (pruned weights: only the nonzero ones, padded to the fullest direction's count).
    let wx = directions(&wx, p, reuse, strategy)?;
    let rh = directions(&rh, p, rreuse, strategy)?;
    let rhh = directions(&rhh, p, rreuse, strategy)?;
    let state = p.state;
    // Gate sums: products of the input or the hidden state (or r*h for GRU) with weights.
    let accum = p.accum;
    // One type for every scalar the gates read (hls_lib's recurrent kernel has one param_t).
    let scalars = rec
        .activations
        .iter()
        .flat_map(super::activation::scalars_read);
    let max = scalars.map(f64::abs).chain(rec.clip).fold(1.0f64, f64::max);
    let param_ty = super::param_type(max);
    let per_dir = rec.cell.activation_count();
    let plan_acts = |p: &Precision| -> Result<Vec<ActPlan>> {
        rec.activations
            .iter()
            .enumerate()
            .map(|(k, a)| {
                // LSTM's third activation reads the cell state, the others a gate sum.
                let reads = if matches!(rec.cell, Cell::Lstm { .. }) && k % per_dir == 2 {
                    state
                } else {
                    accum
                };
                super::activation::plan(a, reads, p, &mut |v| Consts::quantize(param_ty, [v]))
            })
            .collect()
    };
    let mut acts = plan_acts(p)?;
    // The kernel reads every table as one type: the widest any function needed.
    let tables = || acts.iter().filter_map(|a| a.table().map(|t| t.table.ty));
    let table_int = tables().map(|t| t.int).max().unwrap_or(p.table.int);
    if tables().any(|t| t.int != table_int) {
        let widened = Precision {
            table: FixedType {
                int: table_int,
                ..p.table
            },
            ..p.clone()
        };
        acts = plan_acts(&widened)?;
    }
    // Gate values: the table type, with integer bits for whatever an activation can pass on.
    let mut gate_int = table_int.max(p.table.int);
    if acts.iter().any(ActPlan::unbounded) {
        gate_int = gate_int.max(state.int);
    }
    let gate_type = FixedType {
        width: ((p.table.frac() + gate_int).max(1) as u32).min(crate::ir::fixed::MAX_WIDTH),
        int: gate_int,
        ..p.table
    };
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
        gate_type,
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
        unrolled: hw.unroll_steps,
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
