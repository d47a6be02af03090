//! Removes a Transpose whose only consumer is a Dense layer by permuting the Dense weights' rows
//! instead: y = W^T x[idx] equals W'^T x with W'[idx[i]] = W[i]. This is how a Flatten after a
//! channels-first convolution costs nothing: the design keeps channels-last data and the weights
//! absorb the order the ONNX model flattened in.

use super::{Pass, PassContext};
use crate::error::Result;
use crate::ir::tensor::transpose_gather;
use crate::ir::{Model, Op};

pub struct FoldTransposeIntoDense;

impl Pass for FoldTransposeIntoDense {
    fn name(&self) -> &'static str {
        "fold_transpose_into_dense"
    }
    fn run(&self, model: &mut Model, _cx: &mut PassContext) -> Result<()> {
        for n in model.topo_order() {
            let Op::Transpose { perm } = &model.node(n).op else {
                continue;
            };
            let consumers = model.consumers(n);
            let [(d, _)] = consumers[..] else { continue };
            if model.is_output(n) || !matches!(model.node(d).op, Op::Dense { .. }) {
                continue;
            }
            let src = model.inputs(n)[0];
            let gather = transpose_gather(&model.node(src).shape, perm);
            let name = model.node(n).name.clone();
            let dense = model.node_mut(d);
            let Op::Dense { weights, .. } = &mut dense.op else {
                unreachable!()
            };
            let n_out = weights.shape[1];
            let mut permuted = vec![0.0; weights.data.len()];
            for (i, &src_row) in gather.iter().enumerate() {
                permuted[src_row * n_out..(src_row + 1) * n_out]
                    .copy_from_slice(&weights.data[i * n_out..(i + 1) * n_out]);
            }
            weights.data = permuted;
            dense.fused.push(name);
            model.bypass(n);
        }
        Ok(())
    }
}
