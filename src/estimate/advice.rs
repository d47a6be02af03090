//! Reuse-factor and parallelization advice: every valid choice of each layer with its cost, and
//! the cheapest choices that meet latency and interval targets.

use super::*;

/// One reuse-factor (and, for io_parallel windows, parallelization) choice of a dense, conv,
/// pooling or recurrent layer and what it costs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReuseOption {
    /// A recurrent layer's: of its input product.
    pub reuse: usize,
    /// A recurrent layer's reuse factor of its recurrent product(s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurrent_reuse: Option<usize>,
    /// An io_parallel conv or pooling layer's output positions at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallelization: Option<usize>,
    pub strategy: crate::ir::Strategy,
    pub dsp: u64,
    pub lut: u64,
    pub latency_cycles: u64,
    pub ii: u64,
}

impl ReuseOption {
    /// This choice on a layer of the model.
    fn set(&self, hw: &mut crate::ir::Hardware) {
        hw.reuse = self.reuse;
        hw.recurrent_reuse = self.recurrent_reuse.unwrap_or(1);
        hw.strategy = self.strategy;
        if let Some(pf) = self.parallelization {
            hw.parallelization = pf;
        }
    }

    /// This choice as the layer's settings in a config (what `--target-*` writes).
    pub fn configure(&self, lc: &mut crate::config::LayerConfig) {
        lc.reuse = Some(self.reuse);
        lc.recurrent_reuse = self.recurrent_reuse;
        lc.strategy = Some(self.strategy);
        if self.parallelization.is_some() {
            lc.parallelization = self.parallelization;
        }
    }
}

/// Every valid reuse factor of each dense, conv and recurrent layer with its cost: (layer,
/// options). A recurrent layer's options pair an input and a recurrent reuse factor; an
/// io_parallel conv's pair a reuse factor with each parallelization factor, and an io_parallel
/// pooling layer's are its parallelization factors. Reuse factor 1 (both 1) is the latency
/// strategy; anything larger the resource strategy.
pub fn reuse_options(
    model: &Model,
    io: IoType,
    clock: f64,
) -> Result<Vec<(String, Vec<ReuseOption>)>> {
    use crate::kernels::dense::common_reuse_factors;
    let mut out = Vec::new();
    use crate::kernels::dense::past_unroll_limit;
    let strategy_of = |r: usize, q: Option<usize>| {
        if r == 1 && q.is_none_or(|q| q == 1) {
            crate::ir::Strategy::Latency
        } else {
            crate::ir::Strategy::Resource
        }
    };
    for n in model.topo_order() {
        let products = model.node(n).op.matrix_products();
        let pairs: Vec<(usize, Option<usize>)> = match model.node(n).op {
            // Only what Vitis unrolls (apply_config's limit): reuse 1 is the latency kernel.
            crate::ir::Op::Dense { .. } | crate::ir::Op::Conv { .. } => {
                common_reuse_factors(&products)
                    .into_iter()
                    .filter(|&r| past_unroll_limit(&products, strategy_of(r, None), r, r).is_none())
                    .map(|r| (r, None))
                    .collect()
            }
            crate::ir::Op::Recurrent(_) => {
                let recurrent = common_reuse_factors(&products[1..]);
                common_reuse_factors(&products[..1])
                    .into_iter()
                    .flat_map(|r| recurrent.iter().map(move |&q| (r, q)))
                    .filter(|&(r, q)| {
                        past_unroll_limit(&products, strategy_of(r, Some(q)), r, q).is_none()
                    })
                    .map(|(r, q)| (r, Some(q)))
                    .collect()
            }
            crate::ir::Op::Pool { .. } if io == IoType::Parallel => vec![(1, None)],
            _ => continue,
        };
        let windowed = io == IoType::Parallel
            && matches!(
                model.node(n).op,
                crate::ir::Op::Conv { .. } | crate::ir::Op::Pool { .. }
            );
        let factors: Vec<Option<usize>> = if windowed {
            let shape = &model.node(n).shape;
            crate::kernels::conv::valid_parallelization(shape[..shape.len() - 1].iter().product())
                .into_iter()
                .map(Some)
                .collect()
        } else {
            vec![None]
        };
        let mut options = Vec::new();
        for (r, q) in pairs {
            let mut m = model.clone();
            let strategy = strategy_of(r, q);
            let option = ReuseOption {
                reuse: r,
                recurrent_reuse: q,
                parallelization: None,
                strategy,
                dsp: 0,
                lut: 0,
                latency_cycles: 0,
                ii: 0,
            };
            option.set(&mut m.node_mut(n).hardware);
            // Planned once per reuse factor: the parallelization only repeats the kernel.
            let planned = crate::kernels::plan_layer(&m, n)?;
            for &pf in &factors {
                let mut plan = planned.clone();
                match (&mut plan.kernel, pf) {
                    (crate::kernels::Kernel::Conv(c), Some(pf)) => c.parallel = pf,
                    (crate::kernels::Kernel::Pool(pl), Some(pf)) => pl.parallel = pf,
                    _ => {}
                }
                let (cost, lat, ii, _) = layer(&plan, io, clock, lanes(&m, &plan, io));
                let (latency_cycles, ii) = match io {
                    // A layer that needs a DATAFLOW top is one of its processes.
                    IoType::Parallel if plan.kernel.needs_dataflow() => {
                        (lat, super::process_interval(&plan, lat, ii))
                    }
                    IoType::Parallel => (lat, ii),
                    // Its process with the input arriving a pixel a cycle.
                    IoType::Stream => {
                        let last_in = pixels(&m, m.inputs(n)[0]) as u64 - 1;
                        let (_, last, busy) = stream_process(&m, n, lat, ii, 0, last_in);
                        (last - last_in, busy)
                    }
                };
                options.push(ReuseOption {
                    parallelization: pf,
                    dsp: cost.dsp,
                    lut: cost.lut,
                    latency_cycles,
                    ii,
                    ..option.clone()
                });
            }
        }
        out.push((model.node(n).name.clone(), options));
    }
    Ok(out)
}

