//! Command-line interface: argument definitions and the commands, each a few calls into the
//! library. `main.rs` maps the result to an exit code.

use crate::arrays::{self, Array};
use crate::config::{self, Config};
use crate::error::{Error, Result};
use crate::ir::FixedType;
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};

mod report;
mod summary;

use report::report;
use summary::print_summary;

#[derive(Parser)]
#[command(
    name = "hlsrs",
    version,
    about = "Compile neural networks (ONNX, JSON) into bit-exact Vitis HLS projects"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Generate a Vitis HLS project (firmware, testbench, build scripts) for a model.
    Compile(CompileArgs),
    /// Run the model on samples: bit-accurate fixed point (the design's exact outputs) or --float.
    Predict(PredictArgs),
    /// Build a generated project's C-simulation with g++ and run it on samples (no Vitis needed).
    Csim(CsimArgs),
    /// Build a verilog project's RTL with Verilator and run samples through it, one a clock
    /// cycle: the outputs, and the latency and initiation interval measured.
    Rtlsim(RtlsimArgs),
    /// Write any model as the hlsrs JSON description (docs/json-format.md).
    ExportJson(ExportJsonArgs),
    /// Estimate resources (DSP, LUT, FF, BRAM_18K, URAM) and latency before synthesis.
    Estimate(EstimateArgs),
    /// Run Vitis HLS on a generated project (vitis_hls or vitis-run must be on PATH).
    Build(BuildArgs),
    /// Show the vendor reports found in a project: C-synthesis, co-simulation and Vivado
    /// utilisation.
    Report(ReportArgs),
    /// Compare two layer traces (.npz keyed by layer: `csim --trace`'s csim.npz, `predict
    /// --trace`'s fixed.npz or float.npz): each layer's largest difference and the first layer
    /// that differs. Exit 3 when any layer differs by more than --tolerance.
    Diff(DiffArgs),
}

#[derive(Args)]
pub struct DiffArgs {
    /// A trace (.npz, one array per layer).
    pub a: PathBuf,
    /// Another trace of the same samples.
    pub b: PathBuf,
    /// Largest difference still counted as equal (default 0: bit for bit).
    #[arg(long, default_value_t = 0.0)]
    pub tolerance: f64,
}

