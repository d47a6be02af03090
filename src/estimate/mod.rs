//! Resource and latency estimates of a design before synthesis, from the same kernel plans the
//! C++ is generated from. The model is analytic and its constants are calibrated on real Vitis
//! HLS 2024.1 results (docs/estimator.md; tests/estimate.rs checks every reference):
//!
//! - A product by a constant weight: nothing for 0 (not emitted) or a power of two (a shift);
//!   LUTs (shift-and-add) when the weight's odd part has at most 6 bits or the weight type at most
//!   8; otherwise one DSP (two beyond a 27x18 multiplier). Resource strategy divides the
//!   multipliers by the reuse factor.
//! - Adders, comparators and multiplexers cost LUTs per bit; lookup tables one BRAM_18K per two
//!   reads of an 18 Kb table; registers are the pipeline stages' widths plus the input port.
//! - Latency: a multiply and the adder tree per dense layer against the clock; 3 cycles per table
//!   read; the reuse factor in resource strategy; layers add along the longest path.

use crate::config::IoType;
use crate::error::Result;
use crate::ir::activation::Piecewise;
use crate::ir::{FixedType, Model};
use crate::kernels::activation::ActPlan;
use crate::kernels::dense::DensePlan;
use crate::kernels::{Kernel, LayerPlan, plan_model};
use petgraph::stable_graph::NodeIndex;
use serde::Serialize;
use std::collections::HashMap;

/// LUTs per bit of a comparator with its multiplexer (relu, max).
const LUT_PER_COMPARE_BIT: f64 = 2.45;
/// LUTs per bit of an adder.
const LUT_PER_ADD_BIT: f64 = 1.3;
/// LUTs of a table activation per value and bit of its result, beyond the BRAM (index, read
/// registers, and for elu/selu the pass-through of positive values).
const LUT_TABLE_PER_BIT: f64 = 7.2;
const LUT_TABLE_PASS_PER_BIT: f64 = 9.4;
/// LUTs per accumulator bit of the cast into the result type.
const LUT_CAST_PER_BIT: f64 = 0.3;
/// Cycles of a table read.
const TABLE_LATENCY: u64 = 3;
/// Delays (ns) of a DSP multiply and of one adder level, for the latency of a dense layer.
const MULTIPLY_NS: f64 = 3.0;
const ADD_NS: f64 = 1.0;
/// Bits of one BRAM_18K.
const BRAM_BITS: usize = 18 * 1024;
/// The largest FIFO (depth x width bits) Vitis builds from shift registers by default.
const FIFO_SRL_MAX_BITS: usize = 1024;
/// LUTs and FFs of a FIFO's read/write control (full, empty, counters).
const FIFO_CONTROL_LUT: u64 = 10;
const FIFO_CONTROL_FF: u64 = 4;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Cost {
    pub dsp: u64,
    pub lut: u64,
    pub ff: u64,
    pub bram_18k: u64,
    pub uram: u64,
}

impl Cost {
    /// `n` copies of this hardware.
    fn times(&self, n: u64) -> Cost {
        Cost {
            dsp: self.dsp * n,
            lut: self.lut * n,
            ff: self.ff * n,
            bram_18k: self.bram_18k * n,
            uram: self.uram * n,
        }
    }

    fn add(&mut self, o: &Cost) {
        self.dsp += o.dsp;
        self.lut += o.lut;
        self.ff += o.ff;
        self.bram_18k += o.bram_18k;
        self.uram += o.uram;
    }
}

/// How a layer's products by constant weights map to hardware.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Products {
    pub dsp: u64,
    pub lut: u64,
    /// Powers of two: shifts.
    pub shift: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerEstimate {
    pub name: String,
    pub kind: &'static str,
    pub cost: Cost,
    pub products: Products,
    pub latency_cycles: u64,
    pub ii: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    pub layers: Vec<LayerEstimate>,
    pub total: Cost,
    /// Until the last output is ready (the slowest output path).
    pub latency_cycles: u64,
    pub latency_ns: f64,
    /// Per output (model order) of a design with several outputs: when each is ready. Empty for
    /// one output, whose latency is the design's.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub outputs: Vec<OutputLatency>,
    pub ii: u64,
    /// Percent of the part: DSP, LUT, FF, BRAM_18K, URAM.
    pub utilisation: [f64; 5],
}

