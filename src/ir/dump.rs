//! A readable text form of the IR (for `--dump-after` and snapshot tests).

use super::activation::Activation;
use super::graph::Model;
use super::ops::Op;
use std::fmt::Write;

/// One line per node in topological order: name, op, inputs, shape, types and hardware.
pub fn dump(model: &Model) -> String {
    let mut s = format!("model {}\n", model.name);
    for n in model.topo_order() {
        let node = model.node(n);
        let inputs: Vec<&str> = model
            .inputs(n)
            .iter()
            .map(|&i| model.node(i).name.as_str())
            .collect();
        let detail = match &node.op {
            Op::Dense { weights, .. } => format!(" {}x{}", weights.shape[0], weights.shape[1]),
            Op::Activation(Activation::LeakyRelu { alpha }) => format!(" alpha={alpha}"),
            Op::Activation(Activation::HardSigmoid { alpha, beta }) => {
                format!(" alpha={alpha} beta={beta}")
            }
            Op::Clip { min, max } => format!(" min={min:?} max={max:?}"),
            Op::Quant { ty, bipolar, .. } => {
                format!(" to={ty}{}", if *bipolar { " bipolar" } else { "" })
            }
            Op::Transpose { perm } => format!(" perm={perm:?}"),
            _ => String::new(),
        };
        let _ = write!(
            s,
            "  {} = {}{}({}) shape={:?} result={}",
            node.name,
            node.op.kind(),
            detail,
            inputs.join(", "),
            node.shape,
            node.precision.result
        );
        if node.op.has_reuse() {
            let _ = write!(
                s,
                " weight={} bias={} accum={} reuse={} strategy={}",
                node.precision.weight,
                node.precision.bias,
                node.precision.accum,
                node.hardware.reuse,
                node.hardware.strategy.name()
            );
        }
        if let Op::Recurrent(r) = &node.op {
            let _ = write!(
                s,
                " state={} recurrent_reuse={}{}",
                node.precision.state,
                node.hardware.recurrent_reuse,
                if r.stateful { " static" } else { "" }
            );
        }
        if node.op.uses_table() {
            let _ = write!(
                s,
                " table={}x{}",
                node.precision.table_size, node.precision.table
            );
        }
        if !node.fused.is_empty() {
            let _ = write!(s, " fused={:?}", node.fused);
        }
        s.push('\n');
    }
    for o in &model.outputs {
        let _ = write!(
            s,
            "  output {} shape={:?}",
            model.node(o.node).name,
            o.shape
        );
    }
    if model.steps > 1 {
        let _ = write!(s, " steps={}", model.steps);
    }
    s.push('\n');
    s
}
