//! Removes Reshape nodes: data is a flat row-major array in the design, so a reshape moves
//! nothing. Most ops read their input as a flat array (the node's own shape says how it groups
//! values); reshapes feeding one that reads its input's shape (transpose, concat, conv, pool)
//! stay. The model keeps its declared
//! output shape for the user.

use super::{Pass, PassContext};
use crate::error::Result;
use crate::ir::{Model, Op};

pub struct DropReshape;

impl Pass for DropReshape {
    fn name(&self) -> &'static str {
        "drop_reshape"
    }
    fn run(&self, model: &mut Model, cx: &mut PassContext) -> Result<()> {
        // In a stream design a reshape changes how values are grouped into pixels: keep it.
        if cx.config.io == crate::config::IoType::Stream {
            return Ok(());
        }
        let reshapes: Vec<_> = model
            .topo_order()
            .into_iter()
            .filter(|&n| matches!(model.node(n).op, Op::Reshape))
            .filter(|&n| {
                model
                    .consumers(n)
                    .iter()
                    .all(|&(c, _)| !model.node(c).op.reads_input_shape())
            })
            // An output's own copy of a value other layers read (Model::separate_outputs).
            .filter(|&n| {
                let src = model.inputs(n)[0];
                !(model.is_output(n)
                    && (model.consumers(src).len() > 1
                        || model.is_input(src)
                        || model.is_output(src)))
            })
            .collect();
        for n in reshapes {
            model.bypass(n);
        }
        Ok(())
    }
}
