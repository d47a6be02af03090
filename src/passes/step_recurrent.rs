//! step_recurrent: turns a design with static recurrent layers into one that takes one time step
//! per call. Every value that carries the time axis (first, outermost) shrinks to one step;
//! recurrent layers keep their hidden and cell state between calls; a PyTorch-style pick of the
//! last step (a Gather of the final time slice) becomes the current step. `Model::steps` records
//! how many calls make one sample, so the emulators and the testbench run whole sequences.
//!
//! Refused with an error naming the layer: reverse and bidirectional layers (they need the whole
//! sequence before the first output) and layers that read across time steps (a dense or conv
//! layer over the flattened sequence). The step design's output at the last call equals the
//! whole-sequence design's output bit for bit (tested).

use super::{Pass, PassContext};
use crate::error::{Error, Result};
use crate::ir::recurrent::Direction;
use crate::ir::{Model, Op};
use petgraph::stable_graph::NodeIndex;
use std::collections::BTreeSet;

pub struct StepRecurrent;

impl Pass for StepRecurrent {
    fn name(&self) -> &'static str {
        "step_recurrent"
    }

    fn run(&self, model: &mut Model, cx: &mut PassContext) -> Result<()> {
        let c = cx.config;
        let order = model.topo_order();
        let (mut stepped, mut whole) = (Vec::new(), Vec::new());
        for &n in &order {
            let node = model.node(n);
            let own = c.layers.get(&node.name).and_then(|l| l.static_state);
            match &node.op {
                Op::Recurrent(_) if own.unwrap_or(c.static_state) => stepped.push(n),
                Op::Recurrent(_) => whole.push(node.name.clone()),
                op if own.is_some() => {
                    return Err(Error::input(format!(
                        "[layers.{0}]: 'static' applies to recurrent layers; '{0}' is a {1} layer",
                        node.name,
                        op.kind()
                    )));
                }
                _ => {}
            }
        }
        if stepped.is_empty() {
            if c.static_state && whole.is_empty() {
                return Err(Error::input(
                    "static (one time step per call) applies to recurrent layers, and the model has none",
                ));
            }
            return Ok(());
        }
        let names = |ns: &[NodeIndex]| {
            ns.iter()
                .map(|&n| format!("'{}'", model.node(n).name))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !whole.is_empty() {
            return Err(Error::input(format!(
                "a static design takes one time step per call, so every recurrent layer must be static: {} static, '{}' not (set static = true in its [layers.] table or pass --static)",
                names(&stepped),
                whole.join("', '")
            )));
        }
        let seq = sequence_length(model, stepped[0]);
        // Every input is read one step per call (one value per step each).
        for &i in &model.inputs {
            let input = model.node(i);
            if input.shape.len() < 2 || input.shape[0] != seq {
                return Err(Error::input(format!(
                    "a static design takes one time step per call: every input needs the time axis first ([{seq}, features]), but this one has shape {:?}",
                    input.shape
                ))
                .at_node(&input.name));
            }
        }

        // Which values carry time, and the last-step picks that end it.
        let mut timed: BTreeSet<NodeIndex> = model.inputs.iter().copied().collect();
        let mut last_step_picks = Vec::new();
        for &n in order.iter().filter(|&&n| !model.is_input(n)) {
            let ins = model.inputs(n);
            let timed_ins = ins.iter().filter(|i| timed.contains(i)).count();
            if timed_ins == 0 {
                continue;
            }
            let node = model.node(n);
            let step_size = |k: usize| model.node(ins[k]).size() / seq;
            let refuse = |why: String| {
                Err(Error::input(format!(
                    "a static design takes one time step per call; this {} layer {why}",
                    node.op.kind()
                ))
                .at_node(&node.name))
            };
            let time_first = node.shape.len() >= 2 && node.shape[0] == seq;
            let keeps_time = match &node.op {
                Op::Recurrent(r) => {
                    if r.direction != Direction::Forward {
                        let dir = if r.direction == Direction::Reverse {
                            "reverse"
                        } else {
                            "bidirectional"
                        };
                        return refuse(format!(
                            "runs {dir}, so it needs the whole sequence before its first output (compile it without static)"
                        ));
                    }
                    if sequence_length(model, n) != seq {
                        return refuse(format!(
                            "reads {} steps, the input has {seq}",
                            sequence_length(model, n)
                        ));
                    }
                    matches!(r.output, crate::ir::recurrent::RecurrentOutput::Sequence)
                }
                Op::Gather { index, .. } => {
                    let k = step_size(0);
                    if index.len() == k
                        && index
                            .iter()
                            .copied()
                            .eq(((seq - 1) * k) as i64..(seq * k) as i64)
                    {
                        last_step_picks.push((n, k));
                        false
                    } else {
                        return refuse(format!(
                            "reads values across the {seq} time steps (only a pick of the last step is allowed)"
                        ));
                    }
                }
                Op::Transpose { perm } if perm[0] == 0 => true,
                Op::Concat { axis } if *axis != 0 && timed_ins == ins.len() => true,
                Op::Add | Op::Sub | Op::Mul | Op::Max | Op::Min if timed_ins == ins.len() => true,
                Op::Reshape
                | Op::Softmax
                | Op::ArgMax { .. }
                | Op::ScaleShift { .. }
                | Op::PRelu { .. }
                | Op::Activation(_)
                | Op::Clip { .. }
                | Op::Quant { .. }
                    if time_first =>
                {
                    true
                }
                Op::Add | Op::Sub | Op::Mul | Op::Max | Op::Min | Op::Concat { .. } => {
                    return refuse(
                        "joins a value of every time step with one that is not per step".into(),
                    );
                }
                // Dense, conv and pool layers (and the ops above when time is not first) read
                // across time steps.
                Op::Input
                | Op::Dense { .. }
                | Op::Conv { .. }
                | Op::Pool { .. }
                | Op::Transpose { .. }
                | Op::Reshape
                | Op::Softmax
                | Op::ArgMax { .. }
                | Op::ScaleShift { .. }
                | Op::PRelu { .. }
                | Op::Activation(_)
                | Op::Clip { .. }
                | Op::Quant { .. } => {
                    return refuse(format!(
                        "reads the whole sequence ({:?} -> {:?}), not one step at a time",
                        model.node(ins[0]).shape,
                        node.shape
                    ));
                }
            };
            if keeps_time {
                timed.insert(n);
            }
        }

        for k in 0..model.outputs.len() {
            let o = &model.outputs[k];
            if timed.contains(&o.node) {
                if o.shape.first() != Some(&seq) {
                    return Err(Error::input(format!(
                        "a static design's output must have the time axis first; it has shape {:?}",
                        o.shape
                    ))
                    .at_node(&model.node(o.node).name));
                }
                let o = &mut model.outputs[k];
                o.shape[0] = 1;
                o.has_time = true;
            }
        }
        for &n in &timed {
            model.node_mut(n).shape[0] = 1;
        }
        for (n, k) in last_step_picks {
            if let Op::Gather { index, .. } = &mut model.node_mut(n).op {
                *index = (0..k as i64).collect();
            }
        }
        for n in stepped {
            if let Op::Recurrent(r) = &mut model.node_mut(n).op {
                r.stateful = true;
            }
        }
        model.steps = seq;
        Ok(())
    }
}

/// The number of time steps a recurrent layer reads.
fn sequence_length(model: &Model, n: NodeIndex) -> usize {
    let Op::Recurrent(r) = &model.node(n).op else {
        unreachable!("only recurrent layers have a sequence")
    };
    model.node(model.inputs(n)[0]).size() / r.input_size()
}
