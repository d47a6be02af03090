//! io_stream wiring: one FIFO per producer-consumer edge (values used twice go through clone
//! processes), and FIFO depths from a token-level simulation of the layers' schedules: each process
//! runs its read/write pattern (per pixel, whole tensor, or pixel by pixel of the padded image for
//! windows) with unbounded FIFOs, and each FIFO's depth is the most pixels it ever held, plus one.
//! Neutral: streams are named by what they carry (`StreamId`); a backend gives them names.

use crate::ir::{Model, Op};
use petgraph::stable_graph::NodeIndex;
use std::collections::HashMap;

/// A stream of the design, by what it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamId {
    /// A node's values as it produces them (a model input's or output's own port when the node
    /// is one).
    Value(NodeIndex),
    /// Copy `j` of a value read by several consumers: clone `j`'s first output (the last clone's
    /// second output is the last copy).
    Copy(NodeIndex, usize),
    /// What clone `j` passes on to clone `j + 1`.
    Rest(NodeIndex, usize),
}

impl StreamId {
    /// The node whose values the stream carries.
    pub fn node(self) -> NodeIndex {
        match self {
            StreamId::Value(n) | StreamId::Copy(n, _) | StreamId::Rest(n, _) => n,
        }
    }
}

/// A FIFO between two processes (the model's inputs and outputs are ports, not FIFOs).
#[derive(Debug, Clone)]
pub struct Fifo {
    pub id: StreamId,
    /// Pixels it holds: the most the simulation saw in it, plus one.
    pub depth: usize,
}

/// What a process is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessKind {
    /// The layer computing this node.
    Layer(NodeIndex),
    /// A clone of this node's values: one pixel in, the same pixel out on both outputs.
    Clone(NodeIndex),
}

#[derive(Debug, Clone)]
pub struct Process {
    pub kind: ProcessKind,
    pub inputs: Vec<StreamId>,
    pub outputs: Vec<StreamId>,
    /// Pixels of the values it produces.
    pub pixels: usize,
}

/// How a process moves tokens, for the depth simulation and the estimator's schedule.
pub(crate) enum Pattern {
    /// Per pixel: read one from each input, write one.
    PerPixel(usize),
    /// Read every input pixel, then write every output pixel.
    Whole { read: usize, write: usize },
    /// hlsrs_stream.h's window_stream: one step per pixel of the padded image, row by row; a
    /// step reads a pixel where it is inside the input and writes the position whose window it
    /// completes (at the last row and column of the window, at the strides).
    Window(WindowScan),
}

/// The pixel loop of a window process, over the padded image.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WindowScan {
    pub padded_h: usize,
    pub padded_w: usize,
    /// The input's rows and columns within the padded image.
    pub rows: (usize, usize),
    pub cols: (usize, usize),
    pub span: (usize, usize),
    pub stride: (usize, usize),
    pub out: (usize, usize),
}

impl WindowScan {
    /// Calls `f(reads, writes)` for each pixel of the padded image in order.
    pub fn for_each(&self, mut f: impl FnMut(bool, bool)) {
        let (mut oh, mut next_y) = (0, self.span.0 - 1);
        for y in 0..self.padded_h {
            let row_emits = oh < self.out.0 && y == next_y;
            let (mut ow, mut next_x) = (0, self.span.1 - 1);
            for x in 0..self.padded_w {
                let inside = (self.rows.0..self.rows.1).contains(&y)
                    && (self.cols.0..self.cols.1).contains(&x);
                let emits = row_emits && ow < self.out.1 && x == next_x;
                if emits {
                    ow += 1;
                    next_x += self.stride.1;
                }
                f(inside, emits);
            }
            if row_emits {
                oh += 1;
                next_y += self.stride.0;
            }
        }
    }

    /// The pixels of the padded image: the loop's iterations.
    pub fn steps(&self) -> usize {
        self.padded_h * self.padded_w
    }
}

pub struct Wiring {
    pub fifos: Vec<Fifo>,
    pub processes: Vec<Process>,
    /// Per process, its reads and writes in order: what the FIFO depths were simulated with,
    /// and what the C++ process must do (tests compare it with the C-simulation's).
    pub programs: Vec<Vec<Act>>,
}

