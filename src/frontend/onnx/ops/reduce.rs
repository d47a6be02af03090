//! Reductions over non-batch axes: ReduceMean and ReduceMax (mean or max pooling written as
//! `x.mean(dim)` / `x.amax(dim)`), ReduceSum, and ArgMax over the last axis (a classifier's
//! class index as the design's output). The data is gathered into [reduced, kept] (the
//! reduced axes as one spatial axis, the kept ones as channels), then a 1D pool over the whole
//! spatial axis (mean, max), or a dense layer of ones (sum: exact, no reciprocal), then reshaped
//! to the ONNX output shape.

use super::super::*;
use super::{Domain, Registration};
use crate::ir::ops::{PoolKind, Window, unflatten};

impl Converter<'_> {
    pub(in crate::frontend::onnx) fn reduce(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        self.require_batch_first(node)?;
        let op = node.op_type.as_str();
        let x = self.data(node, 0)?;
        let s = self.shape(x);
        let rank = s.len() + 1;
        // Axes: an attribute, or (ReduceSum from opset 13, the others from 18) an input.
        let axes_from_input = self.opset >= if op == "ReduceSum" { 13 } else { 18 };
        let axes: Vec<i64> = if axes_from_input && self.has_input(node, 1) {
            self.constant(node, 1)?
                .data
                .iter()
                .map(|&v| v as i64)
                .collect()
        } else {
            attr_ints(node, "axes").unwrap_or_default()
        };
        let mut reduced: Vec<usize> = if axes.is_empty() {
            if attr_i(node, "noop_with_empty_axes", 0) != 0 {
                self.set_output(node, Value::Node(x, identity(s.len())));
                return Ok(());
            }
            (1..rank).collect()
        } else {
            axes.iter()
                .map(|&a| norm_axis(a, rank))
                .collect::<Result<_>>()?
        };
        // The batch has one sample: reducing over it changes nothing.
        reduced.retain(|&a| a != 0);
        reduced.sort_unstable();
        reduced.dedup();
        let reduced: Vec<usize> = reduced.into_iter().map(|a| a - 1).collect();
        let kept: Vec<usize> = (0..s.len()).filter(|a| !reduced.contains(a)).collect();
        let dims = |axes: &[usize]| axes.iter().map(|&a| s[a]).collect::<Vec<_>>();
        let (rdims, kdims) = (dims(&reduced), dims(&kept));
        let (l, c): (usize, usize) = (rdims.iter().product(), kdims.iter().product());
        // [reduced..., kept...] flattened to [l, c], read from the row-major input.
        let index: Vec<i64> = (0..l * c)
            .map(|o| {
                let (rc, kc) = (unflatten(o / c, &rdims), unflatten(o % c, &kdims));
                let mut coord = vec![0; s.len()];
                for (k, &a) in reduced.iter().enumerate() {
                    coord[a] = rc[k];
                }
                for (k, &a) in kept.iter().enumerate() {
                    coord[a] = kc[k];
                }
                coord
                    .iter()
                    .zip(&s)
                    .fold(0usize, |acc, (&v, &d)| acc * d + v) as i64
            })
            .collect();
        self.check_result(&[l, c])?;
        let gname = self.unique_name(&format!("{name}_gather"));
        let gathered = self.model.add(
            Node::new(gname, Op::Gather { index, fill: 0.0 }, vec![l, c]),
            &[x],
        );
        let reduce_op = match op {
            "ReduceSum" => {
                let mut w = vec![0.0; l * c * c];
                for i in 0..l * c {
                    w[i * c + i % c] = 1.0;
                }
                Op::Dense {
                    weights: Tensor::new(vec![l * c, c], w),
                    bias: Tensor::new(vec![c], vec![0.0; c]),
                }
            }
            _ => Op::Pool {
                kind: if op == "ReduceMax" {
                    PoolKind::Max
                } else {
                    PoolKind::Average
                },
                window: Window {
                    kernel: vec![l],
                    strides: vec![1],
                    dilations: vec![1],
                    pads_begin: vec![0],
                    pads_end: vec![0],
                },
                count_include_pad: false,
            },
        };
        let reduce_shape = if op == "ReduceSum" {
            vec![c]
        } else {
            vec![1, c]
        };
        let r = self
            .model
            .add(Node::new(name, reduce_op, reduce_shape), &[gathered]);
        // keepdims: the reduced axes stay, of size 1.
        let out: Vec<usize> = if attr_i(node, "keepdims", 1) != 0 {
            (0..s.len())
                .map(|a| if reduced.contains(&a) { 1 } else { s[a] })
                .collect()
        } else if kdims.is_empty() {
            vec![1]
        } else {
            kdims
        };
        let rank = out.len();
        let rname = self.unique_name(&format!("{name}_reshape"));
        self.add_node_in(node, &rname, Op::Reshape, out, &[r], identity(rank));
        Ok(())
    }
}

impl Converter<'_> {
    pub(in crate::frontend::onnx) fn argmax(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        self.require_batch_first(node)?;
        let x = self.data(node, 0)?;
        let s = self.shape(x);
        let rank = s.len() + 1;
        let axis = norm_axis(attr_i(node, "axis", 0), rank)?;
        if axis != rank - 1 {
            return Err(Error::input(format!(
                "ArgMax over axis {axis} of data {} is not supported; expected the last axis",
                shape_str(&s)
            )));
        }
        let last = attr_i(node, "select_last_index", 0) != 0;
        let mut shape = s.clone();
        *shape.last_mut().unwrap() = 1;
        if attr_i(node, "keepdims", 1) != 0 {
            self.add_node(node, name, Op::ArgMax { last }, shape, &[x]);
            return Ok(());
        }
        let a = self
            .model
            .add(Node::new(name, Op::ArgMax { last }, shape), &[x]);
        let out = if s.len() > 1 {
            s[..s.len() - 1].to_vec()
        } else {
            vec![1]
        };
        let rname = self.unique_name(&format!("{name}_reshape"));
        self.add_node(node, &rname, Op::Reshape, out, &[a]);
        Ok(())
    }
}

/// This family's ops in the registry (`ops::OPS`).
pub(in crate::frontend::onnx) const OPS: &[Registration] = &[
    (Domain::Onnx, "ReduceMean", |c, n, name| c.reduce(n, name)),
    (Domain::Onnx, "ReduceMax", |c, n, name| c.reduce(n, name)),
    (Domain::Onnx, "ReduceSum", |c, n, name| c.reduce(n, name)),
    (Domain::Onnx, "ArgMax", |c, n, name| c.argmax(n, name)),
];
