//! hlsrs: compiles trained neural networks (ONNX, JSON) into bit-exact Vitis HLS C++ projects.
//!
//! Pipeline: [`frontend`] -> [`ir::Model`] -> [`passes`] -> backends ([`backend::vitis`],
//! [`emulate`]). The emulator and the C++ writer read the same per-layer numeric plans
//! ([`kernels`]), so nothing about a layer's arithmetic is decided twice.

pub mod arrays;
pub mod backend;
pub mod emulate;
pub mod error;
pub mod frontend;
pub mod ir;

pub use error::{Error, Result};