/// One step of a process: a read of one pixel from input slot k, or a write of one pixel (to
/// every output of a clone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    Read(usize),
    Write,
}

/// A process's reads and writes, in order, for its pattern and number of inputs.
fn program(pattern: &Pattern, inputs: usize) -> Vec<Act> {
    let reads = |v: &mut Vec<Act>| (0..inputs).for_each(|k| v.push(Act::Read(k)));
    let mut v = Vec::new();
    match pattern {
        Pattern::PerPixel(n) => {
            for _ in 0..*n {
                reads(&mut v);
                v.push(Act::Write);
            }
        }
        Pattern::Whole { read, write } => {
            for _ in 0..*read {
                reads(&mut v);
            }
            v.extend(std::iter::repeat_n(Act::Write, *write));
        }
        Pattern::Window(scan) => scan.for_each(|read, write| {
            if read {
                reads(&mut v);
            }
            if write {
                v.push(Act::Write);
            }
        }),
    }
    v
}

/// Positions (pixels) of a value: all but the channel (last) axis. A stream carries one pixel,
/// its channels, per element.
pub(crate) fn pixels(model: &Model, n: NodeIndex) -> usize {
    let s = &model.node(n).shape;
    s.iter().product::<usize>() / s.last().copied().unwrap_or(1).max(1)
}

/// The processes in the model's order (a clone chain right after its value's producer), their
/// programs and the FIFOs with their simulated depths.
pub fn wire(model: &Model) -> crate::error::Result<Wiring> {
    // A stream carries pixels: a Concat can only join them channel by channel.
    for n in model.topo_order() {
        let node = model.node(n);
        if let Op::Concat { axis } = node.op
            && axis + 1 != node.shape.len()
        {
            return Err(crate::error::Error::input(format!(
                "io stream joins pixels, so Concat must be along the channels (last) axis; this one is along axis {axis} of {:?}",
                node.shape
            ))
            .at_node(&node.name));
        }
    }
    let pixels = |n: NodeIndex| pixels(model, n);
    let mut fifos: Vec<Fifo> = Vec::new();
    let mut processes = Vec::new();
    let mut patterns: Vec<Pattern> = Vec::new();
    // The stream each consumer edge reads, filled as producers are wired.
    let mut edge_stream: HashMap<(NodeIndex, NodeIndex, usize), StreamId> = HashMap::new();
    let fifo = |id| Fifo { id, depth: 0 };
    for n in model.topo_order() {
        let value = StreamId::Value(n);
        if !model.is_input(n) {
            let inputs: Vec<StreamId> = model
                .inputs(n)
                .iter()
                .enumerate()
                .map(|(slot, &i)| edge_stream[&(i, n, slot)])
                .collect();
            processes.push(Process {
                kind: ProcessKind::Layer(n),
                inputs,
                outputs: vec![value],
                pixels: pixels(n),
            });
            patterns.push(pattern(model, n));
        }
        let consumers = model.consumers(n);
        if !model.is_output(n) && !model.is_input(n) {
            fifos.push(fifo(value));
        }
        match consumers.len() {
            0 => {}
            1 => {
                let (c, slot) = consumers[0];
                edge_stream.insert((n, c, slot), value);
            }
            k => {
                // A chain of clones: each passes one copy on to the next.
                let mut source = value;
                for (j, &(c, slot)) in consumers.iter().enumerate().take(k - 1) {
                    let first = StreamId::Copy(n, j);
                    let rest = if j + 2 == k {
                        StreamId::Copy(n, j + 1)
                    } else {
                        StreamId::Rest(n, j)
                    };
                    fifos.extend([fifo(first), fifo(rest)]);
                    processes.push(Process {
                        kind: ProcessKind::Clone(n),
                        inputs: vec![source],
                        outputs: vec![first, rest],
                        pixels: pixels(n),
                    });
                    patterns.push(Pattern::PerPixel(pixels(n)));
                    edge_stream.insert((n, c, slot), first);
                    source = rest;
                }
                let (c, slot) = consumers[k - 1];
                edge_stream.insert((n, c, slot), source);
            }
        }
    }
    let sources: Vec<(StreamId, usize)> = model
        .inputs
        .iter()
        .map(|&i| (StreamId::Value(i), pixels(i)))
        .collect();
    let programs: Vec<Vec<Act>> = processes
        .iter()
        .zip(&patterns)
        .map(|(p, pat)| program(pat, p.inputs.len()))
        .collect();
    let depths = simulate(&processes, &programs, &sources)?;
    for f in &mut fifos {
        f.depth = depths.get(&f.id).copied().unwrap_or(0).max(1) + 1;
    }
    Ok(Wiring {
        fifos,
        processes,
        programs,
    })
}