/// Settings shared by compile and predict. Flags override the config file.
#[derive(Args, Clone, Default)]
pub struct ModelArgs {
    /// The model: .onnx or .json.
    pub model: PathBuf,
    /// TOML config file: the settings below plus [layers.<name>] overrides of result, weight,
    /// bias, accum (or precision for result, weight and bias), reuse, strategy, table_size, table.
    #[arg(short = 'c', long = "config")]
    pub config: Option<PathBuf>,
    /// FPGA part: a short name (xcvu9p, xcvu13p, xcku115, xczu9eg, xc7z020, xcu250, xcu55c,
    /// xcvp1802, ...) or a full part number. Default xcvu9p.
    #[arg(long)]
    pub part: Option<String>,
    /// Design name (a C identifier; default: the model file's stem).
    #[arg(long)]
    pub name: Option<String>,
    /// Default type of every result, weight and bias, e.g. "ap_fixed<16,6>" or
    /// "ap_fixed<12,4,AP_RND,AP_SAT>". Default ap_fixed<16,6>.
    #[arg(long)]
    pub precision: Option<String>,
    /// Accumulator type of dense layers, or "auto" (default): wide enough that sums are exact and
    /// cannot overflow; only the cast to the result type rounds.
    #[arg(long)]
    pub accum: Option<String>,
    /// Model-wide reuse factor: each dense layer uses the largest valid value not above it.
    #[arg(long)]
    pub reuse: Option<usize>,
    /// Output positions each io_parallel conv and pooling layer computes at once (the largest
    /// divisor of its positions not above it). Default: convolutions 1, one shared kernel (as
    /// hls4ml); pooling every position.
    #[arg(long, value_name = "N")]
    pub parallelization: Option<usize>,
    /// latency (fully parallel), resource (multipliers shared, reuse factor times each) or
    /// distributed_arithmetic (`da`: every constant product an adder graph of shifted inputs, no
    /// multiplier; reuse factor 1).
    #[arg(long)]
    pub strategy: Option<String>,
    /// How layers exchange data: parallel (arrays, one sample per call) or stream (pixel FIFOs,
    /// layers as DATAFLOW processes).
    #[arg(long)]
    pub io: Option<String>,
    /// What compile writes: vitis (a Vitis HLS C++ project, default) or verilog (a Verilog-2005
    /// design pipelined at II 1, io_parallel; `hlsrs rtlsim` simulates it with Verilator,
    /// `hlsrs build --synth` synthesizes it with yosys).
    #[arg(long)]
    pub backend: Option<String>,
    /// Clock period in ns. Default 5.
    #[arg(long)]
    pub clock: Option<f64>,
    /// Clock uncertainty for Vitis's scheduler, percent of the period. Default 27 (Vitis's own).
    #[arg(long, value_name = "PERCENT")]
    pub clock_uncertainty: Option<String>,
    /// Entries of every lookup table (sigmoid, tanh, softmax); a power of two. Default 1024.
    #[arg(long)]
    pub table_size: Option<usize>,
    /// Type of lookup-table entries. Default ap_fixed<18,2>.
    #[arg(long)]
    pub table_precision: Option<String>,
    /// Recurrent layers take one time step per call and keep their state between calls (a
    /// `reset` argument restarts the sequence). Per layer: `static = true` in [layers.<name>].
    #[arg(long = "static")]
    pub static_state: bool,
    /// Recurrent layers unroll every time step (one step's multipliers per step, a new sequence
    /// every cycle, as hls4ml's io_parallel LSTM/GRU) instead of pipelining one step's hardware
    /// over the sequence. Latency strategy only. Per layer: `unroll_steps = true`.
    #[arg(long)]
    pub unroll_steps: bool,
    /// Verilog backend: a register stage after every N adder levels within each layer (default:
    /// one stage per layer, its arithmetic combinational). Per layer: `pipeline_levels = N`.
    #[arg(long, value_name = "N")]
    pub pipeline_levels: Option<usize>,
    /// Prune, a comma-separated list: `magnitude:S` sets the fraction S of dense, conv and
    /// recurrent weights with the smallest magnitude (one threshold for the whole model) to zero,
    /// and zero weights cost no multiplier (per layer: `sparsity = S` in [layers.<name>]); `neurons:zero|S` and
    /// `filters:zero|S` remove whole dense neurons / conv filters: the dead ones, or the fraction
    /// S of each layer by smallest norm.
    #[arg(long)]
    pub prune: Option<String>,
    /// `auto`: choose every type by interval analysis of the input range (no overflow possible),
    /// or from the ranges seen on --calib data; fractional bits fill the --precision width.
    /// `search`: the narrowest per-layer widths keeping --target-agreement (classifiers) or
    /// --target-error (regressors) with float on --calib data. Per-layer config types win.
    #[arg(long)]
    pub quantize: Option<String>,
    /// For --quantize auto: the largest rounding error of a weight or bias (sets their fractional
    /// bits instead of the --precision width).
    #[arg(long, value_name = "E")]
    pub max_weight_error: Option<f64>,
    /// For --quantize search: argmax agreement with the float model to keep, e.g. 0.99.
    #[arg(long, value_name = "F")]
    pub target_agreement: Option<f64>,
    /// For --quantize search: the largest |fixed - float| of any output value.
    #[arg(long, value_name = "E")]
    pub target_error: Option<f64>,
    /// Calibration inputs (.npy or .csv) for --quantize auto: result types from the observed
    /// ranges (with a margin, saturating) instead of interval analysis.
    #[arg(long, value_name = "X")]
    pub calib: Option<std::path::PathBuf>,
    /// The range of every input value, LO,HI (for --quantize auto; default: the input type's).
    #[arg(long, value_name = "LO,HI", allow_hyphen_values = true)]
    pub input_range: Option<String>,
}

#[derive(Args)]
pub struct CompileArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Output directory. Default hls_<name>/.
    #[arg(short = 'o', long = "output")]
    pub out: Option<PathBuf>,
    /// Write into a directory that holds files hlsrs did not write.
    #[arg(long)]
    pub force: bool,
    /// Samples (.npy/.csv) for the testbench; default 16 seeded samples in [-2, 2).
    #[arg(long)]
    pub tb_input: Option<PathBuf>,
    /// Print the IR after this pass and stop (passes: drop_reshape, fuse_batchnorm, apply_config).
    #[arg(long)]
    pub dump_after: Option<String>,
    /// Also write report.html into the project: the graph, each layer's type against the
    /// values seen, resources and latency, fixed against float (as `hlsrs report DIR --html`).
    #[arg(long)]
    pub report: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Args)]