/// When one output of a design is ready.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OutputLatency {
    pub name: String,
    pub latency_cycles: u64,
    pub latency_ns: f64,
}

/// A figure the estimate is checked against a synthesis result on, with how close it must land
/// (docs/estimator.md): latency, interval and DSP within 25% (exact at 0), LUT and FF within a
/// factor of 2 (exact at 0); BRAM_18K within a factor of 2 or two blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    Latency,
    Interval,
    Dsp,
    Lut,
    Ff,
    Bram,
}

impl Figure {
    pub const ALL: [Figure; 6] = [
        Figure::Latency,
        Figure::Interval,
        Figure::Dsp,
        Figure::Lut,
        Figure::Ff,
        Figure::Bram,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Figure::Latency => "latency",
            Figure::Interval => "II",
            Figure::Dsp => "DSP",
            Figure::Lut => "LUT",
            Figure::Ff => "FF",
            Figure::Bram => "BRAM_18K",
        }
    }

    /// The tolerance, as docs/estimator.md states it.
    pub fn tolerance(self) -> &'static str {
        match self {
            Figure::Latency | Figure::Interval | Figure::Dsp => "within 25%",
            Figure::Lut | Figure::Ff => "within 2x",
            Figure::Bram => "within 2x or 2",
        }
    }

    /// Whether the estimate `est` lands close enough to the real figure `real`.
    pub fn within(self, est: u64, real: u64) -> bool {
        let factor2 = |e: u64, r: u64| {
            if r == 0 {
                e == 0
            } else {
                (0.5..=2.0).contains(&(e as f64 / r as f64))
            }
        };
        match self {
            Figure::Latency | Figure::Interval | Figure::Dsp => {
                if real == 0 {
                    est == 0
                } else {
                    (est as f64 - real as f64).abs() <= 0.25 * real as f64
                }
            }
            Figure::Lut | Figure::Ff => factor2(est, real),
            Figure::Bram => est.abs_diff(real) <= 2 || factor2(est, real),
        }
    }
}

/// How a product by the constant `raw` (a weight of type `w`) is built.
enum Product {
    Free,
    Lut,
    Dsp(u64),
}

fn product(raw: i128, w: FixedType, x: FixedType) -> Product {
    match product_class(raw, w) {
        FREE => Product::Free,
        LUT => Product::Lut,
        _ => Product::Dsp(dsps_per_product(w, x)),
    }
}

/// `Product`'s kinds as array indices, for counting a million weights without a branch each
/// (whether a weight is a shift, a LUT or a DSP product is as unpredictable as its bits).
const FREE: usize = 0;
const LUT: usize = 1;
const DSP: usize = 2;

fn product_class(raw: i128, w: FixedType) -> usize {
    // (Constants are at most MAX_WIDTH = 62 bits: u64 arithmetic, not the slower u128.)
    let m = (raw as i64).unsigned_abs();
    // A zero is free (and has no trailing zeros to count: its odd part reads as 0).
    let odd = m.checked_shr(m.trailing_zeros()).unwrap_or(0);
    let free = odd <= 1;
    let lut = 64 - odd.leading_zeros() <= 6 || w.width <= 8;
    if free { FREE } else { LUT + (!lut) as usize }
}

/// DSP slices of one general product of a weight of type `w` and data of type `x`.
fn dsps_per_product(w: FixedType, x: FixedType) -> u64 {
    let (a, b) = (x.width.max(w.width), x.width.min(w.width));
    if a <= 27 && b <= 18 { 1 } else { 2 }
}

fn f(v: f64) -> u64 {
    v.round().max(0.0) as u64
}

