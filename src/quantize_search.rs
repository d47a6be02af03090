//! `quantize = "search"`: per-layer widths that minimise the bit cost (over every multiplication,
//! weight bits x input bits) while the fixed-point design keeps argmax agreement (classifiers) or
//! a maximum error (regressors) with the float model on the calibration data.
//!
//! It starts from the calibrated types of `quantize = "auto"` (integer bits from the observed
//! ranges, saturating) at the configured width, then narrows one knob at a time, a layer's weight
//! width or result width, to the smallest width that still meets the target (binary search, the
//! emulator judging), largest bit cost first, in rounds until nothing narrows. Integer bits stay
//! as calibrated; fractional bits go. The agreement target is met with a margin of two standard
//! errors on the calibration set, so that a separate test set meets it too. Every evaluation runs
//! the calibration samples on all cores.

use crate::arrays::Array;
use crate::config::{Config, Quantize};
use crate::emulate::Emulator;
use crate::error::{Error, Result};
use crate::ir::{FixedType, Model, Op};
use crate::kernels::{Kernel, plan_model};

/// Standard errors of the calibration agreement kept above the target: the greedy search sits
/// every width at the edge of what calibration accepts, so unseen data needs the margin.
const MARGIN_SE: f64 = 2.0;

/// What the searched design must keep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// Fraction of samples whose argmax equals the float model's.
    Agreement(f64),
    /// Largest |fixed - float| over every output value.
    MaxError(f64),
}

/// The search's outcome, for the compile summary and the tests.
#[derive(Debug, Clone)]
pub struct Report {
    /// The configuration with every searched type as a per-layer setting.
    pub config: Config,
    pub cost: u64,
    /// The bit cost with every type the configured precision (e.g. ap_fixed<16,6>).
    pub baseline_cost: u64,
    /// Agreement or max error on the calibration data.
    pub achieved: f64,
    pub evaluations: usize,
}

/// One setting the search narrows.
#[derive(Debug, Clone, PartialEq)]
enum Knob {
    Result(String),
    Weight(String),
}

/// Sum over dense and conv layers of multiplications x weight bits x input bits.
pub fn bit_cost(model: &Model) -> Result<u64> {
    let mut cost = 0;
    for p in plan_model(model)? {
        let d = match &p.kernel {
            Kernel::Dense(d) => d,
            Kernel::Conv(c) => &c.dense,
            _ => continue,
        };
        let x = p.input_types[0].width as u64;
        cost += d.multiplications as u64 * d.weights.ty.width as u64 * x;
    }
    Ok(cost)
}

/// Runs `rows` on the design, split over the machine's cores; the outputs as floats.
fn run_fixed(model: &Model, rows: &[Vec<f64>]) -> Result<Vec<Vec<f64>>> {
    let emu = Emulator::new(model)?;
    crate::emulate::par_map(rows.len(), |i| emu.run(&rows[i]))
}

fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// Agreement (fraction) or max error between the design's and the float outputs.
pub fn score(target: Target, fixed: &[Vec<f64>], float: &[Vec<f64>]) -> f64 {
    match target {
        Target::Agreement(_) => {
            let same = fixed
                .iter()
                .zip(float)
                .filter(|(a, b)| argmax(a) == argmax(b))
                .count();
            same as f64 / fixed.len().max(1) as f64
        }
        Target::MaxError(_) => fixed
            .iter()
            .zip(float)
            .flat_map(|(a, b)| a.iter().zip(b).map(|(x, y)| (x - y).abs()))
            .fold(0.0, f64::max),
    }
}

struct Search<'a> {
    model: &'a Model,
    rows: Vec<Vec<f64>>,
    float: Vec<Vec<f64>>,
    target: Target,
    /// The agreement the calibration data must show (the target plus one standard error).
    need: f64,
    evaluations: usize,
    progress: indicatif::ProgressBar,
}

impl Search<'_> {
    fn prepared(&self, config: &Config) -> Result<Model> {
        let mut m = self.model.clone();
        crate::passes::run(&mut m, config, None)?;
        Ok(m)
    }

    /// The design's score and whether it meets the target.
    fn judge(&mut self, config: &Config) -> Result<(f64, bool)> {
        self.evaluations += 1;
        self.progress.inc(1);
        let m = self.prepared(config)?;
        let s = score(self.target, &run_fixed(&m, &self.rows)?, &self.float);
        let ok = match self.target {
            Target::Agreement(_) => s >= self.need,
            Target::MaxError(e) => s <= e,
        };
        Ok((s, ok))
    }
}

/// Widths a type can take with its integer bits kept: at least one fractional bit's room.
fn with_width(t: FixedType, width: u32) -> FixedType {
    FixedType { width, ..t }
}

fn min_width(t: FixedType) -> u32 {
    (t.int.max(0) as u32 + 1).max(2)
}

fn get(config: &Config, knob: &Knob) -> FixedType {
    match knob {
        Knob::Result(n) => config.layers[n].result.expect("searched"),
        Knob::Weight(n) => config.layers[n].weight.expect("searched"),
    }
}