pub struct EstimateArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also list, per dense/conv layer, every valid reuse factor with its estimated cost.
    #[arg(long)]
    pub advise: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Estimate limits shared by estimate and compile.
#[derive(Args)]
pub struct LimitArgs {
    /// Exit 3 with a table of what is over (compile: nothing written) when the estimate exceeds
    /// these limits, e.g. dsp=60%,lut=50%,ff=40%,bram=80%,uram=10,latency=400ns,ii=1.
    #[arg(long)]
    pub budget: Option<String>,
    /// Choose each dense/conv layer's reuse factor (and strategy) for the least DSPs and LUTs
    /// that keep the estimated latency within this many ns.
    #[arg(long, value_name = "NS")]
    pub target_latency: Option<f64>,
    /// Likewise for the initiation interval (cycles).
    #[arg(long, value_name = "CYCLES")]
    pub target_ii: Option<u64>,
}

#[derive(Args)]
pub struct PredictArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Samples: .npy (float32/float64, [N, ...input shape]) or .csv (one flattened sample a row).
    #[arg(long)]
    pub input: PathBuf,
    /// Where to write the outputs (.npy float64, or .csv).
    #[arg(long)]
    pub output: PathBuf,
    /// Evaluate in f64 instead of the design's fixed point.
    #[arg(long)]
    pub float: bool,
    /// Also write every layer's values on every sample into DIR: fixed.npz (the design's exact
    /// values) and float.npz (the source model's), keyed by layer name; print each layer's
    /// largest |fixed - float| and the first layer where they part ways.
    #[arg(long, value_name = "DIR")]
    pub trace: Option<PathBuf>,
}

#[derive(Args)]
pub struct BuildArgs {
    /// A project directory written by `hlsrs compile`.
    pub project: PathBuf,
    /// C-simulation in Vitis HLS.
    #[arg(long)]
    pub csim: bool,
    /// C-synthesis (the default when no step is named); in a verilog project, yosys
    /// synth_xilinx (the only step).
    #[arg(long)]
    pub synth: bool,
    /// C/RTL co-simulation.
    #[arg(long)]
    pub cosim: bool,
    /// Export the IP.
    #[arg(long)]
    pub export: bool,
    /// Vivado out-of-context synthesis of the RTL.
    #[arg(long)]
    pub vsynth: bool,
    /// Stop the tool (and everything it started) after this many seconds: exit 2.
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<f64>,
}

