//! Softmax without the resolution loss of hls4ml's tables.
//!
//! 1. d_i = max - x_i >= 0, exactly, from the inputs' bits (all inputs share one type).
//! 2. e_i = exp_table[ceil(d_i / step)]: the maximum alone hits entry 0 (= 1.0 exactly), so the
//!    argmax survives unless two inputs are within one bin *and* both round to the same output.
//!    The table covers d in [0, 16) with `size` entries, independent of the input type's range.
//! 3. S = sum e_i in an exact type; S >= 1 because the maximum contributes 1.
//! 4. 1/S from a table over [0, 2^K) with K = ceil(log2(n)), indexed by S's bits: fine steps
//!    where S lives, whatever the input type.
//! 5. y_i = e_i * (1/S), cast to the result type.

use super::Consts;
use crate::error::Result;
use crate::ir::{FixedType, Precision};

/// The exp table covers d in [0, 2^EXP_RANGE_LOG2).
pub const EXP_RANGE_LOG2: i32 = 4;

#[derive(Debug, Clone, PartialEq)]
pub struct SoftmaxPlan {
    /// Values per softmax (the last axis).
    pub n: usize,
    /// Number of independent softmaxes.
    pub rows: usize,
    pub exp_table: Consts,
    /// exp index = ceil_shift(max_raw - x_raw, exp_shift), clamped
    pub exp_shift: i32,
    /// Exact type of the sum of n table entries.
    pub sum: FixedType,
    pub inv_table: Consts,
    /// inv index = shift_floor(sum_raw, inv_shift), clamped
    pub inv_shift: i32,
}

fn ceil_log2(n: usize) -> i32 {
    (usize::BITS - (n.max(1) - 1).leading_zeros()) as i32
}

/// ceil(x * 2^-shift) for x >= 0.
pub fn shift_ceil(x: i128, shift: i32) -> i128 {
    if shift > 0 {
        (x + (1i128 << shift) - 1) >> shift
    } else {
        x << (-shift)
    }
}

impl SoftmaxPlan {
    pub fn exp_index(&self, d_raw: i128) -> usize {
        let n = self.exp_table.raw.len() as i128;
        shift_ceil(d_raw, self.exp_shift).clamp(0, n - 1) as usize
    }
    pub fn inv_index(&self, sum_raw: i128) -> usize {
        let n = self.inv_table.raw.len() as i128;
        crate::ir::fixed::shift_floor(sum_raw, self.inv_shift).clamp(0, n - 1) as usize
    }
}

pub fn plan(input: FixedType, n: usize, total: usize, p: &Precision) -> Result<SoftmaxPlan> {
    let size = p.table_size;
    let bits = size.trailing_zeros() as i32;
    let t = p.table;
    // exp: step = 2^(EXP_RANGE_LOG2 - bits); entry i >= 1 covers d in ((i-1)step, i step]
    let exp_step_log2 = EXP_RANGE_LOG2 - bits;
    let step = 2f64.powi(exp_step_log2);
    let exp_values = (0..size).map(|i| {
        if i == 0 {
            1.0
        } else {
            (-(i as f64 - 0.5) * step).exp()
        }
    });
    let exp_table = Consts::quantize(t, exp_values)?;
    let grow = ceil_log2(n);
    let sum = FixedType::fixed(t.width + grow as u32, t.int + grow);
    // inv: table over [0, 2^k), entry i holds 1 / centre of its bin.
    let k = grow.max(1);
    let inv_step_log2 = k - bits;
    let inv_step = 2f64.powi(inv_step_log2);
    let inv_values = (0..size).map(|i| 1.0 / ((i as f64 + 0.5) * inv_step));
    let inv_table = Consts::quantize(t, inv_values)?;
    Ok(SoftmaxPlan {
        n,
        rows: total / n,
        exp_table,
        exp_shift: input.frac() + exp_step_log2,
        sum,
        inv_table,
        inv_shift: sum.frac() + inv_step_log2,
    })
}
