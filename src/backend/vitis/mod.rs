//! Vitis HLS backend: renders the project for a prepared model. Everything is produced in memory
//! first (a failure writes nothing); the files are byte-for-byte deterministic.

pub mod build;
mod context;

mod templates;

use crate::config::Config;
use crate::emulate::Emulator;
use crate::error::{Error, Result};
use crate::ir::Model;
use crate::kernels::Kernel;
use crate::parts::Part;
use serde_json::json;
use std::collections::BTreeMap;

/// Relative path -> contents.
pub type Files = BTreeMap<String, Vec<u8>>;

/// Everything the project needs besides the model.
pub struct ProjectOptions<'a> {
    pub config: &'a Config,
    pub part: &'a Part,
    /// Testbench samples (model input values); their expected outputs come from the emulator.
    pub tb_inputs: &'a [Vec<f64>],
    pub notes: &'a [String],
}

fn tera() -> Result<tera::Tera> {
    let mut t = tera::Tera::new();
    for (name, src) in templates::TEMPLATES {
        t.add_raw_template(name, src)
            .map_err(|e| Error::internal(format!("template {name}: {e}")))?;
    }
    Ok(t)
}

fn render(t: &tera::Tera, name: &str, cx: &tera::Context) -> Result<Vec<u8>> {
    t.render(name, cx)
        .map(String::into_bytes)
        .map_err(|e| Error::internal(format!("rendering {name}: {e:?}")))
}

