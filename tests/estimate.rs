//! The estimator (issue 6) against real Vitis HLS 2024.1 results: every network of
//! ../shared/reference/vitis-csynth rebuilt as a test model (testdata/estimator, made by
//! scripts/make_estimator_testdata.py, each beside its reference result) with the reference's
//! configuration. Latency, II and DSP within 25% (or exact), LUT and FF within a factor of 2. The
//! table of estimate against real figures is printed for the issue notes. And a held-out set the
//! constants were not fitted to (testdata/estimator_holdout).

mod common;

use hlsrs::config::Config;
use hlsrs::estimate::{Figure, estimate};

/// Estimates for every network under `set` against its reference: prints the table and returns
/// the figures outside the targets ("network figure").
fn misses(set: &str, count: usize) -> Vec<String> {
    let dir = common::root().join("testdata").join(set);
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), count, "{names:?}");
    let mut failures = Vec::new();
    println!(
        "{:<32} {:>11} {:>11} {:>11} {:>13} {:>13} {:>9}",
        set, "latency", "II", "DSP", "LUT", "FF", "BRAM_18K"
    );
    for name in &names {
        let d = dir.join(name);
        let reference: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("reference.json")).unwrap())
                .unwrap();
        let r = &reference["CSynthesisReport"];
        let real = |k: &str| r[k].as_str().unwrap().parse::<u64>().unwrap();
        let config =
            Config::from_toml(&std::fs::read_to_string(d.join("config.toml")).unwrap()).unwrap();
        let p = hlsrs::prepare(&d.join("model.json"), &config, None).unwrap();
        let e = estimate(&p.model, config.io, config.clock, &p.part).unwrap();
        let t = &e.total;
        let rows = [
            ("latency", e.latency_cycles, real("WorstLatency")),
            ("II", e.ii, real("IntervalMax")),
            ("DSP", t.dsp, real("DSP")),
            ("LUT", t.lut, real("LUT")),
            ("FF", t.ff, real("FF")),
            ("BRAM_18K", t.bram_18k, real("BRAM_18K")),
        ];
        let cell = |k: usize| format!("{}/{}", rows[k].1, rows[k].2);
        println!(
            "{name:<32} {:>11} {:>11} {:>11} {:>13} {:>13} {:>9}",
            cell(0),
            cell(1),
            cell(2),
            cell(3),
            cell(4),
            cell(5)
        );
        // The tolerances are the estimator's own (the ones `hlsrs report --check` applies);
        // BRAM_18K has no target in the calibration.
        for (what, est, real) in rows {
            let figure = Figure::ALL.into_iter().find(|f| f.name() == what).unwrap();
            if figure != Figure::Bram && !figure.within(est, real) {
                failures.push(format!("{name} {what}"));
            }
        }
    }
    failures
}

#[test]
fn estimates_land_near_real_synthesis_results() {
    assert_eq!(misses("estimator", 11), Vec::<String>::new());
}

/// The other Vitis 2024.1 baselines of the same hls4ml test file (testdata/estimator_holdout,
/// from hls4ml 1.3.0's source distribution): the model was not fitted to them (the io_stream
/// activations did show that a stream process registers its pixel for at least a cycle). Every
/// figure is within the targets except these: on the depthwise convolutions, where hls4ml's
/// 32-bit products went partly into LUTs (with their pipeline registers) where our rule gives
/// each two DSPs, and the DSPs of the io_parallel conv2d, whose many small weights (Keras
/// 'normal', stddev 0.05) Vitis put half into DSPs where our rule says LUTs. docs/estimator.md
/// lists them.
#[test]
fn held_out_estimates_miss_only_the_documented_figures() {
    assert_eq!(
        misses("estimator_holdout", 12),
        [
            "conv2d_io_parallel_resource DSP",
            "depthwise1d_io_stream LUT",
            "depthwise2d_io_stream DSP",
            "depthwise2d_io_stream LUT",
            "depthwise2d_io_stream FF",
        ]
    );
}

