//! The serde context the templates render: names, sizes, type spellings and constant data for
//! every layer, taken from the kernel plans. No C++ is written here.

mod da;
mod per_value;
mod products;
mod recurrent;
mod streams;
mod wiring;

pub use streams::name_streams;

use crate::ir::{FixedType, Model, Strategy};
use crate::kernels::dense::{DensePlan, index_bits};
use crate::kernels::{Consts, Kernel, LayerPlan};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::HashMap;

#[derive(Serialize)]
pub struct Typedef {
    pub name: String,
    pub cpp: String,
}

#[derive(Serialize)]
pub struct LayerCtx {
    pub index: usize,
    pub name: String,
    pub kind: &'static str,
    pub summary: String,
    pub size: usize,
    /// Values the kernel's config calls n_in: the whole tensor, or one pixel in a stream design
    /// for per-pixel layers.
    pub n: usize,
    /// Values per pixel (the last axis) and pixels, of the output and of the first input.
    pub width: usize,
    pub pixels: usize,
    pub in_width: usize,
    pub in_pixels: usize,
    pub is_output: bool,
    pub in_vars: Vec<String>,
    pub in_types: Vec<String>,
    /// Values of each input.
    pub in_sizes: Vec<usize>,
    /// How the io_parallel DATAFLOW top schedules this layer's process: "pipeline" (one
    /// pipelined process, loops unrolled), "folded" (a resource kernel pipelines its ReuseLoop
    /// inside) or "steps" (a recurrent layer pipelines one time step at a time).
    pub process: &'static str,
    /// Copies of this layer's output for its readers, when a DATAFLOW top needs one per reader.
    pub clone: Option<CloneCtx>,
    pub out_var: String,
    pub typedefs: Vec<Typedef>,
    /// Kind-specific parameters.
    pub p: Value,
}

/// A DATAFLOW channel has one reader: a value read by several layers is copied into one array
/// per reader by a clone process.
#[derive(Serialize, Clone)]
pub struct CloneCtx {
    pub src: String,
    pub ty: String,
    pub size: usize,
    pub copies: Vec<String>,
}

/// One constant array written to firmware/weights/<var>.h.
#[derive(Serialize)]
pub struct WeightCtx {
    pub var: String,
    pub c_type: String,
    pub cpp_type: String,
    pub count: usize,
    pub comment: String,
    pub guard: String,
    /// The values, 16 to a line (written into the header after rendering, never through the
    /// template context).
    #[serde(skip)]
    pub data: Vec<u8>,
    /// The values' range and how many are nonzero (constants of a fixed-point type).
    pub stats: Option<String>,
}

/// "min -0.5, max 0.75; 1021 of 1024 nonzero" of constants (`nonzero_only`: a sparse layout's
/// entries, whose padding is no value).
fn value_stats(c: &Consts, nonzero_only: bool) -> String {
    // Over the bits (order is the values' order); only the two ends become values.
    let mut shown = c
        .raw
        .iter()
        .filter(|&&r| !nonzero_only || r != 0)
        .peekable();
    let empty = shown.peek().is_none();
    let (lo, hi) = shown.fold((i128::MAX, i128::MIN), |(a, b), &r| (a.min(r), b.max(r)));
    let nonzero = c.raw.iter().filter(|&&r| r != 0).count();
    let (min, max) = (c.ty.to_f64(lo), c.ty.to_f64(hi));
    match (empty, nonzero_only) {
        (true, _) => "every value is zero".into(),
        (false, true) => {
            format!("min {min}, max {max}; {nonzero} nonzero weights (a zero one has no entry)")
        }
        (false, false) => format!("min {min}, max {max}; {nonzero} of {} nonzero", c.raw.len()),
    }
}

/// Formats integers 16 to a line.
fn format_data<I: Iterator<Item = i128>>(values: I) -> Vec<u8> {
    let mut s = Vec::with_capacity(values.size_hint().0 * 8);
    for (k, v) in values.enumerate() {
        if k > 0 {
            s.extend_from_slice(if k % 16 == 0 { b",\n" } else { b", " });
        }
        super::push_int(&mut s, v);
    }
    s
}