/// The cost of one dense block (a dense layer, a convolution's position, a recurrent product)
/// and its latency and interval.
fn dense_cost(d: &DensePlan, x: FixedType, clock: f64) -> (Cost, u64, u64, Products) {
    if d.strategy == crate::ir::Strategy::DistributedArithmetic {
        return da_cost(d, x, clock);
    }
    let mut products = Products::default();
    let mut terms = vec![0usize; d.n_out];
    for (b, t) in d.bias.raw.iter().zip(terms.iter_mut()).take(d.n_out) {
        *t += (*b != 0) as usize;
    }
    // The counts do not depend on the order the schedule visits the entries in.
    let mut kinds = [0u64; 3];
    for (_, j, k) in d.entries(0) {
        let raw = d.weights.raw[k];
        if raw != 0 {
            kinds[product_class(raw, d.weights.ty)] += 1;
            terms[j] += 1;
        }
    }
    products.shift += kinds[FREE];
    products.lut += kinds[LUT];
    products.dsp += kinds[DSP];
    // (1.5 x width is a multiple of 0.5: the sum of equal terms is exactly their product.)
    let lut_mults = kinds[LUT] as f64 * 1.5 * x.width as f64;
    let mut dsp = kinds[DSP] * dsps_per_product(d.weights.ty, x);
    let any_dsp = kinds[DSP] > 0;
    let adds: usize = terms.iter().map(|t| t.saturating_sub(1)).sum();
    let levels = terms
        .iter()
        .map(|&t| usize::BITS - t.saturating_sub(1).leading_zeros())
        .max()
        .unwrap_or(0) as f64;
    let r = d.reuse as u64;
    // Products, the adder trees, and the cast of each accumulator into the result.
    let mut lut = lut_mults
        + adds as f64 * d.accum.width as f64 * LUT_PER_ADD_BIT
        + d.n_out as f64 * d.accum.width as f64 * LUT_CAST_PER_BIT;
    let (latency, ii) = match d.strategy {
        // (Distributed arithmetic is da_cost's.)
        crate::ir::Strategy::Latency | crate::ir::Strategy::DistributedArithmetic => {
            let ns = if any_dsp { MULTIPLY_NS } else { 0.0 } + levels * ADD_NS;
            ((ns / clock).floor() as u64, 1)
        }
        crate::ir::Strategy::Resource if r == 1 => {
            // One pass: every weight is read at a constant address, a constant the tool folds
            // into its multiplier as in the latency kernel.
            (2 + (levels * ADD_NS / clock).ceil() as u64, 1)
        }
        crate::ir::Strategy::Resource => {
            // Each of the block's multipliers takes its weight from the ROM word of the cycle:
            // a general multiplier of the two types, whatever the weights' values.
            let lanes = d.multipliers(1) as u64;
            lut /= r as f64;
            lut -= lut_mults / r as f64;
            let (a, b) = (
                x.width.max(d.weights.ty.width),
                x.width.min(d.weights.ty.width),
            );
            if d.weights.ty.width <= 8 {
                dsp = 0;
                lut += lanes as f64 * 1.5 * x.width as f64;
            } else {
                dsp = lanes * if a <= 27 && b <= 18 { 1 } else { 2 };
            }
            if d.sparse.is_some() {
                // A sparse lane's input is named by the ROM at run time: an n_in:1 multiplexer
                // per lane (four inputs a LUT6). Its output is fixed, and each pass sums an
                // output's lanes in a tree of log2(max_lanes) levels before the one carried add
                // (docs/synthesis.md): the adders are the lanes', counted above.
                let lanes_f = lanes as f64;
                lut += lanes_f * x.width as f64 * d.n_in.div_ceil(4) as f64;
                let tree = (usize::BITS - (d.max_lanes() - 1).leading_zeros()) as f64 + 1.0;
                (r + 1 + (tree * ADD_NS / clock).ceil() as u64, r)
            } else {
                (r + 1 + (levels * ADD_NS / clock).ceil() as u64, r)
            }
        }
    };
    let ff = latency * (d.n_out as u64) * d.accum.width as u64;
    (
        Cost {
            dsp,
            lut: f(lut),
            ff,
            ..Cost::default()
        },
        latency,
        ii,
        products,
    )
}

type LayerFigures = (Cost, u64, u64, Products);

