//! The ONNX operators, one module per family; each adds `Converter` methods that `convert`
//! dispatches to by op_type.

mod activation;
mod conv_pool;
mod elementwise;
mod gemm;
mod recurrent;
mod resize_pad;
mod shape;
