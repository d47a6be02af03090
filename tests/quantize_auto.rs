//! `--quantize auto` (issue 5): types from interval analysis of the input range cannot overflow.
//! Checked on every feed-forward test model by running the emulator on seeded random inputs at
//! the declared range (and at its corners) and counting every cast that wrapped or saturated.
//! A control shows the counter sees overflows when types are too narrow.

mod common;

use hlsrs::config::Quantize;
use hlsrs::ir::Op;
use hlsrs::{Config, prepare};

const RANGE: (f64, f64) = (-4.0, 4.0);

fn auto(range: (f64, f64)) -> Config {
    Config {
        quantize: Quantize::Auto,
        input_range: Some(range),
        ..Config::default()
    }
}

/// Seeded inputs uniform in `range`, plus every sample at the low end, the high end, and
/// alternating between them (the corners interval analysis is built from).
fn inputs_in(size: usize, range: (f64, f64), n: usize) -> Vec<Vec<f64>> {
    let mut rng = common::Rng(0x5EED_0A70);
    let mut rows: Vec<Vec<f64>> = vec![
        vec![range.0; size],
        vec![range.1; size],
        (0..size)
            .map(|i| if i % 2 == 0 { range.0 } else { range.1 })
            .collect(),
        (0..size)
            .map(|i| if i % 2 == 1 { range.0 } else { range.1 })
            .collect(),
    ];
    for _ in 0..n {
        rows.push(
            (0..size)
                .map(|_| {
                    let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
                    range.0 + u * (range.1 - range.0)
                })
                .collect(),
        );
    }
    rows
}

/// (layer, overflowing casts) of every layer that overflowed, the model's own quantizers aside
/// (they saturate by definition).
fn overflows(p: &hlsrs::Prepared, x: &[Vec<f64>]) -> Vec<(String, u64)> {
    let (f, _) = hlsrs::fidelity::measure(&p.model, &p.plans, x, "test".into()).unwrap();
    f.layers
        .iter()
        .filter(|l| !l.quantizer)
        .map(|l| (l.name.clone(), l.overflows.iter().map(|o| o.count).sum()))
        .filter(|&(_, k)| k > 0)
        .collect()
}

fn feed_forward(case: &common::Case) -> bool {
    let p = prepare(&case.model(), &Config::default(), None).unwrap();
    !p.model
        .graph
        .node_weights()
        .any(|n| matches!(n.op, Op::Recurrent(_)))
}

#[test]
fn auto_types_never_overflow_on_inputs_in_the_declared_range() {
    let mut checked = 0;
    for case in common::cases().iter().filter(|c| feed_forward(c)) {
        let p = prepare(&case.model(), &auto(RANGE), None).unwrap();
        let size = p.model.sample_input_size();
        let x = inputs_in(size, RANGE, 300);
        let over = overflows(&p, &x);
        assert!(over.is_empty(), "{}: overflows {over:?}", case.name);
        // The types are the analysis's, not the configured ap_fixed<16,6> everywhere.
        let changed = p
            .model
            .graph
            .node_weights()
            .filter(|n| n.precision.result != hlsrs::ir::FixedType::fixed(16, 6))
            .count();
        assert!(changed > 0, "{}: no type chosen", case.name);
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} feed-forward cases");
    println!("quantize auto: {checked} feed-forward models, no overflow on inputs in {RANGE:?}");
}

#[test]
fn the_overflow_count_sees_narrow_types_overflow() {
    // Control: ap_fixed<16,6> everywhere and inputs at +-30 overflow somewhere in this model.
    let case = common::case("three_layer_keras");
    let wide = (-30.0, 30.0);
    let p = prepare(&case.model(), &Config::default(), None).unwrap();
    let x = inputs_in(16, wide, 50);
    assert!(!overflows(&p, &x).is_empty(), "no overflow counted");
    // The same range declared to the analysis: none.
    let p = prepare(&case.model(), &auto(wide), None).unwrap();
    assert_eq!(overflows(&p, &x), vec![]);
}

#[test]
fn auto_design_is_bit_exact_in_csim_and_close_to_float() {
    let case = common::case("three_layer_keras");
    let x = case.input();
    let p = prepare(&case.model(), &auto(RANGE), None).unwrap();
    let dir = common::tempdir();
    let out = dir.path().join("prj");
    hlsrs::compile(&p, &out, false, Some(&x)).unwrap();
    common::assert_csim_matches_emulator(&p, &out, &x, "quantize auto three_layer_keras");
    let float = hlsrs::predict(&p, &x, true).unwrap();
    let fixed = hlsrs::predict(&p, &x, false).unwrap();
    let agree = (0..x.rows())
        .filter(|&r| common::argmax(fixed.row(r)) == common::argmax(float.row(r)))
        .count() as f64
        / x.rows() as f64;
    let types: Vec<String> = p
        .model
        .topo_order()
        .iter()
        .map(|&n| {
            let node = p.model.node(n);
            format!("{}: {}", node.name, node.precision.result)
        })
        .collect();
    println!(
        "three_layer_keras quantize auto {RANGE:?}: argmax agreement with float {:.1}%; {types:?}",
        100.0 * agree
    );
    assert!(agree >= 0.9, "{agree}");
}

#[test]
fn bad_quantize_settings_are_errors() {
    for (toml, needle) in [
        ("quantize = \"magic\"", "expected auto"),
        ("input_range = [4, -4]", "first below the second"),
        ("input_range = [1]", "[low, high]"),
    ] {
        let err = Config::from_toml(toml).expect_err(toml);
        assert!(
            err.is_user_error() && err.to_string().contains(needle),
            "{toml}: {err}"
        );
    }
}

#[test]
fn an_error_bound_sets_the_fractional_bits_of_weights_and_biases() {
    let case = common::case("three_layer_keras");
    for e in [1e-2, 1e-4] {
        let config = Config {
            max_weight_error: Some(e),
            ..auto(RANGE)
        };
        let p = prepare(&case.model(), &config, None).unwrap();
        for n in p.model.topo_order() {
            let node = p.model.node(n);
            if let Op::Dense { weights, bias } = &node.op {
                for (t, values) in [
                    (node.precision.weight, weights),
                    (node.precision.bias, bias),
                ] {
                    let q =
                        hlsrs::kernels::Consts::quantize(t, values.data.iter().copied()).unwrap();
                    let worst = values
                        .data
                        .iter()
                        .zip(&q.raw)
                        .map(|(v, &r)| (v - t.to_f64(r)).abs())
                        .fold(0.0, f64::max);
                    assert!(worst <= e, "{}: {t} errs by {worst} > {e}", node.name);
                    // And not more bits than the bound needs: one fewer would break it.
                    assert!(t.lsb() > e, "{}: {t} finer than needed for {e}", node.name);
                }
            }
        }
    }
}
