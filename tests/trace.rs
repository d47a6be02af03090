//! `hlsrs predict --trace` (issue 15): every layer's values on every sample, fixed and float.
//! The traced output layers are `predict`'s outputs bit for bit; the float trace is ONNX Runtime's
//! value of every node (testdata/cnn_wraps_at_default/intermediates.npz, made by
//! scripts/make_testdata.py with every node output made a graph output); the trace names the
//! layer where fixed and float part ways.

mod common;

use hlsrs::arrays::Array;
use hlsrs::{Config, predict, prepare};

fn first_rows(x: &Array, n: usize) -> Array {
    let n = n.min(x.rows());
    Array {
        shape: [vec![n], x.shape[1..].to_vec()].concat(),
        data: x.data[..n * x.row_len()].to_vec(),
    }
}

#[test]
fn traced_outputs_are_predicts_on_every_case() {
    let mut checked = 0;
    for case in common::cases() {
        let p = prepare(&case.model(), &Config::default(), None).unwrap();
        let x = first_rows(&case.input(), 20);
        let (_, layers) = hlsrs::trace(&p, &x).unwrap();
        assert_eq!(layers.len(), p.plans.len(), "{}", case.name);
        let (fixed, float) = (
            predict(&p, &x, false).unwrap(),
            predict(&p, &x, true).unwrap(),
        );
        let mut at = 0;
        for (o, shape) in p.model.outputs.iter().zip(p.model.sample_output_shapes()) {
            let name = &p.model.node(o.node).name;
            let l = layers.iter().find(|l| &l.name == name).unwrap();
            let n: usize = shape.iter().product();
            assert_eq!(l.fixed.row_len(), n, "{} {name}", case.name);
            for r in 0..x.rows() {
                assert_eq!(
                    l.fixed.row(r),
                    &fixed.row(r)[at..at + n],
                    "{} {name} sample {r}",
                    case.name
                );
                assert_eq!(
                    l.float.row(r),
                    &float.row(r)[at..at + n],
                    "{} {name} sample {r}",
                    case.name
                );
            }
            at += n;
        }
        checked += 1;
    }
    assert!(checked >= 88, "{checked} cases");
}

#[test]
fn the_float_trace_is_onnx_runtimes_value_of_every_node() {
    let case = common::case("cnn_wraps_at_default");
    let golden = hlsrs::arrays::read_npz(&case.dir.join("intermediates.npz")).unwrap();
    let x = first_rows(&case.input(), 50);
    let p = prepare(&case.model(), &Config::default(), None).unwrap();
    let (fidelity, layers) = hlsrs::trace(&p, &x).unwrap();
    let mut matched = Vec::new();
    for l in &layers {
        let Some(g) = golden.get(&l.name) else {
            continue;
        };
        assert_eq!(g.shape, l.float.shape, "{}", l.name);
        let worst = g
            .data
            .iter()
            .zip(&l.float.data)
            .map(|(a, b)| (a - b).abs() / a.abs().max(1.0))
            .fold(0.0, f64::max);
        println!(
            "{:14} vs ONNX Runtime: max relative difference {worst:.2e}",
            l.name
        );
        assert!(worst < 1e-5, "{}: {worst}", l.name);
        matched.push(l.name.as_str());
    }
    // Every layer the design computes (the Flatten is no layer of ours).
    assert_eq!(
        matched,
        [
            "conv1",
            "relu1",
            "conv2",
            "relu2",
            "pool",
            "head_fc",
            "head_softmax"
        ]
    );
    // Fixed and float part ways where the values first wrap.
    assert_eq!(fidelity.parting().unwrap().name, "conv2");
    // Types that hold the values: they stay together.
    let mut config = Config::default();
    for l in ["conv2", "relu2", "pool", "head_fc"] {
        config.layers.entry(l.into()).or_default().result =
            Some(hlsrs::ir::FixedType::fixed(20, 10));
    }
    let p = prepare(&case.model(), &config, None).unwrap();
    let (fidelity, _) = hlsrs::trace(&p, &x).unwrap();
    assert!(fidelity.parting().is_none(), "{:?}", fidelity.parting());
}

#[test]
fn a_static_design_traces_every_step() {
    let case = common::case("lstm_jet_tagger");
    let config = Config {
        static_state: true,
        ..Config::default()
    };
    let p = prepare(&case.model(), &config, None).unwrap();
    let x = first_rows(&case.input(), 5);
    let (_, layers) = hlsrs::trace(&p, &x).unwrap();
    let fixed = predict(&p, &x, false).unwrap();
    let out = &p.model.node(p.model.outputs[0].node).name;
    let l = layers.iter().find(|l| &l.name == out).unwrap();
    // [samples, steps, ...shape]: the steps of a sample one after another, as predict gives them.
    assert_eq!(l.fixed.shape[..2], [5, p.model.steps]);
    assert_eq!(l.fixed.data, fixed.data);
}
