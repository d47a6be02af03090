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
}

impl Strategy {
    pub fn parse(s: &str) -> Option<Strategy> {
        match s.to_ascii_lowercase().as_str() {
            "latency" => Some(Strategy::Latency),
            "resource" => Some(Strategy::Resource),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Latency => "latency",
            Strategy::Resource => "resource",
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
}

impl Default for Hardware {
    fn default() -> Self {
        Hardware {
            reuse: 1,
            recurrent_reuse: 1,
            strategy: Strategy::Latency,
            parallelization: 1,
            unroll_steps: false,
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

/// A whole model: one input, one output, a DAG between them.
#[derive(Debug, Clone)]
pub struct Model {
    pub name: String,
    /// The name the model file gives itself (an ONNX graph's name, a JSON description's
    /// "name"), which may be generic; `frontend::load_named` decides what names the design.
    pub source_name: Option<String>,
    pub graph: StableDiGraph<Node, usize>,
    pub input: NodeIndex,
    pub output: NodeIndex,
    /// Shape the model's output has for the user (reshapes at the end are dropped from the graph).
    pub output_shape: Vec<usize>,
    /// Calls of the design per sample: 1, or the sequence length of a static recurrent design
    /// (one time step per call; node shapes then describe one call).
    pub steps: usize,
    /// Whether the output's first axis is the time axis (a static design's full-sequence output).
    pub output_has_time: bool,
}

impl Model {
    /// A model holding only its input node.
    pub fn new(name: impl Into<String>, input: Node) -> Model {
        let mut graph = StableDiGraph::new();
        let shape = input.shape.clone();
        let input = graph.add_node(input);
        Model {
            name: name.into(),
            source_name: None,
            graph,
            input,
            output: input,
            output_shape: shape,
            steps: 1,
            output_has_time: false,
        }
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
        if self.output == n {
            self.output = src;
        }
        self.graph.remove_node(n);
    }

    /// A sample's input shape: `steps` calls' inputs (a static design's input has time first).
    pub fn sample_input_shape(&self) -> Vec<usize> {
        self.per_sample(&self.node(self.input).shape, self.steps > 1)
    }

    /// A sample's output shape: `steps` calls' outputs, time first.
    pub fn sample_output_shape(&self) -> Vec<usize> {
        self.per_sample(&self.output_shape, self.output_has_time)
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
