//! hlsrs: compiles trained neural networks (ONNX, JSON) into bit-exact Vitis HLS C++ projects.
//!
//! Pipeline: [`frontend`] -> [`ir::Model`] -> [`passes`] -> backends ([`backend::vitis`],
//! [`emulate`]). The emulator and the C++ writer read the same per-layer numeric plans
//! ([`kernels`]), so nothing about a layer's arithmetic is decided twice.
//!
//! The public API is the handful of functions below; the CLI (`main.rs`, `cli.rs`) is a thin
//! layer over them.

pub mod arrays;
pub mod backend;
pub mod cli;
pub mod config;
pub mod confine;
pub mod emulate;
pub mod error;
pub mod estimate;
pub mod fidelity;
pub mod frontend;
pub mod interrupt;
pub mod ir;
pub mod kernels;
pub mod lint;
pub mod output;
pub mod parts;
pub mod passes;
pub mod quantize_search;
pub mod report;
pub mod stream;

/// The C-simulation of a Vitis project (g++ and ap_types).
pub use backend::vitis::csim;

pub use config::Config;
pub use error::{Error, Result};

use arrays::Array;
use std::path::Path;

/// A model after the pass pipeline, with its configuration resolved.
pub struct Prepared {
    pub model: ir::Model,
    pub config: Config,
    pub part: parts::Part,
    /// Messages for the user (e.g. reuse factors adjusted per layer).
    pub notes: Vec<String>,
    /// Every layer's plan and the estimate made from them, once per command: lint, the
    /// emulator, the writer and the CLI summary read these (empty / None when `prepare` stopped
    /// after an earlier pass).
    pub plans: Vec<kernels::LayerPlan>,
    pub estimate: Option<estimate::Estimate>,
}

/// Loads a model (`.onnx` or `.json`) and runs the passes. `stop_after` names a pass to stop
/// after (for `--dump-after`).
pub fn prepare(model_path: &Path, config: &Config, stop_after: Option<&str>) -> Result<Prepared> {
    let part = parts::resolve(&config.part)?;
    let mut model = frontend::load_named(model_path)?;
    if let Some(n) = &config.name {
        model.name = ir::names::c_identifier(n);
    }
    let mut notes = Vec::new();
    let config = match config.quantize {
        config::Quantize::Search => {
            let target = match (config.target_agreement, config.target_error) {
                (Some(a), None) => quantize_search::Target::Agreement(a),
                (None, Some(e)) => quantize_search::Target::MaxError(e),
                _ => {
                    return Err(Error::input(
                        "quantize = \"search\" needs exactly one target: --target-agreement F (classifiers) or --target-error E (regressors)",
                    ));
                }
            };
            let r = quantize_search::search(&model, config, target)
                .map_err(|e| e.in_file(model_path))?;
            notes.push(format!(
                "quantize search: bit cost {} ({:.1}% of {} at {}), {} {:.4} on the calibration data, {} evaluations",
                r.cost,
                100.0 * r.cost as f64 / r.baseline_cost as f64,
                r.baseline_cost,
                config.precision,
                match target {
                    quantize_search::Target::Agreement(_) => "argmax agreement",
                    quantize_search::Target::MaxError(_) => "max error",
                },
                r.achieved,
                r.evaluations
            ));
            r.config
        }
        _ => config.clone(),
    };
    notes.extend(passes::run(&mut model, &config, stop_after).map_err(|e| e.in_file(model_path))?);
    let (mut plans, mut estimate) = (Vec::new(), None);
    if stop_after.is_none() {
        plans = kernels::plan_model(&model).map_err(|e| e.in_file(model_path))?;
        // The estimate of the hardware the chosen backend builds.
        let e = match config.backend {
            config::Backend::Vitis => {
                estimate::estimate_planned(&model, &plans, config.io, config.clock, &part)?
            }
            config::Backend::Verilog => {
                backend::verilog::estimate::estimate(&model, &plans, config.io, config.clock, &part)
                    .map_err(|e| e.in_file(model_path))?
            }
        };
        notes.extend(
            lint::lint_planned(&model, &plans, &e, &config, &part)
                .map_err(|e| e.in_file(model_path))?,
        );
        estimate = Some(e);
    }
    Ok(Prepared {
        model,
        config,
        part,
        notes,
        plans,
        estimate,
    })
}

/// Seeded testbench inputs when the user gives none: uniform in [-2, 2), deterministic.
pub fn default_tb_inputs(sample_size: usize, count: usize) -> Vec<Vec<f64>> {
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..count)
        .map(|_| ir::tensor::seeded_uniform(&mut s, sample_size))
        .collect()
}

/// The default samples of a model (testbench and fidelity), and what they are: 16 seeded
/// samples, fewer for large designs (the testbench data stays near a million values).
fn default_samples(model: &ir::Model) -> (Vec<Vec<f64>>, String) {
    let (sample, out) = (model.sample_input_size(), model.sample_output_size());
    let count = ((1 << 20) / (sample + out).max(1)).clamp(1, 16);
    (
        default_tb_inputs(sample, count),
        format!("{count} seeded samples uniform in [-2, 2)"),
    )
}

/// What `compile` did.
pub struct Compiled {
    pub files: output::WriteReport,
    /// The design against float on the calibration data (`calib`), else the testbench samples.
    pub fidelity: fidelity::Fidelity,
}