/// Generates every file of the project.
pub fn generate(
    model: &Model,
    plans: &[crate::kernels::LayerPlan],
    estimate: &crate::estimate::Estimate,
    opts: &ProjectOptions,
) -> Result<Files> {
    if model.input == model.output {
        return Err(Error::input(
            "the model has no layers between its input and output",
        ));
    }
    let name = &model.name;
    let stream = opts.config.io == crate::config::IoType::Stream;
    let mut builder = context::Builder::new(model, stream);
    for (k, p) in plans.iter().enumerate() {
        builder.add(k, p);
    }
    let dataflow = !stream && plans.iter().any(|p| context::needs_dataflow(&p.kernel));
    let input_clone = if dataflow {
        builder.clone_shared_reads()
    } else {
        None
    };
    let ii = plans
        .iter()
        .map(|p| match &p.kernel {
            Kernel::Dense(d) => d.reuse,
            Kernel::Conv(c) => c.dense.reuse,
            _ => 1,
        })
        .max()
        .unwrap_or(1);
    let emu = Emulator::with_plans(model, plans);
    let ports = crate::ir::ports::Ports::of(model);
    let shape_px = |n: petgraph::stable_graph::NodeIndex| {
        let s = &model.node(n).shape;
        (
            *s.last().unwrap(),
            s.iter().product::<usize>() / s.last().unwrap(),
        )
    };
    let (in_width, in_pixels) = shape_px(model.input);
    let (out_width, out_pixels) = shape_px(model.output);
    let project = json!({
        "stream": stream,
        "in_width": in_width, "in_pixels": in_pixels,
        "out_width": out_width, "out_pixels": out_pixels,
        "output_index": plans.iter().position(|p| p.node == model.output),
        "name": name,
        "guard": name.to_uppercase(),
        "version": env!("CARGO_PKG_VERSION"),
        "input_size": model.node(model.input).size(),
        "output_size": model.node(model.output).size(),
        "input_type": emu.input_type().to_cpp(),
        "output_type": emu.output_type().to_cpp(),
        "io": if stream { "stream" } else { "parallel" },
        "part": opts.part.full,
        "clock": format_clock(opts.config.clock),
        "clock_uncertainty": opts.config.clock_uncertainty_text(),
        "input_port": ports.input,
        "output_port": ports.output,
        "ii": ii,
        "dataflow": dataflow,
        "input_clone": input_clone,
        "steps": model.steps,
        "stateful": plans.iter().any(|p| matches!(&p.kernel, Kernel::Recurrent(r) if r.rec.stateful)),
    });
    let mut cx = tera::Context::new();
    cx.insert("project", &project);
    cx.insert("layers", &builder.layers);
    cx.insert("weights", &builder.weights);
    if stream {
        let index_of = plans.iter().enumerate().map(|(k, p)| (p.node, k)).collect();
        let mut wiring = crate::stream::wire(model, &index_of)?;
        for pr in &mut wiring.processes {
            if pr.kind == "layer" {
                let l = builder
                    .layers
                    .iter()
                    .find(|l| l.index == pr.layer)
                    .expect("every layer has a context");
                pr.l = Some(serde_json::to_value(l).map_err(|e| Error::internal(e.to_string()))?);
            }
        }
        cx.insert("streams", &wiring.streams);
        cx.insert("processes", &wiring.processes);
    }
    let t = tera()?;
    let mut files = Files::new();
    let fw = "firmware";
    let top = if stream { "top_stream.cpp" } else { "top.cpp" };
    files.insert(format!("{fw}/{name}.cpp"), render(&t, top, &cx)?);
    files.insert(format!("{fw}/{name}.h"), render(&t, "top.h", &cx)?);
    files.insert(format!("{fw}/defines.h"), render(&t, "defines.h", &cx)?);
    files.insert(
        format!("{fw}/parameters.h"),
        render(&t, "parameters.h", &cx)?,
    );
    for w in &builder.weights {
        let mut wcx = tera::Context::new();
        wcx.insert("w", w);
        files.insert(
            format!("{fw}/weights/{}.h", w.var),
            render(&t, "weights.h", &wcx)?,
        );
    }
    for (file, src) in templates::HLS_LIB {
        files.insert(format!("{fw}/hls_lib/{file}"), src.as_bytes().to_vec());
    }
    // Generated, so the C++ kind codes cannot drift from the plans'.
    files.insert(
        format!("{fw}/hls_lib/hlsrs_activation_kinds.h"),
        crate::kernels::activation::kinds_header().into_bytes(),
    );
    files.insert(format!("tb/{name}_test.cpp"), render(&t, "test.cpp", &cx)?);
    for script in [
        "build_prj.tcl",
        "build_opt.tcl",
        "vivado_synth.tcl",
        "clock.xdc",
    ] {
        files.insert(script.into(), render(&t, script, &cx)?);
    }
    files.insert("hls_config.cfg".into(), render(&t, "hls_config.cfg", &cx)?);
    files.insert("Makefile".into(), render(&t, "Makefile", &cx)?);

    // The expected outputs: the emulator on every sample, all cores.
    let samples = crate::emulate::par_map(opts.tb_inputs.len(), |i| {
        let raw = emu.quantize_input(&opts.tb_inputs[i])?;
        let y = emu.run_raw(&raw);
        Ok((raw, y))
    })?;
    let (mut tb_in, mut tb_out) = (String::new(), String::new());
    for (raw, y) in &samples {
        tb_in.push_str(&join_line(raw));
        tb_out.push_str(&join_line(y));
    }
    files.insert("tb_data/tb_input_bits.dat".into(), tb_in.into_bytes());
    files.insert("tb_data/tb_output_bits.dat".into(), tb_out.into_bytes());

    let mut listed: Vec<String> = files.keys().cloned().collect();
    listed.push(MANIFEST.to_string());
    listed.sort();
    let manifest = manifest(model, opts, plans, estimate, &listed)?;
    files.insert(MANIFEST.into(), manifest);
    Ok(files)
}

/// The resolved configuration and per-layer facts, also the list of files hlsrs owns.
pub const MANIFEST: &str = "hlsrs.json";

fn format_clock(ns: f64) -> String {
    let s = format!("{ns}");
    if s.contains('.') { s } else { format!("{s}.0") }
}

fn join_line(v: &[i128]) -> String {
    let mut s = v
        .iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(" ");
    s.push('\n');
    s
}

