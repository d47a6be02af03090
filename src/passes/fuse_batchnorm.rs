//! Folds a ScaleShift (BatchNormalization, or an Add/Sub/Mul/Div by constants) into the layer
//! before it when that is a Dense, a Conv or another ScaleShift: per output channel j,
//! w'[..][j] = w[..][j] * s[j], b'[j] = b[j] * s[j] + t[j]. Exact in f64 up to rounding of the
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
            if model.consumers(src).len() != 1 || model.is_output(src) {
                continue;
            }
            let src_node = model.node_mut(src);
            let groups = match src_node.op {
                Op::Conv { groups, .. } => Some(groups),
                _ => None,
            };
            let (w, b): (&mut Vec<f64>, &mut Vec<f64>) = match &mut src_node.op {
                Op::Dense { weights, bias } | Op::Conv { weights, bias, .. } => {
                    (&mut weights.data, &mut bias.data)
                }
                Op::ScaleShift { scale, shift } => (&mut scale.data, &mut shift.data),
                _ => continue,
            };
            let channels = scale.len();
            if b.len() != channels {
                continue;
            }
            match groups {
                Some(groups) => {
                    // Weights [groups, k..., cin_g, out_g]: output channel g * out_g + j.
                    let og = channels / groups;
                    let per_group = w.len() / groups;
                    for (k, v) in w.iter_mut().enumerate() {
                        *v *= scale.data[(k / per_group) * og + k % og];
                    }
                }
                _ => {
                    for (k, v) in w.iter_mut().enumerate() {
                        *v *= scale.data[k % channels];
                    }
                }
            }
            for (j, bj) in b.iter_mut().enumerate() {
                *bj = *bj * scale.data[j] + shift.data[j];
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
