//! Activations and per-channel affine layers: Relu, LeakyRelu, Sigmoid, Tanh, HardSigmoid, Elu,
//! Selu, Softsign, Softplus, Mish, Softmax, Clip, BatchNormalization.

use super::super::*;
use super::{Domain, Registration};
use crate::ir::Activation;

impl Converter<'_> {
    /// data (op) constant, as y = x * scale + shift per channel. `const_first`: the constant is
    /// the left operand (c - x, c + x, c * x).
    pub(in crate::frontend::onnx) fn scale_shift_const(
        &mut self,
        node: &NodeProto,
        name: &str,
        k: usize,
        c: Tensor,
        const_first: bool,
    ) -> Result<()> {
        self.require_batch_first(node)?;
        let op = node.op_type.as_str();
        let (x0, layout) = self.data_any(node, k)?;
        let onnx = self.onnx_shape(x0, &layout);
        // The constant broadcasts against [N, onnx...]; the axis it varies along goes last
        // (channels), the layout is kept otherwise.
        let (x, layout) = match self.varying_axis(&format!("{op} with a constant"), &c, &onnx)? {
            None => (self.data_in(node, k, &layout)?, layout),
            Some(a) => {
                let l = Self::with_last(&layout, a);
                (self.data_in(node, k, &l)?, l)
            }
        };
        let xs = self.shape(x);
        let ch = *xs.last().unwrap();
        let vals: Vec<f64> = if c.len() == 1 {
            vec![c.data[0]; ch]
        } else {
            c.data.clone()
        };
        let (scale, shift): (Vec<f64>, Vec<f64>) = match (op, const_first) {
            ("Add", _) => (vec![1.0; ch], vals),
            ("Sub", false) => (vec![1.0; ch], vals.iter().map(|v| -v).collect()),
            ("Sub", true) => (vec![-1.0; ch], vals),
            ("Mul", _) => (vals, vec![0.0; ch]),
            ("Div", false) => (vals.iter().map(|v| 1.0 / v).collect(), vec![0.0; ch]),
            _ => {
                return Err(Error::input(
                    "Div of a constant by data is not supported; expected a constant divisor",
                ));
            }
        };
        if scale.iter().any(|v| !v.is_finite()) {
            return Err(Error::input("division by a zero constant"));
        }
        let op = Op::ScaleShift {
            scale: Tensor::new(vec![ch], scale),
            shift: Tensor::new(vec![ch], shift),
        };
        self.add_node_in(node, name, op, xs, &[x], layout);
        Ok(())
    }

    pub(in crate::frontend::onnx) fn simple(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        let (x, layout) = self.data_any(node, 0)?;
        let f = match node.op_type.as_str() {
            "Relu" => Activation::Relu,
            "Sigmoid" => Activation::Sigmoid,
            "Tanh" => Activation::Tanh,
            "LeakyRelu" => Activation::LeakyRelu {
                alpha: attr_f(node, "alpha", 0.01),
            },
            "HardSigmoid" => Activation::HardSigmoid {
                alpha: attr_f(node, "alpha", 0.2),
                beta: attr_f(node, "beta", 0.5),
            },
            "Elu" => Activation::Elu {
                alpha: attr_f(node, "alpha", 1.0),
            },
            "Selu" => Activation::Selu {
                alpha: attr_f(node, "alpha", 1.673_263_192_176_818_8),
                gamma: attr_f(node, "gamma", 1.050_701_022_148_132_3),
            },
            "Softsign" => Activation::Softsign,
            "Softplus" => Activation::Softplus,
            "Mish" => Activation::Mish,
            other => return Err(Error::internal(format!("no simple converter for {other}"))),
        };
        let op = Op::Activation(f);
        let s = self.shape(x);
        self.add_node_in(node, name, op, s, &[x], layout);
        Ok(())
    }

    pub(in crate::frontend::onnx) fn softmax(
        &mut self,
        node: &NodeProto,
        name: &str,
    ) -> Result<()> {
        self.require_batch_first(node)?;
        let x = self.data(node, 0)?;
        let s = self.shape(x);
        let rank = s.len() + 1;
        let default = if self.opset < 13 { 1 } else { -1 };
        let axis = norm_axis(attr_i(node, "axis", default), rank)?;
        // Before opset 13 Softmax flattens dims axis.. into one; from 13 it is over one axis. Both
        // equal a softmax over the last axis when that is the only one after the batch.
        let over_last = axis == rank - 1 && (self.opset >= 13 || s.len() == 1);
        if !over_last {
            return Err(Error::input(format!(
                "Softmax over axis {axis} of data {} (opset {}) is not supported; expected the last axis",
                shape_str(&s),
                self.opset
            )));
        }
        self.add_node(node, name, Op::Softmax, s, &[x]);
        Ok(())
    }

    pub(in crate::frontend::onnx) fn clip(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        let (x, layout) = self.data_any(node, 0)?;
        // f32 lowest / max are the spec's "no bound" defaults.
        let bound = |v: f64| (v.abs() < 3.0e38).then_some(v);
        let (min, max) = if self.opset < 11 {
            (
                attr(node, "min").and_then(|a| bound(a.f as f64)),
                attr(node, "max").and_then(|a| bound(a.f as f64)),
            )
        } else {
            let get = |k| -> Result<Option<f64>> {
                if !self.has_input(node, k) {
                    return Ok(None);
                }
                let t = self.constant(node, k)?;
                if t.len() != 1 {
                    return Err(Error::input(format!(
                        "Clip bound '{}' must be a scalar",
                        node.input[k]
                    )));
                }
                Ok(bound(t.data[0]))
            };
            (get(1)?, get(2)?)
        };
        let s = self.shape(x);
        self.add_node_in(node, name, Op::Clip { min, max }, s, &[x], layout);
        Ok(())
    }

    pub(in crate::frontend::onnx) fn batchnorm(
        &mut self,
        node: &NodeProto,
        name: &str,
    ) -> Result<()> {
        self.require_batch_first(node)?;
        self.only_first_output_used(node)?;
        if attr_i(node, "training_mode", 0) != 0 {
            return Err(Error::input(
                "BatchNormalization with training_mode=1 is not supported; expected inference mode",
            ));
        }
        let (x0, layout) = self.data_any(node, 0)?;
        let onnx = self.onnx_shape(x0, &layout);
        let params: Vec<Tensor> = (1..5)
            .map(|k| self.constant(node, k))
            .collect::<Result<_>>()?;
        let eps = attr_f(node, "epsilon", 1e-5);
        // ONNX normalises over dim 1, the first after the batch.
        let c = onnx[0];
        for (k, p) in params.iter().enumerate() {
            if p.len() != c {
                return Err(Error::input(format!(
                    "parameter '{}' has {} values but the channel dimension (dim 1) of input {} has {c}; \
                     the graph is invalid",
                    node.input[k + 1],
                    p.len(),
                    shape_str(&onnx)
                )));
            }
        }
        // Channels last: the layout conv layers produce anyway.
        let cl = channels_last(onnx.len());
        let x = self.data_in(node, 0, &cl)?;
        let (gamma, beta, mean, var) = (&params[0], &params[1], &params[2], &params[3]);
        let scale: Vec<f64> = (0..c)
            .map(|i| gamma.data[i] / (var.data[i] + eps).sqrt())
            .collect();
        let shift: Vec<f64> = (0..c)
            .map(|i| beta.data[i] - mean.data[i] * scale[i])
            .collect();
        let op = Op::ScaleShift {
            scale: Tensor::new(vec![c], scale),
            shift: Tensor::new(vec![c], shift),
        };
        let xs = self.shape(x);
        self.add_node_in(node, name, op, xs, &[x], cl);
        Ok(())
    }
}

