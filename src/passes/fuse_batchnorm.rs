//! Folds a ScaleShift (BatchNormalization, or an Add/Mul by constants) into the Dense layer before
//! it: w'[i][j] = w[i][j] * s[j], b'[j] = b[j] * s[j] + t[j]. Exact in f64 up to rounding of the
//! products; the float outputs stay within golden tolerance (tested).

use super::{Pass, PassContext};
use crate::error::Result;
use crate::ir::{Model, Op};

pub struct FuseBatchNorm;

impl Pass for FuseBatchNorm {
    fn name(&self) -> &'static str {
        "fuse_batchnorm"
    }
    fn run(&self, model: &mut Model, _cx: &mut PassContext) -> Result<()> {
        for n in model.topo_order() {
            let Op::ScaleShift { scale, shift } = model.node(n).op.clone() else {
                continue;
            };
            let src = model.inputs(n)[0];
            // Only when the Dense output feeds nothing else: other consumers need the unscaled values.
            if model.consumers(src).len() != 1 || src == model.output {
                continue;
            }
            let src_node = model.node_mut(src);
            let Op::Dense { weights, bias } = &mut src_node.op else {
                continue;
            };
            let n_out = bias.len();
            for (k, w) in weights.data.iter_mut().enumerate() {
                *w *= scale.data[k % n_out];
            }
            for j in 0..n_out {
                bias.data[j] = bias.data[j] * scale.data[j] + shift.data[j];
            }
            let fused = model.node(n).name.clone();
            let mut also = model.node(n).fused.clone();
            let src_node = model.node_mut(src);
            src_node.fused.push(fused);
            src_node.fused.append(&mut also);
            model.bypass(n);
        }
        Ok(())
    }
}
