//! The model graph: a petgraph of typed layer nodes. Edges run from producer to consumer and carry
//! the consumer's input slot. Node indices are stable across passes, and every traversal is in a
//! deterministic order (ties broken by index, i.e. by the order the frontend created nodes).

use super::fixed::FixedType;
use super::ops::Op;
use petgraph::Direction;
use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use petgraph::visit::EdgeRef;
use serde::{Deserialize, Serialize};

/// How a layer's multiplications are scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Fully parallel, pipelined; the reuse factor sets the initiation interval.
    Latency,
    /// Multiplications folded onto n_in*n_out/R multipliers, each used R times.
    Resource,
    /// Distributed arithmetic: each constant matrix-vector product an adder graph of shifted
    /// inputs (`kernels::da`), no multiplier; reuse factor 1 (hls4ml's `distributed_arithmetic`).
    DistributedArithmetic,
}

impl Strategy {
    pub fn parse(s: &str) -> Option<Strategy> {
        match s.to_ascii_lowercase().as_str() {
            "latency" => Some(Strategy::Latency),
            "resource" => Some(Strategy::Resource),
            "distributed_arithmetic" | "da" => Some(Strategy::DistributedArithmetic),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Latency => "latency",
            Strategy::Resource => "resource",
            Strategy::DistributedArithmetic => "distributed_arithmetic",
        }
    }
}

/// Fixed-point types of a layer. Every layer has all of them; each kernel reads those it needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Precision {
    pub result: FixedType,
    pub weight: FixedType,
    pub bias: FixedType,
    pub accum: FixedType,
    /// Hidden and cell states of recurrent layers (defaults to the result type).
    pub state: FixedType,
    /// Entries of a lookup table (sigmoid, tanh, softmax exp and inverse).
    pub table: FixedType,
    pub table_size: usize,
}

impl Default for Precision {
    fn default() -> Self {
        let t = FixedType::fixed(16, 6);
        Precision {
            result: t,
            weight: t,
            bias: t,
            accum: t,
            state: t,
            table: FixedType::fixed(18, 8),
            table_size: 1024,
        }
    }
}

/// Hardware choices of a layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hardware {
    /// Multipliers fold this many times (recurrent layers: the input product).
    pub reuse: usize,
    /// Recurrent layers: the reuse factor of the recurrent (hidden-state) product.
    pub recurrent_reuse: usize,
    pub strategy: Strategy,
    /// io_parallel convolutions and pooling: output positions computed at once, by that many
    /// copies of the layer's kernel in a pipelined position loop (hls4ml's ParallelizationFactor).
    pub parallelization: usize,
    /// Recurrent layers: every time step unrolled (one step's hardware per step, a new sequence
    /// every cycle) instead of the step loop pipelined over one step's hardware.
    pub unroll_steps: bool,
    /// Verilog backend: a register stage after every this many adder levels within the layer
    /// (None: the layer's arithmetic is one combinational stage, its outputs registered).
    pub pipeline_levels: Option<u32>,
}

impl Default for Hardware {
    fn default() -> Self {
        Hardware {
            reuse: 1,
            recurrent_reuse: 1,
            strategy: Strategy::Latency,
            parallelization: 1,
            unroll_steps: false,
            pipeline_levels: None,
        }
    }
}

/// One layer of the model.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Name from the source model (unique within the model); config overrides use it.
    pub name: String,
    pub op: Op,
    /// Output shape, without the batch dimension.
    pub shape: Vec<usize>,
    /// Names of source nodes folded into this one by passes.
    pub fused: Vec<String>,
    pub precision: Precision,
    pub hardware: Hardware,
}

impl Node {
    pub fn new(name: impl Into<String>, op: Op, shape: Vec<usize>) -> Node {
        Node {
            name: name.into(),
            op,
            shape,
            fused: Vec::new(),
            precision: Precision::default(),
            hardware: Hardware::default(),
        }
    }
    /// Number of values the layer outputs.
    pub fn size(&self) -> usize {
        self.shape.iter().product()
    }
}

