//! Bit-accurate emulation of the generated design: executes the kernel plans with ap_fixed
//! semantics, in the same order as the hls_lib kernels. Its output must equal the C-simulation's
//! bit for bit.

use crate::error::{Error, Result};
use crate::ir::activation::Piecewise;
use crate::ir::fixed::pow2;
use crate::ir::ops::PoolKind;
use crate::ir::recurrent::{Cell, Direction, RecurrentOutput, State};
use crate::ir::tensor::TransposeSources;
use crate::ir::{Exact, FixedType, Model, Strategy};
use crate::kernels::activation::ActPlan;
use crate::kernels::activation::TableMode;
use crate::kernels::dense::{DensePlan, tree_sum};
use crate::kernels::recurrent::RecurrentPlan;
use crate::kernels::{Consts, Kernel, LayerPlan};
use petgraph::stable_graph::NodeIndex;
use std::collections::HashMap;

fn dead_after(model: &Model, plans: &[LayerPlan]) -> Vec<Vec<NodeIndex>> {
    model.dead_after(&plans.iter().map(|p| p.node).collect::<Vec<_>>())
}

/// The plans of a model, ready to run many samples.
pub struct Emulator<'m> {
    model: &'m Model,
    plans: std::borrow::Cow<'m, [LayerPlan]>,
    /// Per plan: the integer form of a dense or conv block whose sums are exact (`ExactDense`).
    exact: Vec<Option<ExactDense>>,
    /// Per plan: the values no later plan reads (`Model::dead_after`), dropped after it runs.
    dead: Vec<Vec<NodeIndex>>,
}

impl<'m> Emulator<'m> {
    pub fn new(model: &'m Model) -> Result<Emulator<'m>> {
        let plans: Vec<LayerPlan> = crate::kernels::plan_model(model)?;
        Ok(Emulator {
            model,
            exact: plans.iter().map(ExactDense::of).collect(),
            dead: dead_after(model, &plans),
            plans: plans.into(),
        })
    }

    /// With the model's plans already made (`plan_model`), as the backend has them.
    pub fn with_plans(model: &'m Model, plans: &'m [LayerPlan]) -> Emulator<'m> {
        Emulator {
            model,
            exact: plans.iter().map(ExactDense::of).collect(),
            dead: dead_after(model, plans),
            plans: plans.into(),
        }
    }

