//! Pooling. Max compares the inputs' bits (one type); average sums exactly and multiplies by a
//! compiler-computed reciprocal of the window's count (all positions, or only those inside the
//! input when padding does not count).

use super::Consts;
use crate::error::Result;
use crate::ir::FixedType;
use crate::ir::ops::{PoolKind, Window};

#[derive(Debug, Clone, PartialEq)]
pub struct PoolPlan {
    pub kind: PoolKind,
    pub window: Window,
    pub in_spatial: Vec<usize>,
    pub channels: usize,
    pub out_spatial: Vec<usize>,
    pub count_include_pad: bool,
    /// Exact type of a window's sum (average).
    pub sum: FixedType,
    /// recip[c - 1] = 1 / c for every possible count c (average).
    pub recip: Consts,
    /// io_parallel: output positions computed at once (a divisor of the positions).
    pub parallel: usize,
}

impl PoolPlan {
    pub fn positions(&self) -> usize {
        self.out_spatial.iter().product()
    }
    /// io_parallel: passes of the position loop.
    pub fn partitions(&self) -> usize {
        self.positions() / self.parallel.max(1)
    }
}

/// Type of the reciprocals 1/count (at most 1).
pub fn recip_type() -> FixedType {
    FixedType::ufixed(18, 1)
}

pub fn plan(
    kind: PoolKind,
    window: &Window,
    count_include_pad: bool,
    in_shape: &[usize],
    out_shape: &[usize],
    input: FixedType,
) -> Result<PoolPlan> {
    let sr = window.kernel.len();
    let k = window.size();
    let grow = (usize::BITS - (k.max(1) - 1).leading_zeros()) as i32;
    let sum = FixedType {
        width: input.width + grow as u32,
        int: input.int + grow,
        ..FixedType::fixed(2, 1)
    };
    let sum = if input.signed {
        sum
    } else {
        FixedType {
            signed: false,
            ..sum
        }
    };
    Ok(PoolPlan {
        kind,
        window: window.clone(),
        in_spatial: in_shape[..sr].to_vec(),
        channels: in_shape[sr],
        out_spatial: out_shape[..sr].to_vec(),
        count_include_pad,
        sum,
        recip: Consts::quantize(recip_type(), (1..=k).map(|c| 1.0 / c as f64))?,
        parallel: 1,
    })
}
