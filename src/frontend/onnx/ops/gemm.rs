//! Gemm and MatMul: dense layers, their weights and biases.

use super::super::*;
use super::{Domain, Registration};

impl Converter<'_> {
    pub(in crate::frontend::onnx) fn gemm(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        self.require_batch_first(node)?;
        let x = self.data(node, 0)?;
        if attr_i(node, "transA", 0) != 0 {
            return Err(Error::input(
                "Gemm with transA=1 on the data input would transpose the batch dimension; expected transA=0",
            ));
        }
        let trans_b = attr_i(node, "transB", 0) != 0;
        let alpha = attr_f(node, "alpha", 1.0);
        let beta = attr_f(node, "beta", 1.0);
        let w = self.weight_matrix(node, x, self.constant_ref(node, 1)?, trans_b, alpha)?;
        let bias = if self.has_input(node, 2) {
            Some(self.constant(node, 2)?)
        } else {
            None
        };
        self.dense(node, name, x, w, bias, beta)
    }

    pub(in crate::frontend::onnx) fn matmul(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        self.require_batch_first(node)?;
        let x = self.data(node, 0)?;
        let w = self.weight_matrix(node, x, self.constant_ref(node, 1)?, false, 1.0)?;
        self.dense(node, name, x, w, None, 1.0)
    }

    /// The weights `b` (transposed when `trans_b`, times `alpha`) as the [inputs, outputs]
    /// matrix of a dense layer on `x`, checked against its shape.
    fn weight_matrix(
        &self,
        node: &NodeProto,
        x: NodeIndex,
        b: &Tensor,
        trans_b: bool,
        alpha: f64,
    ) -> Result<Tensor> {
        let xs = self.shape(x);
        // [N, positions..., features]: the same dense layer at every position (torch's Linear
        // on a set of particles), a pointwise convolution, as hls4ml compiles it.
        if xs.is_empty() || xs.len() > 3 || (xs.len() > 1 && node.op_type == "Gemm") {
            return Err(Error::input(format!(
                "{} on data of shape {} is not supported; expected [N, features]{}",
                node.op_type,
                shape_str(&xs),
                if node.op_type == "MatMul" {
                    " or [N, positions (1 or 2 axes), features]"
                } else {
                    ""
                }
            )));
        }
        let features = *xs.last().expect("checked non-empty");
        if b.shape.len() != 2 {
            return Err(Error::input(format!(
                "weight '{}' has shape {:?}; expected a matrix",
                node.input[1], b.shape
            )));
        }
        let (k, n) = if trans_b {
            (b.shape[1], b.shape[0])
        } else {
            (b.shape[0], b.shape[1])
        };
        if k != features {
            return Err(Error::input(format!(
                "weight '{}' of shape {:?}{} expects {k} input features, but the input has shape {}",
                node.input[1],
                b.shape,
                if trans_b { " (transB=1)" } else { "" },
                shape_str(&xs)
            )));
        }
        let mut w = vec![0.0; k * n];
        // In 32 x 32 tiles: a transposed million-weight matrix read column by column misses
        // the cache on every value.
        const TILE: usize = 32;
        for i0 in (0..k).step_by(TILE) {
            for j0 in (0..n).step_by(TILE) {
                for i in i0..(i0 + TILE).min(k) {
                    for j in j0..(j0 + TILE).min(n) {
                        let v = if trans_b {
                            b.data[j * k + i]
                        } else {
                            b.data[i * n + j]
                        };
                        w[i * n + j] = alpha * v;
                    }
                }
            }
        }
        Ok(Tensor::new(vec![k, n], w))
    }

    /// A dense layer on `x` with the [inputs, outputs] weights `w` (`weight_matrix`), and the
    /// bias times `beta`.
    fn dense(
        &mut self,
        node: &NodeProto,
        name: &str,
        x: NodeIndex,
        w: Tensor,
        bias: Option<Tensor>,
        beta: f64,
    ) -> Result<()> {
        let xs = self.shape(x);
        let (k, n) = (w.shape[0], w.shape[1]);
        let bias = match bias {
            None => vec![0.0; n],
            Some(c) => broadcast_channels(&c, n)
                .ok_or_else(|| {
                    Error::input(format!(
                        "bias '{}' of shape {:?} does not broadcast to {n} outputs",
                        node.input[2], c.shape
                    ))
                })?
                .into_iter()
                .map(|v| beta * v)
                .collect(),
        };
        if xs.len() == 1 {
            let op = Op::Dense {
                weights: w,
                bias: Tensor::new(vec![n], bias),
            };
            self.add_node(node, name, op, vec![n], &[x]);
            return Ok(());
        }
        // Weights [group 1][kernel 1...][in][out] are the dense matrix as it is.
        let sr = xs.len() - 1;
        let mut wshape = vec![1];
        wshape.extend(std::iter::repeat_n(1, sr));
        wshape.extend([k, n]);
        let op = Op::Conv {
            window: crate::ir::ops::Window {
                kernel: vec![1; sr],
                strides: vec![1; sr],
                dilations: vec![1; sr],
                pads_begin: vec![0; sr],
                pads_end: vec![0; sr],
            },
            groups: 1,
            weights: Tensor::new(wshape, w.data),
            bias: Tensor::new(vec![n], bias),
        };
        let mut shape = xs[..sr].to_vec();
        shape.push(n);
        self.add_node(node, name, op, shape, &[x]);
        Ok(())
    }
}

/// This family's ops in the registry (`ops::OPS`).
pub(in crate::frontend::onnx) const OPS: &[Registration] = &[
    (Domain::Onnx, "Gemm", |c, n, name| c.gemm(n, name)),
    (Domain::Onnx, "MatMul", |c, n, name| c.matmul(n, name)),
];
