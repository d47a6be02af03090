//! Static recurrent designs (one time step per call, state kept between calls) against the
//! whole-sequence designs of the same models: the step design's output at the last call equals
//! the whole-sequence output bit for bit (fixed point) and exactly (f64), and a full-sequence
//! output (Y) equals the step outputs of every call. The step designs' C-simulation is checked in
//! csim_bitexact; here, what the two designs must share, and what static must refuse.

mod common;

use hlsrs::config::LayerConfig;
use hlsrs::emulate::{Emulator, float};
use hlsrs::ir::recurrent::Direction;
use hlsrs::ir::{FixedType, Op};
use hlsrs::{Config, Prepared};
use std::path::Path;

fn prepare(model: &Path, config: &Config) -> Prepared {
    hlsrs::prepare(model, config, None).unwrap()
}

fn stepped(c: &Config) -> Config {
    Config {
        static_state: true,
        ..c.clone()
    }
}

/// The recurrent layers of a model, with whether all of them run forward.
fn recurrent_layers(model: &Path) -> (usize, bool) {
    let p = prepare(model, &Config::default());
    let rec: Vec<Direction> = p
        .model
        .graph
        .node_weights()
        .filter_map(|n| match &n.op {
            Op::Recurrent(r) => Some(r.direction),
            _ => None,
        })
        .collect();
    (rec.len(), rec.iter().all(|&d| d == Direction::Forward))
}

/// The last call's outputs of a static design's sample output (each output holds its calls,
/// time first, one output after another).
fn last_call<T: Copy>(m: &hlsrs::ir::Model, y: &[T]) -> Vec<T> {
    m.sample_output_ranges()
        .into_iter()
        .flat_map(|(_, r)| {
            let per_call = r.len() / m.steps;
            y[r.end - per_call..r.end].to_vec()
        })
        .collect()
}

/// Checks a static design of `model` against its whole-sequence design on `rows` samples: the last
/// call equals the whole output, or (`per_step`) every call equals its step of the whole output.
fn check(model: &Path, config: &Config, x: &hlsrs::arrays::Array, rows: usize, per_step: bool) {
    let whole = prepare(model, config);
    let step = prepare(model, &stepped(config));
    let seq = step.model.steps;
    assert!(seq > 1, "{}: no steps", model.display());
    let (ew, es) = (
        Emulator::new(&whole.model).unwrap(),
        Emulator::new(&step.model).unwrap(),
    );
    for r in 0..rows {
        let raw = ew.quantize_input(x.row(r)).unwrap();
        assert_eq!(raw, es.quantize_input(x.row(r)).unwrap());
        let (yw, ys) = (ew.run_raw(&raw), es.run_raw(&raw));
        let (fw, fs) = (
            float::run(&whole.model, x.row(r)),
            float::run(&step.model, x.row(r)),
        );
        if per_step {
            assert_eq!(
                ys,
                yw,
                "{}: sample {r}: step outputs differ",
                model.display()
            );
            assert_eq!(
                fs,
                fw,
                "{}: sample {r}: float step outputs differ",
                model.display()
            );
        } else {
            assert_eq!(ys.len(), seq * yw.len());
            assert_eq!(
                last_call(&step.model, &ys),
                yw,
                "{}: sample {r}: last call differs",
                model.display()
            );
            assert_eq!(
                last_call(&step.model, &fs),
                fw,
                "{}: sample {r}",
                model.display()
            );
        }
    }
}

#[test]
fn last_call_of_every_static_design_equals_the_whole_sequence_design() {
    let mut checked = 0;
    for case in common::cases() {
        let (count, forward) = recurrent_layers(&case.model());
        // A convolution before the recurrent layer reads across time steps: a static design is
        // refused (tests/csim_bitexact.rs asserts the refusal).
        let windows = prepare(&case.model(), &Config::default())
            .model
            .graph
            .node_weights()
            .any(|n| matches!(n.op, Op::Conv { .. } | Op::Pool { .. }));
        if count == 0 || !forward || windows {
            continue;
        }
        let x = case.input();
        // Default precision, and a narrow one with its own state type and folded products.
        let mut narrow = Config {
            precision: FixedType::fixed(10, 4),
            table_size: 256,
            reuse: 4,
            strategy: hlsrs::ir::Strategy::Resource,
            ..Config::default()
        };
        let p = prepare(&case.model(), &narrow);
        for n in p.model.graph.node_weights() {
            if matches!(n.op, Op::Recurrent(_)) {
                narrow.layers.insert(
                    n.name.clone(),
                    LayerConfig {
                        state: Some(FixedType::fixed(12, 3)),
                        recurrent_reuse: Some(2),
                        ..LayerConfig::default()
                    },
                );
            }
        }
        for config in [Config::default(), narrow] {
            check(&case.model(), &config, &x, 100, false);
        }
        checked += 1;
    }
    assert!(checked >= 9, "only {checked} forward recurrent cases");
}