    /// `with_plans`, every dense and conv layer in the kernel's own multiply-accumulate order
    /// (no integer fast form): the reference the fast form is tested against.
    pub fn in_kernel_order(model: &'m Model, plans: &'m [LayerPlan]) -> Emulator<'m> {
        Emulator {
            model,
            exact: plans.iter().map(|_| None).collect(),
            dead: dead_after(model, plans),
            plans: plans.into(),
        }
    }

    /// How many layers run in the integer fast form (`ExactDense`).
    pub fn exact_layers(&self) -> usize {
        self.exact.iter().flatten().count()
    }

    /// Each input's type, in the model's input order.
    pub fn input_types(&self) -> Vec<FixedType> {
        let m = self.model;
        m.inputs
            .iter()
            .map(|&i| m.node(i).precision.result)
            .collect()
    }
    /// Each output's type, in the model's output order.
    pub fn output_types(&self) -> Vec<FixedType> {
        let m = self.model;
        m.outputs
            .iter()
            .map(|o| m.node(o.node).precision.result)
            .collect()
    }

    /// Quantizes a float sample into its inputs' bits (as the testbench's input is made).
    pub fn quantize_input(&self, x: &[f64]) -> Result<Vec<i128>> {
        self.quantize_input_observed(x, &mut |_, _| {})
    }

    /// `quantize_input`, showing each input's overflowing values to `observe` (input layer,
    /// overflows by type) after quantizing it.
    pub fn quantize_input_observed(
        &self,
        x: &[f64],
        observe: &mut dyn FnMut(NodeIndex, Vec<crate::ir::fixed::Overflowed>),
    ) -> Result<Vec<i128>> {
        let m = self.model;
        if x.len() != m.sample_input_size() {
            return Err(Error::input(format!(
                "a sample holds {} values; the model's inputs hold {} ({:?})",
                x.len(),
                m.sample_input_size(),
                m.sample_input_shapes()
            )));
        }
        let mut raw = Vec::with_capacity(x.len());
        for (n, r) in m.sample_input_ranges() {
            let t = m.node(n).precision.result;
            crate::ir::fixed::take_overflows();
            for &v in &x[r] {
                raw.push(
                    t.quantize_f64(v)
                        .map_err(|e| Error::input(format!("input value: {e}")))?,
                );
            }
            observe(n, crate::ir::fixed::take_overflows());
        }
        Ok(raw)
    }

    /// Output bits as the values they stand for, each output in its own type.
    pub fn output_values(&self, raw: &[i128]) -> Vec<f64> {
        let m = self.model;
        m.sample_output_ranges()
            .into_iter()
            .flat_map(|(n, r)| {
                let t = m.node(n).precision.result;
                raw[r].iter().map(move |&v| t.to_f64(v))
            })
            .collect()
    }

    /// The layer plans, in the order `run_observed` reports them.
    pub fn plans(&self) -> &[LayerPlan] {
        &self.plans
    }

    /// `run_raw`, showing every layer's bits to `observe` as they are made: (plan index, call,
    /// bits, the casts in that layer that overflowed their type). A static design's calls come
    /// one after another.
    pub fn run_observed(&self, input: &[i128], observe: &mut LayerObserver) -> Vec<i128> {
        let mut states = HashMap::new();
        let calls: Vec<Vec<i128>> = self
            .model
            .calls_of_sample(input)
            .iter()
            .enumerate()
            .map(|(c, x)| {
                crate::ir::fixed::take_overflows();
                let vals = self.run_call_layers(
                    x,
                    &mut states,
                    Some(&mut |k: usize, bits: &[i128]| {
                        observe(k, c, bits, crate::ir::fixed::take_overflows())
                    }),
                );
                self.outputs_of(&vals)
            })
            .collect();
        self.model.sample_of_calls(&calls)
    }

    /// Runs one sample given as input bits; returns the output bits. A static design runs
    /// `model.steps` calls (the testbench's loop), starting from the initial state.
    pub fn run_raw(&self, input: &[i128]) -> Vec<i128> {
        let mut states = HashMap::new();
        let calls: Vec<Vec<i128>> = self
            .model
            .calls_of_sample(input)
            .iter()
            .map(|x| self.run_call(x, &mut states))
            .collect();
        self.model.sample_of_calls(&calls)
    }

    /// One call of the design; `states` holds static recurrent layers' states (absent: initial).
    fn run_call(&self, input: &[i128], states: &mut HashMap<NodeIndex, State<i128>>) -> Vec<i128> {
        let vals = self.run_call_layers(input, states, None);
        self.outputs_of(&vals)
    }

    fn outputs_of(&self, vals: &HashMap<NodeIndex, Vec<i128>>) -> Vec<i128> {
        let outputs = &self.model.outputs;
        outputs
            .iter()
            .flat_map(|o| vals[&o.node].iter().copied())
            .collect()
    }

    /// One call: every layer's bits shown to `observe` (plan index, bits) when made, each dropped
    /// after its last reader; returns what is left, the outputs.
    fn run_call_layers(
        &self,
        input: &[i128],
        states: &mut HashMap<NodeIndex, State<i128>>,
        mut observe: Option<&mut CallObserver>,
    ) -> HashMap<NodeIndex, Vec<i128>> {
        let mut vals: HashMap<_, Vec<i128>> = HashMap::new();
        let ranges: HashMap<_, _> = self.model.call_input_ranges().into_iter().collect();
        for (k, p) in self.plans.iter().enumerate() {
            let ins: Vec<&Vec<i128>> = self.model.inputs(p.node).iter().map(|i| &vals[i]).collect();
            let out = self.layer_bits(k, &ins, input, &ranges, states);
            if let Some(f) = observe.as_deref_mut() {
                f(k, &out);
            }
            vals.insert(p.node, out);
            for d in &self.dead[k] {
                vals.remove(d);
            }
        }
        vals
    }

    /// Plan `k`'s bits from its inputs' (`input`: the call's input bits, which an input layer
    /// takes its part of).
    fn layer_bits(
        &self,
        k: usize,
        ins: &[&Vec<i128>],
        input: &[i128],
        ranges: &HashMap<NodeIndex, std::ops::Range<usize>>,
        states: &mut HashMap<NodeIndex, State<i128>>,
    ) -> Vec<i128> {
        let p = &self.plans[k];
        match &p.kernel {
            Kernel::Recurrent(rp) if rp.rec.stateful => {
                let state = states.entry(p.node).or_insert_with(|| initial_state(rp));
                run_recurrent(rp, ins[0], p.input_types[0], p.result, Some(state))
            }
            Kernel::Input => input[ranges[&p.node].clone()].to_vec(),
            _ => match &self.exact[k] {
                Some(e) => e.run(p, ins[0]),
                None => run_layer(p, ins),
            },
        }
    }

    /// `run_observed` on several samples at once, `observe` also told the sample (its first
    /// argument): an exact dense layer reads each weight row once for all of them. The bits are
    /// the same as one sample at a time; a batched layer's overflows are all shown with the
    /// first sample (they are summed over samples). A static design runs sample by sample.
    pub fn run_batch_observed(
        &self,
        inputs: &[Vec<i128>],
        observe: &mut BatchObserver,
    ) -> Vec<Vec<i128>> {
        use crate::ir::fixed::take_overflows;
        if self.model.steps > 1 {
            return inputs
                .iter()
                .enumerate()
                .map(|(s, x)| self.run_observed(x, &mut |k, c, b, o| observe(s, k, c, b, o)))
                .collect();
        }
        let ranges: HashMap<_, _> = self.model.call_input_ranges().into_iter().collect();
        let mut vals: Vec<HashMap<NodeIndex, Vec<i128>>> = vec![HashMap::new(); inputs.len()];
        let mut states: Vec<HashMap<NodeIndex, State<i128>>> = vec![HashMap::new(); inputs.len()];
        take_overflows();
        for (k, p) in self.plans.iter().enumerate() {
            let outs: Vec<(Vec<i128>, Vec<crate::ir::fixed::Overflowed>)> =
                match (&p.kernel, &self.exact[k]) {
                    (Kernel::Dense(d), Some(e)) => {
                        let x = self.model.inputs(p.node)[0];
                        let xs: Vec<&[i128]> = vals.iter().map(|v| v[&x].as_slice()).collect();
                        let mut outs: Vec<_> = e
                            .dense_batch(p, d, &xs)
                            .into_iter()
                            .map(|b| (b, Vec::new()))
                            .collect();
                        if let Some(first) = outs.first_mut() {
                            first.1 = take_overflows();
                        }
                        outs
                    }
                    _ => (0..inputs.len())
                        .map(|s| {
                            let ins: Vec<&Vec<i128>> = self
                                .model
                                .inputs(p.node)
                                .iter()
                                .map(|i| &vals[s][i])
                                .collect();
                            let out = self.layer_bits(k, &ins, &inputs[s], &ranges, &mut states[s]);
                            (out, take_overflows())
                        })
                        .collect(),
                };
            for (s, (out, over)) in outs.into_iter().enumerate() {
                observe(s, k, 0, &out, over);
                vals[s].insert(p.node, out);
                for d in &self.dead[k] {
                    vals[s].remove(d);
                }
            }
        }
        vals.iter().map(|v| self.outputs_of(v)).collect()
    }

    /// Runs one float sample; returns the output as floats (exact values of the output bits).
    pub fn run(&self, x: &[f64]) -> Result<Vec<f64>> {
        let raw = self.run_raw(&self.quantize_input(x)?);
        Ok(self.output_values(&raw))
    }
}

