//! The table `hlsrs compile` prints: each layer's type, reuse, strategy, multiplications and
//! estimated cost, and the estimated totals.

use super::*;

pub(super) fn print_summary(
    p: &crate::Prepared,
    plans: &[crate::kernels::LayerPlan],
    out: &Path,
    compiled: &crate::Compiled,
    e: &crate::estimate::Estimate,
) {
    let report = &compiled.files;
    let m = &p.model;
    println!(
        "compiled '{}' for {} at {} ns into {}",
        m.name,
        p.part.full,
        p.config.clock,
        out.display()
    );
    let w = plans
        .iter()
        .map(|pl| m.node(pl.node).name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    println!(
        "  {:<w$} {:<13} {:>8}  {:<32} {:>5}  {:<8} {:>6} {:>6} {:>8} {:>7}",
        "layer",
        "op",
        "values",
        "result type",
        "reuse",
        "strategy",
        "mults",
        "DSP",
        "LUT",
        "cycles"
    );
    // The estimate's figures of each layer (its rows are the plans', by name).
    let est: std::collections::HashMap<&str, &crate::estimate::LayerEstimate> =
        e.layers.iter().map(|l| (l.name.as_str(), l)).collect();
    for plan in plans {
        let n = m.node(plan.node);
        let (reuse, strategy, mults) = match &plan.kernel {
            // A convolution's count is per output position.
            crate::kernels::Kernel::Dense(d)
            | crate::kernels::Kernel::Conv(crate::kernels::conv::ConvPlan { dense: d, .. }) => (
                d.reuse.to_string(),
                d.strategy.name().to_string(),
                d.multiplications.to_string(),
            ),
            crate::kernels::Kernel::Recurrent(r) => (
                format!("{}/{}", r.wx[0].reuse, r.rh[0].reuse),
                r.wx[0].strategy.name().to_string(),
                r.multiplications_per_step().to_string(),
            ),
            _ => (String::new(), String::new(), String::new()),
        };
        let (dsp, lut, cycles) = est.get(n.name.as_str()).map_or_else(
            || (String::new(), String::new(), String::new()),
            |l| {
                (
                    l.cost.dsp.to_string(),
                    l.cost.lut.to_string(),
                    l.latency_cycles.to_string(),
                )
            },
        );
        println!(
            "  {:<w$} {:<13} {:>8}  {:<32} {:>5}  {:<8} {:>6} {:>6} {:>8} {:>7}",
            n.name,
            n.op.kind(),
            n.size(),
            n.precision.result.to_cpp(),
            reuse,
            strategy,
            mults,
            dsp,
            lut,
            cycles
        );
    }
    // The top function's ports, each with its name, shape and type (outputs with their latency
    // when there are several).
    let ports = crate::ir::ports::Ports::of(m);
    for ((&i, shape), port) in m
        .inputs
        .iter()
        .zip(m.sample_input_shapes())
        .zip(&ports.inputs)
    {
        println!(
            "  input  {} {:?} {} (port {port})",
            m.node(i).name,
            shape,
            m.node(i).precision.result.to_cpp()
        );
    }
    for (k, ((o, shape), port)) in m
        .outputs
        .iter()
        .zip(m.sample_output_shapes())
        .zip(&ports.outputs)
        .enumerate()
    {
        let ready = e
            .outputs
            .get(k)
            .map(|l| format!(", ready after {} cycles", l.latency_cycles))
            .unwrap_or_default();
        println!(
            "  output {} {:?} {} (layer {}, port {port}{ready})",
            o.name,
            shape,
            m.node(o.node).precision.result.to_cpp(),
            m.node(o.node).name
        );
    }
    if m.steps > 1 {
        println!(
            "  static: one time step per call ({} calls a sequence; `reset` starts one); recurrent reuse is input/recurrent, mults per step",
            m.steps
        );
    }
    for line in compiled.fidelity.summary() {
        println!("  {line}");
    }
    for note in p.notes.iter().chain(&compiled.fidelity.warnings()) {
        if note.starts_with("warning:") {
            println!("  {note}");
        } else {
            println!("  note: {note}");
        }
    }
    println!(
        "  {} file(s) written, {} unchanged{}",
        report.written.len(),
        report.unchanged,
        if report.removed.is_empty() {
            String::new()
        } else {
            format!(", {} removed", report.removed.len())
        }
    );
}
