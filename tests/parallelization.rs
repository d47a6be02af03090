//! io_parallel convolutions and pooling compute `parallelization` output positions at once with
//! one kernel copy each (hls4ml's ParallelizationFactor), and the top function is a DATAFLOW of
//! layer processes wherever one pipelined function would unroll a loop the design relies on
//! (docs/synthesis.md). Bit-exactness of these designs is in csim_bitexact's matrix (two
//! parallelization settings on every convolutional case); here: the configuration, the estimate,
//! the advice and the structure of the generated top.

mod common;

use hlsrs::Config;
use hlsrs::config::LayerConfig;
use hlsrs::estimate::Estimate;

fn estimate(case: &str, config: &Config) -> Estimate {
    let p = hlsrs::prepare(&common::case(case).model(), config, None).unwrap();
    hlsrs::estimate::estimate(&p.model, p.config.io, p.config.clock, &p.part).unwrap()
}

fn layer<'a>(e: &'a Estimate, name: &str) -> &'a hlsrs::estimate::LayerEstimate {
    e.layers.iter().find(|l| l.name == name).unwrap()
}

/// The Keras Conv1D CNN (KERAS_conv1d's shape: 100 positions, 16-32 filters) fits an xcvu9p at
/// the default parallelization 1; unrolling every position (what hlsrs generated before) needs
/// twenty times the part's DSPs.
#[test]
fn a_conv1d_cnn_fits_an_xcvu9p_in_io_parallel() {
    let fits = estimate("conv1d_cnn_keras", &Config::default());
    println!(
        "conv1d_cnn_keras, parallelization 1: DSP {:.1}%, LUT {:.1}%, FF {:.1}%, BRAM {:.1}%; latency {} cycles, II {}",
        fits.utilisation[0],
        fits.utilisation[1],
        fits.utilisation[2],
        fits.utilisation[3],
        fits.latency_cycles,
        fits.ii
    );
    assert!(
        fits.utilisation.iter().all(|&u| u < 100.0),
        "{:?}",
        fits.utilisation
    );
    let all = Config {
        parallelization: Some(100),
        ..Config::default()
    };
    let unrolled = estimate("conv1d_cnn_keras", &all);
    println!(
        "conv1d_cnn_keras, every position at once: DSP {:.1}%, LUT {:.1}%; latency {} cycles, II {}",
        unrolled.utilisation[0], unrolled.utilisation[1], unrolled.latency_cycles, unrolled.ii
    );
    assert!(unrolled.utilisation[0] > 1000.0);
    assert_eq!(unrolled.ii, 1);
    // The interval of the shared design is its slowest position loop: conv1 and conv2 over 100
    // positions, one a cycle, then the last position's kernel and the process's restart (a
    // DATAFLOW process whose loop is pipelined inside it starts again after its run).
    let conv1 = layer(&fits, "conv1");
    assert_eq!(fits.ii, conv1.latency_cycles + 1);
    assert!((100..=104).contains(&fits.ii), "{}", fits.ii);
}

#[test]
fn parallelization_repeats_the_kernel_and_divides_the_interval() {
    let at = |pf: usize| {
        let e = estimate(
            "conv1d_cnn_keras",
            &Config {
                parallelization: Some(pf),
                ..Config::default()
            },
        );
        let l = layer(&e, "conv1");
        let p = layer(&e, "pool2");
        (l.cost.dsp, l.ii, p.ii)
    };
    // One partition a cycle, plus the kernel's latency and the process's restart, which do not
    // depend on the parallelization.
    let (dsp1, ii1, pool1) = at(1);
    assert!((100..=104).contains(&ii1) && (50..=54).contains(&pool1));
    let (conv_tail, pool_tail) = (ii1 - 100, pool1 - 50);
    for pf in [2, 4, 5, 10] {
        let (dsp, ii, pool) = at(pf);
        assert_eq!(dsp, pf as u64 * dsp1, "pf {pf}");
        assert_eq!(ii, 100 / pf as u64 + conv_tail, "pf {pf}");
        // pool2 has 50 positions: the largest divisor not above pf.
        let ppf = [1, 2, 5, 10, 25, 50]
            .into_iter()
            .rev()
            .find(|&d| d <= pf)
            .unwrap();
        assert_eq!(pool, 50 / ppf as u64 + pool_tail, "pf {pf}");
    }
}

