//! Elementwise arithmetic (Add, Sub, Mul, Div, with a constant or between branches), Max and Min
//! (between branches, or with a scalar: a clip), and PRelu.

use super::super::*;
use super::{Domain, Registration};

impl Converter<'_> {
    /// Add, Sub, Mul, Div: between two branches, or with a constant (a scale_shift layer).
    pub(in crate::frontend::onnx) fn arith(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        let op = node.op_type.as_str();
        let a = self.value(node, 0)?.clone();
        let b = self.value(node, 1)?.clone();
        match (a, b) {
            (Value::Node(x, lx), Value::Node(_, _)) => {
                let (y, xs) = self.second_branch(node, x, &lx)?;
                let ir = match op {
                    "Add" => Op::Add,
                    "Sub" => Op::Sub,
                    "Mul" => Op::Mul,
                    _ => {
                        return Err(Error::input(
                            "Div of two tensors is not supported; expected a constant divisor",
                        ));
                    }
                };
                self.add_node_in(node, name, ir, xs, &[x, y], lx);
            }
            (Value::Node(_, _), Value::Const(c)) => {
                self.scale_shift_const(node, name, 0, c, false)?
            }
            (Value::Const(c), Value::Node(_, _)) => {
                self.scale_shift_const(node, name, 1, c, true)?
            }
            (Value::Const(a), Value::Const(b)) => {
                if a.shape != b.shape {
                    return Err(Error::input(format!(
                        "{op} of two constants with different shapes is not supported"
                    )));
                }
                let f = |x: f64, y: f64| match op {
                    "Add" => x + y,
                    "Sub" => x - y,
                    "Mul" => x * y,
                    _ => x / y,
                };
                let data = a.data.iter().zip(&b.data).map(|(x, y)| f(*x, *y)).collect();
                self.set_output(node, Value::Const(Tensor::new(a.shape, data)));
            }
        }
        Ok(())
    }

    /// Max or Min of two inputs: between branches (elementwise, equal shapes), or of data and a
    /// scalar constant (a one-sided clip: `torch.clamp_min`), or of constants (folded).
    pub(in crate::frontend::onnx) fn max_min(
        &mut self,
        node: &NodeProto,
        name: &str,
    ) -> Result<()> {
        let op = node.op_type.as_str();
        let is_max = op == "Max";
        if node.input.len() != 2 {
            return Err(Error::input(format!(
                "{op} of {} inputs is not supported; expected two",
                node.input.len()
            )));
        }
        let a = self.value(node, 0)?.clone();
        let b = self.value(node, 1)?.clone();
        match (a, b) {
            (Value::Node(x, lx), Value::Node(_, _)) => {
                let (y, xs) = self.second_branch(node, x, &lx)?;
                let ir = if is_max { Op::Max } else { Op::Min };
                self.add_node_in(node, name, ir, xs, &[x, y], lx);
            }
            (Value::Node(..), Value::Const(c)) | (Value::Const(c), Value::Node(..)) => {
                let k = usize::from(matches!(self.value(node, 0)?, Value::Const(_)));
                if c.len() != 1 {
                    return Err(Error::input(format!(
                        "{op} of data and a constant of shape {:?} is not supported; expected a scalar constant",
                        c.shape
                    )));
                }
                let (x, layout) = self.data_any(node, k)?;
                let bound = Some(c.data[0]);
                let clip = if is_max {
                    Op::Clip {
                        min: bound,
                        max: None,
                    }
                } else {
                    Op::Clip {
                        min: None,
                        max: bound,
                    }
                };
                let s = self.shape(x);
                self.add_node_in(node, name, clip, s, &[x], layout);
            }
            (Value::Const(a), Value::Const(b)) => {
                if a.shape != b.shape {
                    return Err(Error::input(format!(
                        "{op} of two constants with different shapes is not supported"
                    )));
                }
                let f = |x: f64, y: f64| if is_max { x.max(y) } else { x.min(y) };
                let data = a.data.iter().zip(&b.data).map(|(x, y)| f(*x, *y)).collect();
                self.set_output(node, Value::Const(Tensor::new(a.shape, data)));
            }
        }
        Ok(())
    }

    /// Input 1 of a two-branch op in the layout of input 0 (`x`, `lx`), and their shape, which
    /// must be equal: broadcasting between branches is not supported.
    fn second_branch(
        &mut self,
        node: &NodeProto,
        x: NodeIndex,
        lx: &Layout,
    ) -> Result<(NodeIndex, Vec<usize>)> {
        let y = self.data_in(node, 1, lx)?;
        let (xs, ys) = (self.shape(x), self.shape(y));
        if xs != ys {
            return Err(Error::input(format!(
                "{} of two tensors with shapes {} and {}: broadcasting between branches is not supported; expected equal shapes",
                node.op_type,
                shape_str(&self.onnx_shape(x, lx)),
                shape_str(&self.onnx_shape(y, lx))
            )));
        }
        Ok((y, xs))
    }

    /// Which ONNX axis (batch excluded) a constant varies along when broadcast against data of
    /// ONNX shape `onnx` (None: a scalar), or an error when it varies along more than one.
    pub(in crate::frontend::onnx) fn varying_axis(
        &self,
        what: &str,
        c: &Tensor,
        onnx: &[usize],
    ) -> Result<Option<usize>> {
        let rank = onnx.len() + 1;
        if c.shape.len() > rank {
            return Err(Error::input(format!(
                "{what} of shape {:?} has more axes than the data",
                c.shape
            )));
        }
        let padded: Vec<usize> = std::iter::repeat_n(1, rank - c.shape.len())
            .chain(c.shape.iter().copied())
            .collect();
        let varying: Vec<usize> = (1..rank).filter(|&a| padded[a] != 1).collect();
        if padded[0] != 1 || varying.len() > 1 || varying.iter().any(|&a| padded[a] != onnx[a - 1])
        {
            return Err(Error::input(format!(
                "{what} of shape {:?} on data {}: expected a scalar or one value per entry of a single axis",
                c.shape,
                shape_str(onnx)
            )));
        }
        Ok(varying.first().map(|a| a - 1))
    }

    /// The layout with ONNX axis `a` moved last (other axes keep their order).
    pub(in crate::frontend::onnx) fn with_last(layout: &Layout, a: usize) -> Layout {
        let mut l: Layout = layout.iter().copied().filter(|&b| b != a).collect();
        l.push(a);
        l
    }

    pub(in crate::frontend::onnx) fn prelu(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        self.require_batch_first(node)?;
        let (x0, layout) = self.data_any(node, 0)?;
        let slope = self.constant(node, 1)?;
        let onnx = self.onnx_shape(x0, &layout);
        let (x, layout) = match self.varying_axis("PRelu slope", &slope, &onnx)? {
            None => (x0, layout),
            Some(a) => {
                let l = Self::with_last(&layout, a);
                (self.data_in(node, 0, &l)?, l)
            }
        };
        let xs = self.shape(x);
        let slope = Tensor::new(vec![slope.len()], slope.data);
        self.add_node_in(node, name, Op::PRelu { slope }, xs, &[x], layout);
        Ok(())
    }
}

/// This family's ops in the registry (`ops::OPS`).
pub(in crate::frontend::onnx) const OPS: &[Registration] = &[
    (Domain::Onnx, "Add", |c, n, name| c.arith(n, name)),
    (Domain::Onnx, "Sub", |c, n, name| c.arith(n, name)),
    (Domain::Onnx, "Mul", |c, n, name| c.arith(n, name)),
    (Domain::Onnx, "Div", |c, n, name| c.arith(n, name)),
    (Domain::Onnx, "Max", |c, n, name| c.max_min(n, name)),
    (Domain::Onnx, "Min", |c, n, name| c.max_min(n, name)),
];
