//! Lints (issue 5): warnings that name the layer and the fix, and that go away when the fix is
//! applied. Default designs of every test case raise none.

mod common;

use hlsrs::config::LayerConfig;
use hlsrs::ir::{FixedType, Op};
use hlsrs::{Config, prepare};

const LAST: &str = "dense_3";

fn warnings(notes: &[String]) -> Vec<&String> {
    notes.iter().filter(|n| n.starts_with("warning:")).collect()
}

fn layer<'a>(config: &'a mut Config, name: &str) -> &'a mut LayerConfig {
    config.layers.entry(name.to_string()).or_default()
}

#[test]
fn default_designs_raise_no_warnings() {
    // Pruned ones neither: the accumulators the compiler chose shrink with the pruned weights.
    let pruned = Config {
        prune: hlsrs::config::Prune {
            magnitude: Some(0.7),
            ..Default::default()
        },
        ..Config::default()
    };
    for case in common::cases() {
        for (what, config) in [("default", &Config::default()), ("magnitude:0.7", &pruned)] {
            let p = prepare(&case.model(), config, None).unwrap();
            // Except, for a design larger than the part, exactly that warning.
            let e =
                hlsrs::estimate::estimate(&p.model, p.config.io, p.config.clock, &p.part).unwrap();
            let too_big = e.utilisation.iter().any(|&u| u > 100.0);
            // And where one threshold for the model prunes a layer of small weights down to
            // the ones below its type's step (a wide dense head beside convolutions with larger
            // weights: conv1d_cnn_keras, cnn_wraps_at_default), that warning, naming the pruning.
            let (fit, other): (Vec<&String>, Vec<&String>) = warnings(&p.notes)
                .into_iter()
                .filter(|w| {
                    let pruned_away = what == "magnitude:0.7"
                        && w.contains("every weight is below one step")
                        && w.contains("exactly zero, e.g. pruned");
                    if pruned_away {
                        println!("{} {what}: {w}", case.name);
                    }
                    !pruned_away
                })
                .partition(|w| w.contains("the estimate exceeds"));
            assert!(
                other.is_empty() && fit.len() == usize::from(too_big),
                "{} {what}: {:?}",
                case.name,
                p.notes
            );
        }
    }
}

#[test]
fn a_design_larger_than_the_part_is_named_with_its_largest_layers_and_the_fix() {
    // Seven convolutions unrolled over every position: twice the DSPs of an xcvu9p.
    let case = common::case("conv2d_activations");
    let unrolled = Config {
        parallelization: Some(10_000),
        ..Config::default()
    };
    let p = prepare(&case.model(), &unrolled, None).unwrap();
    let w = warnings(&p.notes);
    assert_eq!(w.len(), 1, "{w:?}");
    let e = hlsrs::estimate::estimate(&p.model, p.config.io, p.config.clock, &p.part).unwrap();
    assert!(
        w[0].contains(&format!("DSP {:.0}%", e.utilisation[0]))
            && w[0].contains("xcvu9p")
            && w[0].contains("a lower `parallelization`")
            && w[0].contains("--io stream")
            && w[0].contains("--advise")
            // Over the part's DSPs, not its FF: the channels are not what to fix.
            && !w[0].contains("'(channels)' between"),
        "{}",
        w[0]
    );
    // Its largest DSP user is named first.
    let top = e.layers.iter().max_by_key(|l| l.cost.dsp).unwrap();
    assert!(
        w[0].contains(&format!("(of the DSP: '{}'", top.name)),
        "{}",
        w[0]
    );
    // The stream design and the default io_parallel one (one position at a time) fit: no warning.
    let stream = Config {
        io: hlsrs::config::IoType::Stream,
        ..Config::default()
    };
    for config in [stream, Config::default()] {
        let p = prepare(&case.model(), &config, None).unwrap();
        assert!(warnings(&p.notes).is_empty(), "{:?}", p.notes);
    }
}