/// A layer's cost, latency, interval, and how its constant products map.
fn layer(p: &LayerPlan, io: IoType, clock: f64, lanes: usize) -> LayerFigures {
    let (cost, lat, ii) = match &p.kernel {
        Kernel::Dense(d) => {
            let (c, lat, ii, products) = dense_cost(d, p.input_types[0], clock);
            return (c, lat, ii, products);
        }
        Kernel::Conv(cp) => {
            let (c, lat, ii, products) = dense_cost(&cp.dense, p.input_types[0], clock);
            return match io {
                // `parallel` positions at once, each with a block per group, in a loop over the
                // partitions (hlsrs_conv.h's window_layer).
                IoType::Parallel => {
                    let mut c = c.times((cp.parallel * cp.groups) as u64);
                    let (lat, ii) = window_loop(cp.partitions(), cp.dense.strategy, lat, ii);
                    if cp.partitions() > 1 {
                        let patch = cp.parallel * cp.dense.n_in * cp.groups;
                        c.add(&window_muxes(
                            patch,
                            cp.partitions(),
                            p.input_types[0],
                            p.size,
                            p.result,
                        ));
                    }
                    (c, lat, ii, products)
                }
                // One position after the other through one block per group: the schedule of
                // the positions is `stream_process`'s.
                IoType::Stream => (c.times(cp.groups as u64), lat, ii, products),
            };
        }
        Kernel::Pool(pl) if io == IoType::Parallel => {
            let (mut c, lat, ii) = layer_cost(p, clock, lanes);
            let (lat, ii) = window_loop(pl.partitions(), crate::ir::Strategy::Latency, lat, ii);
            if pl.partitions() > 1 {
                let taps = pl.parallel * pl.window.size() * pl.channels;
                c.add(&window_muxes(
                    taps,
                    pl.partitions(),
                    p.input_types[0],
                    p.size,
                    p.result,
                ));
            }
            (c, lat, ii)
        }
        _ => layer_cost(p, clock, lanes),
    };
    (cost, lat, ii, Products::default())
}

/// A distributed-arithmetic block, from its adder graph: every adder at the width its range
/// needs (no multiplier, no DSP), then per output the bias and the cast into the accumulator;
/// combinational depth = the graph's adder levels plus the bias add, pipelined at II 1 like the
/// latency kernel. Not calibrated on a synthesis result: docs/estimator.md.
fn da_cost(d: &DensePlan, x: FixedType, clock: f64) -> (Cost, u64, u64, Products) {
    let products = Products {
        shift: d.multiplications as u64,
        ..Products::default()
    };
    let (mut adder_bits, mut depth) = (0u64, 0u32);
    // Every group's graph is the same size up to its weights: one block is group 0's.
    if let Some(g) = d.da.first() {
        let ranges = g.ranges(x.raw_range());
        adder_bits = ranges[g.n_in..]
            .iter()
            .map(|&r| crate::kernels::da::signed_bits(r) as u64)
            .sum();
        depth = g.depths().1;
    }
    let outputs = d.n_out as f64 * d.accum.width as f64;
    let lut = adder_bits as f64 * LUT_PER_ADD_BIT + outputs * (LUT_PER_ADD_BIT + LUT_CAST_PER_BIT);
    let latency = ((depth + 1) as f64 * ADD_NS / clock).floor() as u64;
    let ff = latency * (d.n_out as u64) * d.accum.width as u64;
    (
        Cost {
            lut: f(lut),
            ff,
            ..Cost::default()
        },
        latency,
        1,
        products,
    )
}

/// Latency and interval of an io_parallel window layer's position loop over `partitions` groups
/// of positions, given one group's kernel latency and interval: pipelined at the kernel's
/// interval for latency kernels, one group after another around resource kernels.
fn window_loop(partitions: usize, strategy: crate::ir::Strategy, lat: u64, ii: u64) -> (u64, u64) {
    let parts = partitions as u64;
    if parts == 1 {
        return (lat, ii);
    }
    match strategy {
        // One cycle to register the loop's first group.
        crate::ir::Strategy::Latency | crate::ir::Strategy::DistributedArithmetic => {
            ((parts - 1) * ii + lat + 1, parts * ii)
        }
        crate::ir::Strategy::Resource => {
            let run = lat.max(ii) + 1;
            (parts * run, parts * run)
        }
    }
}

/// What sharing a window kernel across positions adds: each of the kernel copies' `inputs`
/// values is selected from `partitions` positions (a multiplexer, four inputs per LUT6), and the
/// layer's output is held in registers written one group at a time. Not calibrated on Vitis
/// results: docs/estimator.md.
fn window_muxes(
    inputs: usize,
    partitions: usize,
    x: FixedType,
    out_size: usize,
    y: FixedType,
) -> Cost {
    Cost {
        lut: f(inputs as f64 * x.width as f64 * partitions.div_ceil(4) as f64),
        ff: (out_size as u64) * y.width as u64,
        ..Cost::default()
    }
}