#[derive(Args)]
pub struct ReportArgs {
    /// A project directory (searched for the reports the tools wrote).
    pub project: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Write DIR/report.html instead: one self-contained page (graph, types against values,
    /// resources, fidelity, and the estimate beside every vendor figure found).
    #[arg(long, conflicts_with = "json")]
    pub html: bool,
    /// Check the estimate recorded by `hlsrs compile` against the C-synthesis report, figure by
    /// figure, at the tolerances of docs/estimator.md: exit 3 when any lands beyond.
    #[arg(long, conflicts_with_all = ["json", "html"])]
    pub check: bool,
}

#[derive(Args)]
pub struct CsimArgs {
    /// A project directory written by `hlsrs compile`.
    pub project: PathBuf,
    #[arg(long)]
    pub input: PathBuf,
    #[arg(long)]
    pub output: PathBuf,
    /// ap_types headers (else HLSRS_AP_TYPES, else $XILINX_HLS/include).
    #[arg(long)]
    pub ap_types: Option<PathBuf>,
    /// Also write every layer's output on every sample into DIR/csim.npz, keyed by layer name
    /// (a testbench built with HLSRS_TRACE); `hlsrs diff` compares it with `predict --trace`'s
    /// fixed.npz.
    #[arg(long, value_name = "DIR")]
    pub trace: Option<PathBuf>,
}

#[derive(Args)]
pub struct RtlsimArgs {
    /// A project directory written by `hlsrs compile --backend verilog`.
    pub project: PathBuf,
    #[arg(long)]
    pub input: PathBuf,
    #[arg(long)]
    pub output: PathBuf,
}

#[derive(Args)]
pub struct ExportJsonArgs {
    /// The model: .onnx or .json.
    pub model: PathBuf,
    /// Output file. Default: the model's stem with .json, beside the current directory.
    #[arg(short = 'o', long = "output")]
    pub out: Option<PathBuf>,
    /// Write weights into .npy files beside the JSON instead of inline.
    #[arg(long)]
    pub npy_weights: bool,
}

/// Resolves the configuration: the file, then the flags.
pub fn resolve_config(a: &ModelArgs) -> Result<Config> {
    let mut c = match &a.config {
        Some(p) => Config::from_file(p)?,
        None => Config::default(),
    };
    let ty = |s: &str, flag: &str| {
        FixedType::parse(s).map_err(|e| Error::input(format!("--{flag}: {e}")))
    };
    if let Some(p) = &a.part {
        c.part = p.clone();
    }
    if let Some(n) = &a.name {
        c.name = Some(n.clone());
    }
    if let Some(p) = &a.precision {
        c.precision = ty(p, "precision")?;
    }
    if let Some(t) = &a.accum {
        c.accum = if t == "auto" {
            None
        } else {
            Some(ty(t, "accum")?)
        };
    }
    if let Some(r) = a.reuse {
        if r == 0 {
            return Err(Error::input("--reuse must be at least 1"));
        }
        c.reuse = r;
    }
    if let Some(pf) = a.parallelization {
        if pf == 0 {
            return Err(Error::input("--parallelization must be at least 1"));
        }
        c.parallelization = Some(pf);
    }
    if let Some(s) = &a.strategy {
        c.strategy = config::parse_strategy(s)?;
    }
    if let Some(io) = &a.io {
        c.io = config::parse_io(io)?;
    }
    if let Some(b) = &a.backend {
        c.backend = config::parse_backend(b)?;
    }
    if let Some(ns) = a.clock {
        c.clock = config::parse_clock(ns, "--clock")?;
    }
    if let Some(u) = &a.clock_uncertainty {
        c.clock_uncertainty = config::parse_percent(&toml::Value::String(u.clone())).ok_or_else(
            || Error::input(format!("--clock-uncertainty {u}: expected a percentage of the clock period from 0 to 100, e.g. 12.5")),
        )?;
    }
    if a.static_state {
        c.static_state = true;
    }
    if a.unroll_steps {
        c.unroll_steps = true;
    }
    if let Some(n) = a.pipeline_levels {
        c.pipeline_levels = Some(config::check_pipeline_levels(n)?);
    }
    if let Some(p) = &a.prune {
        c.prune = config::parse_prune(p)?;
    }
    if let Some(q) = &a.quantize {
        c.quantize = config::parse_quantize(q)?;
    }
    if let Some(f) = a.target_agreement {
        c.target_agreement = Some(config::parse_target_agreement(f)?);
    }
    if let Some(f) = a.max_weight_error {
        c.max_weight_error = Some(config::parse_target_error(f)?);
    }
    if let Some(f) = a.target_error {
        c.target_error = Some(config::parse_target_error(f)?);
    }
    if let Some(x) = &a.calib {
        c.calib = Some(x.clone());
    }
    if let Some(r) = &a.input_range {
        let bad = || Error::input(format!("--input-range '{r}': expected LO,HI, e.g. -4,4"));
        let (lo, hi) = r.split_once(',').ok_or_else(bad)?;
        let num = |v: &str| v.trim().parse::<f64>().map_err(|_| bad());
        c.input_range = Some(config::parse_input_range(num(lo)?, num(hi)?)?);
    }
    if let Some(n) = a.table_size {
        c.table_size = config::parse_table_size(n)?;
    }
    if let Some(t) = &a.table_precision {
        c.table_precision = ty(t, "table-precision")?;
    }
    Ok(c)
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Compile(a) => compile(a),
        Command::Predict(a) => predict(a),
        Command::Csim(a) => csim(a),
        Command::Rtlsim(a) => rtlsim(a),
        Command::ExportJson(a) => export_json(a),
        Command::Build(a) => build(a),
        Command::Estimate(a) => estimate(a),
        Command::Report(a) => report(a),
        Command::Diff(a) => diff(a),
    }
}