/// The FIFO model against the FIFO table of the shared Vivado HLS report (an hls4ml io_stream
/// design): each FIFO's depth and width from the table, our cost summed, against the FFs and
/// LUTs the report's summary charges to FIFOs.
#[test]
fn fifo_costs_match_the_vendor_report() {
    let text = std::fs::read_to_string(
        common::root()
            .join("testdata/vitis_reports/myproject_prj/solution1/syn/report/myproject_csynth.rpt"),
    )
    .unwrap();
    let cells = |l: &str| -> Vec<String> {
        l.trim()
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_string())
            .collect()
    };
    // Summary row: |FIFO | BRAM_18K | DSP | FF | LUT | URAM|
    let summary = text
        .lines()
        .map(cells)
        .find(|v| v[0] == "FIFO")
        .expect("FIFO summary row");
    let (real_ff, real_lut): (u64, u64) =
        (summary[3].parse().unwrap(), summary[4].parse().unwrap());
    // FIFO table rows: |name | BRAM_18K | FF | LUT | URAM | Depth | Bits | Size|
    let at = text.find("* FIFO:").expect("FIFO table");
    let mut ours = hlsrs::estimate::Cost::default();
    let mut n = 0;
    for v in text[at..].lines().skip(1).map(cells) {
        if v[0] == "Total" {
            break;
        }
        if v.len() < 8 || v[0] == "Name" || v[0].starts_with('+') || v[0].starts_with('-') {
            continue;
        }
        let (depth, bits): (usize, usize) = (v[5].parse().unwrap(), v[6].parse().unwrap());
        let c = hlsrs::estimate::fifo(bits, depth);
        ours.lut += c.lut;
        ours.ff += c.ff;
        ours.bram_18k += c.bram_18k;
        n += 1;
    }
    assert_eq!(n, 5);
    println!(
        "FIFOs: LUT {}/{real_lut}, FF {}/{real_ff}",
        ours.lut, ours.ff
    );
    assert_eq!((ours.lut, ours.ff, ours.bram_18k), (real_lut, real_ff, 0));
}

/// io_stream: the layers are DATAFLOW processes, so the design takes a new input only when its
/// busiest process has finished a run; FIFOs are charged.
#[test]
fn stream_interval_is_the_busiest_process() {
    let case = common::case("conv2d_small_keras");
    let config = Config {
        io: hlsrs::config::IoType::Stream,
        ..Config::default()
    };
    let p = hlsrs::prepare(&case.model(), &config, None).unwrap();
    let e = estimate(&p.model, config.io, config.clock, &p.part).unwrap();
    let busiest = e.layers.iter().map(|l| l.ii).max().unwrap();
    assert_eq!(e.ii, busiest);
    // The convolution reads every input pixel once a cycle, so no run is shorter than that.
    let shape = &p.model.node(p.model.inputs[0]).shape;
    let pixels = (shape.iter().product::<usize>() / shape.last().unwrap()) as u64;
    let conv = e.layers.iter().find(|l| l.kind == "conv").unwrap();
    assert!(conv.ii >= pixels, "conv busy {} < {pixels} pixels", conv.ii);
    let fifos = e.layers.iter().find(|l| l.kind == "fifo").unwrap();
    assert!(fifos.cost.lut > 0);
    // A slower dense (the smallest valid reuse factor above the design's interval) lengthens
    // its run, and with it the design's interval when it is the busiest.
    let mut m = p.model.clone();
    let n = m
        .topo_order()
        .into_iter()
        .find(|&n| matches!(m.node(n).op, hlsrs::ir::Op::Dense { .. }))
        .unwrap();
    let reuse = hlsrs::kernels::dense::common_reuse_factors(&m.node(n).op.matrix_products())
        .into_iter()
        .find(|&r| r as u64 > e.ii)
        .unwrap();
    m.node_mut(n).hardware.reuse = reuse;
    m.node_mut(n).hardware.strategy = hlsrs::ir::Strategy::Resource;
    let s = estimate(&m, config.io, config.clock, &p.part).unwrap();
    let dense = s.layers.iter().find(|l| l.kind == "dense").unwrap();
    assert!(
        dense.ii > reuse as u64 && s.ii == dense.ii.max(busiest) && s.ii > e.ii,
        "dense {} design {} (was {})",
        dense.ii,
        s.ii,
        e.ii
    );
    // Parallel designs have no FIFOs, and they compute every value at once, where a stream
    // process computes one pixel's channels: the relu after the conv costs positions times more.
    let p = hlsrs::prepare(&case.model(), &Config::default(), None).unwrap();
    let par = estimate(&p.model, hlsrs::config::IoType::Parallel, 5.0, &p.part).unwrap();
    assert!(par.layers.iter().all(|l| l.kind != "fifo"));
    let relu = |e: &hlsrs::estimate::Estimate| {
        e.layers.iter().find(|l| l.kind == "relu").unwrap().cost.lut as f64
    };
    let positions = p
        .model
        .topo_order()
        .into_iter()
        .find(|&n| {
            matches!(
                p.model.node(n).op,
                hlsrs::ir::Op::Activation(hlsrs::ir::Activation::Relu)
            )
        })
        .map(|n| {
            let s = &p.model.node(n).shape;
            (s.iter().product::<usize>() / s.last().unwrap()) as f64
        })
        .unwrap();
    assert!(positions > 1.0);
    let ratio = relu(&par) / (relu(&e) * positions);
    assert!(
        (ratio - 1.0).abs() < 0.02,
        "parallel relu {} stream {} positions {positions}",
        relu(&par),
        relu(&e)
    );
}

