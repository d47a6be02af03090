//! Passes over the IR, composed into one pipeline in code. Each pass is one file; the verifier runs
//! after every pass in debug builds and tests.

mod apply_config;
mod drop_reshape;
mod fold_transpose_into_dense;
mod fuse_batchnorm;
mod prune_magnitude;
mod prune_structured;
mod quantize_auto;
mod step_recurrent;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::ir::Model;

pub use apply_config::{ApplyConfig, exact_accumulator};
pub use drop_reshape::DropReshape;
pub use fold_transpose_into_dense::FoldTransposeIntoDense;
pub use fuse_batchnorm::FuseBatchNorm;
pub use prune_magnitude::PruneMagnitude;
pub use prune_structured::PruneStructured;
pub use quantize_auto::{QuantizeAuto, fit};
pub use step_recurrent::StepRecurrent;

/// What passes read and report.
pub struct PassContext<'c> {
    pub config: &'c Config,
    /// Messages for the compile summary (e.g. layers whose reuse factor was adjusted).
    pub notes: Vec<String>,
}

/// One transformation of the model.
pub trait Pass {
    /// The name `--dump-after` takes.
    fn name(&self) -> &'static str;
    fn run(&self, model: &mut Model, cx: &mut PassContext) -> Result<()>;
}

/// The pipeline, in order: canonicalise, structured pruning (on float weights, so types are
/// chosen for the smaller layers), hardware configuration, then magnitude pruning (which reads
/// the chosen weight types).
pub fn pipeline() -> Vec<Box<dyn Pass>> {
    vec![
        Box::new(DropReshape),
        Box::new(FoldTransposeIntoDense),
        Box::new(FuseBatchNorm),
        Box::new(PruneStructured),
        Box::new(StepRecurrent),
        Box::new(ApplyConfig),
        Box::new(PruneMagnitude),
        Box::new(QuantizeAuto),
    ]
}

/// Names of the passes, in order.
pub fn pass_names() -> Vec<&'static str> {
    pipeline().iter().map(|p| p.name()).collect()
}

/// Runs the pipeline. With `stop_after`, stops after that pass (for `--dump-after`).
pub fn run(model: &mut Model, config: &Config, stop_after: Option<&str>) -> Result<Vec<String>> {
    if let Some(name) = stop_after
        && !pass_names().contains(&name)
    {
        return Err(Error::input(format!(
            "unknown pass '{name}'; passes are: {}",
            pass_names().join(", ")
        )));
    }
    let mut cx = PassContext {
        config,
        notes: Vec::new(),
    };
    let passes = pipeline();
    let last = passes.len() - 1;
    for (k, pass) in passes.iter().enumerate() {
        pass.run(model, &mut cx)?;
        // After every pass in debug builds and tests; in release once, on what the plans read
        // (it is linear in the layers, not the weights).
        let stop = stop_after == Some(pass.name());
        if cfg!(debug_assertions) || stop || k == last {
            crate::ir::verify(model).map_err(|e| {
                Error::internal(format!("IR invalid after pass {}: {e}", pass.name()))
            })?;
        }
        if stop {
            break;
        }
    }
    Ok(cx.notes)
}