/// A whole model: its inputs, its outputs, a DAG between them.
///
/// A sample of a model with several inputs is their values one after another, in `inputs`
/// order (each flattened row-major); its outputs likewise in `outputs` order. The emulator,
/// the testbench's data files and `hlsrs predict` / `csim` pass samples in that form, and only
/// the user-facing files (.npz keyed by name) and the top function's ports split them.
#[derive(Debug, Clone)]
pub struct Model {
    pub name: String,
    /// The name the model file gives itself (an ONNX graph's name, a JSON description's
    /// "name"), which may be generic; `frontend::load_named` decides what names the design.
    pub source_name: Option<String>,
    pub graph: StableDiGraph<Node, usize>,
    /// The `Op::Input` nodes, in the source's order (their names are the inputs' names).
    pub inputs: Vec<NodeIndex>,
    /// The outputs, in the source's order.
    pub outputs: Vec<ModelOutput>,
    /// Calls of the design per sample: 1, or the sequence length of a static recurrent design
    /// (one time step per call; node shapes then describe one call).
    pub steps: usize,
}

/// One output of a model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelOutput {
    /// The name the source gives the output (ONNX graph output, JSON output entry).
    pub name: String,
    pub node: NodeIndex,
    /// Shape the output has for the user (reshapes at the end are dropped from the graph).
    pub shape: Vec<usize>,
    /// Whether the output's first axis is the time axis (a static design's full-sequence output).
    pub has_time: bool,
}

impl Model {
    /// A model holding only its (first) input node, which is also its output until one is set.
    pub fn new(name: impl Into<String>, input: Node) -> Model {
        let mut graph = StableDiGraph::new();
        let shape = input.shape.clone();
        let input_name = input.name.clone();
        let input = graph.add_node(input);
        Model {
            name: name.into(),
            source_name: None,
            graph,
            inputs: vec![input],
            outputs: vec![ModelOutput {
                name: input_name,
                node: input,
                shape,
                has_time: false,
            }],
            steps: 1,
        }
    }

    /// Adds another input node (after those already there).
    pub fn add_input(&mut self, input: Node) -> NodeIndex {
        let n = self.graph.add_node(input);
        self.inputs.push(n);
        n
    }

    /// Sets the outputs: (name, node) in order, each with its node's shape.
    pub fn set_outputs(&mut self, outputs: &[(String, NodeIndex)]) {
        self.outputs = outputs
            .iter()
            .map(|(name, n)| ModelOutput {
                name: name.clone(),
                node: *n,
                shape: self.node(*n).shape.clone(),
                has_time: false,
            })
            .collect();
    }

    /// Gives each output a layer of its own where it has none: an output that another layer
    /// reads, that is an input, or that is also another output gets a copy (a Reshape to its
    /// own shape), since the top function writes its outputs to write-only ports.
    pub fn separate_outputs(&mut self) {
        for k in 0..self.outputs.len() {
            let n = self.outputs[k].node;
            let shared = !self.consumers(n).is_empty()
                || self.is_input(n)
                || self.outputs[..k].iter().any(|o| o.node == n);
            if !shared {
                continue;
            }
            let base = format!("{}_output", self.node(n).name);
            let mut name = base.clone();
            let mut i = 1;
            while self.find(&name).is_some() {
                name = format!("{base}_{i}");
                i += 1;
            }
            let shape = self.node(n).shape.clone();
            let copy = self.add(Node::new(name, Op::Reshape, shape), &[n]);
            self.outputs[k].node = copy;
        }
    }

    pub fn is_input(&self, n: NodeIndex) -> bool {
        self.inputs.contains(&n)
    }

    pub fn is_output(&self, n: NodeIndex) -> bool {
        self.outputs.iter().any(|o| o.node == n)
    }

    /// Adds a node consuming `inputs` (in slot order).
    pub fn add(&mut self, node: Node, inputs: &[NodeIndex]) -> NodeIndex {
        let n = self.graph.add_node(node);
        for (slot, &i) in inputs.iter().enumerate() {
            self.graph.add_edge(i, n, slot);
        }
        n
    }

    pub fn node(&self, n: NodeIndex) -> &Node {
        &self.graph[n]
    }

    pub fn node_mut(&mut self, n: NodeIndex) -> &mut Node {
        &mut self.graph[n]
    }

    /// Producers of `n`, in input-slot order.
    pub fn inputs(&self, n: NodeIndex) -> Vec<NodeIndex> {
        let mut v: Vec<(usize, NodeIndex)> = self
            .graph
            .edges_directed(n, Direction::Incoming)
            .map(|e| (*e.weight(), e.source()))
            .collect();
        v.sort();
        v.into_iter().map(|(_, s)| s).collect()
    }

