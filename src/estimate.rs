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
use crate::ir::{FixedType, Model};
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
    pub latency_cycles: u64,
    pub latency_ns: f64,
    pub ii: u64,
    /// Percent of the part: DSP, LUT, FF, BRAM_18K, URAM.
    pub utilisation: [f64; 5],
}

/// How a product by the constant `raw` (a weight of type `w`) is built.
enum Product {
    Free,
    Lut,
    Dsp(u64),
}

fn product(raw: i128, w: FixedType, x: FixedType) -> Product {
    if raw == 0 {
        return Product::Free;
    }
    let m = raw.unsigned_abs();
    let odd = m >> m.trailing_zeros();
    if odd == 1 {
        Product::Free
    } else if 128 - odd.leading_zeros() <= 6 || w.width <= 8 {
        Product::Lut
    } else {
        let (a, b) = (x.width.max(w.width), x.width.min(w.width));
        Product::Dsp(if a <= 27 && b <= 18 { 1 } else { 2 })
    }
}

fn f(v: f64) -> u64 {
    v.round().max(0.0) as u64
}

/// The cost of one dense block (a dense layer, a convolution's position, a recurrent product)
/// and its latency and interval.
fn dense_cost(d: &DensePlan, x: FixedType, clock: f64) -> (Cost, u64, u64, Products) {
    let mut products = Products::default();
    let mut dsp = 0;
    let mut lut_mults = 0.0;
    let mut terms = vec![0usize; d.n_out];
    for (b, t) in d.bias.raw.iter().zip(terms.iter_mut()).take(d.n_out) {
        *t += (*b != 0) as usize;
    }
    let mut any_dsp = false;
    for (_, j, k) in d.schedule(0) {
        match product(d.weights.raw[k], d.weights.ty, x) {
            Product::Free if d.weights.raw[k] == 0 => continue,
            Product::Free => products.shift += 1,
            Product::Lut => {
                lut_mults += 1.5 * x.width as f64;
                products.lut += 1;
            }
            Product::Dsp(n) => {
                dsp += n;
                any_dsp = true;
                products.dsp += 1;
            }
        }
        terms[j] += 1;
    }
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
        crate::ir::Strategy::Latency => {
            let ns = if any_dsp { MULTIPLY_NS } else { 0.0 } + levels * ADD_NS;
            ((ns / clock).floor() as u64, 1)
        }
        crate::ir::Strategy::Resource => {
            dsp = dsp.div_ceil(r);
            lut /= r as f64;
            (r + 1 + (levels * ADD_NS / clock).ceil() as u64, r)
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

type LayerFigures = (&'static str, Cost, u64, u64, Products);

/// A layer's kind, cost, latency, interval, and how its constant products map.
fn layer(p: &LayerPlan, io: IoType, clock: f64, lanes: usize) -> LayerFigures {
    let (kind, cost, lat, ii) = match &p.kernel {
        Kernel::Dense(d) => {
            let (c, lat, ii, products) = dense_cost(d, p.input_types[0], clock);
            return ("dense", c, lat, ii, products);
        }
        Kernel::Conv(cp) => {
            let (mut c, lat, ii, products) = dense_cost(&cp.dense, p.input_types[0], clock);
            let positions: usize = cp.out_spatial.iter().product();
            let blocks = (positions * cp.groups) as u64;
            return match io {
                // Every position unrolled.
                IoType::Parallel => {
                    c.dsp *= blocks;
                    c.lut *= blocks;
                    c.ff *= blocks;
                    ("conv", c, lat, ii, products)
                }
                // One position after the other through one block per group: the schedule of
                // the positions is `stream_process`'s.
                IoType::Stream => {
                    let g = cp.groups as u64;
                    c.dsp *= g;
                    c.lut *= g;
                    c.ff *= g;
                    ("conv", c, lat, ii, products)
                }
            };
        }
        _ => layer_cost(p, clock, lanes),
    };
    (kind, cost, lat, ii, Products::default())
}

/// Layers without constant products; `lanes` values computed at once.
fn layer_cost(p: &LayerPlan, clock: f64, lanes: usize) -> (&'static str, Cost, u64, u64) {
    let n = lanes as f64;
    let w = p.result.width as f64;
    let x = p.input_types.first().copied().unwrap_or(p.result);
    let compare = |count: f64| Cost {
        lut: f(count * LUT_PER_COMPARE_BIT * w),
        ..Cost::default()
    };
    match &p.kernel {
        Kernel::Input => (
            "input",
            Cost {
                ff: f(n * w) + 2,
                ..Cost::default()
            },
            0,
            1,
        ),
        Kernel::Dense(_) | Kernel::Conv(_) => unreachable!("costed by layer"),
        Kernel::Relu => ("relu", compare(n), 0, 1),
        Kernel::LeakyRelu { alpha } if alpha.ty.to_f64(alpha.raw[0]) == 1.0 => {
            ("leaky_relu", Cost::default(), 0, 1)
        }
        Kernel::LeakyRelu { .. } => ("leaky_relu", compare(1.5 * n), 0, 1),
        Kernel::PRelu { slope } => {
            let all_zero = slope.raw.iter().all(|&s| s == 0);
            ("prelu", compare(if all_zero { n } else { 1.5 * n }), 0, 1)
        }
        Kernel::Clip { .. } | Kernel::HardSigmoid { .. } => ("clip", compare(2.0 * n), 0, 1),
        Kernel::Quant { .. } => ("quant", compare(n), 0, 1),
        Kernel::Table(t) => {
            let pass = !matches!(t.mode, crate::kernels::activation::TableMode::Table);
            let bits = t.size() * t.table.ty.width as usize;
            let per_table = bits.div_ceil(BRAM_BITS) as u64;
            let lut_bit = if pass {
                LUT_TABLE_PASS_PER_BIT
            } else {
                LUT_TABLE_PER_BIT
            };
            (
                t.func,
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
                "softmax",
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
            ("pool", c, 0, 1)
        }
        Kernel::Add | Kernel::Sub => (
            "add",
            Cost {
                lut: f(n * LUT_PER_ADD_BIT * w),
                ..Cost::default()
            },
            0,
            1,
        ),
        Kernel::Mul => (
            "mul",
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
            ("scale_shift", c, 0, 1)
        }
        Kernel::Recurrent(r) => {
            let mut c = Cost::default();
            let mut step = 0;
            for d in r.wx.iter().chain(&r.rh).chain(&r.rhh) {
                let (dc, lat, ii, _) = dense_cost(d, x, clock);
                c.add(&dc);
                step = step.max(lat.max(ii));
            }
            let gates = p.size as f64 / r.seq.max(1) as f64;
            c.lut += f(gates * w * LUT_TABLE_PER_BIT * 3.0);
            c.bram_18k += (r.acts.len() as u64) * 2;
            let per_step = step + TABLE_LATENCY + 1;
            let steps = if r.rec.stateful { 1 } else { r.seq as u64 };
            ("recurrent", c, per_step * steps, per_step * steps)
        }
        Kernel::Concat { .. } | Kernel::Gather { .. } => ("wiring", Cost::default(), 0, 1),
    }
}

/// How many values a layer's hardware computes at once: all of them with io_parallel; with
/// io_stream, one pixel's channels in a per-pixel or window process, all of them in a
/// whole-tensor one.
fn lanes(model: &Model, p: &LayerPlan, io: IoType) -> usize {
    use crate::backend::vitis::stream::{Pattern, pattern};
    let channels = model.node(p.node).shape.last().copied().unwrap_or(1);
    match io {
        IoType::Parallel => p.size,
        IoType::Stream if p.node == model.input => channels,
        IoType::Stream => match pattern(model, p.node) {
            Pattern::Whole { .. } => p.size,
            Pattern::PerPixel(_) | Pattern::Window { .. } => channels,
        },
    }
}

/// Positions (pixels) of a value in io_stream: all but the channel axis.
fn pixels(model: &Model, n: NodeIndex) -> usize {
    let s = &model.node(n).shape;
    s.iter().product::<usize>() / s.last().copied().unwrap_or(1).max(1)
}

/// An io_stream layer's DATAFLOW process, given the cycles its first and last input pixels
/// arrive: the cycles it writes its first and last pixel, and how long one run keeps it busy.
/// A process is a function, not a pipeline: it takes the next input only after its run ends,
/// so the design's interval is its busiest process's run. `lat` and `ii` are the layer's
/// kernel latency and interval per pixel (per position for a window).
fn stream_process(
    model: &Model,
    n: NodeIndex,
    lat: u64,
    ii: u64,
    first_in: u64,
    last_in: u64,
) -> (u64, u64, u64) {
    use crate::backend::vitis::stream::{Pattern, pattern};
    let ii = ii.max(1);
    let pattern = pattern(model, n);
    // A process holds its pixel in a register for at least a cycle, however little it computes.
    let lat = match pattern {
        Pattern::Whole { .. } => lat,
        Pattern::PerPixel(_) | Pattern::Window { .. } => lat.max(1),
    };
    match pattern {
        Pattern::PerPixel(px) => {
            let px = px.max(1) as u64;
            let first = first_in + lat;
            (
                first,
                (last_in + lat).max(first + (px - 1) * ii),
                px * ii + lat,
            )
        }
        // Reads everything, computes, writes every pixel.
        Pattern::Whole { read, write } => {
            let first = last_in + lat;
            (
                first,
                first + write.max(1) as u64 - 1,
                (read + write) as u64 + lat,
            )
        }
        // The first output waits for the rows its window spans.
        Pattern::Window {
            in_w,
            rows_done_at,
            out_w,
        } => {
            let rows = rows_done_at.iter().position(|&d| d > 0).unwrap_or(0) + 1;
            let positions = (rows_done_at.last().copied().unwrap_or(0) * out_w).max(1) as u64;
            let first = first_in + (rows * in_w) as u64 - 1 + lat;
            let read = (rows_done_at.len() * in_w) as u64;
            (
                first,
                (last_in + lat).max(first + (positions - 1) * ii),
                read.max(positions * ii) + lat,
            )
        }
    }
}

/// What an io_stream per-pixel or window process stores beyond its kernel: the result pixel's
/// register (and, when the kernel has no pipeline stage of its own, the input pixel's), and a
/// window's line buffer of the rows it spans (registers, LUT RAM or block RAM by size, as
/// `memory`).
fn process_storage(model: &Model, p: &LayerPlan, kernel_latency: u64) -> Cost {
    use crate::backend::vitis::stream::{Pattern, pattern};
    let node = model.node(p.node);
    let src = model.inputs(p.node)[0];
    let out_c = node.shape.last().copied().unwrap_or(1);
    let in_c = model.node(src).shape.last().copied().unwrap_or(1);
    let x = p.input_types.first().copied().unwrap_or(p.result);
    let mut c = Cost::default();
    match pattern(model, p.node) {
        Pattern::Whole { .. } => return c,
        Pattern::PerPixel(_) | Pattern::Window { .. } => {
            c.ff += (out_c * p.result.width as usize) as u64;
            if kernel_latency == 0 {
                c.ff += (in_c * x.width as usize) as u64;
            }
        }
    }
    if let (
        Pattern::Window { in_w, .. },
        crate::ir::Op::Conv { window, .. } | crate::ir::Op::Pool { window, .. },
    ) = (pattern(model, p.node), &node.op)
    {
        let two = crate::ir::ops::as_hw;
        let ((kh, _), (dh, _)) = (two(&window.kernel, 1), two(&window.dilations, 1));
        let span = (kh - 1) * dh + 1;
        c.add(&memory(x.width as usize, span * in_w * in_c));
    }
    c
}

/// `depth` words of `width` bits: registers up to 1024 bits, LUT RAM (64 words a LUT per bit) up
/// to 64 words, block RAM beyond.
fn memory(width: usize, depth: usize) -> Cost {
    if depth * width <= FIFO_SRL_MAX_BITS {
        return Cost {
            ff: (width * depth) as u64,
            ..Cost::default()
        };
    }
    if depth <= 64 {
        return Cost {
            lut: (width * depth.div_ceil(64)) as u64,
            ff: width as u64,
            ..Cost::default()
        };
    }
    Cost {
        bram_18k: block_rams(width, depth),
        ff: width as u64,
        ..Cost::default()
    }
}

/// BRAM_18K blocks for `depth` words of `width` bits: 512 x 36, 1K x 18, 2K x 9, 4K x 4, 8K x 2,
/// 16K x 1.
fn block_rams(width: usize, depth: usize) -> u64 {
    let per_block = match depth {
        0..=512 => 36,
        513..=1024 => 18,
        1025..=2048 => 9,
        2049..=4096 => 4,
        4097..=8192 => 2,
        _ => 1,
    };
    (width.div_ceil(per_block) * depth.div_ceil(16384)) as u64
}

/// The FIFOs between io_stream processes, at the depths the project gets.
fn fifo_cost(model: &Model, plans: &[LayerPlan]) -> Cost {
    let index_of: HashMap<NodeIndex, usize> =
        plans.iter().enumerate().map(|(i, p)| (p.node, i)).collect();
    let result: HashMap<NodeIndex, FixedType> = plans.iter().map(|p| (p.node, p.result)).collect();
    let wiring = crate::backend::vitis::stream::wire(model, &index_of);
    let mut c = Cost::default();
    for s in &wiring.streams {
        let channels = model.node(s.node).shape.last().copied().unwrap_or(1);
        c.add(&fifo(channels * result[&s.node].width as usize, s.depth));
    }
    c
}

/// One FIFO of `depth` words of `width` bits. Vitis builds a FIFO of at most 1024 bits, or of
/// depth at most 2, from shift-register LUTs (one SRL32 per bit and 32 words), and larger ones
/// as memories (`config_storage fifo` defaults, UG1399), which we take to be LUT RAM (64 words
/// a LUT per bit) up to 64 words and block RAM beyond. The control logic is calibrated on the
/// FIFO table of the shared Vivado HLS report: a 16-bit FIFO of depth 1 costs 28 LUTs and 5 FFs.
pub fn fifo(width: usize, depth: usize) -> Cost {
    let depth = depth.max(1);
    let addr = (usize::BITS - depth.leading_zeros()) as u64;
    let control = Cost {
        lut: FIFO_CONTROL_LUT + 2 * addr,
        ff: FIFO_CONTROL_FF + addr,
        ..Cost::default()
    };
    let storage = if depth <= 2 || depth * width <= FIFO_SRL_MAX_BITS {
        Cost {
            lut: (width * depth.div_ceil(32)) as u64,
            ..Cost::default()
        }
    } else {
        memory(width, depth)
    };
    let mut c = control;
    c.add(&storage);
    c
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
    for p in plans {
        let (kind, mut cost, lat, lii, products) = layer(p, io, clock, lanes(model, p, io));
        if io == IoType::Stream && p.node != model.input {
            cost.add(&process_storage(model, p, lat));
        }
        let inputs = model.inputs(p.node);
        let (lat, lii) = match io {
            IoType::Parallel => {
                let start = inputs.iter().map(|i| done[i].1).max().unwrap_or(0);
                done.insert(p.node, (start + lat, start + lat));
                (lat, lii)
            }
            IoType::Stream if p.node == model.input => {
                // The input arrives one pixel a cycle.
                done.insert(p.node, (0, pixels(model, p.node) as u64 - 1));
                (0, 1)
            }
            IoType::Stream => {
                // Through a FIFO from another process (the model input is a stream already).
                let fifo = |i: NodeIndex| (i != model.input) as u64;
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
            kind,
            cost,
            products,
            latency_cycles: lat,
            ii: lii,
        });
    }
    if io == IoType::Stream {
        let fifos = fifo_cost(model, plans);
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
    let latency_cycles = done.get(&model.output).map_or(0, |d| d.1) * model.steps as u64;
    let pct = |used: u64, avail: u32| {
        if avail == 0 {
            0.0
        } else {
            100.0 * used as f64 / avail as f64
        }
    };
    Ok(Estimate {
        utilisation: [
            pct(total.dsp, part.dsp),
            pct(total.lut, part.lut),
            pct(total.ff, part.ff),
            pct(total.bram_18k, part.bram_18k),
            pct(total.uram, part.uram),
        ],
        layers,
        total,
        latency_cycles,
        latency_ns: latency_cycles as f64 * clock,
        ii,
    })
}

/// Limits for CI (`--budget dsp=60%,lut=50%,bram=80%,latency=400ns,ii=1`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Budget {
    /// (resource, limit): a percent of the part, or a count.
    pub resources: Vec<(Resource, Limit)>,
    pub latency_ns: Option<f64>,
    pub latency_cycles: Option<u64>,
    pub ii: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Resource {
    Dsp,
    Lut,
    Ff,
    Bram,
    Uram,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    Percent(f64),
    Count(u64),
}

impl Budget {
    pub fn parse(s: &str) -> Result<Budget> {
        let bad = |why: String| {
            crate::error::Error::input(format!(
                "budget '{s}': {why}; expected e.g. dsp=60%,lut=50%,ff=40%,bram=80%,uram=10,latency=400ns (or cycles),ii=1"
            ))
        };
        let mut b = Budget::default();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (k, v) = item
                .split_once('=')
                .ok_or_else(|| bad(format!("'{item}' has no '='")))?;
            let v = v.trim();
            let number = |t: &str| {
                t.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x >= 0.0)
                    .ok_or_else(|| bad(format!("'{v}' is not a number")))
            };
            let limit = || -> Result<Limit> {
                Ok(match v.strip_suffix('%') {
                    Some(p) => Limit::Percent(number(p)?),
                    None => Limit::Count(number(v)? as u64),
                })
            };
            match k.trim() {
                "dsp" => b.resources.push((Resource::Dsp, limit()?)),
                "lut" => b.resources.push((Resource::Lut, limit()?)),
                "ff" => b.resources.push((Resource::Ff, limit()?)),
                "bram" => b.resources.push((Resource::Bram, limit()?)),
                "uram" => b.resources.push((Resource::Uram, limit()?)),
                "latency" => match (v.strip_suffix("ns"), v.strip_suffix("cycles")) {
                    (Some(ns), _) => b.latency_ns = Some(number(ns)?),
                    (_, Some(c)) => b.latency_cycles = Some(number(c)? as u64),
                    _ => return Err(bad(format!("latency '{v}' needs a unit, ns or cycles"))),
                },
                "ii" => b.ii = Some(number(v)? as u64),
                other => return Err(bad(format!("unknown figure '{other}'"))),
            }
        }
        Ok(b)
    }

    /// What is over: (figure, estimate, limit) in words.
    pub fn over(&self, e: &Estimate) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        for (r, lim) in &self.resources {
            let (name, used, pct) = match r {
                Resource::Dsp => ("DSP", e.total.dsp, e.utilisation[0]),
                Resource::Lut => ("LUT", e.total.lut, e.utilisation[1]),
                Resource::Ff => ("FF", e.total.ff, e.utilisation[2]),
                Resource::Bram => ("BRAM_18K", e.total.bram_18k, e.utilisation[3]),
                Resource::Uram => ("URAM", e.total.uram, e.utilisation[4]),
            };
            match *lim {
                Limit::Percent(p) if pct > p => {
                    out.push((name.into(), format!("{used} ({pct:.1}%)"), format!("{p}%")))
                }
                Limit::Count(c) if used > c => {
                    out.push((name.into(), used.to_string(), c.to_string()))
                }
                _ => {}
            }
        }
        if let Some(ns) = self.latency_ns
            && e.latency_ns > ns
        {
            out.push((
                "latency".into(),
                format!("{} ns", e.latency_ns),
                format!("{ns} ns"),
            ));
        }
        if let Some(c) = self.latency_cycles
            && e.latency_cycles > c
        {
            out.push((
                "latency".into(),
                format!("{} cycles", e.latency_cycles),
                format!("{c} cycles"),
            ));
        }
        if let Some(ii) = self.ii
            && e.ii > ii
        {
            out.push(("II".into(), e.ii.to_string(), ii.to_string()));
        }
        out
    }
}

/// One reuse-factor choice of a dense, conv or recurrent layer and what it costs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReuseOption {
    /// A recurrent layer's: of its input product.
    pub reuse: usize,
    /// A recurrent layer's reuse factor of its recurrent product(s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurrent_reuse: Option<usize>,
    pub strategy: crate::ir::Strategy,
    pub dsp: u64,
    pub lut: u64,
    pub latency_cycles: u64,
    pub ii: u64,
}

/// Every valid reuse factor of each dense, conv and recurrent layer with its cost: (layer,
/// options). A recurrent layer's options pair an input and a recurrent reuse factor. Reuse factor
/// 1 (both 1) is the latency strategy; anything larger the resource strategy.
pub fn reuse_options(
    model: &Model,
    io: IoType,
    clock: f64,
) -> Result<Vec<(String, Vec<ReuseOption>)>> {
    use crate::kernels::dense::common_reuse_factors;
    let mut out = Vec::new();
    for n in model.topo_order() {
        let products = model.node(n).op.matrix_products();
        let pairs: Vec<(usize, Option<usize>)> = match model.node(n).op {
            crate::ir::Op::Dense { .. } | crate::ir::Op::Conv { .. } => {
                common_reuse_factors(&products)
                    .into_iter()
                    .map(|r| (r, None))
                    .collect()
            }
            crate::ir::Op::Recurrent(_) => {
                let recurrent = common_reuse_factors(&products[1..]);
                common_reuse_factors(&products[..1])
                    .into_iter()
                    .flat_map(|r| recurrent.iter().map(move |&q| (r, Some(q))))
                    .collect()
            }
            _ => continue,
        };
        let mut options = Vec::new();
        for (r, q) in pairs {
            let mut m = model.clone();
            let strategy = if r == 1 && q.is_none_or(|q| q == 1) {
                crate::ir::Strategy::Latency
            } else {
                crate::ir::Strategy::Resource
            };
            let hw = &mut m.node_mut(n).hardware;
            hw.reuse = r;
            hw.recurrent_reuse = q.unwrap_or(1);
            hw.strategy = strategy;
            let plan = crate::kernels::plan_layer(&m, n)?;
            let (_, cost, lat, ii, _) = layer(&plan, io, clock, lanes(&m, &plan, io));
            let (latency_cycles, ii) = match io {
                IoType::Parallel => (lat, ii),
                // Its process with the input arriving a pixel a cycle.
                IoType::Stream => {
                    let last_in = pixels(&m, m.inputs(n)[0]) as u64 - 1;
                    let (_, last, busy) = stream_process(&m, n, lat, ii, 0, last_in);
                    (last - last_in, busy)
                }
            };
            options.push(ReuseOption {
                reuse: r,
                recurrent_reuse: q,
                strategy,
                dsp: cost.dsp,
                lut: cost.lut,
                latency_cycles,
                ii,
            });
        }
        out.push((model.node(n).name.clone(), options));
    }
    Ok(out)
}

/// Per dense, conv and recurrent layer, the reuse factors (and strategy) of least cost (DSPs, then LUTs)
/// that keeps the design within `target_latency_ns` and `target_ii`: the cheapest option of
/// each layer within the interval first, then, while the latency is over, the step that saves
/// the most cycles per DSP added. None when even the fastest options miss the targets.
pub fn choose_reuse(
    model: &Model,
    io: IoType,
    clock: f64,
    part: &crate::parts::Part,
    target_latency_ns: Option<f64>,
    target_ii: Option<u64>,
) -> Result<Option<Vec<(String, ReuseOption)>>> {
    let options = reuse_options(model, io, clock)?;
    let mut pick: Vec<usize> = Vec::new();
    for (_, opts) in &options {
        let ok: Vec<usize> = (0..opts.len())
            .filter(|&k| target_ii.is_none_or(|t| opts[k].ii <= t))
            .collect();
        let Some(&best) = ok
            .iter()
            .min_by_key(|&&k| (opts[k].dsp, opts[k].lut, opts[k].reuse))
        else {
            return Ok(None);
        };
        pick.push(best);
    }
    let latency_of = |pick: &[usize]| -> Result<f64> {
        let mut m = model.clone();
        for ((name, opts), &k) in options.iter().zip(pick) {
            let n = m.find(name).expect("layer of the model");
            let hw = &mut m.node_mut(n).hardware;
            hw.reuse = opts[k].reuse;
            hw.recurrent_reuse = opts[k].recurrent_reuse.unwrap_or(1);
            hw.strategy = opts[k].strategy;
        }
        Ok(estimate(&m, io, clock, part)?.latency_ns)
    };
    if let Some(target) = target_latency_ns {
        let mut lat = latency_of(&pick)?;
        while lat > target {
            // The faster option of some layer with the best cycles saved per DSP added.
            let mut best: Option<(usize, usize, f64)> = None;
            for (l, (_, opts)) in options.iter().enumerate() {
                let cur = &opts[pick[l]];
                for (k, o) in opts.iter().enumerate() {
                    if o.latency_cycles >= cur.latency_cycles || target_ii.is_some_and(|t| o.ii > t)
                    {
                        continue;
                    }
                    let saved = (cur.latency_cycles - o.latency_cycles) as f64;
                    let added = (o.dsp as f64 - cur.dsp as f64).max(0.0) + 1.0;
                    let score = saved / added;
                    if best.is_none_or(|(_, _, s)| score > s) {
                        best = Some((l, k, score));
                    }
                }
            }
            let Some((l, k, _)) = best else {
                return Ok(None);
            };
            pick[l] = k;
            lat = latency_of(&pick)?;
        }
    }
    Ok(Some(
        options
            .into_iter()
            .zip(pick)
            .map(|((name, opts), k)| (name, opts[k].clone()))
            .collect(),
    ))
}
