//! Table-driven activations (sigmoid, tanh, softsign, elu, selu, softplus): the table and how an
//! input value indexes it.
//!
//! The table covers [-R, R) (R = 2^range_log2) in `size` equal bins; the index of x is
//! floor(x / step) + size/2, clamped, computed from x's bits by one shift (`index_shift`); each
//! entry holds the function at its bin's centre, quantized by the compiler into the table type
//! (given more integer bits if the function's values need them). Where a function is exact and
//! cheap outside the table (elu's and selu's positive side, softplus above R) the kernel computes
//! it directly, as `mode` says.

use super::{Consts, param};
use crate::error::{Error, Result};
use crate::ir::{FixedType, Op, Precision};

/// How the kernel uses the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableMode {
    /// y = table(x)
    Table = 0,
    /// y = x > 0 ? x : table(x)
    PositivePass = 1,
    /// y = x > 0 ? gamma * x : table(x)
    PositiveScale = 2,
    /// y = x >= R ? x : table(x)
    AbovePass = 3,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TablePlan {
    pub func: &'static str,
    pub table: Consts,
    /// index = shift_floor(raw(x), index_shift) + size / 2
    pub index_shift: i32,
    pub range_log2: i32,
    pub mode: TableMode,
    /// selu's gamma (PositiveScale).
    pub gamma: Consts,
}

impl TablePlan {
    pub fn size(&self) -> usize {
        self.table.raw.len()
    }
    pub fn index(&self, raw: i128) -> usize {
        let n = self.size() as i128;
        self.unclamped_index(raw).clamp(0, n - 1) as usize
    }
    /// The bin of `raw` before clamping: >= size exactly where the value is >= 2^range_log2.
    pub fn unclamped_index(&self, raw: i128) -> i128 {
        crate::ir::fixed::shift_floor(raw, self.index_shift) + self.size() as i128 / 2
    }
}

/// The table type: the configured one, with more integer bits (same width) if values need them.
fn holding(t: FixedType, max_abs: f64) -> FixedType {
    let need = (max_abs.max(1e-9).log2().floor() as i32) + 2;
    if need > t.int {
        FixedType {
            int: need.min(t.width as i32),
            ..t
        }
    } else {
        t
    }
}

pub fn table_plan(op: &Op, input: FixedType, p: &Precision) -> Result<TablePlan> {
    let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
    // name, range (log2), mode, gamma, function
    type Spec = (&'static str, i32, TableMode, f64, Box<dyn Fn(f64) -> f64>);
    let (func, range_log2, mode, gamma, f): Spec = match op {
        Op::Sigmoid => ("sigmoid", 3, TableMode::Table, 1.0, Box::new(sigmoid)),
        Op::Tanh => ("tanh", 3, TableMode::Table, 1.0, Box::new(f64::tanh)),
        Op::Softsign => (
            "softsign",
            4,
            TableMode::Table,
            1.0,
            Box::new(|x: f64| x / (1.0 + x.abs())),
        ),
        Op::Elu { alpha } => {
            let a = *alpha;
            (
                "elu",
                3,
                TableMode::PositivePass,
                1.0,
                Box::new(move |x: f64| if x > 0.0 { x } else { a * x.exp_m1() }),
            )
        }
        Op::Selu { alpha, gamma } => {
            let (a, g) = (*alpha, *gamma);
            (
                "selu",
                3,
                TableMode::PositiveScale,
                g,
                Box::new(move |x: f64| g * if x > 0.0 { x } else { a * x.exp_m1() }),
            )
        }
        Op::Softplus => (
            "softplus",
            3,
            TableMode::AbovePass,
            1.0,
            Box::new(|x: f64| x.exp().ln_1p()),
        ),
        other => return Err(Error::internal(format!("no table for {}", other.kind()))),
    };
    function_table(func, range_log2, mode, gamma, f, input, p)
}

/// The table of `f` over [-2^range_log2, 2^range_log2), indexed by values of type `input`.
pub fn function_table(
    func: &'static str,
    range_log2: i32,
    mode: TableMode,
    gamma: f64,
    f: impl Fn(f64) -> f64,
    input: FixedType,
    p: &Precision,
) -> Result<TablePlan> {
    let size = p.table_size;
    let bits = size.trailing_zeros() as i32;
    // step = 2^(range_log2 + 1 - bits); index = floor(raw * 2^-frac / step)
    let step_log2 = range_log2 + 1 - bits;
    let step = 2f64.powi(step_log2);
    let values: Vec<f64> = (0..size)
        .map(|i| f((i as f64 - (size / 2) as f64 + 0.5) * step))
        .collect();
    let max_abs = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    Ok(TablePlan {
        func,
        table: Consts::quantize(holding(p.table, max_abs), values)?,
        index_shift: input.frac() + step_log2,
        range_log2,
        mode,
        gamma: param(gamma)?,
    })
}
