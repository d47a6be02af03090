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

/// Loads a model and names the design after it: the file's stem, unless that is a generic word
/// (`model.onnx`); then the model's own name (ONNX graph, JSON "name") unless that is generic too
/// (PyTorch's `main_graph`, keras2onnx's hex ids); then the folder's (`jet_tagger/model.onnx`).
pub fn load_named(path: &Path) -> Result<Model> {
    use crate::ir::names::{c_identifier, is_generic_name};
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("model");
    let mut model = load(path, &c_identifier(stem))?;
    if is_generic_name(stem) {
        let folder = std::path::absolute(path)
            .ok()
            .and_then(|p| Some(p.parent()?.file_name()?.to_str()?.to_string()));
        let better = [model.source_name.clone(), folder]
            .into_iter()
            .flatten()
            .find(|n| !is_generic_name(n));
        if let Some(n) = better {
            model.name = c_identifier(&n);
        }
    }
    Ok(model)
}
