//! Verilog backend: a synthesizable Verilog-2005 design for an io_parallel model, pipelined at
//! II 1: one module per layer (its arithmetic combinational, its outputs registered; wiring-only
//! layers add no register), a top that registers the inputs, delays values that skip layers so
//! every layer reads one sample's values, and shifts a valid bit along with the data. The latency
//! in cycles is stated in the top's header and the manifest; `rtlsim` measures it.
//!
//! Every value is exact fixed point (`rtl`), each layer computes the plan's casts in the
//! emulator's order (`layers`), so the RTL's outputs are `hlsrs predict`'s bits. Verilator is
//! its C-simulation (`rtlsim`), yosys its synthesis (`synth`).

pub mod estimate;
mod layers;
pub mod rtl;
pub mod rtlsim;
pub mod synth;

use super::{Files, ProjectOptions};
use crate::error::{Error, Result};
use crate::ir::{FixedType, Model};
use crate::kernels::{Kernel, LayerPlan};
use petgraph::stable_graph::NodeIndex;
use rtl::{Body, Val};
use serde_json::json;
use std::collections::HashMap;
use std::fmt::Write;

/// Verilog-2005 and SystemVerilog words a module may not be named (Verilator reads both).
const KEYWORDS: &[&str] = &[
    "always",
    "and",
    "assign",
    "automatic",
    "begin",
    "buf",
    "case",
    "casex",
    "casez",
    "cell",
    "cmos",
    "config",
    "deassign",
    "default",
    "defparam",
    "design",
    "disable",
    "edge",
    "else",
    "end",
    "endcase",
    "endconfig",
    "endfunction",
    "endgenerate",
    "endmodule",
    "endprimitive",
    "endspecify",
    "endtable",
    "endtask",
    "event",
    "for",
    "force",
    "forever",
    "fork",
    "function",
    "generate",
    "genvar",
    "highz0",
    "highz1",
    "if",
    "ifnone",
    "incdir",
    "include",
    "initial",
    "inout",
    "input",
    "instance",
    "integer",
    "join",
    "large",
    "liblist",
    "library",
    "localparam",
    "macromodule",
    "medium",
    "module",
    "nand",
    "negedge",
    "nmos",
    "nor",
    "noshowcancelled",
    "not",
    "notif0",
    "notif1",
    "or",
    "output",
    "parameter",
    "pmos",
    "posedge",
    "primitive",
    "pull0",
    "pull1",
    "pulldown",
    "pullup",
    "rcmos",
    "real",
    "realtime",
    "reg",
    "release",
    "repeat",
    "rnmos",
    "rpmos",
    "rtran",
    "rtranif0",
    "rtranif1",
    "scalared",
    "signed",
    "small",
    "specify",
    "specparam",
    "strong0",
    "strong1",
    "supply0",
    "supply1",
    "table",
    "task",
    "time",
    "tran",
    "tranif0",
    "tranif1",
    "tri",
    "tri0",
    "tri1",
    "triand",
    "trior",
    "trireg",
    "unsigned",
    "use",
    "vectored",
    "wait",
    "wand",
    "weak0",
    "weak1",
    "while",
    "wire",
    "wor",
    "xnor",
    "xor",
    "bit",
    "byte",
    "class",
    "const",
    "int",
    "logic",
    "longint",
    "shortint",
    "string",
    "struct",
    "typedef",
    "union",
    "void",
    "interface",
    "package",
    "program",
    "property",
    "sequence",
];

/// The top module's name: the design's, unless a keyword takes it.
pub fn top_name(name: &str) -> String {
    if KEYWORDS.contains(&name) {
        format!("{name}_top")
    } else {
        name.to_string()
    }
}

