//! Magnitude pruning (issue 5, first part): the smallest weights become exactly zero, zero
//! weights cost no multiplication in the generated design, and the pruned design is still
//! bit-exact between the emulator and the C-simulation. Agreement with the unpruned float model
//! is printed for the issue notes.

mod common;

use hlsrs::config::LayerConfig;
use hlsrs::ir::{Op, Strategy};
use hlsrs::kernels::{Kernel, plan_model};
use hlsrs::{Config, Prepared, predict, prepare};
use std::path::Path;

fn pruned(s: f64) -> Config {
    Config {
        prune: Some(s),
        ..Config::default()
    }
}

/// Multiplications per dense layer, as the kernels plan them (zero weights excluded).
fn multiplications(p: &Prepared) -> Vec<usize> {
    plan_model(&p.model)
        .unwrap()
        .iter()
        .filter_map(|l| match &l.kernel {
            Kernel::Dense(d) => Some(d.multiplications),
            _ => None,
        })
        .collect()
}

/// Nonzero entries of the dense weight arrays in the generated headers (`w<k>.h`).
fn nonzero_weights_in_generated_code(dir: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir.join("firmware/weights")).unwrap() {
        let path = e.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(file.starts_with('w') && file[1..].trim_end_matches(".h").parse::<u32>().is_ok()) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let body = &text[text.find('{').unwrap() + 1..text.rfind('}').unwrap()];
        n += body
            .split(',')
            .filter(|v| v.trim().parse::<i64>().is_ok_and(|v| v != 0))
            .count();
    }
    n
}

#[test]
fn magnitude_pruning_keeps_at_most_30_percent_of_the_multiplications() {
    let case = common::case("three_layer_keras");
    let x = case.input();
    let whole = prepare(&case.model(), &Config::default(), None).unwrap();
    let before: usize = multiplications(&whole).iter().sum();
    let float = predict(&whole, &x, true).unwrap();
    for config in [
        pruned(0.7),
        Config {
            strategy: Strategy::Resource,
            reuse: 4,
            ..pruned(0.7)
        },
    ] {
        let p = prepare(&case.model(), &config, None).unwrap();
        let after: usize = multiplications(&p).iter().sum();
        assert!(
            after * 10 <= before * 3,
            "{after} of {before} multiplications kept"
        );
        let dir = common::tempdir();
        let out = dir.path().join("prj");
        hlsrs::compile(&p, &out, false, Some(&x)).unwrap();
        assert_eq!(nonzero_weights_in_generated_code(&out), after);
        // Bit-exact: the C-simulation of the pruned design equals the emulator.
        common::assert_csim_matches_emulator(&p, &out, &x, "pruned three_layer_keras");
        let fixed = predict(&p, &x, false).unwrap();
        let pruned_float = predict(&p, &x, true).unwrap();
        let agree = |y: &hlsrs::arrays::Array| {
            (0..x.rows())
                .filter(|&r| common::argmax(y.row(r)) == common::argmax(float.row(r)))
                .count() as f64
                / x.rows() as f64
        };
        println!(
            "three_layer_keras magnitude:0.7 {:?} R={}: {after} of {before} multiplications ({:.1}%); argmax agreement with the unpruned float model: pruned fixed {:.1}%, pruned float {:.1}%",
            config.strategy,
            config.reuse,
            100.0 * after as f64 / before as f64,
            100.0 * agree(&fixed),
            100.0 * agree(&pruned_float)
        );
    }
}

#[test]
fn layer_sparsity_removes_that_fraction_of_that_layer_only() {
    let case = common::case("three_layer_keras");
    let whole = prepare(&case.model(), &Config::default(), None).unwrap();
    let dense: Vec<String> = whole
        .model
        .graph
        .node_weights()
        .filter(|n| matches!(n.op, Op::Dense { .. }))
        .map(|n| n.name.clone())
        .collect();
    let mut config = Config::default();
    config.layers.insert(
        dense[1].clone(),
        LayerConfig {
            sparsity: Some(0.5),
            ..LayerConfig::default()
        },
    );
    let p = prepare(&case.model(), &config, None).unwrap();
    // Half of that layer's multiplications (weights nonzero in their type) go; no other changes.
    let (m0, m1) = (multiplications(&whole), multiplications(&p));
    for k in 0..m0.len() {
        let want = if k == 1 {
            m0[k] - m0[k].div_ceil(2)
        } else {
            m0[k]
        };
        assert_eq!(m1[k], want, "{}", dense[k]);
    }
    // The kept weights are exactly the largest half.
    let (n_whole, n_pruned) = (
        whole.model.find(&dense[1]).unwrap(),
        p.model.find(&dense[1]).unwrap(),
    );
    if let (Op::Dense { weights: a, .. }, Op::Dense { weights: b, .. }) =
        (&whole.model.node(n_whole).op, &p.model.node(n_pruned).op)
    {
        // Kept: the weights that are multiplications in the design (nonzero in their type).
        let ty = p.model.node(n_pruned).precision.weight;
        let smallest_kept = b
            .data
            .iter()
            .filter(|v| hlsrs::kernels::Consts::quantize(ty, [**v]).unwrap().raw[0] != 0)
            .map(|v| v.abs())
            .fold(f64::MAX, f64::min);
        let largest_cut = a
            .data
            .iter()
            .zip(&b.data)
            .filter(|(_, b)| **b == 0.0)
            .map(|(a, _)| a.abs())
            .fold(0.0, f64::max);
        assert!(
            largest_cut <= smallest_kept,
            "{largest_cut} cut, {smallest_kept} kept"
        );
    }
}

#[test]
fn bad_pruning_settings_are_errors() {
    let case = common::case("three_layer_keras");
    for (toml, needle) in [
        ("prune = \"random:0.5\"", "expected magnitude:S"),
        ("prune = \"magnitude:1.5\"", "below 1"),
        (
            "[layers.Relu]\nsparsity = 0.5",
            "'sparsity' applies to dense and conv layers",
        ),
    ] {
        let config =
            Config::from_toml(toml).and_then(|c| prepare(&case.model(), &c, None).map(|_| ()));
        let err = config.expect_err(toml);
        assert!(
            err.is_user_error() && err.to_string().contains(needle),
            "{toml}: {err}"
        );
    }
}