/// Sees each layer's bits as the emulator makes them: (plan index, call, bits, the casts in the
/// layer that overflowed their type, by type).
pub type LayerObserver<'a> =
    dyn FnMut(usize, usize, &[i128], Vec<crate::ir::fixed::Overflowed>) + 'a;

/// [`LayerObserver`] of several samples: (sample, plan index, call, bits, overflows).
pub type BatchObserver<'a> =
    dyn FnMut(usize, usize, usize, &[i128], Vec<crate::ir::fixed::Overflowed>) + 'a;

/// Sees each layer's bits in one call: (plan index, bits).
type CallObserver<'a> = dyn FnMut(usize, &[i128]) + 'a;

/// A dense or conv layer whose accumulator holds every partial sum exactly, whatever the input
/// (the automatic accumulator is chosen so): no cast inside the block rounds or overflows, so the
/// kernel's multiply-accumulate order cannot change a bit and the sums run in i64, inputs outer
/// and outputs inner over a contiguous weight row (what the machine does fastest). Any other
/// layer, or a set accumulator that can round or overflow, runs `dense_block` in the kernel's
/// order.
struct ExactDense {
    /// Per group, [n_in][n_out] weight bits (zeros included).
    weights: Vec<i64>,
    /// Per group, n_out biases in units of 2^-`frac`.
    bias: Vec<i64>,
    /// Products x*w are scaled up by this many bits to units of 2^-`frac`.
    product_shift: u32,
    /// Sums in units of 2^-`frac` are accumulator bits after a shift up by this.
    accum_shift: u32,
}