/// Window geometry as the C++ kernels take it: 2D, a 1D window being 1 x L.
fn geometry(w: &crate::ir::ops::Window, input: &[usize], output: &[usize]) -> Value {
    let two = crate::ir::ops::as_hw;
    let (in_h, in_w) = two(input, 1);
    let (out_h, out_w) = two(output, 1);
    let (kernel_h, kernel_w) = two(&w.kernel, 1);
    let (stride_h, stride_w) = two(&w.strides, 1);
    let (dilation_h, dilation_w) = two(&w.dilations, 1);
    let (pad_top, pad_left) = two(&w.pads_begin, 0);
    let (pad_bottom, pad_right) = two(&w.pads_end, 0);
    json!({
        "in_h": in_h, "in_w": in_w, "out_h": out_h, "out_w": out_w,
        "kernel_h": kernel_h, "kernel_w": kernel_w, "stride_h": stride_h, "stride_w": stride_w,
        "dilation_h": dilation_h, "dilation_w": dilation_w, "pad_top": pad_top, "pad_left": pad_left,
        "pad_bottom": pad_bottom, "pad_right": pad_right,
    })
}

pub struct Builder<'m> {
    model: &'m Model,
    stream: bool,
    pub layers: Vec<LayerCtx>,
    pub weights: Vec<WeightCtx>,
    /// Distributed-arithmetic headers: (config struct, header text), firmware/da/<config>.h.
    pub da: Vec<(String, String)>,
    var_of: HashMap<petgraph::stable_graph::NodeIndex, (String, String)>,
    ports: crate::ir::ports::Ports,
}