fn compile(a: CompileArgs) -> Result<()> {
    let config = resolve_config(&a.model)?;
    crate::backend::vitis::parse_templates_in_background(
        config.io == crate::config::IoType::Stream,
    );
    if let Some(pass) = &a.dump_after {
        let prepared = crate::prepare(&a.model.model, &config, Some(pass))?;
        print!("{}", crate::ir::dump(&prepared.model));
        return Ok(());
    }
    let prepared = crate::prepare(&a.model.model, &config, None)?;
    let prepared = with_targets(&a.model, prepared, &a.limits)?;
    if let Some(b) = &a.limits.budget {
        check_budget(&prepared, b)?;
    }
    let tb = match &a.tb_input {
        Some(p) => Some(arrays::read_model_inputs(p, &prepared.model)?),
        None => None,
    };
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("hls_{}", prepared.model.name)));
    let compiled = crate::compile(&prepared, &out, a.force, tb.as_ref())?;
    let e = estimate_of(&prepared)?;
    print_summary(&prepared, &prepared.plans, &out, &compiled, e);
    let (t, u) = (&e.total, &e.utilisation);
    println!(
        "  estimate: DSP {} ({:.1}%), LUT {} ({:.1}%), FF {} ({:.1}%), BRAM_18K {} ({:.1}%); latency {} cycles = {} ns, II {} (`hlsrs estimate` for every figure)",
        t.dsp,
        u[0],
        t.lut,
        u[1],
        t.ff,
        u[2],
        t.bram_18k,
        u[3],
        e.latency_cycles,
        e.latency_ns,
        e.ii
    );
    if a.report {
        let page = crate::write_html_report(&out)?;
        println!("  report: {} (open it in a browser)", page.display());
    }
    Ok(())
}

fn predict(a: PredictArgs) -> Result<()> {
    let config = resolve_config(&a.model)?;
    let prepared = crate::prepare(&a.model.model, &config, None)?;
    let x = arrays::read_model_inputs(&a.input, &prepared.model)?;
    let y = crate::predict(&prepared, &x, a.float).map_err(|e| e.in_file(&a.input))?;
    arrays::write_model_outputs(&a.output, &prepared.model, &y)?;
    if let Some(dir) = &a.trace {
        let (fidelity, layers) = crate::trace(&prepared, &x).map_err(|e| e.in_file(&a.input))?;
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, "create the trace folder", e))?;
        for (file, pick) in [
            (
                "fixed.npz",
                (|l| &l.fixed) as fn(&crate::fidelity::TracedLayer) -> &Array,
            ),
            ("float.npz", |l| &l.float),
        ] {
            let members: Vec<(String, Vec<u8>)> = layers
                .iter()
                .map(|l| (l.name.clone(), arrays::npy_bytes(pick(l))))
                .collect();
            arrays::write_npz(&dir.join(file), &members)?;
        }
        print_trace(&fidelity, dir);
    }
    Ok(())
}

/// Each layer's largest |fixed - float| and where the two part ways.
fn print_trace(f: &crate::fidelity::Fidelity, dir: &Path) {
    println!(
        "trace of {} samples: {} and {} (one array per layer, [samples, ...shape])",
        f.count,
        dir.join("fixed.npz").display(),
        dir.join("float.npz").display()
    );
    let w = f
        .layers
        .iter()
        .map(|l| l.name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    println!(
        "  {:<w$} {:<32} {:>14} {:>10} {:>22}",
        "layer", "result type", "max |fx - fl|", "in steps", "float range"
    );
    for l in &f.layers {
        let over: u64 = l.overflows.iter().map(|o| o.count).sum();
        println!(
            "  {:<w$} {:<32} {:>14.6e} {:>10.1} {:>22}{}",
            l.name,
            l.result.to_string(),
            l.max_error,
            l.max_error / l.result.lsb(),
            format!("[{:.4}, {:.4}]", l.float_range.0, l.float_range.1),
            if over > 0 {
                format!("  {over} overflowed")
            } else {
                String::new()
            }
        );
    }
    match f.parting() {
        Some(l) => println!(
            "  fixed and float part ways at '{}': its largest error {:.4e} is {:.0} steps of {} and {:.1}% of its largest value",
            l.name,
            l.max_error,
            l.max_error / l.result.lsb(),
            l.result,
            100.0 * l.max_error
                / l.float_range
                    .0
                    .abs()
                    .max(l.float_range.1.abs())
                    .max(f64::MIN_POSITIVE)
        ),
        None => println!(
            "  fixed and float stay together: no layer's error exceeds both 4 steps of its type and 5% of its largest value"
        ),
    }
}

fn csim(a: CsimArgs) -> Result<()> {
    let ap = crate::backend::vitis::csim::find_ap_types(a.ap_types.as_deref())?;
    let info = crate::backend::vitis::csim::read_info(&a.project)?;
    let x: Array = arrays::read_inputs(&a.input, &info.input_names(), &info.input_shapes())?;
    arrays::check_finite(&x, &info.input_names(), &info.input_shapes())
        .map_err(|e| e.in_file(&a.input))?;
    let Some(dir) = &a.trace else {
        let (y, _) = crate::backend::vitis::csim::run(&a.project, &x, &ap)?;
        return arrays::write_outputs(&a.output, &info.output_names(), &info.output_shapes(), &y);
    };
    let (y, _, layers) = crate::backend::vitis::csim::run_traced(&a.project, &x, &ap)?;
    arrays::write_outputs(&a.output, &info.output_names(), &info.output_shapes(), &y)?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, "create the trace folder", e))?;
    let members: Vec<(String, Vec<u8>)> = layers
        .iter()
        .map(|l| (l.name.clone(), arrays::npy_bytes(&l.values)))
        .collect();
    let path = dir.join("csim.npz");
    arrays::write_npz(&path, &members)?;
    println!(
        "trace of {} samples: {} ({} layers, [samples, ...shape]); `hlsrs diff {} FIXED.npz` compares it with `hlsrs predict --trace`",
        x.rows(),
        path.display(),
        layers.len(),
        path.display()
    );
    Ok(())
}