impl ExactDense {
    fn of(p: &LayerPlan) -> Option<ExactDense> {
        let (d, groups) = match &p.kernel {
            Kernel::Dense(d) => (d, 1),
            Kernel::Conv(c) => (&c.dense, c.groups),
            _ => return None,
        };
        let (x, w, b, acc) = (p.input_types[0], d.weights.ty, d.bias.ty, d.accum);
        let product_frac = x.frac() + w.frac();
        let frac = product_frac.max(b.frac());
        if acc.frac() < frac || !acc.signed {
            return None;
        }
        let (n_in, n_out) = (d.n_in, d.n_out);
        let mut weights = vec![0i64; groups * n_in * n_out];
        for g in 0..groups {
            for (i, j, k) in d.entries(g) {
                // (A sparse list's padding entries are zero weights at some index: skipped.)
                if d.weights.raw[k] != 0 {
                    weights[(g * n_in + i) * n_out + j] = i64::try_from(d.weights.raw[k]).ok()?;
                }
            }
        }
        // Every partial sum, in any order, is within |b| + sum |x| |w| of zero: in units of
        // 2^-frac that must fit an i64, and as a value the accumulator.
        let x_max = x
            .raw_range()
            .0
            .unsigned_abs()
            .max(x.raw_range().1.unsigned_abs()) as f64;
        let product_shift = (frac - product_frac) as u32;
        let bias_shift = (frac - b.frac()) as u32;
        let (bias_scale, product_scale) = (pow2(bias_shift as i32), pow2(product_shift as i32));
        let (limit, value_of_unit) = (pow2(62), pow2(-frac));
        let mut bias = Vec::with_capacity(groups * n_out);
        let mut w_sums = vec![0.0f64; n_out];
        for g in 0..groups {
            // Row by row (memory order), each output's sum of weight magnitudes.
            w_sums.iter_mut().for_each(|s| *s = 0.0);
            for row in weights[g * n_in * n_out..(g + 1) * n_in * n_out].chunks_exact(n_out) {
                for (s, &w) in w_sums.iter_mut().zip(row) {
                    *s += w.unsigned_abs() as f64;
                }
            }
            for (j, w_sum) in w_sums.iter().enumerate() {
                let braw = d.bias.raw[g * n_out + j];
                let bound =
                    (braw.unsigned_abs() as f64) * bias_scale + w_sum * x_max * product_scale;
                if bound >= limit || bound * value_of_unit > acc.max_value() {
                    return None;
                }
                bias.push((braw as i64) << bias_shift);
            }
        }
        Some(ExactDense {
            weights,
            bias,
            product_shift,
            accum_shift: (acc.frac() - frac) as u32,
        })
    }

    /// The layer's output bits, as `run_layer` gives them (a large convolution's positions
    /// shared among the cores).
    fn run(&self, p: &LayerPlan, x: &[i128]) -> Vec<i128> {
        match &p.kernel {
            Kernel::Dense(d) => self.dense_batch(p, d, &[x]).pop().expect("one sample"),
            Kernel::Conv(c) => {
                let d = &c.dense;
                let cg = c.channels_per_group();
                let ksize = c.window.size();
                let positions = c.window.positions(&c.in_spatial);
                crate::ir::parallel::par_ranges(positions, c.groups * d.n_in * d.n_out, |range| {
                    let mut out = Vec::with_capacity(range.len() * c.groups * d.n_out);
                    let mut acc = vec![0i64; d.n_out];
                    let mut patch = vec![0i64; ksize * cg];
                    c.window.for_positions(&c.in_spatial, range, |taps| {
                        for g in 0..c.groups {
                            // The patch in weight-row order (kernel position, then channel);
                            // zero in padding.
                            for (tap, part) in taps.iter().zip(patch.chunks_exact_mut(cg)) {
                                match tap {
                                    Some(pos) => {
                                        let at = pos * c.in_channels + g * cg;
                                        for (v, &xv) in part.iter_mut().zip(&x[at..at + cg]) {
                                            *v = xv as i64;
                                        }
                                    }
                                    None => part.fill(0),
                                }
                            }
                            self.block(p, d, g, &patch, &mut acc, &mut out);
                        }
                    });
                    out
                })
            }
            _ => unreachable!("ExactDense::of takes dense and conv layers only"),
        }
    }

    /// A dense layer on several samples' inputs, each weight row read once for all of them.
    fn dense_batch(&self, p: &LayerPlan, d: &DensePlan, xs: &[&[i128]]) -> Vec<Vec<i128>> {
        let n_out = d.n_out;
        let mut accs: Vec<Vec<i64>> = xs.iter().map(|_| self.bias[..n_out].to_vec()).collect();
        for (i, row) in self.weights.chunks_exact(n_out.max(1)).enumerate() {
            for (acc, x) in accs.iter_mut().zip(xs) {
                self.accumulate(acc, x[i] as i64, row);
            }
        }
        accs.iter()
            .map(|acc| acc.iter().map(|&a| self.result_bits(p, d, a)).collect())
            .collect()
    }

    /// One block of group `g` on inputs `xs`: its outputs, cast to the result type, onto `out`.
    fn block(
        &self,
        p: &LayerPlan,
        d: &DensePlan,
        g: usize,
        xs: &[i64],
        acc: &mut [i64],
        out: &mut Vec<i128>,
    ) {
        let (n_in, n_out) = (d.n_in, d.n_out);
        acc.copy_from_slice(&self.bias[g * n_out..(g + 1) * n_out]);
        let w = &self.weights[g * n_in * n_out..(g + 1) * n_in * n_out];
        for (&xi, row) in xs.iter().zip(w.chunks_exact(n_out)) {
            self.accumulate(acc, xi, row);
        }
        out.extend(acc.iter().map(|&a| self.result_bits(p, d, a)));
    }

