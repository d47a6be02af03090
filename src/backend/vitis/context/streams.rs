//! io_stream designs: the neutral schedule (`crate::stream`) named for the templates: a model
//! input's or output's stream is its port, a layer's output stream `layer<k>_out`, the copies a
//! clone chain makes `<value>_c<j>` and what clone j passes on `<value>_t<j>`; each carries a
//! pixel type (`layer<k>_px`, or the input port's).

use super::*;
use crate::stream::{ProcessKind, StreamId, Wiring};
use petgraph::stable_graph::NodeIndex;

#[derive(Serialize, Clone)]
pub struct StreamCtx {
    pub var: String,
    /// The pixel type name (e.g. layer3_px).
    pub px: String,
    pub depth: usize,
}

#[derive(Serialize)]
pub struct ProcessCtx {
    /// "layer" or "clone".
    pub kind: &'static str,
    /// Layer index in the generated code (layer processes).
    pub layer: usize,
    /// The layer's template context.
    pub l: Option<Value>,
    pub inputs: Vec<String>,
    /// Pixel types of the inputs.
    pub in_px: Vec<String>,
    pub outputs: Vec<String>,
    pub px: String,
    pub pixels: usize,
}

/// The streams and processes of `wiring` as the templates name them; `index_of[node]` is the
/// layer index in the generated code, `layers` the layers' contexts.
pub fn name_streams(
    model: &Model,
    index_of: &HashMap<NodeIndex, usize>,
    wiring: &Wiring,
    layers: &[LayerCtx],
) -> crate::error::Result<(Vec<StreamCtx>, Vec<ProcessCtx>)> {
    let ports = crate::ir::ports::Ports::of(model);
    let input_k = |n: NodeIndex| model.inputs.iter().position(|&i| i == n);
    let value = |n: NodeIndex| -> String {
        if let Some(k) = input_k(n) {
            ports.inputs[k].clone()
        } else if let Some(k) = model.outputs.iter().position(|o| o.node == n) {
            ports.outputs[k].clone()
        } else {
            format!("layer{}_out", index_of[&n])
        }
    };
    let var = |id: StreamId| match id {
        StreamId::Value(n) => value(n),
        StreamId::Copy(n, j) => format!("{}_c{j}", value(n)),
        StreamId::Rest(n, j) => format!("{}_t{j}", value(n)),
    };
    let px = |n: NodeIndex| -> String {
        match input_k(n) {
            Some(k) => crate::ir::ports::port_pixel("input", k),
            None => format!("layer{}_px", index_of[&n]),
        }
    };
    let streams = wiring
        .fifos
        .iter()
        .map(|f| StreamCtx {
            var: var(f.id),
            px: px(f.id.node()),
            depth: f.depth,
        })
        .collect();
    let mut processes = Vec::with_capacity(wiring.processes.len());
    for p in &wiring.processes {
        let (kind, node, layer, l) = match p.kind {
            ProcessKind::Layer(n) => {
                let index = index_of[&n];
                let l = layers
                    .iter()
                    .find(|l| l.index == index)
                    .ok_or_else(|| crate::error::Error::internal("a layer without a context"))?;
                let l = serde_json::to_value(l)
                    .map_err(|e| crate::error::Error::internal(e.to_string()))?;
                ("layer", n, index, Some(l))
            }
            ProcessKind::Clone(n) => ("clone", n, 0, None),
        };
        processes.push(ProcessCtx {
            kind,
            layer,
            l,
            inputs: p.inputs.iter().map(|&i| var(i)).collect(),
            in_px: p.inputs.iter().map(|&i| px(i.node())).collect(),
            outputs: p.outputs.iter().map(|&o| var(o)).collect(),
            px: px(node),
            pixels: p.pixels,
        });
    }
    Ok((streams, processes))
}
