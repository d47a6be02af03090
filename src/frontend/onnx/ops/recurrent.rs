//! LSTM, GRU and RNN.

use super::super::*;
use super::{Domain, Registration};

impl Converter<'_> {
    pub(in crate::frontend::onnx) fn recurrent(
        &mut self,
        node: &NodeProto,
        name: &str,
    ) -> Result<()> {
        // Only the outputs the graph reads become IR nodes.
        let graph = self.proto.graph.as_ref().unwrap();
        let used = [0, 1, 2].map(|k| {
            node.output
                .get(k)
                .filter(|o| !o.is_empty())
                .is_some_and(|o| {
                    graph.node.iter().any(|n| n.input.contains(o))
                        || graph.output.iter().any(|g| &g.name == o)
                })
        });
        self.recurrent_outputs(node, name, used)
    }

    /// An LSTM / GRU / RNN node whose outputs Y, Y_h, Y_c become IR nodes where `used` says.
    pub(in crate::frontend::onnx) fn recurrent_outputs(
        &mut self,
        node: &NodeProto,
        name: &str,
        used: [bool; 3],
    ) -> Result<()> {
        use crate::ir::recurrent::{Activation, Cell, Direction, Recurrent, RecurrentOutput};
        let op = node.op_type.as_str();
        let layout = attr_i(node, "layout", 0);
        // Layout 0 is [seq, batch, features], layout 1 [batch, seq, features].
        let want_b = if layout == 0 { 1 } else { 0 };
        if !self.place_batch(&node.input[0], want_b) {
            return Err(Error::input(format!(
                "{op} (layout {layout}) expects the batch at axis {want_b} of its input, found it at axis {}",
                self.batch_of(&node.input[0])
            )));
        }
        let x = self.data(node, 0)?;
        let xs = self.shape(x);
        if xs.len() != 2 {
            return Err(Error::input(format!(
                "{op} input: expected [seq, features] besides the batch, got {xs:?}"
            )));
        }
        let (w, r) = (self.constant(node, 1)?, self.constant(node, 2)?);
        let hidden = attr_i(node, "hidden_size", 0) as usize;
        let direction = match attr(node, "direction")
            .map(|a| String::from_utf8_lossy(&a.s).into_owned())
            .as_deref()
        {
            None | Some("forward") => Direction::Forward,
            Some("reverse") => Direction::Reverse,
            Some("bidirectional") => Direction::Bidirectional,
            Some(other) => {
                return Err(Error::input(format!(
                    "direction '{other}' is not forward, reverse or bidirectional"
                )));
            }
        };
        let cell = match op {
            "LSTM" => Cell::Lstm {
                input_forget: attr_i(node, "input_forget", 0) != 0,
            },
            "GRU" => Cell::Gru {
                linear_before_reset: attr_i(node, "linear_before_reset", 0) != 0,
            },
            _ => Cell::Rnn,
        };
        let (dirs, g) = (direction.count(), cell.gates());
        if hidden == 0
            || w.shape != [dirs, g * hidden, xs[1]]
            || r.shape != [dirs, g * hidden, hidden]
        {
            return Err(Error::input(format!(
                "{op} weights W {:?} / R {:?} do not fit hidden_size {hidden}, {dirs} direction(s), {} input features",
                w.shape, r.shape, xs[1]
            )));
        }
        let opt = |k: usize| -> Result<Option<Tensor>> {
            if self.has_input(node, k) {
                Ok(Some(self.constant(node, k)?))
            } else {
                Ok(None)
            }
        };
        let b = opt(3)?.unwrap_or_else(|| Tensor::filled(vec![dirs, 2 * g * hidden], 0.0));
        if b.len() != dirs * 2 * g * hidden {
            return Err(Error::input(format!(
                "{op} bias B has {} values, expected {}",
                b.len(),
                dirs * 2 * g * hidden
            )));
        }
        let b = Tensor::new(vec![dirs, 2 * g * hidden], b.data);
        if self.has_input(node, 4) {
            let lens = self.constant(node, 4)?;
            if lens.data.iter().any(|&l| l as usize != xs[0]) {
                return Err(Error::input(format!(
                    "sequence_lens {:?} differ from the sequence length {}; only full-length sequences are supported",
                    lens.data, xs[0]
                )));
            }
        }
        // Sizes are checked before the constants take their IR shapes.
        let sized = |t: Option<Tensor>, shape: Vec<usize>, what: &str| -> Result<Option<Tensor>> {
            match t {
                Some(t) if t.len() != shape.iter().product::<usize>() => {
                    Err(Error::input(format!(
                        "{op} {what} has {} values, expected {}",
                        t.len(),
                        shape.iter().product::<usize>()
                    )))
                }
                t => Ok(t.map(|t| Tensor::new(shape, t.data))),
            }
        };
        let initial_h = sized(opt(5)?, vec![dirs, hidden], "initial state")?;
        let initial_c = if op == "LSTM" {
            sized(opt(6)?, vec![dirs, hidden], "initial state")?
        } else {
            None
        };
        let p = if op == "LSTM" {
            sized(opt(7)?, vec![dirs, 3 * hidden], "peepholes P")?
        } else {
            None
        };
        // Activations: names with alpha/beta consumed in order for those that take them.
        let names: Vec<String> = attr(node, "activations")
            .map(|a| {
                a.strings
                    .iter()
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let defaults: &[&str] = match op {
            "LSTM" => &["Sigmoid", "Tanh", "Tanh"],
            "GRU" => &["Sigmoid", "Tanh"],
            _ => &["Tanh"],
        };
        let names: Vec<String> = if names.is_empty() {
            (0..dirs)
                .flat_map(|_| defaults.iter().map(|s| s.to_string()))
                .collect()
        } else {
            names
        };
        let alphas: Vec<f64> = attr(node, "activation_alpha")
            .map(|a| a.floats.iter().map(|&v| v as f64).collect())
            .unwrap_or_default();
        let betas: Vec<f64> = attr(node, "activation_beta")
            .map(|a| a.floats.iter().map(|&v| v as f64).collect())
            .unwrap_or_default();
        let (mut ai, mut bi) = (0, 0);
        let mut activations = Vec::new();
        for n in &names {
            let mut alpha = |d: f64| {
                let v = alphas.get(ai).copied().unwrap_or(d);
                ai += 1;
                v
            };
            let a = match n.to_ascii_lowercase().as_str() {
                "sigmoid" => Activation::Sigmoid,
                "tanh" => Activation::Tanh,
                "relu" => Activation::Relu,
                "hardsigmoid" => {
                    let a = alpha(0.2);
                    let b = betas.get(bi).copied().unwrap_or(0.5);
                    bi += 1;
                    Activation::HardSigmoid { alpha: a, beta: b }
                }
                "leakyrelu" => Activation::LeakyRelu { alpha: alpha(0.01) },
                "thresholdedrelu" => Activation::ThresholdedRelu { alpha: alpha(1.0) },
                "scaledtanh" => {
                    let a = alpha(1.0);
                    let b = betas.get(bi).copied().unwrap_or(1.0);
                    bi += 1;
                    Activation::ScaledTanh { alpha: a, beta: b }
                }
                "affine" => {
                    let a = alpha(1.0);
                    let b = betas.get(bi).copied().unwrap_or(0.0);
                    bi += 1;
                    Activation::Affine { alpha: a, beta: b }
                }
                "elu" => Activation::Elu { alpha: alpha(1.0) },
                "softsign" => Activation::Softsign,
                "softplus" => Activation::Softplus,
                other => {
                    return Err(Error::input(format!(
                        "{op} activation '{other}' is not one the specification lists"
                    )));
                }
            };
            activations.push(a);
        }
        if activations.len() != dirs * cell.activation_count() {
            return Err(Error::input(format!(
                "{op} has {} activations, expected {}",
                activations.len(),
                dirs * cell.activation_count()
            )));
        }
        let clip = attr(node, "clip").map(|a| a.f as f64);
        let used = |k: usize| used[k];
        let outputs = [
            RecurrentOutput::Sequence,
            RecurrentOutput::LastHidden,
            RecurrentOutput::LastCell,
        ];
        for (k, out) in outputs.into_iter().enumerate() {
            if !used(k) {
                continue;
            }
            let rec = Recurrent {
                cell: cell.clone(),
                direction,
                hidden,
                activations: activations.clone(),
                clip,
                w: w.clone(),
                r: r.clone(),
                b: b.clone(),
                p: p.clone(),
                initial_h: initial_h.clone(),
                initial_c: initial_c.clone(),
                output: out,
                stateful: false,
            };
            let shape = rec.output_shape(xs[0]);
            let n = if k == 0 {
                name.to_string()
            } else {
                self.unique_name(&format!("{name}_{}", ["y", "y_h", "y_c"][k]))
            };
            let idx = self.model.add(
                Node::new(n, Op::Recurrent(Box::new(rec)), shape.clone()),
                &[x],
            );
            let rank = shape.len();
            self.values
                .insert(node.output[k].clone(), Value::Node(idx, identity(rank)));
            // Y is [seq, dirs, batch, hidden] in layout 0, Y_h / Y_c [dirs, batch, hidden].
            let b = if layout == 1 {
                0
            } else if k == 0 {
                2
            } else {
                1
            };
            self.batch_pos.insert(node.output[k].clone(), b);
        }
        Ok(())
    }
}

/// This family's ops in the registry (`ops::OPS`).
pub(in crate::frontend::onnx) const OPS: &[Registration] = &[
    (Domain::Onnx, "LSTM", |c, n, name| c.recurrent(n, name)),
    (Domain::Onnx, "GRU", |c, n, name| c.recurrent(n, name)),
    (Domain::Onnx, "RNN", |c, n, name| c.recurrent(n, name)),
];
