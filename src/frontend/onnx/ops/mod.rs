//! The ONNX operators, one module per family; each adds `Converter` methods. `OPS` is the one
//! registry: the dispatch, the check that finds every unsupported node, and the supported-op list
//! of its message all read it.

use super::*;

mod activation;
mod conv_pool;
mod elementwise;
mod gemm;
mod recurrent;
mod resize_pad;
mod shape;

/// The domains ops are taken from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Domain {
    /// The default ONNX domain (`""` or `ai.onnx`).
    Onnx,
    /// QONNX's quantizers, in one of `qonnx::QUANT_DOMAINS`.
    QonnxQuant,
    /// qonnx's channels-last ops (`qonnx::CHANNELS_LAST_DOMAIN`).
    ChannelsLast,
}

impl Domain {
    fn of(domain: &str) -> Option<Domain> {
        match domain {
            "" | "ai.onnx" => Some(Domain::Onnx),
            d if qonnx::QUANT_DOMAINS.contains(&d) => Some(Domain::QonnxQuant),
            qonnx::CHANNELS_LAST_DOMAIN => Some(Domain::ChannelsLast),
            _ => None,
        }
    }
}

/// Converts one node into IR nodes (or a constant).
pub(super) type ConvertFn = for<'a, 'b> fn(&'b mut Converter<'a>, &NodeProto, &str) -> Result<()>;

/// Every op the frontend converts: (domain, op_type, converter), in the order error messages list
/// them.
const OPS: &[(Domain, &str, ConvertFn)] = &[
    (Domain::Onnx, "Gemm", |c, n, name| c.gemm(n, name)),
    (Domain::Onnx, "MatMul", |c, n, name| c.matmul(n, name)),
    (Domain::Onnx, "Add", |c, n, name| c.arith(n, name)),
    (Domain::Onnx, "Sub", |c, n, name| c.arith(n, name)),
    (Domain::Onnx, "Mul", |c, n, name| c.arith(n, name)),
    (Domain::Onnx, "Div", |c, n, name| c.arith(n, name)),
    (Domain::Onnx, "Conv", |c, n, name| c.conv(n, name)),
    (Domain::Onnx, "MaxPool", |c, n, name| c.pool(n, name)),
    (Domain::Onnx, "AveragePool", |c, n, name| c.pool(n, name)),
    (Domain::Onnx, "GlobalMaxPool", |c, n, name| c.pool(n, name)),
    (Domain::Onnx, "GlobalAveragePool", |c, n, name| {
        c.pool(n, name)
    }),
    (Domain::Onnx, "Concat", |c, n, name| c.concat(n, name)),
    (Domain::Onnx, "Gather", |c, n, name| c.gather(n, name)),
    (Domain::Onnx, "Slice", |c, n, name| c.slice(n, name)),
    (Domain::Onnx, "LSTM", |c, n, name| c.recurrent(n, name)),
    (Domain::Onnx, "GRU", |c, n, name| c.recurrent(n, name)),
    (Domain::Onnx, "RNN", |c, n, name| c.recurrent(n, name)),
    (Domain::Onnx, "Pad", |c, n, name| c.pad(n, name)),
    (Domain::Onnx, "Resize", |c, n, name| c.resize(n, name)),
    (Domain::Onnx, "Upsample", |c, n, name| c.resize(n, name)),
    (Domain::Onnx, "Elu", |c, n, name| c.simple(n, name)),
    (Domain::Onnx, "Selu", |c, n, name| c.simple(n, name)),
    (Domain::Onnx, "Softsign", |c, n, name| c.simple(n, name)),
    (Domain::Onnx, "Softplus", |c, n, name| c.simple(n, name)),
    (Domain::Onnx, "PRelu", |c, n, name| c.prelu(n, name)),
    (Domain::Onnx, "Relu", |c, n, name| c.simple(n, name)),
    (Domain::Onnx, "Sigmoid", |c, n, name| c.simple(n, name)),
    (Domain::Onnx, "Tanh", |c, n, name| c.simple(n, name)),
    (Domain::Onnx, "LeakyRelu", |c, n, name| c.simple(n, name)),
    (Domain::Onnx, "HardSigmoid", |c, n, name| c.simple(n, name)),
    (Domain::Onnx, "Softmax", |c, n, name| c.softmax(n, name)),
    (Domain::Onnx, "Clip", |c, n, name| c.clip(n, name)),
    (Domain::Onnx, "BatchNormalization", |c, n, name| {
        c.batchnorm(n, name)
    }),
    (Domain::Onnx, "Flatten", |c, n, name| c.flatten(n, name)),
    (Domain::Onnx, "Reshape", |c, n, name| c.reshape(n, name)),
    (Domain::Onnx, "Squeeze", |c, n, name| c.squeeze(n, name)),
    (Domain::Onnx, "Unsqueeze", |c, n, name| c.unsqueeze(n, name)),
    (Domain::Onnx, "Transpose", |c, n, name| c.transpose(n, name)),
    (Domain::Onnx, "Identity", |c, n, _| c.identity(n)),
    (Domain::Onnx, "Dropout", |c, n, _| c.identity(n)),
    (Domain::Onnx, "Constant", |c, n, _| c.constant_node(n)),
    (Domain::Onnx, "Shape", |c, n, _| c.shape_of(n)),
    (Domain::Onnx, "Cast", |c, n, _| c.cast(n)),
    (Domain::Onnx, "Expand", |c, n, _| c.expand(n)),
    (Domain::Onnx, "QuantizeLinear", |c, n, name| {
        c.quantize_linear(n, name)
    }),
    (Domain::Onnx, "DequantizeLinear", |c, n, _| {
        c.dequantize_linear(n)
    }),
    (Domain::QonnxQuant, "Quant", |c, n, name| c.quant(n, name)),
    (Domain::QonnxQuant, "BipolarQuant", |c, n, name| {
        c.bipolar_quant(n, name)
    }),
    (Domain::QonnxQuant, "Trunc", |c, n, name| c.trunc(n, name)),
    (Domain::ChannelsLast, "Conv", |c, n, name| c.conv(n, name)),
];

/// The converter of a node's op and domain, if hlsrs supports it.
pub(super) fn converter(node: &NodeProto) -> Option<ConvertFn> {
    let domain = Domain::of(&node.domain)?;
    OPS.iter()
        .find(|(d, op, _)| *d == domain && *op == node.op_type)
        .map(|e| e.2)
}

/// The op types supported in `domain`, in the registry's order.
pub(super) fn supported_ops(domain: Domain) -> Vec<&'static str> {
    OPS.iter()
        .filter(|(d, _, _)| *d == domain)
        .map(|(_, op, _)| *op)
        .collect()
}