/// Per dense, conv and recurrent layer, the reuse factors (and strategy) of least cost (DSPs, then LUTs)
/// that keeps the design within `target_latency_ns` and `target_ii`: the cheapest option of
/// each layer within the interval first, then, while the latency is over, the step that saves
/// the most cycles per DSP added. None when even the fastest options miss the targets.
pub fn choose_reuse(
    model: &Model,
    io: IoType,
    clock: f64,
    part: &crate::parts::Part,
    target_latency_ns: Option<f64>,
    target_ii: Option<u64>,
) -> Result<Option<Vec<(String, ReuseOption)>>> {
    let options = reuse_options(model, io, clock)?;
    let mut pick: Vec<usize> = Vec::new();
    for (_, opts) in &options {
        let ok: Vec<usize> = (0..opts.len())
            .filter(|&k| target_ii.is_none_or(|t| opts[k].ii <= t))
            .collect();
        let Some(&best) = ok.iter().min_by_key(|&&k| {
            (
                opts[k].dsp,
                opts[k].lut,
                opts[k].reuse,
                opts[k].parallelization,
            )
        }) else {
            return Ok(None);
        };
        pick.push(best);
    }
    let latency_of = |pick: &[usize]| -> Result<f64> {
        let mut m = model.clone();
        for ((name, opts), &k) in options.iter().zip(pick) {
            let n = m.find(name).expect("layer of the model");
            opts[k].set(&mut m.node_mut(n).hardware);
        }
        Ok(estimate(&m, io, clock, part)?.latency_ns)
    };
    if let Some(target) = target_latency_ns {
        let mut lat = latency_of(&pick)?;
        while lat > target {
            // The faster option of some layer with the best cycles saved per DSP added.
            let mut best: Option<(usize, usize, f64)> = None;
            for (l, (_, opts)) in options.iter().enumerate() {
                let cur = &opts[pick[l]];
                for (k, o) in opts.iter().enumerate() {
                    if o.latency_cycles >= cur.latency_cycles || target_ii.is_some_and(|t| o.ii > t)
                    {
                        continue;
                    }
                    let saved = (cur.latency_cycles - o.latency_cycles) as f64;
                    let added = (o.dsp as f64 - cur.dsp as f64).max(0.0) + 1.0;
                    let score = saved / added;
                    if best.is_none_or(|(_, _, s)| score > s) {
                        best = Some((l, k, score));
                    }
                }
            }
            let Some((l, k, _)) = best else {
                return Ok(None);
            };
            pick[l] = k;
            lat = latency_of(&pick)?;
        }
    }
    Ok(Some(
        options
            .into_iter()
            .zip(pick)
            .map(|((name, opts), k)| (name, opts[k].clone()))
            .collect(),
    ))
}