/// Text fit for a `//` comment: one line, printable.
fn comment(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Why the Verilog backend cannot build this model, if it cannot.
fn check(model: &Model, plans: &[LayerPlan], opts: &ProjectOptions) -> Result<()> {
    check_design(model, plans, opts.config.io)?;
    check_ends(model)
}

/// What `design` can build: io_parallel, every layer's kernel, at most MAX_WORK.
fn check_design(model: &Model, plans: &[LayerPlan], io: crate::config::IoType) -> Result<()> {
    if io != crate::config::IoType::Parallel {
        return Err(Error::input(
            "the verilog backend builds io_parallel designs (every value on wires, a new sample \
             each cycle); use --io parallel or the vitis backend",
        ));
    }
    for p in plans {
        if let Some(why) = layers::unsupported(p) {
            return Err(Error::input(why).at_node(&model.node(p.node).name));
        }
    }
    // Every product and value is its own hardware: a design past this is no FPGA's, and
    // writing it would take the machine's memory.
    let work = |p: &LayerPlan| p.multiplications() + p.size;
    let total: usize = plans.iter().map(work).sum();
    if total > MAX_WORK {
        let big = plans
            .iter()
            .max_by_key(|p| work(p))
            .map(|p| &model.node(p.node).name);
        return Err(Error::input(format!(
            "the verilog backend unrolls every position and product: this design has {total}              products and values (largest layer '{}'), more than {MAX_WORK}; use the vitis              backend, whose io_stream and reuse factors fold them",
            big.map(String::as_str).unwrap_or("?")
        )));
    }
    Ok(())
}

/// What the Verilator harness can carry: values of at most 64 bits.
fn check_ends(model: &Model) -> Result<()> {
    for o in &model.outputs {
        let t = model.node(o.node).precision.result;
        if t.width > 64 {
            return Err(Error::input(format!(
                "output type {t} is wider than 64 bits, which the Verilator harness reads"
            ))
            .at_node(&model.node(o.node).name));
        }
    }
    for &i in &model.inputs {
        let t = model.node(i).precision.result;
        if t.width > 64 {
            return Err(Error::input(format!(
                "input type {t} is wider than 64 bits, which the Verilator harness writes"
            ))
            .at_node(&model.node(i).name));
        }
    }
    Ok(())
}

/// Products and values a Verilog design may unroll (an xcvu9p holds ~1.2 M LUTs).
const MAX_WORK: usize = 4_000_000;

/// One layer's module.
struct LayerModule {
    text: String,
    /// 0: wiring only; else its pipeline stages (registered outputs and, with
    /// `pipeline_levels`, registers within).
    latency: usize,
    stateful: bool,
    /// Its logic, and its registers' bits that hold information (not constant, not a copy of
    /// a sign bit: yosys keeps one flip-flop per such bit).
    tally: rtl::Tally,
    ff: u64,
    /// A cast in it drops bits.
    lossy: bool,
}

/// A layer's module; written again with its adders protected from merging when a cast in it
/// drops bits (`Body::adder`).
fn layer_module(module: &str, model: &Model, p: &LayerPlan, index: usize) -> Result<LayerModule> {
    let m = layer_module_with(module, model, p, index, false)?;
    if m.lossy {
        return layer_module_with(module, model, p, index, true);
    }
    Ok(m)
}

fn layer_module_with(
    module: &str,
    model: &Model,
    p: &LayerPlan,
    index: usize,
    protect_adders: bool,
) -> Result<LayerModule> {
    let node = model.node(p.node);
    let mut b = Body::new("v");
    b.protect_adders = protect_adders;
    b.lut_products = node.hardware.strategy == crate::ir::Strategy::DistributedArithmetic;
    // A static recurrent layer's step stays one cycle: its state feeds the next call's.
    if !matches!(&p.kernel, Kernel::Recurrent(rp) if rp.rec.stateful) {
        b.pipe = node.hardware.pipeline_levels;
    }
    let sizes: Vec<usize> = model
        .inputs(p.node)
        .iter()
        .map(|&i| model.node(i).size())
        .collect();
    let ins: Vec<Vec<Val>> = sizes
        .iter()
        .zip(&p.input_types)
        .enumerate()
        .map(|(k, (&n, &t))| {
            let w = t.width as usize;
            (0..n)
                .map(|i| b.read(&format!("x{k}[{}+:{w}]", i * w), t))
                .collect()
        })
        .collect();
    // A static recurrent layer: its state in registers, the initial state at a sequence's first
    // call (`start`) and after `rst`, the next state stored with each valid input (`en`).
    let stateful = match &p.kernel {
        Kernel::Recurrent(rp) if rp.rec.stateful => Some(rp),
        _ => None,
    };
    let mut state_text = String::new();
    let mut ff = 0;
    let out = match stateful {
        None => layers::values(&mut b, p, &ins).map_err(|e| e.at_node(&node.name))?,
        Some(rp) => {
            let st = rp.state;
            let sw = st.width as usize;
            let n = rp.rec.direction.count() * rp.rec.hidden;
            // An LSTM's cell state has registers of its own; a GRU's or RNN's `c` is only
            // passed along (registers for it would hold their initial value: yosys removes them).
            let lstm = matches!(rp.rec.cell, crate::ir::recurrent::Cell::Lstm { .. });
            let inits = if lstm {
                vec![("h", &rp.h0), ("c", &rp.c0)]
            } else {
                vec![("h", &rp.h0)]
            };
            let regs: Vec<Vec<Val>> = inits
                .iter()
                .map(|(r, init)| {
                    (0..n)
                        .map(|i| {
                            let v = b.read(&format!("{r}_r[{}+:{sw}]", i * sw), st);
                            b.select("start", &rtl::konst(init.raw[i], st.frac()), &v)
                        })
                        .collect()
                })
                .collect();
            let (y, h, c) = layers::recurrent(
                &mut b,
                rp,
                &ins[0],
                p.input_types[0],
                p.result,
                Some((&regs[0], &regs[regs.len() - 1])),
            );
            let next = [&h, &c];
            let (mut load, mut step) = (String::new(), String::new());
            for (k, (r, init)) in inits.iter().enumerate() {
                let _ = writeln!(
                    state_text,
                    "  reg [{}:0] {r}_r;\n  wire [{}:0] {r}_n, {r}_i;",
                    n * sw - 1,
                    n * sw - 1
                );
                ff += next[k]
                    .iter()
                    .map(|v| rtl::live_bits(v.lo, v.hi))
                    .sum::<u64>();
                for (i, (v, &raw)) in next[k].iter().zip(&init.raw).enumerate() {
                    let _ = writeln!(
                        state_text,
                        "  assign {r}_n[{at}+:{sw}] = {};\n  assign {r}_i[{at}+:{sw}] = {};",
                        v.expr,
                        rtl::literal(raw, 1),
                        at = i * sw
                    );
                }
                let _ = write!(load, " {r}_r <= {r}_i;");
                let _ = write!(step, " {r}_r <= {r}_n;");
            }
            let _ = writeln!(
                state_text,
                "  always @(posedge clk)\n    if (rst) begin{load} end\n    else if (en) begin{step} end"
            );
            y
        }
    };
    let w = p.result.width as usize;
    let n = out.len();
    // Every output read at the last stage any of them is ready at, then registered.
    let last = out.iter().map(|v| v.t.stage).max().unwrap_or(0);
    let out: Vec<Val> = out.iter().map(|v| b.at_stage(v, last)).collect();
    ff += b.pipe_ff;
    let latency = if layers::wiring_only(p) {
        0
    } else {
        last as usize + 1
    };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "// layer {index}: {} ({}), {} values of {}; latency {latency}",
        comment(&node.name),
        node.op.kind(),
        n,
        p.result
    );
    let _ = write!(s, "module {module} (\n  input clk");
    if stateful.is_some() {
        let _ = write!(s, ",\n  input rst,\n  input en,\n  input start");
    }
    for (k, (&sz, t)) in sizes.iter().zip(&p.input_types).enumerate() {
        let _ = write!(s, ",\n  input [{}:0] x{k}", sz * t.width as usize - 1);
    }
    let _ = writeln!(
        s,
        ",\n  output {}[{}:0] y\n);",
        if latency > 0 { "reg " } else { "" },
        n * w - 1
    );
    s.push_str(&b.functions);
    s.push_str(&b.text);
    s.push_str(&state_text);
    let target = if latency > 0 {
        let _ = writeln!(s, "  wire [{}:0] y_c;", n * w - 1);
        "y_c"
    } else {
        "y"
    };
    for (i, v) in out.iter().enumerate() {
        let _ = writeln!(s, "  assign {target}[{}+:{w}] = {};", i * w, v.expr);
    }
    if latency > 0 {
        // A register per value: yosys merges a register into the table read feeding it (a
        // synchronous read, a block RAM for a large table) only when the register is its own
        // cell; one register for the whole bus got one merge per layer.
        for (i, v) in out.iter().enumerate() {
            if !b.registered(v) {
                ff += rtl::live_bits(v.lo, v.hi);
            }
            let _ = writeln!(
                s,
                "  always @(posedge clk) y[{at}+:{w}] <= y_c[{at}+:{w}];",
                at = i * w
            );
        }
    }
    let _ = writeln!(s, "endmodule\n");
    Ok(LayerModule {
        text: s,
        lossy: b.lossy,
        latency,
        stateful: stateful.is_some(),
        tally: b.tally,
        ff,
    })
}