#[test]
fn parallelization_is_checked_per_layer() {
    let model = common::case("conv1d_cnn_keras").model();
    let mut c = Config::default();
    c.layers.insert(
        "conv1".into(),
        LayerConfig {
            parallelization: Some(7),
            ..LayerConfig::default()
        },
    );
    let err = hlsrs::prepare(&model, &c, None).err().unwrap();
    assert!(err.is_user_error());
    assert!(
        err.to_string().contains(
            "[layers.conv1]: parallelization 7 is not valid for this conv layer with 100 output positions; valid: 1, 2, 4, 5, 10, 20, 25, 50, 100"
        ),
        "{err}"
    );
    let mut c = Config::default();
    c.layers.insert(
        "head_fc".into(),
        LayerConfig {
            parallelization: Some(2),
            ..LayerConfig::default()
        },
    );
    let err = hlsrs::prepare(&model, &c, None).err().unwrap();
    assert!(
        err.to_string()
            .contains("applies to convolution and pooling layers"),
        "{err}"
    );
    // A valid per-layer value is what the layer gets; the others keep the model-wide one.
    let mut c = Config {
        parallelization: Some(4),
        ..Config::default()
    };
    c.layers.insert(
        "conv2".into(),
        LayerConfig {
            parallelization: Some(20),
            ..LayerConfig::default()
        },
    );
    let p = hlsrs::prepare(&model, &c, None).unwrap();
    let pf = |n: &str| {
        p.model
            .node(p.model.find(n).unwrap())
            .hardware
            .parallelization
    };
    assert_eq!(
        (pf("conv1"), pf("conv2"), pf("conv3"), pf("pool2")),
        (4, 20, 2, 2)
    );
    // From the config file and the command line too.
    let toml =
        Config::from_toml("parallelization = 5\n[layers.conv1]\nparallelization = 10\n").unwrap();
    assert_eq!(
        (toml.parallelization, toml.layers["conv1"].parallelization),
        (Some(5), Some(10))
    );
}

/// `--target-ii` chooses parallelization factors for the convolutions, and the chosen design
/// compiles to the interval it was chosen for.
#[test]
fn targets_choose_parallelization() {
    let dir = common::tempdir();
    let out = dir.path().join("prj");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_hlsrs"))
        .args([
            "compile",
            common::case("conv1d_cnn_keras").model().to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            // pf 5: 20 partitions a cycle, the kernel's latency and the restart.
            "--target-ii",
            "24",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        text.contains("target: layer 'conv1' reuse 1 pf 5"),
        "{text}"
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("hlsrs.json")).unwrap()).unwrap();
    let ii = manifest["estimate"]["ii"].as_u64().unwrap();
    assert!(ii <= 24, "{ii}");
    let params = std::fs::read_to_string(out.join("firmware/parameters.h")).unwrap();
    assert!(
        params.contains("static const unsigned parallelization = 5;"),
        "{params}"
    );
}

/// One pipelined top where nothing below it needs its own schedule; a DATAFLOW of layer processes
/// where a pipeline would unroll a resource layer's ReuseLoop, a recurrent layer's step loop or a
/// window layer's position loop.
#[test]
fn top_is_a_dataflow_where_a_pipeline_would_unroll_a_loop() {
    let resource = Config {
        strategy: hlsrs::ir::Strategy::Resource,
        reuse: 4,
        ..Config::default()
    };
    let all_positions = Config {
        parallelization: Some(1000),
        ..Config::default()
    };
    for (case, config, dataflow) in [
        ("three_layer_keras", Config::default(), false),
        ("three_layer_keras", resource.clone(), true),
        ("conv2d_nchw", Config::default(), true),
        ("conv2d_nchw", all_positions, false),
        ("lstm_jet_tagger", Config::default(), true),
        (
            "lstm_jet_tagger",
            Config {
                static_state: true,
                ..Config::default()
            },
            false,
        ),
    ] {
        let dir = common::tempdir();
        let out = dir.path().join("prj");
        let p = hlsrs::prepare(&common::case(case).model(), &config, None).unwrap();
        hlsrs::compile(&p, &out, false, None).unwrap();
        let top =
            std::fs::read_to_string(out.join(format!("firmware/{}.cpp", p.model.name))).unwrap();
        assert_eq!(
            top.contains("#pragma HLS DATAFLOW"),
            dataflow,
            "{case}: {top}"
        );
        let body = &top[top.rfind("\nvoid ").unwrap()..];
        assert_eq!(
            !body.contains("#pragma HLS PIPELINE II="),
            dataflow,
            "{case}: {body}"
        );
        if dataflow {
            // Every layer is a process of its own, and every array between processes has one
            // writer and one reader.
            let calls: Vec<Vec<&str>> = body
                .lines()
                .filter(|l| l.contains("_process(") || l.contains("clone_input("))
                .map(|l| {
                    l[l.find('(').unwrap() + 1..l.rfind(')').unwrap()]
                        .split(", ")
                        .collect()
                })
                .collect();
            assert_eq!(
                calls.len(),
                p.model.graph.node_count() - 1,
                "{case}: {body}"
            );
            for decl in body
                .lines()
                .filter(|l| l.trim_start().starts_with("layer") && l.trim_end().ends_with("];"))
            {
                let var = decl
                    .split_whitespace()
                    .nth(1)
                    .unwrap()
                    .split('[')
                    .next()
                    .unwrap();
                let uses = calls.iter().filter(|c| c.contains(&var)).count();
                assert_eq!(
                    uses, 2,
                    "{case}: {var} is used by {uses} processes:\n{body}"
                );
            }
        }
    }
}

