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

/// The C-simulation's trace (the testbench built with HLSRS_TRACE) holds the emulator's bits in
/// every layer, not only the outputs: a pipelined design, a DATAFLOW one (resource layers), an
/// io_stream one (each stream read and put back), a static recurrent one (a line per step) and
/// one of two inputs and outputs. `hlsrs diff` says the same through the CLI.
#[test]
fn the_csim_trace_is_the_emulators_in_every_layer() {
    use hlsrs::config::IoType;
    use hlsrs::ir::Strategy;
    let dir = common::tempdir();
    let ap = common::ap_types();
    let cases = [
        ("cnn_wraps_at_default", Config::default()),
        (
            "two_inputs_two_outputs",
            Config {
                strategy: Strategy::Resource,
                reuse: 2,
                ..Config::default()
            },
        ),
        (
            "residual_block",
            Config {
                io: IoType::Stream,
                ..Config::default()
            },
        ),
        (
            "lstm_jet_tagger",
            Config {
                static_state: true,
                ..Config::default()
            },
        ),
    ];
    for (name, config) in cases {
        let case = common::case(name);
        let p = prepare(&case.model(), &config, None).unwrap();
        let x = first_rows(&case.input(), 6);
        let prj = dir.path().join(name);
        hlsrs::compile(&p, &prj, false, None).unwrap();
        let (y, _, csim) = hlsrs::csim::run_traced(&prj, &x, &ap).unwrap();
        assert_eq!(y.data, predict(&p, &x, false).unwrap().data, "{name}");
        let (_, emulated) = hlsrs::trace(&p, &x).unwrap();
        let inputs = p.model.inputs.len();
        assert_eq!(csim.len(), emulated.len() - inputs, "{name}: every layer");
        for l in &csim {
            let e = emulated.iter().find(|e| e.name == l.name).unwrap();
            assert_eq!(l.values.shape, e.fixed.shape, "{name} {}", l.name);
            assert!(
                l.values.data == e.fixed.data,
                "{name}: layer {} differs in C-simulation",
                l.name
            );
        }
    }
    // Through the CLI: csim --trace, predict --trace, diff (exit 0 when equal, 3 with the layer
    // named when not: float is not the design's bits).
    let hlsrs = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_hlsrs"))
            .args(args)
            .env("HLSRS_AP_TYPES", &ap)
            .output()
            .unwrap()
    };
    let case = common::case("cnn_wraps_at_default");
    let x = dir.path().join("x.npy");
    hlsrs::arrays::write(&x, &first_rows(&case.input(), 6)).unwrap();
    let t = dir.path().join("trace");
    let s = |p: &std::path::Path| p.to_str().unwrap().to_string();
    let prj = s(&dir.path().join("cnn_wraps_at_default"));
    let y = s(&dir.path().join("y.npy"));
    let o = hlsrs(&[
        "csim",
        &prj,
        "--input",
        &s(&x),
        "--output",
        &y,
        "--trace",
        &s(&t),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let model = s(&case.model());
    let o = hlsrs(&[
        "predict",
        &model,
        "--input",
        &s(&x),
        "--output",
        &y,
        "--trace",
        &s(&t),
    ]);
    assert!(o.status.success());
    let o = hlsrs(&["diff", &s(&t.join("csim.npz")), &s(&t.join("fixed.npz"))]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = hlsrs(&["diff", &s(&t.join("csim.npz")), &s(&t.join("float.npz"))]);
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    // The first layer after the input already rounds.
    let first = &p_first_layer(&case);
    assert!(err.contains(&format!("layer '{first}'")), "{err}");
    // No trace files stay in the project's build folder.
    let left: Vec<_> = std::fs::read_dir(dir.path().join("cnn_wraps_at_default/build"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n.starts_with("trace_") || n.starts_with("csim_in") || n.starts_with("csim_out")
        })
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// The first layer after the inputs, in the design's order.
fn p_first_layer(case: &common::Case) -> String {
    let p = prepare(&case.model(), &Config::default(), None).unwrap();
    p.plans
        .iter()
        .map(|pl| p.model.node(pl.node))
        .find(|n| !matches!(n.op, hlsrs::ir::Op::Input))
        .unwrap()
        .name
        .clone()
}

#[test]
fn diff_names_the_first_differing_layer_and_refuses_unlike_traces() {
    let dir = common::tempdir();
    let npz = |name: &str, layers: &[(&str, Vec<usize>, Vec<f64>)]| {
        let path = dir.path().join(name);
        let members: Vec<(String, Vec<u8>)> = layers
            .iter()
            .map(|(n, shape, data)| {
                let a = Array {
                    shape: shape.clone(),
                    data: data.clone(),
                };
                (n.to_string(), hlsrs::arrays::npy_bytes(&a))
            })
            .collect();
        hlsrs::arrays::write_npz(&path, &members).unwrap();
        path.to_str().unwrap().to_string()
    };
    let diff = |a: &str, b: &str, extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_hlsrs"))
            .args(["diff", a, b])
            .args(extra)
            .output()
            .unwrap()
    };
    // Layers in design order (z before a): the first that differs is named, not the first by name.
    let a = npz(
        "a.npz",
        &[
            ("z_first", vec![1, 2], vec![1.0, 2.0]),
            ("b_second", vec![1, 2], vec![1.0, 2.0]),
            ("a_third", vec![1, 2], vec![1.0, 2.0]),
        ],
    );
    let b = npz(
        "b.npz",
        &[
            ("z_first", vec![1, 2], vec![1.0, 2.0]),
            ("b_second", vec![1, 2], vec![1.0, 2.5]),
            ("a_third", vec![1, 2], vec![1.0, 3.0]),
        ],
    );
    let o = diff(&a, &b, &[]);
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("layer 'b_second'"), "{err}");
    assert!(diff(&a, &b, &["--tolerance", "1"]).status.success());
    assert!(diff(&a, &a, &[]).status.success());
    // Another design's trace (a shape differs), or nothing in common: exit 2, saying which.
    let c = npz("c.npz", &[("z_first", vec![1, 3], vec![1.0, 2.0, 3.0])]);
    let o = diff(&a, &c, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("'z_first' has shape"));
    let d = npz("d.npz", &[("other", vec![1], vec![0.0])]);
    let o = diff(&a, &d, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("share no layer"));
}

#[test]
fn tracing_a_project_whose_manifest_lacks_layer_indices_says_to_recompile() {
    let dir = common::tempdir();
    let case = common::case("two_layer_keras");
    let p = prepare(&case.model(), &Config::default(), None).unwrap();
    let prj = dir.path().join("prj");
    hlsrs::compile(&p, &prj, false, None).unwrap();
    let path = prj.join("hlsrs.json");
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for l in m["layers"].as_array_mut().unwrap() {
        l.as_object_mut().unwrap().remove("index");
    }
    std::fs::write(&path, m.to_string()).unwrap();
    let x = first_rows(&case.input(), 2);
    let err = hlsrs::csim::run_traced(&prj, &x, &common::ap_types()).unwrap_err();
    assert!(
        err.is_user_error() && err.to_string().contains("compile it again"),
        "{err}"
    );
}