fn set(config: &mut Config, knob: &Knob, t: FixedType) {
    match knob {
        Knob::Result(n) => config.layers.get_mut(n).expect("searched").result = Some(t),
        Knob::Weight(n) => config.layers.get_mut(n).expect("searched").weight = Some(t),
    }
}

/// Runs the search on `model` (as loaded) with `base` (which names the calibration file and the
/// target).
pub fn search(model: &Model, base: &Config, target: Target) -> Result<Report> {
    let path = base.calib.as_ref().ok_or_else(|| {
        Error::input(
            "quantize = \"search\" needs calibration data: --calib X.npy (calib = \"x.npy\")",
        )
    })?;
    let x: Array = crate::arrays::read_model_inputs(path, model).map_err(|e| e.in_file(path))?;
    let rows: Vec<Vec<f64>> = crate::arrays::rows_of(&x);
    if rows.is_empty() {
        return Err(Error::input("the calibration data has no samples").in_file(path));
    }
    // The calibrated starting point, its types made explicit per layer.
    let start_cfg = Config {
        quantize: Quantize::Auto,
        ..base.clone()
    };
    let mut start = model.clone();
    crate::passes::run(&mut start, &start_cfg, None)?;
    let float: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| crate::emulate::float::run(&start, r))
        .collect();
    let mut config = Config {
        quantize: Quantize::Off,
        ..base.clone()
    };
    let mut knobs = Vec::new();
    for n in start.topo_order() {
        let node = start.node(n);
        if node.op.moves_data_only() || matches!(node.op, Op::Recurrent(_)) {
            continue;
        }
        let own = base.layers.get(&node.name).cloned().unwrap_or_default();
        let lc = config.layers.entry(node.name.clone()).or_default();
        lc.result = Some(node.precision.result);
        if own.result.or(own.precision).is_none() {
            knobs.push((Knob::Result(node.name.clone()), n));
        }
        if matches!(node.op, Op::Dense { .. } | Op::Conv { .. }) {
            lc.weight = Some(node.precision.weight);
            lc.bias = Some(node.precision.bias);
            if own.weight.or(own.precision).is_none() {
                knobs.push((Knob::Weight(node.name.clone()), n));
            }
        }
    }
    let baseline_cost = {
        let mut m = model.clone();
        let plain = Config {
            quantize: Quantize::Off,
            ..base.clone()
        };
        crate::passes::run(&mut m, &plain, None)?;
        bit_cost(&m)?
    };
    let need = match target {
        Target::Agreement(a) => {
            (a + MARGIN_SE * (a * (1.0 - a) / rows.len() as f64).sqrt()).min(1.0)
        }
        Target::MaxError(e) => e,
    };
    let progress = indicatif::ProgressBar::new((knobs.len() * 5) as u64);
    progress.set_style(
        indicatif::ProgressStyle::with_template(
            "quantize search {bar:30} {pos}/{len} evaluations {msg}",
        )
        .expect("valid template"),
    );
    let mut s = Search {
        model,
        rows,
        float,
        target,
        need,
        evaluations: 0,
        progress,
    };
    let (achieved, ok) = s.judge(&config)?;
    if !ok {
        return Err(Error::input(format!(
            "quantize search: even the calibrated types at width {} reach only {achieved:.4} (target {need:.4}); raise the width (--precision) or lower the target",
            base.precision.width
        )));
    }
    // Largest cost share first: a knob's share is its layer's products (inputs count for the
    // layers reading them).
    let share = |knob: &Knob| -> u64 {
        let m = &start;
        let mults = |n| match &m.node(n).op {
            Op::Dense { weights, .. } | Op::Conv { weights, .. } => weights.len() as u64,
            _ => 0,
        };
        match knob {
            Knob::Weight(name) => mults(m.find(name).unwrap()),
            Knob::Result(name) => {
                let n = m.find(name).unwrap();
                m.consumers(n).iter().map(|&(c, _)| mults(c)).sum()
            }
        }
    };
    let mut order: Vec<Knob> = knobs.into_iter().map(|(k, _)| k).collect();
    order.sort_by_key(|k| std::cmp::Reverse(share(k)));
    loop {
        let mut narrowed = false;
        for knob in &order {
            let t = get(&config, knob);
            let (mut lo, mut hi) = (min_width(t), t.width);
            // Smallest width meeting the target, assuming more bits never hurt.
            while lo < hi {
                let mid = (lo + hi) / 2;
                let mut trial = config.clone();
                set(&mut trial, knob, with_width(t, mid));
                if s.judge(&trial)?.1 {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            if hi < t.width {
                set(&mut config, knob, with_width(t, hi));
                narrowed = true;
            }
            let cost = bit_cost(&s.prepared(&config)?)?;
            s.progress
                .set_message(format!("bit cost {cost} (from {baseline_cost})"));
        }
        if !narrowed {
            break;
        }
    }
    s.progress.finish_and_clear();
    let final_model = s.prepared(&config)?;
    let achieved = score(target, &run_fixed(&final_model, &s.rows)?, &s.float);
    Ok(Report {
        cost: bit_cost(&final_model)?,
        baseline_cost,
        achieved,
        evaluations: s.evaluations,
        config,
    })
}