/// Fixed point against float, and overflows, on the calibration data (`calib`) when the
/// configuration names it, else on the default samples (as `hlsrs estimate` reports it).
pub fn measure_fidelity(prepared: &Prepared) -> Result<fidelity::Fidelity> {
    let (rows, what) = match calib_samples(prepared)? {
        Some(c) => c,
        None => default_samples(&prepared.model),
    };
    Ok(fidelity::measure(&prepared.model, &prepared.plans, &rows, what)?.0)
}

fn calib_samples(prepared: &Prepared) -> Result<Option<(Vec<Vec<f64>>, String)>> {
    let Some(path) = &prepared.config.calib else {
        return Ok(None);
    };
    let x = arrays::read_model_inputs(path, &prepared.model).map_err(|e| e.in_file(path))?;
    let rows = arrays::rows_of(&x);
    Ok(Some((
        rows,
        format!("{} calibration samples of {}", x.rows(), path.display()),
    )))
}

/// Generates the Vitis HLS project into `out_dir`, and measures the design against float.
pub fn compile(
    prepared: &Prepared,
    out_dir: &Path,
    force: bool,
    tb_inputs: Option<&Array>,
) -> Result<Compiled> {
    let (rows, what) = match tb_inputs {
        Some(a) => (
            arrays::rows_of(a),
            format!("{} testbench samples given", a.rows()),
        ),
        None => default_samples(&prepared.model),
    };
    let m = &prepared.model;
    // The testbench's expected outputs come from the same runs as its fidelity.
    let (tb_fidelity, bits) = fidelity::measure(m, &prepared.plans, &rows, what)?;
    let fidelity = match calib_samples(prepared)? {
        Some((rows, what)) => fidelity::measure(m, &prepared.plans, &rows, what)?.0,
        None => tb_fidelity,
    };
    let mut notes = prepared.notes.clone();
    notes.extend(fidelity.warnings());
    let opts = backend::vitis::ProjectOptions {
        config: &prepared.config,
        part: &prepared.part,
        tb_bits: &bits,
        notes: &notes,
        fidelity: &fidelity,
    };
    let estimate = prepared.estimate.as_ref().ok_or_else(|| {
        Error::internal("compile of a model prepared only up to a pass (no plans)")
    })?;
    let files = match prepared.config.backend {
        config::Backend::Vitis => {
            backend::vitis::generate(&prepared.model, &prepared.plans, estimate, &opts)?
        }
        config::Backend::Verilog => {
            backend::verilog::generate(&prepared.model, &prepared.plans, estimate, &opts)?
        }
    };
    Ok(Compiled {
        files: output::write_project(out_dir, &prepared.model.name, &files, force)?,
        fidelity,
    })
}

/// Writes `project/report.html`: the page [`report::html`] draws from the project's manifest
/// and the vendor reports found in it. Returns the page's path.
pub fn write_html_report(project: &Path) -> Result<std::path::PathBuf> {
    let manifest_path = project.join(backend::MANIFEST);
    let text = confine::read_text(&manifest_path).map_err(|e| {
        Error::io(
            &manifest_path,
            "read the project's manifest (is this a project written by `hlsrs compile`?)",
            e,
        )
    })?;
    let manifest: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::input(format!("not a valid manifest: {e}")).in_file(&manifest_path))?;
    let vendor = report::find(project, manifest["name"].as_str())?;
    let page = report::html::render(&manifest, &vendor);
    // Inside the project, never through a link someone left there.
    let path = confine::inside(project, "report.html")?;
    let tmp = confine::inside(project, ".report.html.hlsrs-tmp")?;
    std::fs::write(&tmp, page).map_err(|e| Error::io(&path, "write", e))?;
    std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, "write", e))?;
    Ok(path)
}

/// Samples must hold every input of the model, one after another.
fn check_samples(m: &ir::Model, input: &Array) -> Result<()> {
    if input.rows() > 0 && input.row_len() != m.sample_input_size() {
        return Err(Error::input(format!(
            "samples hold {} values; the model's inputs hold {} ({:?})",
            input.row_len(),
            m.sample_input_size(),
            m.sample_input_shapes()
        )));
    }
    Ok(())
}

/// Every layer's values on every sample, in fixed point and in float, with the fidelity they
/// show (`hlsrs predict --trace`).
pub fn trace(
    prepared: &Prepared,
    input: &Array,
) -> Result<(fidelity::Fidelity, Vec<fidelity::TracedLayer>)> {
    let m = &prepared.model;
    check_samples(m, input)?;
    let rows: Vec<Vec<f64>> = arrays::rows_of(input);
    let what = format!("{} samples given", rows.len());
    fidelity::trace(m, &prepared.plans, &rows, what)
}

/// Runs the model on every sample (rows of all inputs one after another): bit-accurate fixed
/// point, or f64 with `float`.
pub fn predict(prepared: &Prepared, input: &Array, float: bool) -> Result<Array> {
    let m = &prepared.model;
    check_samples(m, input)?;
    // Samples are independent: all cores.
    let rows: Vec<Vec<f64>> = if float {
        emulate::par_map(input.rows(), |r| Ok(emulate::float::run(m, input.row(r))))?
    } else {
        let emu = emulate::Emulator::with_plans(m, &prepared.plans);
        emulate::par_map(input.rows(), |r| {
            emu.run(input.row(r)).map_err(|e| match e {
                Error::Input { message, .. } => Error::input(format!("sample {r}: {message}")),
                e => e,
            })
        })?
    };
    // One output keeps its shape; several are one row of all of them (outputs in order).
    let shape = match &m.sample_output_shapes()[..] {
        [one] => one.clone(),
        _ => vec![m.sample_output_size()],
    };
    Ok(Array::from_rows(&shape, &rows))
}
