//! `--quantize search` (issue 5): on the three_layer_keras jet tagger with a seeded calibration
//! set, the searched design costs at most half the bits of ap_fixed<16,6> (sum over
//! multiplications of weight bits x input bits), keeps >= 99% argmax agreement with float on a
//! separate seeded test set, and the emulator equals the C-simulation bit for bit.

mod common;

use hlsrs::arrays::{self, Array};
use hlsrs::config::Quantize;
use hlsrs::quantize_search::bit_cost;
use hlsrs::{Config, predict, prepare};

/// `n` seeded samples of 16 standard-normal features (Box-Muller on the test generator).
fn normal_samples(seed: u64, n: usize) -> Array {
    let mut rng = common::Rng(seed);
    let mut u = || ((rng.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    let rows: Vec<Vec<f64>> = (0..n)
        .map(|_| {
            (0..16)
                .map(|_| (-2.0 * u().ln()).sqrt() * (2.0 * std::f64::consts::PI * u()).cos())
                .collect()
        })
        .collect();
    Array::from_rows(&[16], &rows)
}

#[test]
fn search_halves_the_bit_cost_and_keeps_99_percent_agreement() {
    let case = common::case("three_layer_keras");
    let dir = common::tempdir();
    let calib = dir.path().join("calib.npy");
    arrays::write(&calib, &normal_samples(0xCA11B, 2000)).unwrap();
    let test = normal_samples(0x7E57, 2000);
    let config = Config {
        quantize: Quantize::Search,
        calib: Some(calib),
        target_agreement: Some(0.99),
        ..Config::default()
    };
    let searched = prepare(&case.model(), &config, None).unwrap();
    let baseline = prepare(&case.model(), &Config::default(), None).unwrap();
    let (cost, base) = (
        bit_cost(&searched.model).unwrap(),
        bit_cost(&baseline.model).unwrap(),
    );
    assert!(cost * 2 <= base, "bit cost {cost} of {base}");
    let float = predict(&searched, &test, true).unwrap();
    let fixed = predict(&searched, &test, false).unwrap();
    let agree = (0..test.rows())
        .filter(|&r| common::argmax(fixed.row(r)) == common::argmax(float.row(r)))
        .count() as f64
        / test.rows() as f64;
    let types: Vec<String> = searched
        .model
        .topo_order()
        .iter()
        .map(|&n| {
            let node = searched.model.node(n);
            match &node.op {
                hlsrs::ir::Op::Dense { .. } => format!(
                    "{}: w {} -> {}",
                    node.name, node.precision.weight, node.precision.result
                ),
                _ => format!("{}: {}", node.name, node.precision.result),
            }
        })
        .collect();
    println!(
        "three_layer_keras quantize search (target 0.99): bit cost {cost} of {base} ({:.1}%); argmax agreement on the separate test set {:.2}%; {}; types {types:?}",
        100.0 * cost as f64 / base as f64,
        100.0 * agree,
        searched.notes.join("; ")
    );
    assert!(agree >= 0.99, "test-set agreement {agree}");
    // The searched types are per-layer settings of the design's config; csim agrees bit for bit.
    let rows: Vec<Vec<f64>> = (0..300).map(|r| test.row(r).to_vec()).collect();
    let x = Array::from_rows(&[16], &rows);
    let out = dir.path().join("prj");
    hlsrs::compile(&searched, &out, false, Some(&x)).unwrap();
    common::assert_csim_matches_emulator(&searched, &out, &x, "quantize search three_layer_keras");
}

#[test]
fn search_needs_calibration_data_and_one_target() {
    let case = common::case("three_layer_keras");
    let no_calib = Config {
        quantize: Quantize::Search,
        target_agreement: Some(0.99),
        ..Config::default()
    };
    let err = prepare(&case.model(), &no_calib, None).err().unwrap();
    assert!(err.to_string().contains("needs calibration data"), "{err}");
    let no_target = Config {
        quantize: Quantize::Search,
        calib: Some(case.dir.join("input.npy")),
        ..Config::default()
    };
    let err = prepare(&case.model(), &no_target, None).err().unwrap();
    assert!(err.to_string().contains("exactly one target"), "{err}");
    assert!(err.is_user_error());
}

#[test]
fn search_on_a_regressor_keeps_the_max_error() {
    // two_layer_keras ends in a sigmoid: one value per sample, a regression target.
    let case = common::case("two_layer_keras");
    let config = Config {
        quantize: Quantize::Search,
        calib: Some(case.dir.join("input.npy")),
        target_error: Some(0.01),
        ..Config::default()
    };
    let p = prepare(&case.model(), &config, None).unwrap();
    let x = case.input();
    let float = predict(&p, &x, true).unwrap();
    let fixed = predict(&p, &x, false).unwrap();
    let worst = fixed
        .data
        .iter()
        .zip(&float.data)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(worst <= 0.01, "max error {worst} on the calibration data");
    let base = prepare(&case.model(), &Config::default(), None).unwrap();
    let (cost, base) = (bit_cost(&p.model).unwrap(), bit_cost(&base.model).unwrap());
    assert!(cost < base, "bit cost {cost} of {base}");
    println!(
        "two_layer_keras quantize search (max error 0.01): bit cost {cost} of {base} ({:.1}%), max error {worst:.5}",
        100.0 * cost as f64 / base as f64
    );
}