fn rtlsim(a: RtlsimArgs) -> Result<()> {
    let info = crate::backend::project::read_info(&a.project)?;
    let x: Array = arrays::read_inputs(&a.input, &info.input_names(), &info.input_shapes())?;
    arrays::check_finite(&x, &info.input_names(), &info.input_shapes())
        .map_err(|e| e.in_file(&a.input))?;
    let (y, _, t) = crate::backend::verilog::rtlsim::run(&a.project, &x)?;
    arrays::write_outputs(&a.output, &info.output_names(), &info.output_shapes(), &y)?;
    let stated = match t.stated {
        Some(s) if s == t.latency => format!(" (as stated: {s})"),
        Some(s) => format!(" (the project states {s})"),
        None => String::new(),
    };
    println!(
        "{} samples through the RTL: latency {} cycles{stated}, {} cycles from the first output to the last (II {})",
        x.rows(),
        t.latency,
        t.cycles,
        if x.rows() > 1 && t.cycles == x.rows() {
            "1".to_string()
        } else {
            format!("{} cycles for {} samples", t.cycles, x.rows())
        }
    );
    Ok(())
}

/// `hlsrs diff A B`: layer by layer, in A's order.
fn diff(a: DiffArgs) -> Result<()> {
    let (ta, tb) = (arrays::read_npz_in_order(&a.a)?, arrays::read_npz(&a.b)?);
    let w = ta.iter().map(|(n, _)| n.len()).max().unwrap_or(5).max(5);
    println!(
        "  {:<w$} {:>14} {:>12} {:>10}",
        "layer", "max |a - b|", "differing", "values"
    );
    let (mut first, mut compared) = (None, 0);
    for (name, x) in &ta {
        let Some(y) = tb.get(name) else {
            println!("  {name:<w$} {:>14}", "only in A");
            continue;
        };
        if x.shape != y.shape {
            return Err(Error::input(format!(
                "layer '{name}' has shape {:?} in {} but {:?} in {}: traces of different designs or samples",
                x.shape,
                a.a.display(),
                y.shape,
                a.b.display()
            )));
        }
        let (mut max, mut differing) = (0.0f64, 0usize);
        for (p, q) in x.data.iter().zip(&y.data) {
            let d = (p - q).abs();
            if d > a.tolerance || d.is_nan() {
                differing += 1;
            }
            max = max.max(d);
        }
        if differing > 0 && first.is_none() {
            first = Some(name.clone());
        }
        compared += 1;
        let max = if max == 0.0 {
            "0".to_string()
        } else {
            format!("{max:.4e}")
        };
        println!(
            "  {name:<w$} {max:>14} {differing:>12} {:>10}",
            x.data.len()
        );
    }
    for name in tb.keys().filter(|n| !ta.iter().any(|(m, _)| m == *n)) {
        println!("  {name:<w$} {:>14}", "only in B");
    }
    if compared == 0 {
        return Err(Error::input(format!(
            "{} and {} share no layer name",
            a.a.display(),
            a.b.display()
        )));
    }
    match first {
        None => {
            println!("{compared} layers agree (within {})", a.tolerance);
            Ok(())
        }
        Some(name) => Err(Error::differs(format!(
            "the traces part at layer '{name}' (the first, in {}'s order, differing by more than {}): look there first",
            a.a.display(),
            a.tolerance
        ))),
    }
}

