//! Frontends: each reads one model format into the IR. No frontend knows about any backend.

mod fold;
pub mod json;
pub mod onnx;

use crate::error::{Error, Result};
use crate::ir::Model;
use std::path::Path;

/// Loads `.onnx` or `.json` by extension; `name` becomes the model's name.
pub fn load(path: &Path, name: &str) -> Result<Model> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("onnx") => onnx::load(path, name),
        Some("json") => json::load(path, name),
        _ => {
            Err(Error::input("unknown model format; expected a .onnx or .json file").in_file(path))
        }
    }
}

/// The model file's stem made into a C identifier (the default design name).
pub fn default_name(path: &Path) -> String {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("model");
    crate::ir::names::c_identifier(stem)
}