/// A layer's part of the design, for the estimate.
pub struct LayerLogic {
    pub node: NodeIndex,
    pub tally: rtl::Tally,
    /// Flip-flops: its registered outputs and state, and the delay registers of the values it
    /// reads (the top's, charged to the reader).
    pub ff: u64,
    /// Cycles: 0 (wiring) or its pipeline stages.
    pub latency: usize,
}

/// The Verilog design and what it is built of.
pub struct Design {
    pub text: String,
    /// Cycles from a sample in to its outputs out.
    pub latency: usize,
    pub layers: Vec<LayerLogic>,
    /// Flip-flops of the top: the input register and the valid and first-call shift registers.
    pub top_ff: u64,
}

/// The design: every module, the top last; its latency in cycles; its logic.
pub fn design(model: &Model, plans: &[LayerPlan]) -> Result<Design> {
    let top = top_name(&model.name);
    let mut modules = String::new();
    let mut body = String::new();
    // Each node's bus: (wire name, bits, stage at which it holds the current sample's values).
    let mut bus: HashMap<NodeIndex, (String, usize, usize)> = HashMap::new();
    // Delayed copies: (node, stage) -> register name.
    let mut delayed: HashMap<(NodeIndex, usize), String> = HashMap::new();
    let in_bits: usize = model
        .inputs
        .iter()
        .map(|&i| model.node(i).size() * model.node(i).precision.result.width as usize)
        .sum();
    let mut at = 0;
    for &i in &model.inputs {
        let bits = model.node(i).size() * model.node(i).precision.result.width as usize;
        bus.insert(i, (format!("in_r[{}:{at}]", at + bits - 1), bits, 1));
        at += bits;
    }
    let mut logic = Vec::new();
    // Delay registers' bits written (each register once, charged to the first reader).
    let delay_bits = std::cell::Cell::new(0u64);
    let mut delay = |body: &mut String,
                     bus: &HashMap<NodeIndex, (String, usize, usize)>,
                     n: NodeIndex,
                     stage: usize|
     -> String {
        let (name, bits, s0) = &bus[&n];
        let mut cur = name.clone();
        for s in s0 + 1..=stage {
            cur = delayed
                .entry((n, s))
                .or_insert_with(|| {
                    delay_bits.set(delay_bits.get() + *bits as u64);
                    let r = format!("d{}_{s}", n.index());
                    let _ = writeln!(
                        body,
                        "  reg [{}:0] {r};\n  always @(posedge clk) {r} <= {cur};",
                        bits - 1
                    );
                    r
                })
                .clone();
        }
        cur
    };
    for (k, p) in plans.iter().enumerate() {
        if model.is_input(p.node) {
            continue;
        }
        let module = format!("{top}_layer{k}");
        let m = layer_module(&module, model, p, k)?;
        let (latency, stateful) = (m.latency, m.stateful);
        modules.push_str(&m.text);
        let ins = model.inputs(p.node);
        let stage = ins.iter().map(|i| bus[i].2).max().unwrap_or(1);
        let before = delay_bits.get();
        let wires: Vec<String> = ins
            .iter()
            .map(|&i| delay(&mut body, &bus, i, stage))
            .collect();
        logic.push(LayerLogic {
            node: p.node,
            tally: m.tally,
            ff: m.ff + delay_bits.get() - before,
            latency,
        });
        let bits = p.size * p.result.width as usize;
        let y = format!("y{k}");
        let _ = writeln!(body, "  wire [{}:0] {y};", bits - 1);
        let _ = write!(body, "  {module} layer{k} (.clk(clk)");
        if stateful {
            // The valid and first-call bits of the values this layer reads.
            let _ = write!(
                body,
                ", .rst(rst), .en(valid[{}]), .start(first[{}])",
                stage - 1,
                stage - 1
            );
        }
        for (j, w) in wires.iter().enumerate() {
            let _ = write!(body, ", .x{j}({w})");
        }
        let _ = writeln!(body, ", .y({y}));");
        bus.insert(p.node, (y, bits, stage + latency));
    }
    let latency = model
        .outputs
        .iter()
        .map(|o| bus[&o.node].2)
        .max()
        .unwrap_or(1);
    let out_bits: usize = model.outputs.iter().map(|o| bus[&o.node].1).sum();
    let before = delay_bits.get();
    let mut at = 0;
    for o in &model.outputs {
        let bits = bus[&o.node].1;
        let w = delay(&mut body, &bus, o.node, latency);
        let _ = writeln!(body, "  assign out_data[{}:{at}] = {w};", at + bits - 1);
        at += bits;
    }
    let mut s = String::new();
    let _ = writeln!(
        s,
        "// {top}: written by hlsrs {}. Pipelined at II 1: a sample each cycle with in_valid;\n\
         // its outputs {latency} cycles later with out_valid. Values are the raw bits of their\n\
         // fixed-point types, value i of a port at bits [i*W +: W] (inputs, then outputs, in\n\
         // the model's order; hlsrs.json lists each one's type).\n",
        env!("CARGO_PKG_VERSION")
    );
    s.push_str(&modules);
    let _ = writeln!(
        s,
        "module {top} (\n  input clk,\n  input rst,\n  input in_valid,\n  input in_start,\n  input [{}:0] in_data,\n  output out_valid,\n  output [{}:0] out_data\n);\n  localparam LATENCY = {latency};",
        in_bits - 1,
        out_bits - 1
    );
    let _ = writeln!(
        s,
        "  reg [{}:0] in_r;\n  always @(posedge clk) in_r <= in_data;\n  reg [LATENCY-1:0] valid;\n  always @(posedge clk) valid <= rst ? {{LATENCY{{1'b0}}}} : {};\n  assign out_valid = valid[LATENCY-1];\n  // The first call of a sequence (static recurrent layers load their initial state).\n  reg [LATENCY-1:0] first;\n  always @(posedge clk) first <= {};",
        in_bits - 1,
        if latency > 1 {
            "{valid[LATENCY-2:0], in_valid}"
        } else {
            "in_valid"
        },
        if latency > 1 {
            "{first[LATENCY-2:0], in_start}"
        } else {
            "in_start"
        }
    );
    s.push_str(&body);
    let _ = writeln!(s, "endmodule");
    Ok(Design {
        text: s,
        latency,
        layers: logic,
        top_ff: (in_bits + 2 * latency) as u64 + delay_bits.get() - before,
    })
}