pub(crate) fn pattern(model: &Model, n: NodeIndex) -> Pattern {
    let node = model.node(n);
    let src = model.inputs(n)[0];
    let in_shape = &model.node(src).shape;
    let px = |s: &[usize]| s.iter().product::<usize>() / s.last().unwrap();
    match &node.op {
        Op::Dense { .. }
        | Op::Gather { .. }
        | Op::Transpose { .. }
        | Op::Reshape
        | Op::Recurrent(_) => Pattern::Whole {
            read: px(in_shape),
            write: px(&node.shape),
        },
        Op::Conv { window, .. } | Op::Pool { window, .. } => {
            let two = crate::ir::ops::as_hw;
            let (in_h, in_w) = two(&in_shape[..in_shape.len() - 1], 1);
            let (kh, kw) = two(&window.kernel, 1);
            let (dh, dw) = two(&window.dilations, 1);
            let (pt, pl) = two(&window.pads_begin, 0);
            let (pb, pr) = two(&window.pads_end, 0);
            Pattern::Window(WindowScan {
                padded_h: pt + in_h + pb,
                padded_w: pl + in_w + pr,
                rows: (pt, pt + in_h),
                cols: (pl, pl + in_w),
                span: ((kh - 1) * dh + 1, (kw - 1) * dw + 1),
                stride: two(&window.strides, 1),
                out: two(&node.shape[..node.shape.len() - 1], 1),
            })
        }
        Op::Input
        | Op::ScaleShift { .. }
        | Op::Activation(_)
        | Op::PRelu { .. }
        | Op::Quant { .. }
        | Op::Clip { .. }
        | Op::Softmax
        | Op::ArgMax { .. }
        | Op::Add
        | Op::Sub
        | Op::Mul
        | Op::Max
        | Op::Min
        | Op::Concat { .. } => Pattern::PerPixel(px(&node.shape)),
    }
}

/// Token-level simulation of the processes' programs; returns the most pixels each stream ever
/// held.
fn simulate(
    processes: &[Process],
    programs: &[Vec<Act>],
    inputs: &[(StreamId, usize)],
) -> crate::error::Result<HashMap<StreamId, usize>> {
    let mut level: HashMap<StreamId, usize> = HashMap::new();
    let mut peak: HashMap<StreamId, usize> = HashMap::new();
    // The model's inputs arrive whole (the testbench writes them before the design runs).
    for &(id, pixels) in inputs {
        level.insert(id, pixels);
    }
    let mut pc = vec![0usize; processes.len()];
    loop {
        let mut progressed = false;
        for (k, p) in processes.iter().enumerate() {
            // One action per process per step: reads wait for data, writes always go through.
            let Some(&act) = programs[k].get(pc[k]) else {
                continue;
            };
            match act {
                Act::Read(slot) => {
                    let l = level.entry(p.inputs[slot]).or_insert(0);
                    if *l == 0 {
                        continue;
                    }
                    *l -= 1;
                }
                Act::Write => {
                    for &o in &p.outputs {
                        let l = level.entry(o).or_insert(0);
                        *l += 1;
                        let pk = peak.entry(o).or_insert(0);
                        *pk = (*pk).max(*l);
                    }
                }
            }
            pc[k] += 1;
            progressed = true;
        }
        if !progressed {
            break;
        }
    }
    // Every process must have run its whole program: a process left waiting means the wiring
    // or a pattern is wrong, and depths taken from a stalled run would deadlock the hardware.
    if let Some(k) = (0..processes.len()).find(|&k| pc[k] < programs[k].len()) {
        return Err(crate::error::Error::internal(format!(
            "FIFO depth simulation stalled in process {} ({} of {} reads and writes)",
            k,
            pc[k],
            programs[k].len()
        )));
    }
    Ok(peak)
}
