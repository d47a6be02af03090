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
            let (fit, other): (Vec<&String>, Vec<&String>) = warnings(&p.notes)
                .into_iter()
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
            && w[0].contains("--advise"),
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

#[test]
fn saturation_on_calibration_data_is_named_per_layer() {
    let case = common::case("three_layer_keras");
    let narrow = Config {
        precision: FixedType::fixed(10, 3),
        calib: Some(case.dir.join("input.npy")),
        ..Config::default()
    };
    let p = prepare(&case.model(), &narrow, None).unwrap();
    let w = warnings(&p.notes);
    assert!(
        w.iter()
            .any(|m| m.contains("saturate or wrap on the calibration data (500 samples)")),
        "{w:?}"
    );
    // (Even ap_fixed<16,6> wraps a few values of this model on these inputs.) Types fitted to the
    // ranges this data reaches, with a margin, overflow nowhere on it.
    let ok = Config {
        calib: Some(case.dir.join("input.npy")),
        quantize: hlsrs::config::Quantize::Auto,
        ..Config::default()
    };
    let p = prepare(&case.model(), &ok, None).unwrap();
    assert!(warnings(&p.notes).is_empty(), "{:?}", p.notes);
}
