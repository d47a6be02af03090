//! Recurrent layers (issue 4, in progress): the ONNX LSTM / GRU / RNN operators in layout 1, as the
//! IR evaluates them in f64, match ONNX Runtime on every case under testdata/recurrent/ (forward,
//! reverse, bidirectional, stacked, both GRU reset variants, peepholes, clip, activation
//! parameters, initial states). The fixed-point backends refuse them with a clear error until
//! their kernels land.

mod common;

use hlsrs::{Config, arrays, predict, prepare};

fn cases() -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(common::root().join("testdata/recurrent"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    assert!(v.len() >= 9, "recurrent cases missing");
    v
}

#[test]
fn float_matches_onnx_runtime() {
    for dir in cases() {
        let p = prepare(&dir.join("model.onnx"), &Config::default(), None).unwrap();
        let x = arrays::read(&dir.join("input.npy")).unwrap();
        let gold = arrays::read(&dir.join("golden.npy")).unwrap();
        let y = predict(&p, &x, true).unwrap();
        assert_eq!(y.shape, gold.shape, "{}", dir.display());
        let mut worst = 0.0f64;
        for (a, b) in y.data.iter().zip(&gold.data) {
            worst = worst.max((a - b).abs());
            assert!(
                (a - b).abs() <= 1e-6 + 1e-5 * b.abs(),
                "{}: {a} vs golden {b}",
                dir.display()
            );
        }
        println!(
            "{:32} max |float - golden| {worst:.2e}",
            dir.file_name().unwrap().to_string_lossy()
        );
    }
}

#[test]
fn fixed_point_backends_refuse_recurrent_layers_clearly() {
    let dir = &cases()[0];
    let p = prepare(&dir.join("model.onnx"), &Config::default(), None).unwrap();
    let x = arrays::read(&dir.join("input.npy")).unwrap();
    let e = predict(&p, &x, false).unwrap_err();
    assert!(
        e.is_user_error()
            && e.to_string()
                .contains("not supported by the fixed-point backends yet"),
        "{e}"
    );
}

#[test]
fn json_description_carries_recurrent_layers() {
    let tmp = common::tempdir();
    for dir in cases() {
        let m = hlsrs::frontend::load(&dir.join("model.onnx"), "m").unwrap();
        let json = tmp.path().join("m.json");
        hlsrs::frontend::json::write(&m, &json, false).unwrap();
        let (a, b) = (
            prepare(&dir.join("model.onnx"), &Config::default(), None).unwrap(),
            prepare(&json, &Config::default(), None).unwrap(),
        );
        let x = arrays::read(&dir.join("input.npy")).unwrap();
        let x = arrays::Array {
            shape: vec![3, 20, 6],
            data: x.data[..360].to_vec(),
        };
        assert_eq!(
            predict(&a, &x, true).unwrap(),
            predict(&b, &x, true).unwrap(),
            "{}",
            dir.display()
        );
    }
}