    /// Consumers of `n` with the slot they read it in, in index order.
    pub fn consumers(&self, n: NodeIndex) -> Vec<(NodeIndex, usize)> {
        let mut v: Vec<(NodeIndex, usize)> = self
            .graph
            .edges_directed(n, Direction::Outgoing)
            .map(|e| (e.target(), *e.weight()))
            .collect();
        v.sort();
        v
    }

    /// For each step of `order` (a topological order of the nodes an evaluator computes), the
    /// values no later step reads and no model output is: an evaluator drops them after that
    /// step, so one call holds only its live values (a deep CNN on a big image does not keep
    /// every layer's output).
    pub fn dead_after(&self, order: &[NodeIndex]) -> Vec<Vec<NodeIndex>> {
        let step: std::collections::HashMap<NodeIndex, usize> =
            order.iter().enumerate().map(|(k, &n)| (n, k)).collect();
        let outputs: std::collections::HashSet<NodeIndex> =
            self.outputs.iter().map(|o| o.node).collect();
        let mut dead = vec![Vec::new(); order.len()];
        for (k, &n) in order.iter().enumerate() {
            if outputs.contains(&n) {
                continue;
            }
            let last = self
                .consumers(n)
                .iter()
                .filter_map(|(c, _)| step.get(c).copied())
                .max()
                .unwrap_or(k);
            dead[last].push(n);
        }
        dead
    }

    /// Nodes in a topological order; among ready nodes the lowest index goes first, so the order
    /// depends only on how the graph was built.
    pub fn topo_order(&self) -> Vec<NodeIndex> {
        let mut indeg: std::collections::BTreeMap<NodeIndex, usize> = self
            .graph
            .node_indices()
            .map(|n| (n, self.graph.edges_directed(n, Direction::Incoming).count()))
            .collect();
        let mut ready: std::collections::BTreeSet<NodeIndex> = indeg
            .iter()
            .filter(|(_, d)| **d == 0)
            .map(|(n, _)| *n)
            .collect();
        let mut order = Vec::with_capacity(indeg.len());
        while let Some(n) = ready.pop_first() {
            order.push(n);
            for (c, _) in self.consumers(n) {
                let d = indeg.get_mut(&c).expect("edge to a live node");
                *d -= 1;
                if *d == 0 {
                    ready.insert(c);
                }
            }
        }
        order
    }

    /// Removes a one-input node, connecting its input to its consumers (same slots).
    pub fn bypass(&mut self, n: NodeIndex) {
        let src = self.inputs(n)[0];
        for (c, slot) in self.consumers(n) {
            self.graph.add_edge(src, c, slot);
        }
        for o in self.outputs.iter_mut().filter(|o| o.node == n) {
            o.node = src;
        }
        self.graph.remove_node(n);
    }

    /// Each input's shape per sample: `steps` calls' inputs (a static design's input has time
    /// first).
    pub fn sample_input_shapes(&self) -> Vec<Vec<usize>> {
        self.inputs
            .iter()
            .map(|&i| self.per_sample(&self.node(i).shape, self.steps > 1))
            .collect()
    }

    /// Each output's shape per sample: `steps` calls' outputs, time first.
    pub fn sample_output_shapes(&self) -> Vec<Vec<usize>> {
        self.outputs
            .iter()
            .map(|o| self.per_sample(&o.shape, o.has_time))
            .collect()
    }

    /// Values of one sample's inputs, all of them.
    pub fn sample_input_size(&self) -> usize {
        self.sample_input_shapes()
            .iter()
            .map(|s| s.iter().product::<usize>())
            .sum()
    }

    /// Values of one sample's outputs, all of them.
    pub fn sample_output_size(&self) -> usize {
        self.sample_output_shapes()
            .iter()
            .map(|s| s.iter().product::<usize>())
            .sum()
    }

    /// Where each input's values sit in one sample (inputs one after another, each whole).
    pub fn sample_input_ranges(&self) -> Vec<(NodeIndex, std::ops::Range<usize>)> {
        let sizes = self
            .sample_input_shapes()
            .into_iter()
            .map(|s| s.iter().product());
        ranges(self.inputs.iter().copied().zip(sizes))
    }

    /// Where each output's values sit in one sample's output (outputs one after another).
    pub fn sample_output_ranges(&self) -> Vec<(NodeIndex, std::ops::Range<usize>)> {
        let sizes = self
            .sample_output_shapes()
            .into_iter()
            .map(|s| s.iter().product());
        ranges(self.outputs.iter().map(|o| o.node).zip(sizes))
    }

