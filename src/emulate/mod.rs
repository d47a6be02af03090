//! The emulator: the executable specification of the generated design. `float` gives the source
//! model's meaning in f64; `fixed` gives the bits the C++ computes.

pub mod fixed;
pub mod float;

pub use fixed::Emulator;
