//! The intermediate representation every frontend produces and every backend reads: a graph of
//! typed layers with shapes, constant tensors and fixed-point types.

pub mod activation;
pub mod dump;
pub mod eval;
pub mod fixed;
pub mod graph;
pub mod names;
pub mod ops;
pub mod parallel;
pub mod ports;
pub mod recurrent;
pub mod tensor;
pub mod verify;

pub use activation::Activation;
pub use dump::dump;
pub use fixed::{Exact, FixedType, Overflow, Quant};
pub use graph::{Hardware, Model, ModelOutput, Node, Precision, Strategy};
pub use ops::Op;
pub use tensor::Tensor;
pub use verify::verify;