/// The Verilator harness: samples from a file of raw input bits (a line each) through the
/// pipeline back to back, one a cycle; the outputs' raw bits to a file, and the latency and
/// initiation interval measured to stdout.
fn harness(model: &Model, top: &str, latency: usize) -> String {
    let ends = |nodes: Vec<NodeIndex>| -> (Vec<(u32, bool)>, usize) {
        let mut v = Vec::new();
        for n in nodes {
            let t: FixedType = model.node(n).precision.result;
            v.extend(std::iter::repeat_n(
                (t.width, t.signed),
                model.node(n).size(),
            ));
        }
        let n = v.len();
        (v, n)
    };
    let (ins, n_in) = ends(model.inputs.clone());
    let (outs, n_out) = ends(model.outputs.iter().map(|o| o.node).collect());
    let list = |v: &[(u32, bool)], f: &dyn Fn(&(u32, bool)) -> String| {
        v.iter().map(f).collect::<Vec<_>>().join(", ")
    };
    format!(
        r#"// Verilator harness of {top} (written by hlsrs): `rtlsim IN OUT` runs IN's calls (a line each:
// 1 when the call starts a sequence, else 0, then the call's raw input bits) through the
// pipeline one a cycle, writes each call's output bits to OUT (a line each) and prints the
// latency and initiation interval it measured.
#include "V{top}.h"
#include "verilated.h"
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

static const int N_IN = {n_in}, N_OUT = {n_out}, LATENCY = {latency};
static const unsigned IN_W[] = {{{in_w}}};
static const unsigned OUT_W[] = {{{out_w}}};
static const bool OUT_SIGNED[] = {{{out_s}}};

template <class T> static void put(T &sig, unsigned pos, unsigned w, long long v) {{
    for (unsigned b = 0; b < w; b++) {{
        T m = T(1) << (pos + b);
        if ((v >> (b < 63 ? b : 63)) & 1) sig |= m; else sig &= T(~m);
    }}
}}
template <std::size_t N> static void put(VlWide<N> &sig, unsigned pos, unsigned w, long long v) {{
    for (unsigned b = 0; b < w; b++) {{
        unsigned p = pos + b;
        EData m = EData(1) << (p % 32);
        if ((v >> (b < 63 ? b : 63)) & 1) sig[p / 32] |= m; else sig[p / 32] &= ~m;
    }}
}}
template <class T> static bool bit(const T &sig, unsigned p) {{ return (sig >> p) & 1; }}
template <std::size_t N> static bool bit(const VlWide<N> &sig, unsigned p) {{
    return (sig[p / 32] >> (p % 32)) & 1;
}}
template <class T> static long long get(const T &sig, unsigned pos, unsigned w, bool is_signed) {{
    unsigned long long u = 0;
    for (unsigned b = 0; b < w; b++) if (bit(sig, pos + b)) u |= 1ULL << b;
    if (is_signed && w < 64 && ((u >> (w - 1)) & 1)) u |= ~0ULL << w;
    return (long long)u;
}}

int main(int argc, char **argv) {{
    if (argc < 3) {{ std::fprintf(stderr, "usage: %s IN OUT\n", argv[0]); return 2; }}
    std::ifstream in(argv[1]);
    std::vector<std::vector<long long> > samples;
    std::string line;
    while (std::getline(in, line)) {{
        std::istringstream ls(line);
        std::vector<long long> row;
        long long v;
        while (ls >> v) row.push_back(v);
        if (row.empty()) continue;
        if ((int)row.size() != N_IN + 1) {{ std::fprintf(stderr, "line %zu holds %zu values; expected %d\n", samples.size() + 1, row.size(), N_IN + 1); return 2; }}
        samples.push_back(row);
    }}
    FILE *out = std::fopen(argv[2], "w");
    if (!out) {{ std::perror(argv[2]); return 2; }}
    V{top} *top = new V{top};
    top->clk = 0; top->rst = 1; top->in_valid = 0; top->in_start = 0; top->eval();
    for (int i = 0; i < LATENCY + 2; i++) {{ top->clk = 1; top->eval(); top->clk = 0; top->eval(); }}
    top->rst = 0; top->eval();
    size_t n = samples.size(), sent = 0, got = 0;
    long cycle = 0, first_out = -1, last_out = -1;
    const long limit = (long)n + LATENCY + 16;
    while (got < n) {{
        if (sent < n) {{
            unsigned pos = 0;
            for (int i = 0; i < N_IN; i++) {{ put(top->in_data, pos, IN_W[i], samples[sent][i + 1]); pos += IN_W[i]; }}
            top->in_start = samples[sent][0] != 0;
            top->in_valid = 1;
        }} else {{ top->in_valid = 0; top->in_start = 0; }}
        top->clk = 1; top->eval();
        if (sent < n) sent++;
        cycle++;
        if (top->out_valid) {{
            unsigned pos = 0;
            for (int i = 0; i < N_OUT; i++) {{
                std::fprintf(out, i ? " %lld" : "%lld", get(top->out_data, pos, OUT_W[i], OUT_SIGNED[i]));
                pos += OUT_W[i];
            }}
            std::fprintf(out, "\n");
            if (first_out < 0) first_out = cycle;
            last_out = cycle;
            got++;
        }}
        top->clk = 0; top->eval();
        if (cycle > limit) {{ std::fprintf(stderr, "%zu of %zu samples came out after %ld cycles\n", got, n, cycle); return 1; }}
    }}
    std::fclose(out);
    std::printf("latency %ld\n", first_out);
    std::printf("cycles %ld\n", last_out - first_out + 1);
    top->final();
    delete top;
    return 0;
}}
"#,
        in_w = list(&ins, &|e| e.0.to_string()),
        out_w = list(&outs, &|e| e.0.to_string()),
        out_s = list(&outs, &|e| if e.1 { "true" } else { "false" }.to_string()),
    )
}