    /// Where each input's values sit in one call's input (inputs one after another).
    pub fn call_input_ranges(&self) -> Vec<(NodeIndex, std::ops::Range<usize>)> {
        ranges(self.inputs.iter().map(|&i| (i, self.node(i).size())))
    }

    /// One sample's input split into its calls: call t holds step t of every input, in order
    /// (the sample holds each input whole, time first). One call when `steps` is 1.
    pub fn calls_of_sample<T: Copy>(&self, sample: &[T]) -> Vec<Vec<T>> {
        if self.steps == 1 {
            return vec![sample.to_vec()];
        }
        let sizes: Vec<usize> = self.inputs.iter().map(|&i| self.node(i).size()).collect();
        let starts: Vec<usize> = sizes
            .iter()
            .scan(0, |at, &n| {
                let s = *at;
                *at += n * self.steps;
                Some(s)
            })
            .collect();
        (0..self.steps)
            .map(|t| {
                sizes
                    .iter()
                    .zip(&starts)
                    .flat_map(|(&n, &s)| sample[s + t * n..s + (t + 1) * n].iter().copied())
                    .collect()
            })
            .collect()
    }

    /// The calls' outputs (each: every output's values, in order) as one sample's output (each
    /// output whole, time first): the inverse of [`Model::calls_of_sample`] for outputs.
    pub fn sample_of_calls<T: Copy>(&self, calls: &[Vec<T>]) -> Vec<T> {
        if let [one] = calls {
            return one.clone();
        }
        let sizes: Vec<usize> = self
            .outputs
            .iter()
            .map(|o| self.node(o.node).size())
            .collect();
        let mut out = Vec::with_capacity(calls.iter().map(Vec::len).sum());
        let mut at = 0;
        for n in sizes {
            for c in calls {
                out.extend_from_slice(&c[at..at + n]);
            }
            at += n;
        }
        out
    }

    /// `steps` calls of `call`: along its own time axis, or a new one in front.
    fn per_sample(&self, call: &[usize], has_time: bool) -> Vec<usize> {
        if self.steps == 1 {
            return call.to_vec();
        }
        let mut s = vec![self.steps];
        s.extend(&call[has_time as usize..]);
        s
    }

    /// Finds a node by name.
    pub fn find(&self, name: &str) -> Option<NodeIndex> {
        self.graph
            .node_indices()
            .find(|&n| self.graph[n].name == name)
    }
}

/// Consecutive ranges of the given sizes, from 0.
fn ranges(
    sizes: impl Iterator<Item = (NodeIndex, usize)>,
) -> Vec<(NodeIndex, std::ops::Range<usize>)> {
    let mut at = 0;
    sizes
        .map(|(n, len)| {
            at += len;
            (n, at - len..at)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{Model, Node};
    use crate::ir::{Activation, Op};

    /// x -> a -> b -> add(a, b) -> out, plus a second output c read by no one else: a lives
    /// until add (its last reader), b until add, x until a; outputs are never dropped.
    #[test]
    fn values_die_after_their_last_reader_and_outputs_never() {
        let relu = || Op::Activation(Activation::Relu);
        let mut m = Model::new("m", Node::new("x", Op::Input, vec![4]));
        let x = m.inputs[0];
        let a = m.add(Node::new("a", relu(), vec![4]), &[x]);
        let b = m.add(Node::new("b", relu(), vec![4]), &[a]);
        let c = m.add(Node::new("c", relu(), vec![4]), &[x]);
        let add = m.add(Node::new("add", Op::Add, vec![4]), &[a, b]);
        m.set_outputs(&[("out".into(), add), ("side".into(), c)]);
        let order = m.topo_order();
        let dead = m.dead_after(&order);
        let step = |n| order.iter().position(|&o| o == n).unwrap();
        let died = |n| {
            let at: Vec<usize> = (0..order.len()).filter(|&k| dead[k].contains(&n)).collect();
            at
        };
        assert_eq!(died(x), vec![step(a).max(step(c))]);
        assert_eq!(died(a), vec![step(add)]);
        assert_eq!(died(b), vec![step(add)]);
        assert!(died(add).is_empty() && died(c).is_empty());
        assert_eq!(dead.iter().map(Vec::len).sum::<usize>(), 3);
    }
}