/// The arrays between the processes of an io_parallel DATAFLOW top are registers of whole
/// tensors (the estimate's `(channels)` row, issue 25): where they are what the part runs out
/// of, the warning says so and names io_stream. A chain of 24 transposes of a 64x64 tensor
/// before a folded dense layer: 2 x 24 x 4096 x 16 bits of channels, more than an xcvu9p's FF.
#[test]
fn channels_that_overflow_the_part_are_named_with_the_fix() {
    let dir = common::tempdir();
    let mut layers = Vec::new();
    let mut prev = "x".to_string();
    for k in 0..24 {
        layers.push(
            serde_json::json!({"name": format!("t{k}"), "op": "transpose",
                                       "inputs": [prev], "perm": [1, 0]}),
        );
        prev = format!("t{k}");
    }
    let mut seed = 3u64;
    layers.push(
        serde_json::json!({"name": "fc", "op": "dense", "inputs": [prev],
        "weights": {"shape": [4096, 2], "data": hlsrs::ir::tensor::seeded_uniform(&mut seed, 8192)},
        "bias": {"shape": [2], "data": [0.0, 0.0]}}),
    );
    let doc = serde_json::json!({"format": "hlsrs-model", "version": 1,
        "input": {"name": "x", "shape": [64, 64]}, "layers": layers, "output": "fc"});
    let model = dir.path().join("chain.json");
    std::fs::write(&model, doc.to_string()).unwrap();
    let folded = Config {
        strategy: hlsrs::ir::Strategy::Resource,
        reuse: 4,
        ..Config::default()
    };
    let p = prepare(&model, &folded, None).unwrap();
    let w = warnings(&p.notes);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("FF ")
            && w[0].contains("(of the FF: '(channels)'")
            && w[0].contains("fix: --io stream (the '(channels)' between the DATAFLOW processes"),
        "{}",
        w[0]
    );
}

#[test]
fn a_constant_that_does_not_fit_its_type_is_named_with_the_type_that_fits() {
    // The example: a bias of 275 in ap_fixed<16,6>.
    let case = common::case("three_layer_keras");
    let mut p = prepare(&case.model(), &Config::default(), None).unwrap();
    let n = p.model.find(LAST).unwrap();
    if let Op::Dense { bias, .. } = &mut p.model.node_mut(n).op {
        bias.data[2] = 275.0;
    }
    let w = hlsrs::lint::lint(&p.model, &p.config, &p.part).unwrap();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains(&format!("layer '{LAST}'"))
            && w[0].contains("do not fit ap_fixed<16,6>")
            && w[0].contains("e.g. 275")
            && w[0].contains(&format!("[layers.{LAST}] bias = \"ap_fixed<16,10>\"")),
        "{w:?}"
    );
    // The named fix silences it.
    p.model.node_mut(n).precision.bias = FixedType::fixed(16, 10);
    let w = hlsrs::lint::lint(&p.model, &p.config, &p.part).unwrap();
    assert!(w.is_empty(), "{w:?}");
}

#[test]
fn an_accumulator_wider_than_any_reachable_sum_is_named() {
    let case = common::case("three_layer_keras");
    let wide = Config {
        accum: Some(FixedType::fixed(40, 20)),
        ..Config::default()
    };
    let p = prepare(&case.model(), &wide, None).unwrap();
    let w = warnings(&p.notes);
    assert_eq!(w.len(), 4, "one per dense layer: {w:?}");
    assert!(
        w.iter().all(|m| m.contains("accumulator ap_fixed<40,20>")),
        "{w:?}"
    );
    // The default accumulator is the exact one the lint measures against: no warning, and it is
    // narrower than the 40 bits asked for.
    let p = prepare(&case.model(), &Config::default(), None).unwrap();
    for n in p.model.topo_order() {
        let node = p.model.node(n);
        if matches!(node.op, Op::Dense { .. }) {
            assert!(
                node.precision.accum.int <= 12,
                "{}: {}",
                node.name,
                node.precision.accum
            );
        }
    }
}