/// Layers without constant products; `lanes` values computed at once.
fn layer_cost(p: &LayerPlan, clock: f64, lanes: usize) -> (Cost, u64, u64) {
    let n = lanes as f64;
    let w = p.result.width as f64;
    let x = p.input_types.first().copied().unwrap_or(p.result);
    let compare = |count: f64| Cost {
        lut: f(count * LUT_PER_COMPARE_BIT * w),
        ..Cost::default()
    };
    match &p.kernel {
        Kernel::Input => (
            Cost {
                ff: f(n * w) + 2,
                ..Cost::default()
            },
            0,
            1,
        ),
        Kernel::Dense(_) | Kernel::Conv(_) => unreachable!("costed by layer"),
        Kernel::Activation(ActPlan::Piecewise(shape)) => match shape {
            Piecewise::Relu => (compare(n), 0, 1),
            Piecewise::ThresholdedRelu { .. } => (compare(n), 0, 1),
            Piecewise::LeakyRelu { alpha } if alpha.ty.to_f64(alpha.raw[0]) == 1.0 => {
                (Cost::default(), 0, 1)
            }
            Piecewise::LeakyRelu { .. } => (compare(1.5 * n), 0, 1),
            Piecewise::Affine { .. } => (compare(1.5 * n), 0, 1),
            Piecewise::HardSigmoid { .. } => (compare(2.0 * n), 0, 1),
        },
        Kernel::PRelu { slope } => {
            let all_zero = slope.raw.iter().all(|&s| s == 0);
            (compare(if all_zero { n } else { 1.5 * n }), 0, 1)
        }
        Kernel::Clip { .. } => (compare(2.0 * n), 0, 1),
        Kernel::Quant { .. } => (compare(n), 0, 1),
        Kernel::Activation(ActPlan::Table(t)) => {
            let pass = !matches!(t.mode, crate::kernels::activation::TableMode::Table);
            let bits = t.size() * t.table.ty.width as usize;
            let per_table = bits.div_ceil(BRAM_BITS) as u64;
            let lut_bit = if pass {
                LUT_TABLE_PASS_PER_BIT
            } else {
                LUT_TABLE_PER_BIT
            };
            (
                Cost {
                    lut: f(n * w * lut_bit),
                    ff: f(2.5 * n * w),
                    bram_18k: (lanes as u64).div_ceil(2) * per_table,
                    ..Cost::default()
                },
                TABLE_LATENCY,
                1,
            )
        }
        Kernel::Softmax(s) => {
            let bits = s.exp_table.raw.len() * s.exp_table.ty.width as usize;
            let per_table = bits.div_ceil(BRAM_BITS) as u64;
            (
                Cost {
                    dsp: lanes as u64,
                    lut: f(n * w * (LUT_TABLE_PER_BIT + 2.0 * LUT_PER_ADD_BIT)),
                    ff: f(3.0 * n * w),
                    bram_18k: ((lanes as u64).div_ceil(2)
                        + ((s.rows * lanes / p.size.max(1)).max(1) as u64).div_ceil(2))
                        * per_table,
                    ..Cost::default()
                },
                2 * TABLE_LATENCY + (usize::BITS - s.n.leading_zeros()) as u64,
                1,
            )
        }
        Kernel::Pool(pl) => {
            let k = pl.window.size() as f64;
            let c = match pl.kind {
                crate::ir::ops::PoolKind::Max => compare(n * (k - 1.0)),
                crate::ir::ops::PoolKind::Average => {
                    // The sum, and a multiply by 1/count (a shift for powers of two).
                    let recip = &pl.recip;
                    let mult = match product(*recip.raw.last().unwrap_or(&0), recip.ty, pl.sum) {
                        Product::Dsp(d) => Cost {
                            dsp: d * lanes as u64,
                            ..Cost::default()
                        },
                        Product::Lut => Cost {
                            lut: f(n * 1.5 * pl.sum.width as f64),
                            ..Cost::default()
                        },
                        Product::Free => Cost::default(),
                    };
                    let mut c = Cost {
                        lut: f(n * (k - 1.0) * LUT_PER_ADD_BIT * pl.sum.width as f64),
                        ..Cost::default()
                    };
                    c.add(&mult);
                    c
                }
            };
            (c, 0, 1)
        }
        Kernel::Add | Kernel::Sub => (
            Cost {
                lut: f(n * LUT_PER_ADD_BIT * w),
                ..Cost::default()
            },
            0,
            1,
        ),
        // A chain of comparisons per row, its index in a multiplexer.
        Kernel::ArgMax { .. } => (compare(n), 0, 1),
        // A comparison and a multiplexer per value.
        Kernel::Max => (compare(n), 0, 1),
        Kernel::Min => (compare(n), 0, 1),
        Kernel::Mul => (
            Cost {
                dsp: lanes as u64,
                ..Cost::default()
            },
            (MULTIPLY_NS / clock).floor() as u64,
            1,
        ),
        Kernel::ScaleShift { scale, .. } => {
            let mut c = Cost::default();
            for i in 0..lanes {
                match product(scale.raw[i % scale.raw.len()], scale.ty, x) {
                    Product::Dsp(d) => c.dsp += d,
                    Product::Lut => c.lut += f(1.5 * x.width as f64),
                    Product::Free => {}
                }
            }
            c.lut += f(n * LUT_PER_ADD_BIT * w);
            (c, 0, 1)
        }
        Kernel::Recurrent(r) => recurrent_cost(r, p, x, clock),
        Kernel::Concat { .. } | Kernel::Transpose { .. } | Kernel::Gather { .. } => {
            (Cost::default(), 0, 1)
        }
    }
}