/// The yosys script of `hlsrs build --synth`: synth_xilinx for the part's family, statistics
/// into reports/.
fn yosys_script(top: &str, name: &str, family: &str) -> String {
    format!(
        "# yosys synthesis of {top} (written by hlsrs; `hlsrs build DIR --synth` runs it)\n\
         read_verilog rtl/{name}.v\n\
         synth_xilinx -family {family} -top {top} -flatten -noiopad\n\
         tee -o reports/yosys_stat.txt stat\n\
         tee -q -o reports/yosys_stat.json stat -json\n"
    )
}

/// yosys's synth_xilinx family for a part.
pub fn yosys_family(part: &crate::parts::Part) -> &'static str {
    // The device is the part number's first field: 7-series `xc7...`; UltraScale+ devices end
    // in `p` (xcvu9p, xcku15p) or are Zynq MPSoCs and Alveo cards (xczu, xcu); other Kintex and
    // Virtex UltraScale devices (xcku115, xcvu440) are UltraScale. Anything else (Versal):
    // UltraScale+, the nearest yosys maps.
    let f = part.full.to_ascii_lowercase();
    let device = f.split('-').next().unwrap_or_default();
    if device.starts_with("xc7") {
        "xc7"
    } else if device.ends_with('p') || device.starts_with("xczu") || device.starts_with("xcu") {
        "xcup"
    } else if device.starts_with("xcku") || device.starts_with("xcvu") {
        "xcu"
    } else {
        "xcup"
    }
}