/// lstm_stacked cut after its first layer (whose output is Y, every step), then `tail` appended.
fn first_layer_of_stacked(dir: &Path, tail: serde_json::Value) -> std::path::PathBuf {
    let case = common::case("lstm_stacked");
    let model = hlsrs::frontend::load(&case.model(), "stacked").unwrap();
    let path = dir.join("model.json");
    hlsrs::frontend::json::write(&model, &path, false).unwrap();
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let layers = v["layers"].as_array_mut().unwrap();
    let keep = layers.iter().position(|l| l["name"] == "rec1").unwrap() + 1;
    layers.truncate(keep);
    let mut output = "rec1".to_string();
    for l in tail.as_array().unwrap() {
        output = l["name"].as_str().unwrap().to_string();
        layers.push(l.clone());
    }
    v["output"] = serde_json::json!(output);
    v.as_object_mut().unwrap().remove("output_shape");
    std::fs::write(&path, serde_json::to_string(&v).unwrap()).unwrap();
    path
}

#[test]
fn full_sequence_output_equals_the_step_outputs_of_every_call() {
    let dir = common::tempdir();
    // Y of every step, then a softmax over each step's hidden units (a per-step layer).
    let path = first_layer_of_stacked(
        dir.path(),
        serde_json::json!([{"name": "probs", "op": "softmax", "inputs": ["rec1"]}]),
    );
    let x = common::case("lstm_stacked").input();
    for config in [
        Config::default(),
        Config {
            reuse: 2,
            strategy: hlsrs::ir::Strategy::Resource,
            ..Config::default()
        },
    ] {
        check(&path, &config, &x, 100, true);
    }
    let step = prepare(&path, &stepped(&Config::default()));
    assert_eq!(step.model.sample_input_shapes(), vec![vec![20, 6]]);
    assert_eq!(step.model.sample_output_shapes(), vec![vec![20, 1, 10]]);
}

/// The default configuration with `static = true` in `[layers.<layer>]` only.
fn static_on(layer: &str) -> Config {
    let mut c = Config::default();
    let lc = LayerConfig {
        static_state: Some(true),
        ..LayerConfig::default()
    };
    c.layers.insert(layer.into(), lc);
    c
}

fn static_error(model: &Path, config: &Config) -> String {
    let err = hlsrs::prepare(model, config, None)
        .err()
        .expect("static design should be refused");
    assert!(err.is_user_error(), "not a user error: {err}");
    err.to_string()
}

#[test]
fn static_refuses_what_cannot_run_one_step_per_call() {
    let dir = common::tempdir();
    // A dense layer over the flattened sequence reads every step at once.
    let weights: Vec<f64> = (0..200 * 5).map(|i| (i % 7) as f64 * 0.01).collect();
    let path = first_layer_of_stacked(
        dir.path(),
        serde_json::json!([{"name": "fc", "op": "dense", "inputs": ["rec1"],
            "weights": {"shape": [200, 5], "data": weights},
            "bias": {"shape": [5], "data": [0.0, 0.0, 0.0, 0.0, 0.0]}}]),
    );
    let e = static_error(&path, &stepped(&Config::default()));
    assert!(
        e.contains("'fc'") && e.contains("reads the whole sequence"),
        "{e}"
    );

    // Reverse layers.
    let rev = common::case("lstm_reverse_peephole_clip").model();
    let e = static_error(&rev, &stepped(&Config::default()));
    assert!(
        e.contains("runs reverse") && e.contains("'rec1_y_h'"),
        "{e}"
    );

    // Some recurrent layers static, others not.
    let stacked = common::case("lstm_stacked").model();
    let mixed = static_on("rec1");
    let e = static_error(&stacked, &mixed);
    assert!(
        e.contains("every recurrent layer must be static") && e.contains("'rec2_y_h'"),
        "{e}"
    );

    // A non-recurrent layer, and a model without recurrent layers.
    let on_dense = static_on("fc");
    let e = static_error(&stacked, &on_dense);
    assert!(
        e.contains("[layers.fc]") && e.contains("dense layer"),
        "{e}"
    );
    let mlp = common::case("three_layer_keras").model();
    let e = static_error(&mlp, &stepped(&Config::default()));
    assert!(e.contains("the model has none"), "{e}");
}
