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
        let b = self.constant(node, 1)?;
        let trans_b = attr_i(node, "transB", 0) != 0;
        let alpha = attr_f(node, "alpha", 1.0);
        let beta = attr_f(node, "beta", 1.0);
        let bias = if self.has_input(node, 2) {
            Some(self.constant(node, 2)?)
        } else {
            None
        };
        self.dense(node, name, x, b, trans_b, alpha, bias, beta)
    }

    pub(in crate::frontend::onnx) fn matmul(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        self.require_batch_first(node)?;
        let x = self.data(node, 0)?;
        let b = self.constant(node, 1)?;
        self.dense(node, name, x, b, false, 1.0, None, 1.0)
    }

    #[allow(clippy::too_many_arguments)]
    pub(in crate::frontend::onnx) fn dense(
        &mut self,
        node: &NodeProto,
        name: &str,
        x: NodeIndex,
        b: Tensor,
        trans_b: bool,
        alpha: f64,
        bias: Option<Tensor>,
        beta: f64,
    ) -> Result<()> {
        let xs = self.shape(x);
        if xs.len() != 1 {
            return Err(Error::input(format!(
                "{} on data of shape {} is not supported; expected [N, features]",
                node.op_type,
                shape_str(&xs)
            )));
        }
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
        if k != xs[0] {
            return Err(Error::input(format!(
                "weight '{}' of shape {:?}{} expects {k} input features, but the input has shape {}",
                node.input[1],
                b.shape,
                if trans_b { " (transB=1)" } else { "" },
                shape_str(&xs)
            )));
        }
        let mut w = vec![0.0; k * n];
        for i in 0..k {
            for j in 0..n {
                let v = if trans_b {
                    b.data[j * k + i]
                } else {
                    b.data[i * n + j]
                };
                w[i * n + j] = alpha * v;
            }
        }
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
        let op = Op::Dense {
            weights: Tensor::new(vec![k, n], w),
            bias: Tensor::new(vec![n], bias),
        };
        self.add_node(node, name, op, vec![n], &[x]);
        Ok(())
    }
}

/// This family's ops in the registry (`ops::OPS`).
pub(in crate::frontend::onnx) const OPS: &[Registration] = &[
    (Domain::Onnx, "Gemm", |c, n, name| c.gemm(n, name)),
    (Domain::Onnx, "MatMul", |c, n, name| c.matmul(n, name)),
];