/// `unroll_steps`: a recurrent layer's time steps each get their own hardware inside the pipelined
/// top (hls4ml's io_parallel LSTM), a new sequence every cycle, where by default one step's
/// hardware is pipelined over the sequence; bit-exact either way.
#[test]
fn recurrent_steps_unroll_on_request() {
    let case = common::case("lstm_jet_tagger");
    let unrolled = Config {
        unroll_steps: true,
        ..Config::default()
    };
    let (rolled_e, unrolled_e) = (
        estimate("lstm_jet_tagger", &Config::default()),
        estimate("lstm_jet_tagger", &unrolled),
    );
    let rec = |e: &Estimate| e.layers.iter().find(|l| l.kind == "lstm").unwrap().clone();
    let (a, b) = (rec(&rolled_e), rec(&unrolled_e));
    // 20 steps: twenty times the hardware, the same latency, an interval of 1.
    assert_eq!(b.cost.dsp, 20 * a.cost.dsp);
    assert_eq!((b.latency_cycles, b.ii), (a.latency_cycles, 1));
    println!(
        "lstm_jet_tagger: steps pipelined DSP {} II {}; unrolled DSP {} II {}",
        rolled_e.total.dsp, rolled_e.ii, unrolled_e.total.dsp, unrolled_e.ii
    );
    let p = hlsrs::prepare(&case.model(), &unrolled, None).unwrap();
    let dir = common::tempdir();
    let out = dir.path().join("prj");
    let x = case.input();
    let x = hlsrs::arrays::Array {
        shape: x
            .shape
            .clone()
            .into_iter()
            .enumerate()
            .map(|(k, d)| if k == 0 { 50 } else { d })
            .collect(),
        data: x.data[..50 * x.data.len() / x.rows()].to_vec(),
    };
    hlsrs::compile(&p, &out, false, Some(&x)).unwrap();
    let top = std::fs::read_to_string(out.join("firmware/lstm_jet_tagger.cpp")).unwrap();
    assert!(
        !top.contains("DATAFLOW") && top.contains("#pragma HLS PIPELINE II=1"),
        "{top}"
    );
    let params = std::fs::read_to_string(out.join("firmware/parameters.h")).unwrap();
    assert!(params.contains("static const bool unroll_steps = true;"));
    common::assert_csim_matches_emulator(&p, &out, &x, "lstm_jet_tagger unroll_steps");
    // Not with resource kernels (the pipeline would unroll their reuse loops), nor on other layers.
    let resource = Config {
        strategy: hlsrs::ir::Strategy::Resource,
        reuse: 2,
        ..unrolled.clone()
    };
    let err = hlsrs::prepare(&case.model(), &resource, None)
        .err()
        .unwrap();
    assert!(
        err.is_user_error() && err.to_string().contains("unroll_steps"),
        "{err}"
    );
    let mut c = Config::default();
    c.layers.insert(
        "fc".into(),
        LayerConfig {
            unroll_steps: Some(true),
            ..LayerConfig::default()
        },
    );
    let err = hlsrs::prepare(&case.model(), &c, None).err().unwrap();
    assert!(
        err.to_string().contains("applies to recurrent layers"),
        "{err}"
    );
}
