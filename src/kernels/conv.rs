//! Convolutions as a dense layer per output position and group: the patch (kernel positions x
//! channels of the group, zero in padding) times a [n_in, n_out] weight block. The dense plan's
//! schedule is the multiply-accumulate order of each position, so a convolution inherits the
//! latency and resource strategies and their reuse factors.

use super::dense::{self, DensePlan};
use crate::error::Result;
use crate::ir::ops::Window;
use crate::ir::{Precision, Strategy, Tensor};

#[derive(Debug, Clone, PartialEq)]
pub struct ConvPlan {
    pub window: Window,
    /// Input spatial sizes and channels.
    pub in_spatial: Vec<usize>,
    pub in_channels: usize,
    pub out_spatial: Vec<usize>,
    pub groups: usize,
    /// One group's dense layer; `dense.weights` holds every group's block, group-major, and
    /// `dense.bias` every output channel.
    pub dense: DensePlan,
    /// io_parallel: output positions computed at once (a divisor of the positions).
    pub parallel: usize,
}

impl ConvPlan {
    pub fn out_channels(&self) -> usize {
        self.groups * self.dense.n_out
    }
    pub fn channels_per_group(&self) -> usize {
        self.in_channels / self.groups
    }
    pub fn positions(&self) -> usize {
        self.out_spatial.iter().product()
    }
    /// io_parallel: passes of the position loop.
    pub fn partitions(&self) -> usize {
        self.positions() / self.parallel.max(1)
    }
}

/// Parallelization factors an io_parallel conv or pooling layer accepts: the divisors of its
/// output positions (each pass of the position loop computes that many).
pub fn valid_parallelization(positions: usize) -> Vec<usize> {
    (1..=positions)
        .filter(|d| positions.is_multiple_of(*d))
        .collect()
}

#[allow(clippy::too_many_arguments)]
pub fn plan(
    window: &Window,
    in_shape: &[usize],
    out_shape: &[usize],
    groups: usize,
    weights: &Tensor,
    bias: &Tensor,
    p: &Precision,
    reuse: usize,
    strategy: Strategy,
) -> Result<ConvPlan> {
    let sr = window.kernel.len();
    let cin = in_shape[sr];
    let og = out_shape[sr] / groups;
    let n_in = window.size() * (cin / groups);
    let blocks: Vec<(Tensor, Tensor)> = (0..groups)
        .map(|g| {
            (
                Tensor::new(
                    vec![n_in, og],
                    weights.data[g * n_in * og..(g + 1) * n_in * og].to_vec(),
                ),
                Tensor::new(vec![og], bias.data[g * og..(g + 1) * og].to_vec()),
            )
        })
        .collect();
    let refs: Vec<(&Tensor, &Tensor)> = blocks.iter().map(|(w, b)| (w, b)).collect();
    let dense = dense::plan_groups(&refs, p, reuse, strategy, true)?;
    Ok(ConvPlan {
        window: window.clone(),
        in_spatial: in_shape[..sr].to_vec(),
        in_channels: cin,
        out_spatial: out_shape[..sr].to_vec(),
        groups,
        dense,
        parallel: 1,
    })
}
