//! The ONNX operators, one module per family; each adds `Converter` methods. `OPS` is the one
//! registry: the dispatch, the check that finds every unsupported node, and the supported-op list
//! of its message all read it.

use super::*;

mod activation;
mod conv_pool;
mod elementwise;
mod gemm;
mod loop_cell;
pub(in crate::frontend::onnx) mod quantizers;
mod recurrent;
mod reduce;
mod resize_pad;
mod shape;

/// The domains ops are taken from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(in crate::frontend::onnx) enum Domain {
    /// The default ONNX domain (`""` or `ai.onnx`).
    Onnx,
    /// QONNX's quantizers, in one of `quantizers::QUANT_DOMAINS`.
    QonnxQuant,
    /// qonnx's channels-last ops (`quantizers::CHANNELS_LAST_DOMAIN`).
    ChannelsLast,
}

impl Domain {
    fn of(domain: &str) -> Option<Domain> {
        match domain {
            "" | "ai.onnx" => Some(Domain::Onnx),
            d if quantizers::QUANT_DOMAINS.contains(&d) => Some(Domain::QonnxQuant),
            quantizers::CHANNELS_LAST_DOMAIN => Some(Domain::ChannelsLast),
            _ => None,
        }
    }
}

/// Converts one node into IR nodes (or a constant).
pub(in crate::frontend::onnx) type ConvertFn =
    for<'a, 'b> fn(&'b mut Converter<'a>, &NodeProto, &str) -> Result<()>;

/// One registry entry: (domain, op_type, converter).
pub(in crate::frontend::onnx) type Registration = (Domain, &'static str, ConvertFn);

/// Every op the frontend converts, family by family (each file registers its own), in the order
/// error messages list them.
const OPS: &[&[Registration]] = &[
    gemm::OPS,
    elementwise::OPS,
    conv_pool::OPS,
    activation::OPS,
    recurrent::OPS,
    loop_cell::OPS,
    reduce::OPS,
    resize_pad::OPS,
    shape::OPS,
    quantizers::OPS,
];

/// The converter of a node's op and domain, if hlsrs supports it.
pub(super) fn converter(node: &NodeProto) -> Option<ConvertFn> {
    let domain = Domain::of(&node.domain)?;
    OPS.iter()
        .flat_map(|family| family.iter())
        .find(|(d, op, _)| *d == domain && *op == node.op_type)
        .map(|e| e.2)
}

/// The op types supported in `domain`, in the registry's order.
pub(super) fn supported_ops(domain: Domain) -> Vec<&'static str> {
    OPS.iter()
        .flat_map(|family| family.iter())
        .filter(|(d, _, _)| *d == domain)
        .map(|(_, op, _)| *op)
        .collect()
}
