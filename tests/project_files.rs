//! The generated project as files: deterministic, rewritten only where changed, identical whether
//! the model came as ONNX or as its JSON description, and pinned by snapshots.

mod common;

use hlsrs::{Config, compile, prepare};
use std::collections::BTreeMap;
use std::path::Path;

fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn mtimes(dir: &Path) -> BTreeMap<String, std::time::SystemTime> {
    read_tree(dir)
        .keys()
        .map(|k| {
            (
                k.clone(),
                std::fs::metadata(dir.join(k)).unwrap().modified().unwrap(),
            )
        })
        .collect()
}

#[test]
fn two_compiles_are_byte_identical_and_a_rerun_touches_nothing() {
    let case = common::case("three_layer_bn_keras");
    let dir = common::tempdir();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let p = prepare(&case.model(), &Config::default(), None).unwrap();
    compile(&p, &a, false, None).unwrap();
    let p2 = prepare(&case.model(), &Config::default(), None).unwrap();
    compile(&p2, &b, false, None).unwrap();
    assert_eq!(read_tree(&a), read_tree(&b));

    let before = mtimes(&a);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let report = compile(&p, &a, false, None).unwrap().files;
    assert!(report.written.is_empty(), "rewrote {:?}", report.written);
    assert_eq!(mtimes(&a), before, "a re-run changed mtimes");

    // A change rewrites only the files it affects.
    let mut c = Config::default();
    c.layers.insert(
        "Relu".into(),
        hlsrs::config::LayerConfig {
            result: Some(hlsrs::ir::FixedType::fixed(12, 4)),
            ..Default::default()
        },
    );
    let p3 = prepare(&case.model(), &c, None).unwrap();
    let report = compile(&p3, &a, false, None).unwrap().files;
    let mut written = report.written.clone();
    written.sort();
    assert!(
        written.contains(&"firmware/defines.h".to_string()),
        "{written:?}"
    );
    assert!(
        !written
            .iter()
            .any(|f| f.starts_with("firmware/weights/w") || f.starts_with("firmware/hls_lib")),
        "unrelated files rewritten: {written:?}"
    );
}

#[test]
fn json_twin_of_every_onnx_case_gives_a_byte_identical_project() {
    for case in common::cases().into_iter().filter(|c| c.is_onnx()) {
        let dir = common::tempdir();
        let onnx_model = hlsrs::frontend::load_named(&case.model()).unwrap();
        // Inline weights, and .npy weights beside the JSON.
        for npy in [false, true] {
            let json = dir.path().join(format!("json{npy}")).join("model.json");
            std::fs::create_dir_all(json.parent().unwrap()).unwrap();
            hlsrs::frontend::json::write(&onnx_model, &json, npy).unwrap();
            let from_onnx = prepare(&case.model(), &Config::default(), None).unwrap();
            let from_json = prepare(&json, &Config::default(), None).unwrap();
            let (a, b) = (
                dir.path().join(format!("onnx{npy}")),
                dir.path().join(format!("prj{npy}")),
            );
            compile(&from_onnx, &a, false, None).unwrap();
            compile(&from_json, &b, false, None).unwrap();
            let (ta, tb) = (read_tree(&a), read_tree(&b));
            assert_eq!(
                ta.keys().collect::<Vec<_>>(),
                tb.keys().collect::<Vec<_>>(),
                "{}",
                case.name
            );
            for (k, v) in &ta {
                assert!(
                    v == &tb[k],
                    "{} (npy weights: {npy}): {k} differs between ONNX and JSON",
                    case.name
                );
            }
        }
    }
}

#[test]
fn json_errors_name_the_layer_and_the_expectation() {
    let dir = common::tempdir();
    let bad = |body: &str| {
        let p = dir.path().join("bad.json");
        std::fs::write(&p, body).unwrap();
        prepare(&p, &Config::default(), None)
            .err()
            .unwrap()
            .to_string()
    };
    let head = r#"{"format": "hlsrs-model", "version": 1, "input": {"name": "x", "shape": [2]}, "output": "a", "layers": "#;
    let e = bad(&format!(
        r#"{head}[{{"name": "a", "op": "relu", "inputs": ["y"]}}]}}"#
    ));
    assert!(
        e.contains("bad.json")
            && e.contains("node 'a'")
            && e.contains("input 'y' is not the model input"),
        "{e}"
    );
    let e = bad(&format!(
        r#"{head}[{{"name": "a", "op": "leaky_relu", "inputs": ["x"], "alpah": 0.1}}]}}"#
    ));
    assert!(e.contains("node 'a'") && e.contains("alpha"), "{e}");
    let e = bad(&format!(
        r#"{head}[{{"name": "a", "op": "relu", "inputs": ["x"], "colour": 1}}]}}"#
    ));
    assert!(e.contains("unknown key 'colour' for a relu layer"), "{e}");
    let e = bad(&format!(
        r#"{head}[{{"name": "a", "op": "dense", "inputs": ["x"], "weights": {{"shape": [3, 2], "data": [1,2,3,4,5,6]}}, "bias": {{"shape": [2], "data": [0,0]}}}}]}}"#
    ));
    assert!(e.contains("do not match 2 -> 2"), "{e}");
    let e = bad(&format!(
        r#"{head}[{{"name": "a", "op": "dense", "inputs": ["x"], "weights": {{"npy": "../w.npy"}}, "bias": {{"shape": [2], "data": [0,0]}}}}]}}"#
    ));
    assert!(
        e.contains("must be a plain file name beside the JSON"),
        "{e}"
    );
}