    /// acc += x * row, in units of 2^-frac (a zero input skipped: its row is not read).
    fn accumulate(&self, acc: &mut [i64], x: i64, row: &[i64]) {
        if x == 0 {
            return;
        }
        let x = x << self.product_shift;
        for (a, &w) in acc.iter_mut().zip(row) {
            *a += x * w;
        }
    }

    /// An exact sum as the layer's result bits.
    fn result_bits(&self, p: &LayerPlan, d: &DensePlan, a: i64) -> i128 {
        p.result
            .cast(d.accum.exact((a as i128) << self.accum_shift))
    }
}

/// One dense block in the kernel's multiply-accumulate order: accumulators (raw, accum type) for
/// inputs `x(i)`, the weights of group `group` and biases from `b_off` (conv groups).
fn dense_block(d: &DensePlan, x: impl Fn(usize) -> Exact, group: usize, b_off: usize) -> Vec<i128> {
    let mut acc: Vec<i128> = d.bias.raw[b_off..b_off + d.n_out]
        .iter()
        .map(|&b| d.accum.cast(d.bias.ty.exact(b)))
        .collect();
    let product = |k: usize, i: usize| x(i).mul(d.weights.ty.exact(d.weights.raw[k]));
    match (&d.sparse, d.strategy) {
        (_, Strategy::DistributedArithmetic) => {
            // The adder graph's sum is exact (kernels::da), and the bias joins it exactly: the
            // one cast is of the whole sum into the accumulator.
            let mut sums: Vec<Exact> = d.bias.raw[b_off..b_off + d.n_out]
                .iter()
                .map(|&b| d.bias.ty.exact(b))
                .collect();
            for (i, j, k) in d.schedule(group) {
                if d.weights.raw[k] != 0 {
                    sums[j] = sums[j].add(product(k, i));
                }
            }
            for (a, s) in acc.iter_mut().zip(sums) {
                *a = d.accum.cast(s);
            }
        }
        (Some(s), Strategy::Resource) => {
            // Each pass: every lane's product cast to the accumulator, each output's lanes
            // summed in the kernel's adder tree (max_lanes leaves, zero past the output's
            // own), the tree added into the accumulator.
            let add = |a: i128, b: i128| d.accum.cast(d.accum.exact(a).add(d.accum.exact(b)));
            let leaves_per_tree = d.max_lanes();
            let mut leaves = Vec::with_capacity(leaves_per_tree);
            for ir in 0..d.reuse {
                for (j, acc) in acc.iter_mut().enumerate() {
                    leaves.clear();
                    leaves.extend(
                        d.pass_lanes(group, ir, j)
                            .map(|k| d.accum.cast(product(k, s.index[k].0 as usize))),
                    );
                    leaves.resize(leaves_per_tree, 0);
                    *acc = add(*acc, tree_sum(&leaves, &add));
                }
            }
        }
        (None, Strategy::Latency | Strategy::Resource) | (Some(_), Strategy::Latency) => {
            for (i, j, k) in d.schedule(group) {
                if d.weights.raw[k] == 0 {
                    continue; // the kernel skips zero weights; adding 0 changes nothing anyway
                }
                acc[j] = d.accum.cast(d.accum.exact(acc[j]).add(product(k, i)));
            }
        }
    }
    acc
}

/// An activation, of a layer or a recurrent gate: the value (raw in `ty`) to a raw value of
/// `out`, as hls_lib's `hlsrs::activate` computes it.
fn activate(a: &ActPlan, raw: i128, ty: FixedType, out: FixedType) -> i128 {
    let v = ty.exact(raw);
    let c = |k: &Consts| k.ty.exact(k.raw[0]);
    out.cast(match a {
        ActPlan::Table(t) => {
            let pass = match t.mode {
                TableMode::PositivePass => raw > 0,
                TableMode::AbovePass => t.unclamped_index(raw) >= t.size() as i128,
                TableMode::Table | TableMode::PositiveScale => false,
            };
            match &t.gamma {
                _ if pass => v,
                Some(gamma) if t.mode == TableMode::PositiveScale && raw > 0 => v.mul(c(gamma)),
                _ => t.table.ty.exact(t.table.raw[t.index(raw)]),
            }
        }
        ActPlan::Piecewise(Piecewise::Relu) => {
            if raw > 0 {
                v
            } else {
                Exact::zero()
            }
        }
        ActPlan::Piecewise(Piecewise::LeakyRelu { alpha }) => {
            if raw > 0 {
                v
            } else {
                v.mul(c(alpha))
            }
        }
        ActPlan::Piecewise(Piecewise::ThresholdedRelu { alpha }) => {
            if v.cmp_value(c(alpha)).is_gt() {
                v
            } else {
                Exact::zero()
            }
        }
        ActPlan::Piecewise(Piecewise::Affine { alpha, beta }) => v.mul(c(alpha)).add(c(beta)),
        ActPlan::Piecewise(Piecewise::HardSigmoid { alpha, beta }) => {
            let t = v.mul(c(alpha)).add(c(beta));
            let one = Exact::new(1, 0);
            if t.raw < 0 {
                Exact::zero()
            } else if t.cmp_value(one).is_gt() {
                one
            } else {
                t
            }
        }
    })
}