/// Per dense layer: DSPs and interval; and the products mapped to LUTs.
fn dense_dsps(config: &Config) -> (Vec<u64>, Vec<u64>, u64) {
    let case = common::case("three_layer_keras");
    let p = hlsrs::prepare(&case.model(), config, None).unwrap();
    let e = estimate(&p.model, config.io, config.clock, &p.part).unwrap();
    let dense: Vec<_> = e.layers.iter().filter(|l| l.kind == "dense").collect();
    (
        dense.iter().map(|l| l.cost.dsp).collect(),
        dense.iter().map(|l| l.ii).collect(),
        dense.iter().map(|l| l.products.lut).sum(),
    )
}

#[test]
fn doubling_the_reuse_factor_halves_the_dsps_and_lengthens_the_interval() {
    let at = |r| Config {
        strategy: hlsrs::ir::Strategy::Resource,
        reuse: r,
        ..Config::default()
    };
    let (d2, ii2, _) = dense_dsps(&at(2));
    let (d4, ii4, _) = dense_dsps(&at(4));
    for k in 0..d2.len() {
        // ceil(n / 4) against ceil(n / 2): half, up to rounding.
        assert!(
            d4[k] * 2 >= d2[k] && d4[k] * 2 <= d2[k] + 2,
            "layer {k}: {} -> {}",
            d2[k],
            d4[k]
        );
        // A folded process starts again after its run: R cycles of ReuseLoop plus the same
        // adder depth and restart at either R.
        assert!(ii2[k] > 2, "layer {k}: {}", ii2[k]);
        assert_eq!(ii4[k] - ii2[k], 2, "layer {k}");
    }
}

/// Issue 25, point 1: a pruned resource layer (sparse layout) costs its lanes' multipliers and
/// each lane's input multiplexer, and its passes pipeline at one a cycle (each output's lanes
/// summed in a tree, one carried add), like the dense layout's: the interval grows by the extra
/// passes alone, not by a chain of every lane's add per pass.
#[test]
fn a_pruned_resource_layer_costs_its_lanes_and_multiplexers_and_runs_a_pass_a_cycle() {
    let case = common::case("three_layer_keras");
    let at = |r| {
        let config = Config {
            strategy: hlsrs::ir::Strategy::Resource,
            reuse: r,
            prune: hlsrs::config::parse_prune("magnitude:0.7").unwrap(),
            ..Config::default()
        };
        let p = hlsrs::prepare(&case.model(), &config, None).unwrap();
        let e = estimate(&p.model, config.io, config.clock, &p.part).unwrap();
        let plans = hlsrs::kernels::plan_model(&p.model).unwrap();
        let mut sparse = Vec::new();
        for (l, plan) in e.layers.iter().zip(&plans) {
            if let hlsrs::kernels::Kernel::Dense(d) = &plan.kernel
                && d.sparse.is_some()
            {
                sparse.push((l.clone(), d.block_factor(), d.n_in));
            }
        }
        sparse
    };
    let (r2, r4) = (at(2), at(4));
    assert_eq!(r2.len(), 3, "every hidden layer sparse at R = 2");
    assert_eq!(r4.len(), 3, "every hidden layer sparse at R = 4");
    for ((l2, lanes2, n_in), (l4, lanes4, _)) in r2.iter().zip(&r4) {
        // 16-bit weights and inputs: a DSP a lane; an n_in:1 multiplexer of 16 bits a lane.
        assert_eq!(l4.cost.dsp, *lanes4 as u64, "{}", l4.name);
        assert!(
            l4.cost.lut >= (*lanes4 * 16 * n_in.div_ceil(4)) as u64,
            "{}: {} LUT for {lanes4} lanes",
            l4.name,
            l4.cost.lut
        );
        // Two more passes, two more cycles (give or take the tree's one level: the lanes per
        // output shrink as R grows).
        let extra = l4.ii as i64 - l2.ii as i64;
        assert!(
            (1..=2).contains(&extra),
            "{}: II {} at R = 2 ({lanes2} lanes), {} at R = 4 ({lanes4} lanes)",
            l4.name,
            l2.ii,
            l4.ii
        );
    }
}