/// The project's files.
pub fn generate(
    model: &Model,
    plans: &[LayerPlan],
    estimate: &crate::estimate::Estimate,
    opts: &ProjectOptions,
) -> Result<Files> {
    check(model, plans, opts)?;
    let name = &model.name;
    let top = top_name(name);
    let Design {
        text: verilog,
        latency,
        layers,
        top_ff,
        ..
    } = design(model, plans)?;
    let mut t = rtl::Tally::default();
    for l in &layers {
        t.add(&l.tally);
    }
    let ff = top_ff + layers.iter().map(|l| l.ff).sum::<u64>();
    let mut files = Files::new();
    files.insert(format!("rtl/{name}.v"), verilog.into_bytes());
    files.insert(
        format!("rtl/{name}_harness.cpp"),
        harness(model, &top, latency).into_bytes(),
    );
    files.insert(
        "synth.ys".into(),
        yosys_script(&top, name, yosys_family(opts.part)).into_bytes(),
    );
    let (mut tb_in, mut tb_out) = (String::new(), String::new());
    for (raw, y) in opts.tb_bits {
        let line = |v: &[i128]| v.iter().map(i128::to_string).collect::<Vec<_>>().join(" ");
        let _ = writeln!(tb_in, "{}", line(raw));
        let _ = writeln!(tb_out, "{}", line(y));
    }
    files.insert("tb_data/tb_input_bits.dat".into(), tb_in.into_bytes());
    files.insert("tb_data/tb_output_bits.dat".into(), tb_out.into_bytes());
    let mut manifest = super::manifest(model, opts, plans, estimate);
    manifest["backend"] = json!("verilog");
    manifest["top"] = json!(top);
    manifest["latency_cycles"] = json!(latency);
    manifest["ii"] = json!(1);
    manifest["yosys_family"] = json!(yosys_family(opts.part));
    // What the estimate is made of, counted as the RTL was written.
    manifest["rtl_logic"] = json!({
        "add_bits": t.add_bits,
        "mux_bits": t.mux_bits,
        "compare_bits": t.compare_bits,
        "rom_luts": t.rom_luts,
        "bram_18k": t.bram_18k,
        "multipliers": t.multipliers,
        "dsp": t.dsp,
        "product_bits": t.product_bits,
        "ff": ff,
    });
    super::add_manifest(&mut files, manifest)?;
    Ok(files)
}
