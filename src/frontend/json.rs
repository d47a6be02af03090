//! JSON model description (docs/json-format.md): the IR written as data.

use crate::error::{Error, Result};
use crate::ir::Model;
use std::path::Path;

pub fn load(path: &Path, _name: &str) -> Result<Model> {
    Err(Error::input("JSON models are not implemented yet").in_file(path))
}