/// This family's ops in the registry (`ops::OPS`).
pub(in crate::frontend::onnx) const OPS: &[Registration] = &[
    (Domain::Onnx, "Elu", |c, n, name| c.simple(n, name)),
    (Domain::Onnx, "Selu", |c, n, name| c.simple(n, name)),
    (Domain::Onnx, "Softsign", |c, n, name| c.simple(n, name)),
    (Domain::Onnx, "Softplus", |c, n, name| c.simple(n, name)),
    (Domain::Onnx, "PRelu", |c, n, name| c.prelu(n, name)),
    (Domain::Onnx, "Relu", |c, n, name| c.simple(n, name)),
    (Domain::Onnx, "Sigmoid", |c, n, name| c.simple(n, name)),
    (Domain::Onnx, "Tanh", |c, n, name| c.simple(n, name)),
    (Domain::Onnx, "LeakyRelu", |c, n, name| c.simple(n, name)),
    (Domain::Onnx, "HardSigmoid", |c, n, name| c.simple(n, name)),
    (Domain::Onnx, "Mish", |c, n, name| c.simple(n, name)),
    (Domain::Onnx, "Softmax", |c, n, name| c.softmax(n, name)),
    (Domain::Onnx, "Clip", |c, n, name| c.clip(n, name)),
    (Domain::Onnx, "BatchNormalization", |c, n, name| {
        c.batchnorm(n, name)
    }),
];