fn export_json(a: ExportJsonArgs) -> Result<()> {
    let model = crate::frontend::load_named(&a.model)?;
    let out = a.out.unwrap_or_else(|| {
        PathBuf::from(format!(
            "{}.json",
            a.model.file_stem().unwrap_or_default().to_string_lossy()
        ))
    });
    crate::frontend::json::write(&model, &out, a.npy_weights)
}

fn build(a: BuildArgs) -> Result<()> {
    if crate::backend::project::backend_of(&a.project).as_deref() == Some("verilog") {
        if a.csim || a.cosim || a.export || a.vsynth || a.timeout.is_some() {
            return Err(Error::input(
                "a verilog project has one build step, --synth (yosys); `hlsrs rtlsim` simulates it",
            ));
        }
        let cells = crate::backend::verilog::synth::run(&a.project)?;
        println!(
            "yosys synth_xilinx: LUT {} (LUT1..6 {:?}), FF {}, CARRY {}, MUXF {}, DSP {}, BRAM_18K {}; {} and `hlsrs report {}`",
            cells.lut,
            cells.lut_by_size,
            cells.ff,
            cells.carry,
            cells.mux,
            cells.dsp,
            cells.bram_18k,
            crate::backend::verilog::synth::STAT_JSON,
            a.project.display()
        );
        return Ok(());
    }
    let mut steps = crate::backend::vitis::build::Steps {
        csim: a.csim,
        synth: a.synth,
        cosim: a.cosim,
        export: a.export,
        vsynth: a.vsynth,
    };
    if !(a.csim || a.synth || a.cosim || a.export || a.vsynth) {
        steps.synth = true;
    }
    let timeout = match a.timeout {
        Some(t) if t.is_finite() && t > 0.0 && t <= 1e7 => {
            Some(std::time::Duration::from_secs_f64(t))
        }
        Some(t) => {
            return Err(Error::input(format!(
                "--timeout {t}: expected a positive number of seconds (at most 10^7)"
            )));
        }
        None => None,
    };
    let tool = crate::backend::vitis::build::run(&a.project, steps, timeout)?;
    println!(
        "{tool} ran {} ({}); `hlsrs report {}` shows the results",
        steps.names().join(", "),
        steps.tcl_args(),
        a.project.display()
    );
    Ok(())
}

/// The estimate `prepare` made.
fn estimate_of(p: &crate::Prepared) -> Result<&crate::estimate::Estimate> {
    p.estimate
        .as_ref()
        .ok_or_else(|| Error::internal("no estimate: the model was prepared only up to a pass"))
}

/// Errs (exit 3) with a table of the figures over `budget`.
fn check_budget(p: &crate::Prepared, budget: &str) -> Result<()> {
    let b = crate::estimate::Budget::parse(budget)?;
    let e = estimate_of(p)?;
    let over = b.over(e);
    if over.is_empty() {
        return Ok(());
    }
    let mut table = format!("  {:<10} {:>20} {:>12}\n", "figure", "estimate", "budget");
    for (what, est, lim) in over {
        table.push_str(&format!("  {what:<10} {est:>20} {lim:>12}\n"));
    }
    Err(Error::OverBudget(table))
}

/// "R", a recurrent layer's "input R/recurrent R", an io_parallel window's "R pf P".
fn reuse_label(o: &crate::estimate::ReuseOption) -> String {
    let r = match o.recurrent_reuse {
        Some(q) => format!("{}/{q}", o.reuse),
        None => o.reuse.to_string(),
    };
    match o.parallelization {
        Some(pf) => format!("{r} pf {pf}"),
        None => r,
    }
}