#[test]
fn pruning_and_narrow_weights_cut_dsps() {
    let (full, _, lut_full) = dense_dsps(&Config::default());
    let pruned = Config {
        prune: hlsrs::config::parse_prune("magnitude:0.7").unwrap(),
        ..Config::default()
    };
    let (cut, _, _) = dense_dsps(&pruned);
    let (a, b): (u64, u64) = (full.iter().sum(), cut.iter().sum());
    // Magnitude pruning takes the small weights, many of which were LUT products already: the
    // DSPs that remain are at most the 30% of multiplications kept.
    let case = common::case("three_layer_keras");
    let products: usize = hlsrs::kernels::plan_model(
        &hlsrs::prepare(&case.model(), &Config::default(), None)
            .unwrap()
            .model,
    )
    .unwrap()
    .iter()
    .filter_map(|l| match &l.kernel {
        hlsrs::kernels::Kernel::Dense(d) => Some(d.multiplications),
        _ => None,
    })
    .sum();
    assert!(
        b < a && b as usize * 10 <= products * 3 + 10,
        "pruned to 30% of {products} products: {a} -> {b} DSPs"
    );
    // 8-bit weights: the products leave the DSPs for LUTs.
    let mut narrow = Config::default();
    let p = hlsrs::prepare(&case.model(), &narrow, None).unwrap();
    for n in p.model.topo_order() {
        let node = p.model.node(n);
        if matches!(node.op, hlsrs::ir::Op::Dense { .. }) {
            narrow.layers.entry(node.name.clone()).or_default().weight =
                Some(hlsrs::ir::FixedType::fixed(8, 3));
        }
    }
    let (d8, _, lut8) = dense_dsps(&narrow);
    assert_eq!(d8.iter().sum::<u64>(), 0, "{d8:?}");
    assert!(lut8 > lut_full, "LUT products {lut_full} -> {lut8}");
    println!(
        "three_layer_keras DSPs: {a} of {products} products at ap_fixed<16,6>, {b} pruned to 30%, 0 with 8-bit weights (LUT products {lut_full} -> {lut8})"
    );
}