/// A layer's interval as a process of an io_parallel DATAFLOW top, given its kernel's latency
/// and interval: a process that is not pipelined takes its next input only when its run has
/// ended, and a cycle to start again, not every reuse-factor cycles.
fn process_interval(p: &LayerPlan, lat: u64, ii: u64) -> u64 {
    match p.kernel.process() {
        crate::kernels::Process::Pipeline => ii,
        crate::kernels::Process::Folded
        | crate::kernels::Process::Steps
        | crate::kernels::Process::Positions => ii.max(lat + 1),
    }
}

/// The arrays between the processes of an io_parallel DATAFLOW top: each value a layer writes
/// for another is a ping-pong buffer (two copies, UG1399's default PIPO) of registers, since it
/// is partitioned completely; a value read by several layers has a copy per reader (the clone
/// processes), the model's input too. A design output is the port itself.
fn channel_cost(model: &Model, plans: &[LayerPlan]) -> Cost {
    let mut ff = 0u64;
    for p in plans {
        let readers = model.consumers(p.node).len() as u64;
        let channels = if readers >= 2 {
            readers
        } else if model.is_input(p.node) || model.is_output(p.node) {
            0
        } else {
            readers
        };
        ff += 2 * channels * p.size as u64 * p.result.width as u64;
    }
    Cost {
        ff,
        ..Cost::default()
    }
}

