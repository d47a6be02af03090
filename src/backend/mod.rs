//! Backends: each reads the IR (after passes) and produces an artefact: a project of files with
//! a manifest (`hlsrs.json`) that lists them. What every backend shares lives here; a backend
//! never uses another (tests/layering.rs).

use crate::kernels::Kernel;
use serde_json::json;
use std::collections::BTreeMap;

pub mod project;
pub mod verilog;
pub mod vitis;

/// Relative path -> contents.
pub type Files = BTreeMap<String, Vec<u8>>;

/// The resolved configuration and per-layer facts, also the list of files hlsrs owns.
pub const MANIFEST: &str = "hlsrs.json";

/// The files a project's manifest lists as hlsrs's. The manifest is untrusted (anyone may have
/// edited it): a listed path that is not a plain path inside the project is left out, so
/// nothing is removed, overwritten or judged on its word. None without a readable list.
pub fn listed_files(dir: &std::path::Path) -> Option<std::collections::BTreeSet<String>> {
    // Only the list is read: the rest of the manifest is skipped, not built.
    #[derive(serde::Deserialize)]
    struct Listed {
        files: std::collections::BTreeSet<String>,
    }
    let text = crate::confine::read(&dir.join(MANIFEST)).ok()?;
    serde_json::from_slice::<Listed>(&text).ok().map(|l| {
        l.files
            .into_iter()
            .filter(|f| crate::confine::is_confined(f))
            .collect()
    })
}

/// Lists every file (and the manifest itself) in the manifest and adds it to the project.
pub fn add_manifest(files: &mut Files, mut manifest: serde_json::Value) -> crate::Result<()> {
    let mut listed: Vec<String> = files.keys().cloned().collect();
    listed.push(MANIFEST.to_string());
    listed.sort();
    manifest["files"] = json!(listed);
    let mut text =
        serde_json::to_vec_pretty(&manifest).map_err(|e| crate::Error::internal(e.to_string()))?;
    text.push(b'\n');
    files.insert(MANIFEST.into(), text);
    Ok(())
}

/// Everything the project needs besides the model.
pub struct ProjectOptions<'a> {
    pub config: &'a crate::config::Config,
    pub part: &'a crate::parts::Part,
    /// Testbench samples: each one's input bits and the emulator's output bits.
    pub tb_bits: &'a [crate::fidelity::SampleBits],
    /// The user's notes and warnings (hlsrs.json keeps them).
    pub notes: &'a [String],
    /// Fixed point against float on samples (hlsrs.json keeps it).
    pub fidelity: &'a crate::fidelity::Fidelity,
}

/// The manifest (`MANIFEST`) but for its list of files.
pub fn manifest(
    model: &crate::ir::Model,
    opts: &ProjectOptions,
    plans: &[crate::kernels::LayerPlan],
    estimate: &crate::estimate::Estimate,
) -> serde_json::Value {
    let layers: Vec<_> = plans
        .iter()
        .enumerate()
        .filter(|(_, p)| !model.is_input(p.node))
        .map(|(k, p)| {
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
                // The C++ names layer<index>_t and config<index>, and the csim trace's file.
                "index": k,
                "op": node.op.kind(),
                "inputs": inputs,
                "shape": node.shape,
            });
            if !node.fused.is_empty() {
                layer["fused"] = json!(node.fused);
            }
            match &p.kernel {
                crate::kernels::Kernel::Dense(_) | Kernel::Conv(_) => {
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
                    if !d.da.is_empty() {
                        // Distributed arithmetic: the graphs' adders and their deepest path.
                        layer["adders"] = json!(d.da.iter().map(|g| g.adders.len()).sum::<usize>());
                        layer["adder_depth"] = json!(d.da.iter().map(|g| g.depths().1).max());
                    }
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
                | Kernel::Transpose { .. }
                | Kernel::Gather { .. } => {}
            }
            layer["types"] = serde_json::Value::Object(types);
            layer
        })
        .collect();
    let ends = |nodes: Vec<(String, petgraph::stable_graph::NodeIndex)>,
                shapes: Vec<Vec<usize>>|
     -> Vec<serde_json::Value> {
        nodes
            .into_iter()
            .zip(shapes)
            .map(|((name, n), shape)| {
                json!({ "name": name, "layer": model.node(n).name, "shape": shape, "type": model.node(n).precision.result })
            })
            .collect()
    };
    let inputs = ends(
        model
            .inputs
            .iter()
            .map(|&i| (model.node(i).name.clone(), i))
            .collect(),
        model.sample_input_shapes(),
    );
    let outputs = ends(
        model
            .outputs
            .iter()
            .map(|o| (o.name.clone(), o.node))
            .collect(),
        model.sample_output_shapes(),
    );
    json!({
        "hlsrs": env!("CARGO_PKG_VERSION"),
        "name": model.name,
        "part": opts.part,
        "clock_ns": opts.config.clock,
        "io": opts.config.io,
        "steps": model.steps,
        "inputs": inputs,
        "outputs": outputs,
        "layers": layers,
        // Before synthesis (docs/estimator.md); `hlsrs report` shows it beside the real figures.
        "estimate": estimate,
        "notes": opts.notes,
        "fidelity": opts.fidelity.to_json(),
        "config": opts.config,
    })
}
