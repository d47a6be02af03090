//! Table-driven activations (sigmoid, tanh): the table and how an input value indexes it.
//!
//! The table covers [-8, 8) in `size` equal bins; the index of x is floor(x / step) + size/2,
//! clamped, computed from x's bits by one shift (`index_shift`); each entry holds the function at
//! its bin's centre, quantized into the table type by the compiler.

use super::Consts;
use crate::error::{Error, Result};
use crate::ir::{FixedType, Op, Precision};

/// Half-width of the input range a sigmoid/tanh table covers, as a power of two (2^3 = 8).
pub const RANGE_LOG2: i32 = 3;

#[derive(Debug, Clone, PartialEq)]
pub struct TablePlan {
    pub func: &'static str,
    pub table: Consts,
    /// index = shift_floor(raw(x), index_shift) + size / 2
    pub index_shift: i32,
}

impl TablePlan {
    pub fn size(&self) -> usize {
        self.table.raw.len()
    }
    pub fn index(&self, raw: i128) -> usize {
        let n = self.size() as i128;
        let i = crate::ir::fixed::shift_floor(raw, self.index_shift) + n / 2;
        i.clamp(0, n - 1) as usize
    }
}

pub fn table_plan(op: &Op, input: FixedType, p: &Precision) -> Result<TablePlan> {
    let size = p.table_size;
    let bits = size.trailing_zeros() as i32;
    // step = 2^(RANGE_LOG2 + 1 - bits); index = floor(raw * 2^-frac / step)
    let step_log2 = RANGE_LOG2 + 1 - bits;
    let step = 2f64.powi(step_log2);
    let (func, f): (&'static str, fn(f64) -> f64) = match op {
        Op::Sigmoid => ("sigmoid", |x| 1.0 / (1.0 + (-x).exp())),
        Op::Tanh => ("tanh", f64::tanh),
        other => return Err(Error::internal(format!("no table for {}", other.kind()))),
    };
    let values = (0..size).map(|i| f((i as f64 - (size / 2) as f64 + 0.5) * step));
    Ok(TablePlan {
        func,
        table: Consts::quantize(p.table, values)?,
        index_shift: input.frac() + step_log2,
    })
}