/// A recurrent layer (hlsrs_recurrent.h): every direction's products and gates as hardware of
/// its own, the directions side by side, so a sequence takes one direction's time. A step's
/// state path (the read of h and c to their write) is the recurrent product, then the gates'
/// series of tables and multiplies, per cell (`state_path`); the input product runs beside the
/// recurrent one. Each table is read hidden x (its gates) times a step: in pipelined or unrolled
/// steps as many ROM copies as pairs of reads (as the activation layers' tables), in steps that
/// are not pipelined one ROM whose two ports serialize the reads.
fn recurrent_cost(
    r: &crate::kernels::recurrent::RecurrentPlan,
    p: &LayerPlan,
    x: FixedType,
    clock: f64,
) -> (Cost, u64, u64) {
    use crate::ir::recurrent::Cell;
    let mut c = Cost::default();
    // Per product, the slowest direction's block (they are alike).
    let mut block = |plans: &[DensePlan], xt: FixedType| {
        let mut slowest = 0;
        for d in plans {
            let (dc, lat, ii, _) = dense_cost(d, xt, clock);
            c.add(&dc);
            slowest = slowest.max(lat.max(ii));
        }
        slowest
    };
    let wx = block(&r.wx, x);
    let rh = block(&r.rh, r.state);
    let rhh = block(&r.rhh, r.state);
    let dirs = r.rec.direction.count() as u64;
    let hs = r.rec.hidden;
    let per_dir = r.rec.cell.activation_count();
    // Reads of activation k's table per step and direction.
    let reads = |k: usize| match (&r.rec.cell, k) {
        (Cell::Rnn, _) => hs,
        (Cell::Lstm { input_forget }, 0) => hs * if *input_forget { 2 } else { 3 },
        (Cell::Lstm { .. }, _) => hs,
        (Cell::Gru { .. }, 0) => 2 * hs,
        (Cell::Gru { .. }, _) => hs,
    };
    let pipelined = r.unrolled || r.latency_products();
    // A table read's cycles on the state path, or a piecewise activation's (a comparison).
    let mut act = [0u64; 3];
    for (k, a) in r.acts.iter().enumerate() {
        let Some(t) = a.table() else { continue };
        let per_table = (t.size() * t.table.ty.width as usize).div_ceil(BRAM_BITS) as u64;
        let pairs = reads(k % per_dir).div_ceil(2) as u64;
        if pipelined {
            c.bram_18k += pairs * per_table;
            act[k % per_dir] = TABLE_LATENCY;
        } else {
            c.bram_18k += per_table;
            act[k % per_dir] = TABLE_LATENCY + pairs - 1;
        }
    }
    let gate_w = p.result.width.max(r.gate_type.width) as f64;
    c.lut += f(dirs as f64 * hs as f64 * r.rec.cell.gates() as f64 * gate_w * LUT_TABLE_PER_BIT);
    // The gates' general multiplies (LSTM: f*c, i*g, o*h(c), and the peepholes; GRU: r*h or
    // r*(R h), (1-z)*h~, z*h).
    let products = match r.rec.cell {
        Cell::Rnn => 0,
        Cell::Lstm { .. } => 3 + if r.p.is_some() { 3 } else { 0 },
        Cell::Gru { .. } => 3,
    };
    c.dsp += dirs * (hs * products) as u64 * dsps_per_product(r.gate_type, r.state);
    let mul = ((MULTIPLY_NS / clock).ceil() as u64).max(1);
    let peep = if r.p.is_some() { mul } else { 0 };
    // From the recurrent product's result to the state's write.
    let after_rh = match r.rec.cell {
        Cell::Rnn => act[0],
        // (peephole) sigmoid, f*c + i*g, then tanh(c) beside the o gate's peephole and sigmoid,
        // and o * tanh(c).
        Cell::Lstm { .. } => peep + act[0] + mul + 1 + act[2].max(peep + act[0]) + mul,
        // sigmoid of z and r; r*(R h), or r*h then its product; the h~ table; the blend.
        Cell::Gru {
            linear_before_reset,
        } => act[0] + mul + if linear_before_reset { 0 } else { rhh } + act[1] + mul + 1,
    };
    let state_path = rh + after_rh;
    let first = wx.max(rh) + after_rh;
    let steps = if r.rec.stateful { 1 } else { r.seq as u64 };
    if r.unrolled && !r.rec.stateful {
        // Every step its own hardware in one pipeline: the input products at once, then the
        // chain of state paths; a new sequence every cycle.
        let n = r.seq as u64;
        return (c.times(n), first + (n - 1) * state_path, 1);
    }
    if pipelined {
        // The step loop's interval is the state path (R3); the first step's input product is in
        // front. A static design's state path is the top's interval.
        let lat = first + (steps - 1) * state_path;
        let ii = if r.rec.stateful { state_path } else { lat };
        return (c, lat, ii);
    }
    // Steps one after another, each its products' runs and the gates, and a cycle of the loop.
    let lat = steps * (first + 1);
    (c, lat, lat)
}

mod advice;
mod budget;
mod stream;

pub use advice::{ReuseOption, choose_reuse, reuse_options};
pub use budget::Budget;
pub use stream::fifo;
use stream::{fifo_cost, lanes, pixels, process_storage, stream_process};

/// When each output of a design with several is ready (`ready`: an output node's cycle); empty
/// for one output, whose latency is the design's.
pub fn output_latencies(
    model: &Model,
    clock: f64,
    ready: impl Fn(NodeIndex) -> u64,
) -> Vec<OutputLatency> {
    if model.outputs.len() < 2 {
        return Vec::new();
    }
    model
        .outputs
        .iter()
        .map(|o| OutputLatency {
            name: o.name.clone(),
            latency_cycles: ready(o.node),
            latency_ns: ready(o.node) as f64 * clock,
        })
        .collect()
}