/// With a latency or II target: the reuse factors `estimate::choose_reuse` picks, set per layer
/// in the config and the model prepared again; exit 3 when no choice meets the targets.
fn with_targets(
    args: &ModelArgs,
    p: crate::Prepared,
    limits: &LimitArgs,
) -> Result<crate::Prepared> {
    let (latency, ii) = (limits.target_latency, limits.target_ii);
    if latency.is_none() && ii.is_none() {
        return Ok(p);
    }
    let chosen = crate::estimate::choose_reuse(&p.model, p.config.io, p.config.clock, &p.part, latency, ii)?
        .ok_or_else(|| {
            Error::OverBudget(format!(
                "  no reuse factors meet latency {} / II {}: even the fastest design is slower (see hlsrs estimate --advise)\n",
                latency.map_or("-".into(), |v| format!("{v} ns")),
                ii.map_or("-".into(), |v| v.to_string())
            ))
        })?;
    let mut config = p.config.clone();
    for (name, o) in &chosen {
        o.configure(config.layers.entry(name.clone()).or_default());
        println!(
            "  target: layer '{name}' reuse {} ({}), {} DSP, {} cycles",
            reuse_label(o),
            o.strategy.name(),
            o.dsp,
            o.latency_cycles
        );
    }
    crate::prepare(&args.model, &config, None)
}

fn estimate(a: EstimateArgs) -> Result<()> {
    let config = resolve_config(&a.model)?;
    let p = crate::prepare(&a.model.model, &config, None)?;
    let p = with_targets(&a.model, p, &a.limits)?;
    if a.advise {
        for (name, opts) in crate::estimate::reuse_options(&p.model, p.config.io, p.config.clock)? {
            let r = if opts.iter().any(|o| o.recurrent_reuse.is_some()) {
                "input R/recurrent R"
            } else if opts.iter().any(|o| o.parallelization.is_some()) {
                "R pf parallelization"
            } else {
                "R"
            };
            println!("  reuse factors of '{name}' ({r}: DSP / LUT / latency / II):");
            let line: Vec<String> = opts
                .iter()
                .map(|o| {
                    format!(
                        "{}: {}/{}/{}/{}",
                        reuse_label(o),
                        o.dsp,
                        o.lut,
                        o.latency_cycles,
                        o.ii
                    )
                })
                .collect();
            for chunk in line.chunks(6) {
                println!("    {}", chunk.join("   "));
            }
        }
    }
    let e = estimate_of(&p)?;
    let fidelity = crate::measure_fidelity(&p)?;
    if a.json {
        let mut doc = serde_json::to_value(e).map_err(|e| Error::internal(e.to_string()))?;
        doc["fidelity"] = fidelity.to_json();
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).map_err(|e| Error::internal(e.to_string()))?
        );
    } else {
        let w = e
            .layers
            .iter()
            .map(|l| l.name.len())
            .max()
            .unwrap_or(5)
            .max(5);
        println!(
            "estimate of '{}' for {} at {} ns (docs/estimator.md)",
            p.model.name, p.part.full, p.config.clock
        );
        println!(
            "  {:<w$} {:<12} {:>7} {:>9} {:>9} {:>8} {:>8} {:>4}  products dsp/lut/shift",
            "layer", "kind", "DSP", "LUT", "FF", "BRAM_18K", "latency", "II"
        );
        for l in &e.layers {
            let prods = if l.products == Default::default() {
                String::new()
            } else {
                format!("{}/{}/{}", l.products.dsp, l.products.lut, l.products.shift)
            };
            println!(
                "  {:<w$} {:<12} {:>7} {:>9} {:>9} {:>8} {:>8} {:>4}  {prods}",
                l.name,
                l.kind,
                l.cost.dsp,
                l.cost.lut,
                l.cost.ff,
                l.cost.bram_18k,
                l.latency_cycles,
                l.ii
            );
        }
        let t = &e.total;
        let u = &e.utilisation;
        println!(
            "  total: DSP {} ({:.1}%), LUT {} ({:.1}%), FF {} ({:.1}%), BRAM_18K {} ({:.1}%), URAM {} ({:.1}%); latency {} cycles = {} ns, II {}",
            t.dsp,
            u[0],
            t.lut,
            u[1],
            t.ff,
            u[2],
            t.bram_18k,
            u[3],
            t.uram,
            u[4],
            e.latency_cycles,
            e.latency_ns,
            e.ii
        );
        for o in &e.outputs {
            println!(
                "  output {}: ready after {} cycles = {} ns",
                o.name, o.latency_cycles, o.latency_ns
            );
        }
        for line in fidelity.summary() {
            println!("  {line}");
        }
        for w in fidelity.warnings() {
            println!("  {w}");
        }
    }
    if let Some(b) = &a.limits.budget {
        check_budget(&p, b)?;
    }
    Ok(())
}