/// Snapshots of the IR after the passes and of the generated files of a small model: a diff shows
/// exactly what a change did to the output. (The numbers are proven by csim_bitexact, not here.)
/// Snapshots of the IR after the passes and of `files` (`{name}` stands for the design's name).
fn snapshot_project(case: &str, config: Config, files: &[&str]) {
    let name = config.name.clone().unwrap();
    let p = prepare(&common::case(case).model(), &config, None).unwrap();
    insta::assert_snapshot!(format!("{name}_ir"), hlsrs::ir::dump(&p.model));
    let dir = common::tempdir();
    compile(&p, &dir.path().join("prj"), false, None).unwrap();
    let tree = read_tree(&dir.path().join("prj"));
    for file in files {
        let file = file.replace("{name}", &name);
        let text = String::from_utf8(tree[&file].clone()).unwrap();
        let text = text.replace(env!("CARGO_PKG_VERSION"), "<version>");
        insta::assert_snapshot!(format!("{name}_{}", file.replace(['/', '.'], "_")), text);
    }
}

#[test]
fn snapshots_of_ir_and_generated_files() {
    for name in ["two_layer_keras", "shape_ops", "batchnorm"] {
        let config = Config {
            name: Some(name.to_string()),
            ..Config::default()
        };
        let files = [
            "firmware/{name}.cpp",
            "firmware/parameters.h",
            "firmware/defines.h",
            "hlsrs.json",
        ];
        snapshot_project(name, config, &files);
    }
    // The LSTM jet tagger, whole sequence per call and static (one step per call, reset port).
    for (name, static_state) in [("lstm", false), ("lstm_static", true)] {
        let config = Config {
            name: Some(name.to_string()),
            static_state,
            ..Config::default()
        };
        let files = [
            "firmware/{name}.cpp",
            "firmware/{name}.h",
            "firmware/parameters.h",
            "hlsrs.json",
        ];
        snapshot_project("lstm_jet_tagger", config, &files);
    }
    // A stream design with a branch (clones, FIFO depths).
    let case = common::case("residual_block_nhwc");
    let config = Config {
        name: Some("residual".into()),
        io: hlsrs::config::IoType::Stream,
        ..Config::default()
    };
    let p = prepare(&case.model(), &config, None).unwrap();
    let dir = common::tempdir();
    compile(&p, &dir.path().join("prj"), false, None).unwrap();
    let text = std::fs::read_to_string(dir.path().join("prj/firmware/residual.cpp")).unwrap();
    insta::assert_snapshot!(
        "residual_stream_top",
        text.replace(env!("CARGO_PKG_VERSION"), "<version>")
    );
}

/// Each weight header says the range and nonzero count of what it stores (issue 13), and says
/// it truly: recomputed here from the header's own bit patterns.
#[test]
fn weight_headers_state_the_range_and_nonzero_count_of_their_values() {
    // Dense layouts (conv2d_activations) and a sparse one (three_layer_keras's first layer).
    let mut checked = (0, 0);
    for case in ["conv2d_activations", "three_layer_keras"] {
        let p = prepare(&common::case(case).model(), &Config::default(), None).unwrap();
        let dir = common::tempdir();
        compile(&p, dir.path(), false, None).unwrap();
        for e in std::fs::read_dir(dir.path().join("firmware/weights")).unwrap() {
            let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            let Some(stats) = lines[2].strip_prefix("// min ") else {
                continue;
            };
            // "// N values of <type>, stored as their bit patterns ..."
            let described = lines[1].split(" values of ").nth(1).unwrap();
            // Sparse entries hold the weight in their low bits, indices above it.
            let sparse = described.contains(" packed with ");
            let ty = described.split(" packed with").next().unwrap();
            let ty = ty.split(", stored").next().unwrap();
            let ty = hlsrs::ir::FixedType::parse(ty).unwrap();
            let body = text.split('{').nth(1).unwrap().split('}').next().unwrap();
            let raw: Vec<i128> = body
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| s.parse::<i128>().unwrap())
                .map(|r| {
                    if sparse {
                        let w = ty.width;
                        let low = r & ((1i128 << w) - 1);
                        if ty.signed && low >= 1i128 << (w - 1) {
                            low - (1i128 << w)
                        } else {
                            low
                        }
                    } else {
                        r
                    }
                })
                .collect();
            let values: Vec<f64> = raw
                .iter()
                .filter(|&&r| !sparse || r != 0)
                .map(|&r| ty.to_f64(r))
                .collect();
            let min = values.iter().copied().fold(f64::INFINITY, f64::min);
            let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let nonzero = raw.iter().filter(|&&r| r != 0).count();
            let expected = if sparse {
                format!("{min}, max {max}; {nonzero} nonzero weights (a zero one has no entry)")
            } else {
                format!("{min}, max {max}; {nonzero} of {} nonzero", raw.len())
            };
            assert_eq!(stats, expected, "{}", lines[0]);
            if sparse {
                checked.1 += 1;
            } else {
                checked.0 += 1;
            }
        }
    }
    assert!(
        checked.0 >= 5 && checked.1 >= 1,
        "headers checked (dense, sparse): {checked:?}"
    );
}