impl<'m> Builder<'m> {
    pub fn new(model: &'m Model, stream: bool) -> Builder<'m> {
        Builder {
            model,
            stream,
            layers: Vec::new(),
            weights: Vec::new(),
            da: Vec::new(),
            var_of: HashMap::new(),
            ports: crate::ir::ports::Ports::of(model),
        }
    }

    fn weight(&mut self, var: String, layer: &str, what: &str, c: &Consts) -> String {
        let var = self.weight_array(var, layer, what, &c.ty.c_bits_type(), c.ty.to_cpp(), &c.raw);
        self.weights.last_mut().expect("just pushed").stats = Some(value_stats(c, false));
        var
    }

    fn weight_array(
        &mut self,
        var: String,
        layer: &str,
        what: &str,
        c_type: &str,
        cpp_type: String,
        raw: &[i128],
    ) -> String {
        self.weights.push(WeightCtx {
            guard: format!("HLSRS_{}_H_", var.to_uppercase()),
            c_type: c_type.to_string(),
            cpp_type,
            count: raw.len(),
            comment: format!("{layer}: {what}"),
            data: format_data(raw.iter().copied()),
            var: var.clone(),
            stats: None,
        });
        var
    }

    /// For a distributed-arithmetic product: its graphs' header for config struct `config`
    /// (inputs of type `x`), and the struct naming them, for the config's `da_struct`.
    /// `plans`: one plan of several groups, or a recurrent product's plan per direction.
    fn da_struct(&mut self, config: String, plans: &[DensePlan], x: FixedType) -> String {
        let Some(d) = plans
            .first()
            .filter(|d| d.strategy == Strategy::DistributedArithmetic)
        else {
            return String::new();
        };
        let graphs: Vec<&crate::kernels::da::AdderGraph> =
            plans.iter().flat_map(|p| &p.da).collect();
        self.da
            .push((config.clone(), da::header(&config, &graphs, d, x)));
        format!("{config}_da")
    }

    /// A dense kernel's weight array: plain bit patterns, or packed sparse entries.
    fn dense_weights(&mut self, index: usize, layer: &str, d: &DensePlan) -> String {
        match d.packed_sparse_entries() {
            None => self.weight(format!("w{index}"), layer, "weights", &d.weights),
            Some(packed) => {
                self.sparse_weights(format!("w{index}"), layer, "", d, &packed, &d.weights)
            }
        }
    }

    /// Packed sparse entries (of plans laid out like `d`) as a weight array.
    fn sparse_weights(
        &mut self,
        var: String,
        layer: &str,
        what: &str,
        d: &DensePlan,
        packed: &[i128],
        weights: &Consts,
    ) -> String {
        let entry = FixedType::fixed(d.sparse_entry_bits() + 1, 0);
        let var = self.weight_array(
            var,
            layer,
            &format!("{what}nonzero weights (sparse layout)"),
            &entry.c_bits_type(),
            format!(
                "{} packed with their output index ({} bits) and input index ({} bits) above the weight's {} bits",
                d.weights.ty.to_cpp(),
                index_bits(d.n_out),
                index_bits(d.n_in),
                d.weights.ty.width
            ),
            packed,
        );
        self.weights.last_mut().expect("just pushed").stats = Some(value_stats(weights, true));
        var
    }

    pub fn add(&mut self, index: usize, plan: &LayerPlan) {
        let node = self.model.node(plan.node);
        let input_k = self.model.inputs.iter().position(|&i| i == plan.node);
        let output_k = self.model.outputs.iter().position(|o| o.node == plan.node);
        let is_input = input_k.is_some();
        let is_output = output_k.is_some();
        let (out_var, out_type) = if let Some(k) = input_k {
            (
                self.ports.inputs[k].clone(),
                crate::ir::ports::port_type("input", k),
            )
        } else if let Some(k) = output_k {
            (self.ports.outputs[k].clone(), format!("layer{index}_t"))
        } else {
            (format!("layer{index}_out"), format!("layer{index}_t"))
        };
        self.var_of.insert(plan.node, (out_var.clone(), out_type));
        if is_input {
            return;
        }
        let (in_vars, in_types): (Vec<String>, Vec<String>) = self
            .model
            .inputs(plan.node)
            .iter()
            .map(|i| self.var_of[i].clone())
            .unzip();
        let in_sizes = self
            .model
            .inputs(plan.node)
            .iter()
            .map(|&i| self.model.node(i).size())
            .collect();
        let process = plan.kernel.process().name();
        let mut typedefs = vec![Typedef {
            name: format!("layer{index}_t"),
            cpp: plan.result.to_cpp(),
        }];
        let mut td = |prefix: &str, t: FixedType| {
            typedefs.push(Typedef {
                name: format!("{prefix}{index}_t"),
                cpp: t.to_cpp(),
            })
        };
        // Names only reach comments; a model's names are data, never text that ends one.
        let name = crate::ir::names::comment_text(&node.name);
        let size = plan.size;
        let (kind, summary, p): (&'static str, String, Value) = match &plan.kernel {
            Kernel::Input => unreachable!("handled above"),
            Kernel::Dense(d) => self.dense(index, &name, d, plan.input_types[0], &mut td),
            // `channels` is the scales' count.
            Kernel::ScaleShift { scale, shift, .. } => {
                self.scale_shift(index, &name, size, scale, shift, &mut td)
            }
            Kernel::Activation(a) => self.activation(index, &name, size, node, a, &mut td),
            Kernel::Quant {
                bipolar,
                round,
                codes,
            } => Self::quant(plan, size, bipolar, round, codes),
            Kernel::Clip { min, max } => Self::clip(size, min, max, &mut td),
            Kernel::Softmax(s) => self.softmax(index, &name, s, &mut td),
            Kernel::Recurrent(rp) => self.recurrent(
                index,
                &name,
                node.op.kind(),
                rp,
                plan.input_types[0],
                &mut td,
            ),
            Kernel::Add => ("add", format!("add, {size} values"), json!({})),
            Kernel::Sub => ("sub", format!("subtract, {size} values"), json!({})),
            Kernel::Mul => ("mul", format!("multiply, {size} values"), json!({})),
            Kernel::ArgMax { n, rows, last } => (
                "argmax",
                format!("index of the largest of {n}, {rows} row(s)"),
                json!({ "n": n, "rows": rows, "last": last }),
            ),
            Kernel::Max => ("maximum", format!("maximum, {size} values"), json!({})),
            Kernel::Min => ("minimum", format!("minimum, {size} values"), json!({})),
            Kernel::Conv(c) => self.conv(index, &name, c, plan.input_types[0], &mut td),
            Kernel::Pool(pl) => self.pool(index, &name, pl, &mut td),
            Kernel::Concat { sources } => self.concat(index, &name, size, plan, node, sources),
            Kernel::Transpose { in_shape, perm } => Self::transpose(size, in_shape, perm),
            Kernel::Gather { index: g, fill } => self.gather(index, &name, size, g, fill),
            Kernel::PRelu { slope } => self.prelu(index, &name, size, slope, &mut td),
        };
        let width = *node.shape.last().unwrap();
        let in_shape = &self.model.node(self.model.inputs(plan.node)[0]).shape;
        let in_width = *in_shape.last().unwrap();
        let in_size: usize = in_shape.iter().product();
        // The stream schedule decides which layers run pixel by pixel (one home for it).
        let per_pixel = self.stream
            && matches!(
                crate::stream::pattern(self.model, plan.node),
                crate::stream::Pattern::PerPixel(_)
            );
        let mut p = p;
        if per_pixel && (kind == "softmax" || kind == "argmax") {
            p["rows"] = json!(1);
        }
        self.layers.push(LayerCtx {
            index,
            name,
            kind,
            summary,
            size,
            n: if per_pixel { width } else { size },
            width,
            pixels: size / width,
            in_width,
            in_pixels: in_size / in_width,
            is_output,
            in_vars,
            in_types,
            in_sizes,
            process,
            clone: None,
            out_var,
            typedefs,
            p,
        });
    }

    /// For a DATAFLOW top: every value read by more than one layer gets a copy per reader, made
    /// by a clone process after its producer (the input's clones come first). Returns the
    /// input's clone, if any.
    pub fn clone_shared_reads(&mut self) -> Vec<CloneCtx> {
        let mut order: Vec<String> = Vec::new();
        let mut readers: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
        for (li, l) in self.layers.iter().enumerate() {
            for (slot, v) in l.in_vars.iter().enumerate() {
                if !readers.contains_key(v) {
                    order.push(v.clone());
                }
                readers.entry(v.clone()).or_default().push((li, slot));
            }
        }
        let mut input_clones = Vec::new();
        for var in order {
            let rs = &readers[&var];
            if rs.len() < 2 {
                continue;
            }
            let (l0, s0) = rs[0];
            let clone = CloneCtx {
                src: var.clone(),
                ty: self.layers[l0].in_types[s0].clone(),
                size: self.layers[l0].in_sizes[s0],
                copies: (0..rs.len()).map(|k| format!("{var}_cpy{k}")).collect(),
            };
            for (&(li, slot), copy) in rs.iter().zip(&clone.copies) {
                self.layers[li].in_vars[slot] = copy.clone();
            }
            match self.layers.iter_mut().find(|l| l.out_var == var) {
                Some(producer) => producer.clone = Some(clone),
                None => input_clones.push(clone),
            }
        }
        input_clones
    }
}

/// ", N of P positions at once" for an io_parallel window layer.
fn parallel_summary(stream: bool, parallel: usize, positions: usize) -> String {
    if stream {
        String::new()
    } else {
        format!(", {parallel} of {positions} positions at once")
    }
}

/// What a dense kernel's config struct needs (a dense layer, a convolution's per-group block of
/// `groups`, a recurrent layer's products).
fn dense_params(d: &DensePlan, groups: usize) -> Value {
    json!({
        "n_in": d.n_in, "n_out": d.n_out, "reuse": d.reuse,
        "block_factor": d.block_factor(),
        "multiplier_limit": d.multipliers(groups),
        "strategy": d.strategy.name(),
        "n_slots": d.slots(),
        "n_groups": groups,
        "sparse": d.sparse.is_some(),
        "weight_width": d.weights.ty.width,
        "out_bits": d.sparse_out_bits(),
        "lanes_max": d.max_lanes(),
        "lane_start": d.sparse.as_ref().map(|s| s.lane_start.clone()).unwrap_or_default(),
        // Set by the caller of a distributed-arithmetic product (`da_struct`).
        "da_struct": "",
        "weight_bits_t": match &d.sparse {
            Some(_) => FixedType::fixed(d.sparse_entry_bits() + 1, 0).c_bits_type(),
            None => d.weights.ty.c_bits_type(),
        },
        "bias_bits_t": d.bias.ty.c_bits_type(),
    })
}

/// `base` with the keys of `extra` added.
fn with(mut base: Value, extra: Value) -> Value {
    if let (Value::Object(b), Value::Object(e)) = (&mut base, extra) {
        b.extend(e);
    }
    base
}