#[test]
fn budgets_exit_3_with_a_table_of_what_is_over() {
    let model = common::case("three_layer_keras").model();
    let m = model.to_str().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_hlsrs"))
            .args(args)
            .output()
            .unwrap()
    };
    let o = run(&[
        "estimate",
        m,
        "--budget",
        "dsp=10%,lut=90%,latency=20ns,ii=1",
    ]);
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("over budget") && err.contains("DSP") && err.contains("latency"),
        "{err}"
    );
    assert!(
        !err.contains("LUT") && !err.contains("II"),
        "within budget, not listed: {err}"
    );
    // Within budget: exit 0.
    assert!(
        run(&["estimate", m, "--budget", "dsp=90%,latency=1000ns"])
            .status
            .success()
    );
    // compile --budget: refused before anything is written.
    let dir = common::tempdir();
    let out = dir.path().join("prj");
    let o = run(&[
        "compile",
        m,
        "-o",
        out.to_str().unwrap(),
        "--budget",
        "dsp=1%",
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(!out.exists());
    // A bad budget is a usage error.
    let o = run(&["estimate", m, "--budget", "dsp=lots"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a number"));
}

#[test]
fn estimate_json_and_manifest_agree() {
    let case = common::case("three_layer_keras");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_hlsrs"))
        .args(["estimate", case.model().to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let p = hlsrs::prepare(&case.model(), &Config::default(), None).unwrap();
    let dir = common::tempdir();
    hlsrs::compile(&p, &dir.path().join("prj"), false, None).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("prj/hlsrs.json")).unwrap())
            .unwrap();
    // Both measured on the same default samples (the compile's testbench ones).
    let fidelity = v.as_object_mut().unwrap().remove("fidelity").unwrap();
    assert_eq!(fidelity, manifest["fidelity"]);
    assert_eq!(v, manifest["estimate"]);
    assert!(v["total"]["dsp"].as_u64().unwrap() > 0);
}

#[test]
fn targets_choose_the_cheapest_reuse_factors_that_meet_them() {
    let case = common::case("three_layer_keras");
    let p = hlsrs::prepare(&case.model(), &Config::default(), None).unwrap();
    let fastest = estimate(&p.model, p.config.io, p.config.clock, &p.part).unwrap();
    // (A folded layer's interval is its run: R plus its adder depth and a restart.)
    for (lat, ii) in [
        (Some(200.0), Some(12)),
        (None, Some(8)),
        (Some(100.0), None),
    ] {
        let chosen =
            hlsrs::estimate::choose_reuse(&p.model, p.config.io, p.config.clock, &p.part, lat, ii)
                .unwrap()
                .expect("reachable");
        let mut config = Config::default();
        for (name, o) in &chosen {
            o.configure(config.layers.entry(name.clone()).or_default());
        }
        let q = hlsrs::prepare(&case.model(), &config, None).unwrap();
        let e = estimate(&q.model, q.config.io, q.config.clock, &q.part).unwrap();
        assert!(
            lat.is_none_or(|l| e.latency_ns <= l),
            "{lat:?}: {} ns",
            e.latency_ns
        );
        assert!(ii.is_none_or(|t| e.ii <= t), "{ii:?}: II {}", e.ii);
        assert!(
            e.total.dsp < fastest.total.dsp,
            "{} vs {}",
            e.total.dsp,
            fastest.total.dsp
        );
        // Least cost: no layer could take a cheaper option within the interval and keep the
        // latency target.
        for (name, o) in &chosen {
            let options =
                hlsrs::estimate::reuse_options(&q.model, q.config.io, q.config.clock).unwrap();
            let (_, opts) = options.iter().find(|(n, _)| n == name).unwrap();
            for cheaper in opts
                .iter()
                .filter(|c| c.dsp < o.dsp && ii.is_none_or(|t| c.ii <= t))
            {
                let mut c2 = config.clone();
                c2.layers.get_mut(name).unwrap().reuse = Some(cheaper.reuse);
                c2.layers.get_mut(name).unwrap().strategy = Some(cheaper.strategy);
                let r = hlsrs::prepare(&case.model(), &c2, None).unwrap();
                let e2 = estimate(&r.model, r.config.io, r.config.clock, &r.part).unwrap();
                assert!(
                    lat.is_some_and(|l| e2.latency_ns > l),
                    "{name}: R={} would be cheaper and still meet the targets",
                    cheaper.reuse
                );
            }
        }
        println!(
            "three_layer_keras targets latency {lat:?} ns, II {ii:?}: DSP {} (fastest {}), {} ns, II {}",
            e.total.dsp, fastest.total.dsp, e.latency_ns, e.ii
        );
    }
    // Unreachable: exit 3.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_hlsrs"))
        .args([
            "estimate",
            case.model().to_str().unwrap(),
            "--target-latency",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no reuse factors meet"));
}

/// A recurrent layer's advice pairs an input and a recurrent reuse factor; folding the recurrent
/// product more costs fewer DSPs and more cycles, and a target II is met by the cheapest pair,
/// which the config takes (`recurrent_reuse`).
#[test]
fn recurrent_layers_get_reuse_advice_and_meet_targets() {
    let case = common::case("lstm_jet_tagger");
    let p = hlsrs::prepare(&case.model(), &Config::default(), None).unwrap();
    let options = hlsrs::estimate::reuse_options(&p.model, p.config.io, p.config.clock).unwrap();
    let rec = p
        .model
        .topo_order()
        .into_iter()
        .find(|&n| matches!(p.model.node(n).op, hlsrs::ir::Op::Recurrent(_)))
        .map(|n| p.model.node(n).name.clone())
        .unwrap();
    let opts = &options.iter().find(|(name, _)| *name == rec).unwrap().1;
    let at = |r: usize, q: usize| {
        opts.iter()
            .find(|o| o.reuse == r && o.recurrent_reuse == Some(q))
            .unwrap_or_else(|| panic!("option {r}/{q}"))
    };
    let (one, two, four) = (at(1, 1), at(1, 2), at(1, 4));
    assert_eq!(one.strategy, hlsrs::ir::Strategy::Latency);
    // Folded products read their weights from a ROM: general multipliers, so folding twice can
    // cost as many DSPs as constant multipliers (some of which are LUTs) but fewer LUTs; folding
    // further halves them.
    assert!(
        four.dsp < two.dsp && four.dsp < one.dsp && two.lut < one.lut,
        "{} {} {}",
        one.dsp,
        two.dsp,
        four.dsp
    );
    assert!(four.latency_cycles > one.latency_cycles);
    // An interval target between the fastest and the slowest: met at fewer DSPs than the fastest.
    // (Folded products make the steps a loop that is not pipelined, where the gate tables'
    // reads take turns on their ports: the folded options start at about 6x the fastest II.)
    let fastest = estimate(&p.model, p.config.io, p.config.clock, &p.part).unwrap();
    let target = 8 * fastest.ii;
    let chosen = hlsrs::estimate::choose_reuse(
        &p.model,
        p.config.io,
        p.config.clock,
        &p.part,
        None,
        Some(target),
    )
    .unwrap()
    .expect("reachable");
    let mut config = Config::default();
    for (name, o) in &chosen {
        o.configure(config.layers.entry(name.clone()).or_default());
    }
    let q = hlsrs::prepare(&case.model(), &config, None).unwrap();
    let e = estimate(&q.model, q.config.io, q.config.clock, &q.part).unwrap();
    let n = q.model.find(&rec).unwrap();
    assert!(
        q.model.node(n).hardware.recurrent_reuse > 1,
        "the recurrent product folded"
    );
    assert!(
        e.ii <= target && e.total.dsp < fastest.total.dsp,
        "II {} DSP {}",
        e.ii,
        e.total.dsp
    );
    println!(
        "lstm_jet_tagger, II at most {target}: DSP {} (fastest {} at II {}), II {}",
        e.total.dsp, fastest.total.dsp, fastest.ii, e.ii
    );
}

/// One name per layer kind (issue 25: `hlsrs estimate` called HardSigmoid "clip" and Sub
/// "add"): every layer's estimate carries the op name the compile table and the manifest's
/// layers give it.
#[test]
fn the_estimate_names_each_layer_by_its_op() {
    let mut seen = std::collections::BTreeSet::new();
    for case in common::cases() {
        let p = hlsrs::prepare(&case.model(), &Config::default(), None).unwrap();
        let e = p.estimate.as_ref().unwrap();
        // The rows of what is not a layer: io_parallel DATAFLOW channels.
        for l in e.layers.iter().filter(|l| l.kind != "channel") {
            let node = p
                .model
                .topo_order()
                .into_iter()
                .find(|&n| p.model.node(n).name == l.name)
                .unwrap_or_else(|| panic!("{}: no layer {}", case.name, l.name));
            assert_eq!(
                l.kind,
                p.model.node(node).op.kind(),
                "{} {}",
                case.name,
                l.name
            );
            seen.insert(l.kind);
        }
    }
    for kind in ["hard_sigmoid", "sub", "max", "max_pool", "lstm", "concat"] {
        assert!(
            seen.contains(kind),
            "no {kind} layer among the cases: {seen:?}"
        );
    }
}

/// The LSTM of lstm_mish_gates_json alone (its Mish tables and sigmoid gates), forward or
/// bidirectional with the same weights in both directions.
fn lstm_alone(dir: &std::path::Path, bidirectional: bool) -> std::path::PathBuf {
    let text = std::fs::read_to_string(common::case("lstm_mish_gates_json").model()).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let layers = doc["layers"].as_array_mut().unwrap();
    layers.truncate(1);
    let lstm = &mut layers[0];
    if bidirectional {
        lstm["direction"] = "bidirectional".into();
        for key in ["w", "r", "b"] {
            let t = &mut lstm[key];
            t["shape"][0] = 2.into();
            let data = t["data"].as_array().unwrap().clone();
            t["data"] = data.iter().chain(&data).cloned().collect();
        }
        let acts = lstm["activations"].as_array().unwrap().clone();
        lstm["activations"] = acts.iter().chain(&acts).cloned().collect();
    }
    doc["output"] = "lstm".into();
    let path = dir.join(if bidirectional { "bi.json" } else { "fwd.json" });
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

fn lstm_figures(model: &std::path::Path, config: &Config) -> hlsrs::estimate::LayerEstimate {
    let p = hlsrs::prepare(model, config, None).unwrap();
    let e = p.estimate.unwrap();
    e.layers.into_iter().find(|l| l.name == "lstm").unwrap()
}

/// Issue 25, points 3 and 5: the estimate follows hlsrs_recurrent.h's structure. Both
/// directions of a bidirectional layer are hardware of their own, side by side: twice one
/// direction's resources in one direction's time. The step loop is pipelined at the state path
/// (the recurrent product, then two table reads and two multiplies of an LSTM), so a sequence
/// takes a step's latency plus that path for every further step; with resource kernels the
/// steps run one after another.
#[test]
fn recurrent_estimates_follow_the_step_structure() {
    let dir = common::tempdir();
    let (fwd, bi) = (lstm_alone(dir.path(), false), lstm_alone(dir.path(), true));
    for config in [
        Config::default(),
        Config {
            strategy: hlsrs::ir::Strategy::Resource,
            reuse: 2,
            ..Config::default()
        },
    ] {
        let (f, b) = (lstm_figures(&fwd, &config), lstm_figures(&bi, &config));
        let what = format!("{:?}", config.strategy);
        assert_eq!(b.latency_cycles, f.latency_cycles, "{what}");
        assert_eq!(b.ii, f.ii, "{what}");
        assert_eq!(b.cost.dsp, 2 * f.cost.dsp, "{what}");
        assert_eq!(b.cost.bram_18k, 2 * f.cost.bram_18k, "{what}");
        assert!(b.cost.lut.abs_diff(2 * f.cost.lut) <= 2, "{what}");
        assert!(f.cost.bram_18k > 0 && f.cost.dsp > 0, "{what}");
    }
    // One step (the static design) against the sequence of 10 steps.
    let seq = 10;
    let step = lstm_figures(
        &fwd,
        &Config {
            static_state: true,
            ..Config::default()
        },
    );
    let whole = lstm_figures(&fwd, &Config::default());
    // The state path: the recurrent product, a sigmoid read, f*c + i*g, a tanh read, o * tanh.
    // (at least one cycle of recurrent product)
    assert!(step.ii > 2 * 3 + 2, "state path {}", step.ii);
    assert_eq!(
        whole.latency_cycles,
        step.latency_cycles + (seq - 1) * step.ii
    );
    // The sigmoid table serves three gates of 8 units a step: 12 copies of its ROM, and 4 of each
    // Mish table, in a pipelined step loop.
    assert_eq!(whole.cost.bram_18k, 12 + 4 + 4);
    let resource = Config {
        strategy: hlsrs::ir::Strategy::Resource,
        reuse: 2,
        ..Config::default()
    };
    let (step, whole) = (
        lstm_figures(
            &fwd,
            &Config {
                static_state: true,
                ..resource.clone()
            },
        ),
        lstm_figures(&fwd, &resource),
    );
    assert_eq!(whole.latency_cycles, seq * step.latency_cycles);
    // Not pipelined: one ROM per table, its reads two a cycle.
    assert_eq!(whole.cost.bram_18k, 3);
}

/// The width of every `typedef ap_fixed<W, ...> name;` (and ap_ufixed, ap_int, ap_uint) of a
/// generated defines.h / parameters.h.
fn typedef_widths(prj: &std::path::Path) -> std::collections::HashMap<String, u64> {
    let mut m = std::collections::HashMap::new();
    for file in ["firmware/defines.h", "firmware/parameters.h"] {
        let text = std::fs::read_to_string(prj.join(file)).unwrap();
        for line in text.lines() {
            let Some(rest) = line.trim().strip_prefix("typedef ap_") else {
                continue;
            };
            let Some(open) = rest.find('<') else { continue };
            let width: String = rest[open + 1..]
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            let name = rest.rsplit(' ').next().unwrap().trim_end_matches(';');
            m.insert(name.to_string(), width.parse().unwrap());
        }
    }
    m
}

/// Issue 25, point 5: the estimate of an io_parallel DATAFLOW design charges what the generated
/// top builds. Read from the project: every array the top function declares between its
/// processes (completely partitioned: registers, two of them as a ping-pong buffer) against the
/// `(channels)` row; and every process function without a PIPELINE pragma, which starts again
/// only after its whole run, against its layer's interval.
#[test]
fn dataflow_estimates_charge_the_generated_processes_and_channels() {
    let resource = Config {
        strategy: hlsrs::ir::Strategy::Resource,
        reuse: 4,
        ..Config::default()
    };
    for (name, config) in [
        ("three_layer_keras", resource.clone()),
        ("conv1d_cnn_keras", Config::default()),
        ("residual_block", Config::default()),
        ("lstm_jet_tagger", resource),
    ] {
        let case = common::case(name);
        let p = hlsrs::prepare(&case.model(), &config, None).unwrap();
        let dir = common::tempdir();
        let prj = dir.path().join("prj");
        hlsrs::compile(&p, &prj, false, None).unwrap();
        let top =
            std::fs::read_to_string(prj.join(format!("firmware/{}.cpp", p.model.name))).unwrap();
        assert!(top.contains("#pragma HLS DATAFLOW"), "{name}");
        let widths = typedef_widths(&prj);
        let e = p.estimate.as_ref().unwrap();
        // Arrays declared in the top function's body.
        let body = &top[top.find(&format!("void {}(", p.model.name)).unwrap()..];
        let mut channel_bits = 0u64;
        for line in body.lines().map(str::trim) {
            let Some((ty, rest)) = line.split_once(' ') else {
                continue;
            };
            let (Some(&w), Some(open)) = (widths.get(ty), rest.find('[')) else {
                continue;
            };
            if !rest.ends_with("];") {
                continue;
            }
            let size: u64 = rest[open + 1..rest.len() - 2].parse().unwrap();
            channel_bits += 2 * size * w;
        }
        let channels = e.layers.iter().find(|l| l.kind == "channel").unwrap();
        assert_eq!(channels.cost.ff, channel_bits, "{name}");
        assert!(channel_bits > 0, "{name}");
        // Processes: the comment names the layer, the body says whether it is pipelined.
        let mut restarts = 0;
        for chunk in top.split("\n// ").skip(1) {
            let Some(fn_at) = chunk.find("static void layer") else {
                continue;
            };
            let layer = chunk.split(" (").next().unwrap();
            let body = &chunk[fn_at..chunk[fn_at..].find("\n}").unwrap() + fn_at];
            let l = e.layers.iter().find(|l| l.name == layer).unwrap();
            if body.contains("#pragma HLS PIPELINE") {
                assert_eq!(l.ii, 1, "{name} {layer}");
            } else {
                assert_eq!(l.ii, l.latency_cycles + 1, "{name} {layer}");
                restarts += 1;
            }
        }
        assert!(restarts > 0, "{name}");
        assert_eq!(e.ii, e.layers.iter().map(|l| l.ii).max().unwrap(), "{name}");
    }
}

/// Issue 25, point 2: an io_stream window process is one loop over the padded image's pixels
/// (hlsrs_stream.h's window_stream), a pixel per kernel interval (R for a latency conv, 1 for a
/// pool), or, around a resource kernel, a cycle a pixel and a kernel run per position: its run
/// (the `II` column) is that many cycles plus the kernel's few of latency, computed here from
/// the window's own geometry.
#[test]
fn stream_window_runs_follow_the_padded_pixel_loop() {
    let mut checked = 0;
    for (name, strategy, reuse) in [
        ("conv2d_nchw", hlsrs::ir::Strategy::Latency, 1),
        ("conv2d_nchw", hlsrs::ir::Strategy::Resource, 3),
        ("conv1d_cnn_keras", hlsrs::ir::Strategy::Latency, 1),
        ("unet_small", hlsrs::ir::Strategy::Latency, 1),
    ] {
        let config = Config {
            io: hlsrs::config::IoType::Stream,
            strategy,
            reuse,
            ..Config::default()
        };
        let p = hlsrs::prepare(&common::case(name).model(), &config, None).unwrap();
        let e = p.estimate.as_ref().unwrap();
        for n in p.model.topo_order() {
            let node = p.model.node(n);
            let (window, pipelined) = match &node.op {
                hlsrs::ir::Op::Conv { window, .. } => (
                    window,
                    node.hardware.strategy == hlsrs::ir::Strategy::Latency,
                ),
                hlsrs::ir::Op::Pool { window, .. } => (window, true),
                _ => continue,
            };
            let input = &p.model.node(p.model.inputs(n)[0]).shape;
            let spatial = &input[..input.len() - 1];
            let steps: u64 = spatial
                .iter()
                .enumerate()
                .map(|(a, &s)| (s + window.pads_begin[a] + window.pads_end[a]) as u64)
                .product();
            let positions: u64 =
                node.shape[..node.shape.len() - 1].iter().product::<usize>() as u64;
            let l = e.layers.iter().find(|l| l.name == node.name).unwrap();
            let r = match &node.op {
                hlsrs::ir::Op::Conv { .. } => node.hardware.reuse as u64,
                _ => 1,
            };
            let what = format!("{name} {}: run {} steps {steps} R {r}", node.name, l.ii);
            if pipelined {
                // steps x R, then the last pixel's kernel (a few cycles).
                assert!(l.ii >= steps * r && l.ii <= steps * r + 16, "{what}");
            } else {
                // A cycle a pixel, and a kernel run of at least R + 1 cycles a position.
                assert!(l.ii >= steps + positions * (r + 1), "{what}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "{checked}");
}