#[test]
fn a_table_read_by_a_coarse_input_is_named_with_the_fix() {
    // Softmax fed by 2 fractional bits: most of the exp table is never read.
    let case = common::case("three_layer_keras");
    let mut coarse = Config::default();
    layer(&mut coarse, LAST).result = Some(FixedType::fixed(16, 14));
    let p = prepare(&case.model(), &coarse, None).unwrap();
    let w = warnings(&p.notes);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("layer 'Softmax'") && w[0].contains("result = \"ap_fixed<20,14>\""),
        "{w:?}"
    );
    layer(&mut coarse, LAST).result = Some(FixedType::fixed(20, 14));
    let p = prepare(&case.model(), &coarse, None).unwrap();
    assert!(warnings(&p.notes).is_empty(), "{:?}", p.notes);
}

/// Issue 15: trained Keras MLPs in hls4ml's example-models have hidden layers whose weights are
/// all below 2e-6: in ap_fixed<16,6> (steps of 2^-10) each rounds to zero, or truncates to one
/// negative step, and the layer computes none of them. The warning names the layer and a weight
/// type that keeps them; with it the layer matches float to its result type's step and stays
/// bit-exact with its C-simulation (a weight type with negative integer bits, in g++).
#[test]
fn a_layer_whose_weights_are_all_below_one_step_is_named_with_the_type_that_keeps_them() {
    let tiny: Vec<f64> = (0..12).map(|i| (i as f64 - 5.5) * 3e-7).collect(); // |w| <= 1.65e-6
    let model = serde_json::json!({
        "format": "hlsrs-model", "version": 1,
        "input": {"name": "x", "shape": [4]},
        "layers": [
            {"name": "fc1", "op": "dense", "inputs": ["x"],
             "weights": {"shape": [4, 3], "data": tiny}, "bias": {"shape": [3], "data": [0.0, 0.0, 0.0]}}
        ],
        "output": "fc1"
    });
    let dir = common::tempdir();
    let path = dir.path().join("tiny.json");
    std::fs::write(&path, model.to_string()).unwrap();
    // A result type fine enough for the products: only the weights are in question.
    let mut config = Config::default();
    layer(&mut config, "fc1").result = Some(FixedType::fixed(16, -8));
    let p = prepare(&path, &config, None).unwrap();
    let w = warnings(&p.notes);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("layer 'fc1'") && w[0].contains("below one step of ap_fixed<16,6>"),
        "{w:?}"
    );
    let ty = w[0]
        .rsplit("weight = \"")
        .next()
        .unwrap()
        .trim_end_matches('"');
    let keep = FixedType::parse(ty).unwrap();
    assert!(keep.int < 0, "{keep}");
    let x = hlsrs::arrays::Array {
        shape: vec![8, 4],
        data: (0..32).map(|i| ((i * 7 % 13) as f64 - 6.0) / 3.0).collect(),
    };
    let worst = |p: &hlsrs::Prepared| {
        let (fixed, float) = (
            hlsrs::predict(p, &x, false).unwrap(),
            hlsrs::predict(p, &x, true).unwrap(),
        );
        fixed
            .data
            .iter()
            .zip(&float.data)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    };
    let step = FixedType::fixed(16, -8).lsb();
    let before = worst(&p);
    layer(&mut config, "fc1").weight = Some(keep);
    let p = prepare(&path, &config, None).unwrap();
    assert!(warnings(&p.notes).is_empty(), "{:?}", p.notes);
    let after = worst(&p);
    println!("max |fixed - float|: {before:e} with ap_fixed<16,6> weights, {after:e} with {keep}");
    assert!(
        before > 20.0 * step && after <= 2.0 * step,
        "{before} {after}"
    );
    let out = dir.path().join("prj");
    hlsrs::compile(&p, &out, false, Some(&x)).unwrap();
    common::assert_csim_matches_emulator(&p, &out, &x, "fc1 with the kept weights");
}