/// Percent of `part` that `total` uses: DSP, LUT, FF, BRAM_18K, URAM.
pub fn utilisation(total: &Cost, part: &crate::parts::Part) -> [f64; 5] {
    let pct = |used: u64, avail: u32| {
        if avail == 0 {
            0.0
        } else {
            100.0 * used as f64 / avail as f64
        }
    };
    [
        pct(total.dsp, part.dsp),
        pct(total.lut, part.lut),
        pct(total.ff, part.ff),
        pct(total.bram_18k, part.bram_18k),
        pct(total.uram, part.uram),
    ]
}

/// The estimate of a prepared model for `io` at `clock` ns, against the part's resources.
pub fn estimate(
    model: &Model,
    io: IoType,
    clock: f64,
    part: &crate::parts::Part,
) -> Result<Estimate> {
    estimate_planned(model, &plan_model(model)?, io, clock, part)
}

/// `estimate` with the model's plans already made (`plan_model`).
pub fn estimate_planned(
    model: &Model,
    plans: &[LayerPlan],
    io: IoType,
    clock: f64,
    part: &crate::parts::Part,
) -> Result<Estimate> {
    let mut layers = Vec::new();
    let mut total = Cost::default();
    // io_parallel: the cycle each layer's result is ready (longest path). io_stream: the cycles
    // each layer's process writes its first and its last pixel.
    let mut done: HashMap<_, (u64, u64)> = HashMap::new();
    let mut ii = 1;
    let dataflow = io == IoType::Parallel && crate::kernels::dataflow_top(plans);
    for p in plans {
        let (mut cost, lat, mut lii, products) = layer(p, io, clock, lanes(model, p, io));
        if dataflow {
            lii = process_interval(p, lat, lii);
        }
        if io == IoType::Stream && !model.is_input(p.node) {
            cost.add(&process_storage(model, p, lat));
        }
        let inputs = model.inputs(p.node);
        let (lat, lii) = match io {
            IoType::Parallel => {
                let start = inputs.iter().map(|i| done[i].1).max().unwrap_or(0);
                done.insert(p.node, (start + lat, start + lat));
                (lat, lii)
            }
            IoType::Stream if model.is_input(p.node) => {
                // The input arrives one pixel a cycle.
                done.insert(p.node, (0, pixels(model, p.node) as u64 - 1));
                (0, 1)
            }
            IoType::Stream => {
                // Through a FIFO from another process (the model input is a stream already).
                let fifo = |i: NodeIndex| (!model.is_input(i)) as u64;
                let first_in = inputs.iter().map(|&i| done[&i].0 + fifo(i)).max();
                let last_in = inputs.iter().map(|&i| done[&i].1 + fifo(i)).max();
                let (first_in, last_in) = (first_in.unwrap_or(0), last_in.unwrap_or(0));
                let (first, last, busy) =
                    stream_process(model, p.node, lat, lii, first_in, last_in);
                done.insert(p.node, (first, last));
                let before = inputs.iter().map(|i| done[i].1).max().unwrap_or(0);
                (last - before, busy)
            }
        };
        ii = ii.max(lii);
        total.add(&cost);
        layers.push(LayerEstimate {
            name: model.node(p.node).name.clone(),
            // The op's own name, as the compile table and the manifest's layers give it.
            kind: model.node(p.node).op.kind(),
            cost,
            products,
            latency_cycles: lat,
            ii: lii,
        });
    }
    if dataflow {
        let channels = channel_cost(model, plans);
        total.add(&channels);
        layers.push(LayerEstimate {
            name: "(channels)".into(),
            kind: "channel",
            cost: channels,
            products: Products::default(),
            latency_cycles: 0,
            ii: 1,
        });
    }
    if io == IoType::Stream {
        let fifos = fifo_cost(model, plans)?;
        total.add(&fifos);
        layers.push(LayerEstimate {
            name: "(FIFOs)".into(),
            kind: "fifo",
            cost: fifos,
            products: Products::default(),
            latency_cycles: 0,
            ii: 1,
        });
    }
    let ready = |n: NodeIndex| done.get(&n).map_or(0, |d| d.1) * model.steps as u64;
    let latency_cycles = model
        .outputs
        .iter()
        .map(|o| ready(o.node))
        .max()
        .unwrap_or(0);
    let outputs = output_latencies(model, clock, ready);
    Ok(Estimate {
        utilisation: utilisation(&total, part),
        layers,
        total,
        latency_cycles,
        latency_ns: latency_cycles as f64 * clock,
        outputs,
        ii,
    })
}