fn manifest(
    model: &Model,
    opts: &ProjectOptions,
    plans: &[crate::kernels::LayerPlan],
    estimate: &crate::estimate::Estimate,
    files: &[String],
) -> Result<Vec<u8>> {
    let layers: Vec<_> = plans
        .iter()
        .filter(|p| p.node != model.input)
        .map(|p| {
            let node = model.node(p.node);
            let inputs: Vec<&str> = model
                .inputs(p.node)
                .iter()
                .map(|&i| model.node(i).name.as_str())
                .collect();
            let mut types = serde_json::Map::new();
            types.insert("result".into(), json!(p.result));
            let mut layer = json!({
                "name": node.name,
                "op": node.op.kind(),
                "inputs": inputs,
                "shape": node.shape,
            });
            if !node.fused.is_empty() {
                layer["fused"] = json!(node.fused);
            }
            match &p.kernel {
                Kernel::Dense(_) | Kernel::Conv(_) => {
                    // A convolution is a dense block per output position: the same facts.
                    let (d, mults_key) = match &p.kernel {
                        Kernel::Conv(c) => (&c.dense, "multiplications_per_position"),
                        Kernel::Dense(d) => (d, "multiplications"),
                        _ => unreachable!(),
                    };
                    types.insert("weight".into(), json!(d.weights.ty));
                    types.insert("bias".into(), json!(d.bias.ty));
                    types.insert("accum".into(), json!(d.accum));
                    layer["reuse"] = json!(d.reuse);
                    layer["strategy"] = json!(d.strategy);
                    layer["valid_reuse"] =
                        json!(crate::kernels::dense::valid_reuse_factors(d.n_in, d.n_out));
                    layer[mults_key] = json!(d.multiplications);
                    // Sparse: only nonzero weights are stored, each with its indices.
                    layer["weight_layout"] = json!(if d.sparse.is_some() {
                        "sparse"
                    } else {
                        "dense"
                    });
                    let groups = match &p.kernel {
                        Kernel::Conv(c) => c.groups,
                        _ => 1,
                    };
                    layer["multipliers"] = json!(d.multipliers(groups) * groups);
                }
                Kernel::Recurrent(r) => {
                    types.insert("weight".into(), json!(r.wx[0].weights.ty));
                    types.insert("bias".into(), json!(r.wx[0].bias.ty));
                    types.insert("accum".into(), json!(r.accum));
                    types.insert("state".into(), json!(r.state));
                    types.insert("gate".into(), json!(r.gate_type));
                    layer["reuse"] = json!(r.wx[0].reuse);
                    layer["recurrent_reuse"] = json!(r.rh[0].reuse);
                    layer["strategy"] = json!(r.wx[0].strategy);
                    layer["static"] = json!(r.rec.stateful);
                    layer["multiplications_per_step"] = json!(r.multiplications_per_step());
                }
                Kernel::ScaleShift { scale, shift, .. } => {
                    types.insert("weight".into(), json!(scale.ty));
                    types.insert("bias".into(), json!(shift.ty));
                }
                Kernel::Activation(crate::kernels::activation::ActPlan::Table(t)) => {
                    types.insert("table".into(), json!(t.table.ty));
                    layer["table_size"] = json!(t.size());
                }
                Kernel::Softmax(s) => {
                    types.insert("table".into(), json!(s.exp_table.ty));
                    types.insert("sum".into(), json!(s.sum));
                    layer["table_size"] = json!(s.exp_table.raw.len());
                }
                // Nothing beyond the result type to record.
                Kernel::Input
                | Kernel::Activation(crate::kernels::activation::ActPlan::Piecewise(_))
                | Kernel::Clip { .. }
                | Kernel::Quant { .. }
                | Kernel::Add
                | Kernel::Sub
                | Kernel::Mul
                | Kernel::Max
                | Kernel::Min
                | Kernel::ArgMax { .. }
                | Kernel::PRelu { .. }
                | Kernel::Pool(_)
                | Kernel::Concat { .. }
                | Kernel::Gather { .. } => {}
            }
            layer["types"] = serde_json::Value::Object(types);
            layer
        })
        .collect();
    let input = model.node(model.input);
    let doc = json!({
        "hlsrs": env!("CARGO_PKG_VERSION"),
        "name": model.name,
        "part": opts.part,
        "clock_ns": opts.config.clock,
        "io": opts.config.io,
        "steps": model.steps,
        "input": { "name": input.name, "shape": model.sample_input_shape(), "type": input.precision.result },
        "output": {
            "name": model.node(model.output).name,
            "shape": model.sample_output_shape(),
            "type": model.node(model.output).precision.result,
        },
        "layers": layers,
        // Before synthesis (docs/estimator.md); `hlsrs report` shows it beside the real figures.
        "estimate": estimate,
        "notes": opts.notes,
        "config": opts.config,
        "files": files,
    });
    let mut s = serde_json::to_string_pretty(&doc).map_err(|e| Error::internal(e.to_string()))?;
    s.push('\n');
    Ok(s.into_bytes())
}
