//! io_stream designs: which values a process computes at once, its schedule as a DATAFLOW
//! process, and the storage it and its FIFOs need.

use super::*;
pub(super) use crate::stream::pixels;

/// How many values a layer's hardware computes at once: all of them with io_parallel; with
/// io_stream, one pixel's channels in a per-pixel or window process, all of them in a
/// whole-tensor one.
pub(super) fn lanes(model: &Model, p: &LayerPlan, io: IoType) -> usize {
    use crate::stream::{Pattern, pattern};
    let channels = model.node(p.node).shape.last().copied().unwrap_or(1);
    match io {
        // A window layer computes `parallel` positions at once (hlsrs_conv.h's window_layer).
        IoType::Parallel => match &p.kernel {
            crate::kernels::Kernel::Pool(pl) => pl.parallel * pl.channels,
            _ => p.size,
        },
        IoType::Stream if model.is_input(p.node) => channels,
        IoType::Stream => match pattern(model, p.node) {
            Pattern::Whole { .. } => p.size,
            Pattern::PerPixel(_) | Pattern::Window { .. } => channels,
        },
    }
}

/// An io_stream layer's DATAFLOW process, given the cycles its first and last input pixels
/// arrive: the cycles it writes its first and last pixel, and how long one run keeps it busy.
/// A process is a function, not a pipeline: it takes the next input only after its run ends,
/// so the design's interval is its busiest process's run. `lat` and `ii` are the layer's
/// kernel latency and interval per pixel (per position for a window).
pub(super) fn stream_process(
    model: &Model,
    n: NodeIndex,
    lat: u64,
    ii: u64,
    first_in: u64,
    last_in: u64,
) -> (u64, u64, u64) {
    use crate::stream::{Pattern, pattern};
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
        // hlsrs_stream.h's window_stream: one loop over the padded image's pixels, pipelined at
        // the kernel's interval (around a resource kernel, a cycle a pixel and a kernel run where
        // a position ends); a pixel inside the input waits for its arrival, spread evenly
        // between the first and the last input pixel's.
        Pattern::Window(scan) => {
            let pipelined = model.node(n).hardware.strategy != crate::ir::Strategy::Resource
                || !matches!(model.node(n).op, crate::ir::Op::Conv { .. });
            let n_in = pixels(model, model.inputs(n)[0]).max(1) as u64;
            let arrival = |i: u64| {
                if n_in == 1 {
                    first_in
                } else {
                    first_in + (last_in - first_in) * i / (n_in - 1)
                }
            };
            let (mut t, mut read, mut emits) = (first_in, 0u64, 0u64);
            let (mut first, mut last) = (None, 0);
            scan.for_each(|reads, writes| {
                if reads {
                    t = t.max(arrival(read));
                    read += 1;
                }
                let step = if pipelined {
                    ii
                } else if writes {
                    1 + lat + 1
                } else {
                    1
                };
                if writes {
                    let at = t + if pipelined { lat } else { 1 + lat };
                    first.get_or_insert(at);
                    last = at;
                    emits += 1;
                }
                t += step;
            });
            let steps = scan.steps() as u64;
            let run = if pipelined {
                steps * ii + lat
            } else {
                steps + emits * (lat + 1) + lat
            };
            (first.unwrap_or(t), last.max(first.unwrap_or(t)), run)
        }
    }
}

/// What an io_stream per-pixel or window process stores beyond its kernel: the result pixel's
/// register (and, when the kernel has no pipeline stage of its own, the input pixel's), and a
/// window's line buffer of the rows it spans (registers, LUT RAM or block RAM by size, as
/// `memory`).
pub(super) fn process_storage(model: &Model, p: &LayerPlan, kernel_latency: u64) -> Cost {
    use crate::stream::{Pattern, pattern};
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
    if let Pattern::Window(scan) = pattern(model, p.node) {
        // The window's span_h x span_w pixels in registers (and whether each is padding), and
        // a line buffer per row above the current one the window spans: one memory per row and
        // channel, a padded row deep (hlsrs_stream.h's partitioning). Every tap is a register
        // at a constant index: no multiplexer.
        let (span_h, span_w) = scan.span;
        c.ff += (span_h * span_w * (in_c * x.width as usize + 1)) as u64;
        let line = line_memory(x.width as usize, scan.padded_w);
        for _ in 0..(span_h - 1) * in_c {
            c.add(&line);
        }
        if span_h > 1 {
            c.add(&line_memory(span_h - 1, scan.padded_w));
        }
    }
    c
}

/// A line buffer of `depth` words of `width` bits, read and written at one address a cycle: a
/// RAM (Vitis partitions only arrays of a few words into registers by itself).
fn line_memory(width: usize, depth: usize) -> Cost {
    if depth <= 2 {
        return registers(width, depth);
    }
    ram(width, depth)
}

/// `depth` words of `width` bits: registers up to 1024 bits, else a RAM.
fn memory(width: usize, depth: usize) -> Cost {
    if depth * width <= FIFO_SRL_MAX_BITS {
        return registers(width, depth);
    }
    ram(width, depth)
}

fn registers(width: usize, depth: usize) -> Cost {
    Cost {
        ff: (width * depth) as u64,
        ..Cost::default()
    }
}

/// A RAM of `depth` words of `width` bits and its output register: LUT RAM (64 words a LUT per
/// bit) up to 64 words, block RAM beyond.
fn ram(width: usize, depth: usize) -> Cost {
    let storage = if depth <= 64 {
        Cost {
            lut: (width * depth.div_ceil(64)) as u64,
            ..Cost::default()
        }
    } else {
        Cost {
            bram_18k: block_rams(width, depth),
            ..Cost::default()
        }
    };
    Cost {
        ff: width as u64,
        ..storage
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
pub(super) fn fifo_cost(model: &Model, plans: &[LayerPlan]) -> Result<Cost> {
    let result: HashMap<NodeIndex, FixedType> = plans.iter().map(|p| (p.node, p.result)).collect();
    let wiring = crate::stream::wire(model)?;
    let mut c = Cost::default();
    for f in &wiring.fifos {
        let node = f.id.node();
        let channels = model.node(node).shape.last().copied().unwrap_or(1);
        c.add(&fifo(channels * result[&node].width as usize, f.depth));
    }
    Ok(c)
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