/// A static layer's state before its first step: the plan's initial state bits.
fn initial_state(rp: &RecurrentPlan) -> State<i128> {
    State {
        h: rp.h0.raw.clone(),
        c: rp.c0.raw.clone(),
    }
}

/// LSTM / GRU / RNN in the order of hls_lib/hlsrs_recurrent.h. With `state`, the steps start from
/// it and leave their final state in it (static layers); without, from the initial state.
fn run_recurrent(
    rp: &RecurrentPlan,
    x: &[i128],
    xt: FixedType,
    res: FixedType,
    mut state: Option<&mut State<i128>>,
) -> Vec<i128> {
    let rec = &rp.rec;
    let (dirs, hs, n_in, seq) = (rec.direction.count(), rec.hidden, rp.n_in, rp.seq);
    let (a, st, gt) = (rp.accum, rp.state, rp.gate_type);
    let per_dir = rec.cell.activation_count();
    let one = Exact::new(1, 0);
    let clipf = |acc: i128| -> i128 {
        match &rp.clip {
            None => acc,
            Some(c) => {
                let cl = c.ty.exact(c.raw[0]);
                let v = a.exact(acc);
                if v.cmp_value(cl.neg()).is_lt() {
                    a.cast(cl.neg())
                } else if v.cmp_value(cl).is_gt() {
                    a.cast(cl)
                } else {
                    acc
                }
            }
        }
    };
    let mut y = vec![0i128; seq * dirs * hs];
    let (mut last_h, mut last_c) = (vec![0i128; dirs * hs], vec![0i128; dirs * hs]);
    for d in 0..dirs {
        let reverse = rec.direction == Direction::Reverse || d == 1;
        let acts = &rp.acts[d * per_dir..(d + 1) * per_dir];
        let (h0, c0) = match state.as_deref() {
            Some(s) => (&s.h, &s.c),
            None => (&rp.h0.raw, &rp.c0.raw),
        };
        let mut h: Vec<i128> = h0[d * hs..(d + 1) * hs].to_vec();
        let mut c: Vec<i128> = c0[d * hs..(d + 1) * hs].to_vec();
        for step in 0..seq {
            let t = if reverse { seq - 1 - step } else { step };
            let xr = &x[t * n_in..(t + 1) * n_in];
            // The two products, each in its dense kernel's order, then their sum per gate row.
            let wx = dense_block(&rp.wx[d], |i| xt.exact(xr[i]), 0, 0);
            let rh = dense_block(&rp.rh[d], |i| st.exact(h[i]), 0, 0);
            let sum = |row: usize| a.cast(a.exact(wx[row]).add(a.exact(rh[row])));
            let mut nh = vec![0i128; hs];
            match &rec.cell {
                Cell::Rnn => {
                    for (j, v) in nh.iter_mut().enumerate() {
                        *v = st.cast(gt.exact(activate(&acts[0], clipf(sum(j)), a, gt)));
                    }
                }
                Cell::Lstm { input_forget } => {
                    let peep = |acc: i128, k: usize, j: usize, cv: i128| -> i128 {
                        match &rp.p {
                            None => acc,
                            Some(p) => {
                                let pw = p.ty.exact(p.raw[d * 3 * hs + k * hs + j]);
                                a.cast(a.exact(acc).add(pw.mul(st.exact(cv))))
                            }
                        }
                    };
                    let gate = |k: usize, j: usize| sum(k * hs + j);
                    let mut nc = vec![0i128; hs];
                    for j in 0..hs {
                        let i_g = activate(&acts[0], clipf(peep(gate(0, j), 0, j, c[j])), a, gt);
                        let f_g = if *input_forget {
                            gt.cast(one.sub(gt.exact(i_g)))
                        } else {
                            activate(&acts[0], clipf(peep(gate(2, j), 2, j, c[j])), a, gt)
                        };
                        let c_g = activate(&acts[1], clipf(gate(3, j)), a, gt);
                        nc[j] = st.cast(
                            gt.exact(f_g)
                                .mul(st.exact(c[j]))
                                .add(gt.exact(i_g).mul(gt.exact(c_g))),
                        );
                        let o_g = activate(&acts[0], clipf(peep(gate(1, j), 1, j, nc[j])), a, gt);
                        let hc = activate(&acts[2], nc[j], st, gt);
                        nh[j] = st.cast(gt.exact(o_g).mul(gt.exact(hc)));
                    }
                    c = nc;
                }
                Cell::Gru {
                    linear_before_reset,
                } => {
                    let z: Vec<i128> = (0..hs)
                        .map(|j| activate(&acts[0], clipf(sum(j)), a, gt))
                        .collect();
                    let r: Vec<i128> = (0..hs)
                        .map(|j| activate(&acts[0], clipf(sum(hs + j)), a, gt))
                        .collect();
                    let rhh = if *linear_before_reset {
                        Vec::new()
                    } else {
                        let rh_in: Vec<i128> = (0..hs)
                            .map(|i| st.cast(gt.exact(r[i]).mul(st.exact(h[i]))))
                            .collect();
                        dense_block(&rp.rhh[d], |i| st.exact(rh_in[i]), 0, 0)
                    };
                    for j in 0..hs {
                        let ax = a.exact(wx[2 * hs + j]);
                        let pre = if *linear_before_reset {
                            a.cast(ax.add(gt.exact(r[j]).mul(a.exact(rh[2 * hs + j]))))
                        } else {
                            a.cast(ax.add(a.exact(rhh[j])))
                        };
                        let hh = activate(&acts[1], clipf(pre), a, gt);
                        let zj = gt.exact(z[j]);
                        nh[j] = st.cast(one.sub(zj).mul(gt.exact(hh)).add(zj.mul(st.exact(h[j]))));
                    }
                }
            }
            h = nh;
            for j in 0..hs {
                y[(t * dirs + d) * hs + j] = res.cast(st.exact(h[j]));
            }
        }
        for j in 0..hs {
            last_h[d * hs + j] = res.cast(st.exact(h[j]));
            last_c[d * hs + j] = res.cast(st.exact(c[j]));
        }
        if let Some(s) = state.as_deref_mut() {
            s.h[d * hs..(d + 1) * hs].copy_from_slice(&h);
            s.c[d * hs..(d + 1) * hs].copy_from_slice(&c);
        }
    }
    match rec.output {
        RecurrentOutput::Sequence => y,
        RecurrentOutput::LastHidden => last_h,
        RecurrentOutput::LastCell => last_c,
    }
}

