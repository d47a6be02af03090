//! The emulator: the executable specification of the generated design. `float` gives the source
//! model's meaning in f64; `fixed` gives the bits the C++ computes.

pub mod fixed;
/// The f64 meaning lives with the IR (`ir::eval`): passes evaluate the model too.
pub use crate::ir::eval as float;

pub use fixed::Emulator;

pub use crate::ir::parallel::par_map;