fn run_layer(p: &LayerPlan, ins: &[&Vec<i128>]) -> Vec<i128> {
    let res = p.result;
    let x = |k: usize, i: usize| p.input_types[k].exact(ins[k][i]);
    match &p.kernel {
        Kernel::Input => unreachable!("an input's values come from the call, not a layer"),
        Kernel::Dense(d) => dense_block(d, |i| x(0, i), 0, 0)
            .iter()
            .map(|&a| res.cast(d.accum.exact(a)))
            .collect(),
        Kernel::Conv(c) => {
            let d = &c.dense;
            let (cg, og) = (c.channels_per_group(), d.n_out);
            let ksize = c.window.size();
            let mut out = Vec::with_capacity(p.size);
            c.window.for_each_position(&c.in_spatial, |taps| {
                for g in 0..c.groups {
                    // The patch, in weight-row order (kernel position, then channel); zero in padding.
                    let patch: Vec<Exact> = (0..ksize * cg)
                        .map(|k| match taps[k / cg] {
                            Some(pos) => x(0, pos * c.in_channels + g * cg + k % cg),
                            None => Exact::zero(),
                        })
                        .collect();
                    let acc = dense_block(d, |i| patch[i], g, g * og);
                    out.extend(acc.iter().map(|&a| res.cast(d.accum.exact(a))));
                }
            });
            out
        }
        Kernel::Pool(pl) => {
            let c = pl.channels;
            let mut out = Vec::with_capacity(p.size);
            pl.window.for_each_position(&pl.in_spatial, |taps| {
                for ch in 0..c {
                    let vals: Vec<i128> = taps
                        .iter()
                        .flatten()
                        .map(|&pos| ins[0][pos * c + ch])
                        .collect();
                    let t = p.input_types[0];
                    out.push(match pl.kind {
                        PoolKind::Max => match vals.iter().max() {
                            Some(&m) => res.cast(t.exact(m)),
                            None => res.cast(Exact::zero()),
                        },
                        PoolKind::Average => {
                            let mut sum = 0i128;
                            for &v in &vals {
                                sum = pl.sum.cast(pl.sum.exact(sum).add(t.exact(v)));
                            }
                            let count = if pl.count_include_pad {
                                taps.len()
                            } else {
                                vals.len()
                            };
                            if count == 0 {
                                res.cast(Exact::zero())
                            } else {
                                let r = pl.recip.ty.exact(pl.recip.raw[count - 1]);
                                res.cast(pl.sum.exact(sum).mul(r))
                            }
                        }
                    });
                }
            });
            out
        }
        Kernel::Recurrent(rp) => run_recurrent(rp, ins[0], p.input_types[0], res, None),
        Kernel::Concat { sources } => sources.iter().map(|&(k, i)| res.cast(x(k, i))).collect(),
        Kernel::Sub => (0..p.size)
            .map(|i| res.cast(x(0, i).sub(x(1, i))))
            .collect(),
        Kernel::Mul => (0..p.size)
            .map(|i| res.cast(x(0, i).mul(x(1, i))))
            .collect(),
        // As hls_lib's argmax: a chain of exact comparisons (one type, so of the bits).
        Kernel::ArgMax { n, last, .. } => ins[0]
            .chunks(*n)
            .map(|row| {
                let mut k = 0;
                for (i, &v) in row.iter().enumerate().skip(1) {
                    if v > row[k] || (*last && v == row[k]) {
                        k = i;
                    }
                }
                res.cast(Exact::new(k as i128, 0))
            })
            .collect(),
        // As hls_lib's maximum / minimum: exact comparison, one cast.
        Kernel::Max => (0..p.size)
            .map(|i| {
                let (a, b) = (x(0, i), x(1, i));
                res.cast(if a.cmp_value(b).is_lt() { b } else { a })
            })
            .collect(),
        Kernel::Min => (0..p.size)
            .map(|i| {
                let (a, b) = (x(0, i), x(1, i));
                res.cast(if b.cmp_value(a).is_lt() { b } else { a })
            })
            .collect(),
        Kernel::ScaleShift {
            channels,
            scale,
            shift,
        } => (0..p.size)
            .map(|i| {
                let c = i % channels;
                let v = x(0, i)
                    .mul(scale.ty.exact(scale.raw[c]))
                    .add(shift.ty.exact(shift.raw[c]));
                res.cast(v)
            })
            .collect(),
        Kernel::Activation(a) => {
            let ty = p.input_types[0];
            ins[0]
                .iter()
                .map(|&raw| activate(a, raw, ty, res))
                .collect()
        }
        Kernel::Quant { bipolar: true, .. } => (0..p.size)
            .map(|i| if x(0, i).raw >= 0 { 1 } else { -1 })
            .collect(),
        Kernel::Quant { round, codes, .. } => (0..p.size)
            .map(|i| {
                let v = x(0, i);
                let code = match round {
                    Some(r) => r.apply(v.raw, v.frac - res.frac()),
                    None => res.cast(v),
                };
                match codes {
                    Some((lo, hi)) => code.clamp(*lo as i128, *hi as i128),
                    None => code,
                }
            })
            .collect(),
        Kernel::Clip { min, max } => (0..p.size)
            .map(|i| {
                let v = x(0, i);
                let lo = min.as_ref().map(|c| c.ty.exact(c.raw[0]));
                let hi = max.as_ref().map(|c| c.ty.exact(c.raw[0]));
                res.cast(match (lo, hi) {
                    (Some(lo), _) if v.cmp_value(lo).is_lt() => lo,
                    (_, Some(hi)) if v.cmp_value(hi).is_gt() => hi,
                    _ => v,
                })
            })
            .collect(),
        Kernel::PRelu { slope } => (0..p.size)
            .map(|i| {
                let v = x(0, i);
                let s = slope.ty.exact(slope.raw[i % slope.raw.len()]);
                res.cast(if v.raw > 0 { v } else { v.mul(s) })
            })
            .collect(),
        Kernel::Softmax(s) => {
            let mut out = Vec::with_capacity(p.size);
            for r in 0..s.rows {
                let row = &ins[0][r * s.n..(r + 1) * s.n];
                let max = *row.iter().max().expect("softmax row is not empty");
                let e: Vec<i128> = row
                    .iter()
                    .map(|&v| s.exp_table.raw[s.exp_index(max - v)])
                    .collect();
                let et = s.exp_table.ty;
                let mut sum = 0i128;
                for &v in &e {
                    sum = s.sum.cast(s.sum.exact(sum).add(et.exact(v)));
                }
                let inv = s.inv_table.raw[s.inv_index(sum)];
                for &v in &e {
                    out.push(res.cast(et.exact(v).mul(s.inv_table.ty.exact(inv))));
                }
            }
            out
        }
        Kernel::Add => (0..p.size)
            .map(|i| res.cast(x(0, i).add(x(1, i))))
            .collect(),
        Kernel::Transpose { in_shape, perm } => TransposeSources::new(in_shape, perm)
            .map(|k| res.cast(x(0, k)))
            .collect(),
        Kernel::Gather { index, fill } => index
            .iter()
            .map(|&k| {
                if k < 0 {
                    *fill
                } else {
                    res.cast(x(0, k as usize))
                }
            })
            .collect(),
    }
}
