//! The emulator runs dense and conv layers whose accumulator holds every sum exactly as integer
//! sums in any order (its fast form); every other layer in the kernel's own order. The two must
//! give the same bits: checked on every case under settings that exercise the fast form's edges
//! (resource order, sparse weight lists with padding entries, conv groups, narrow types that
//! refuse it), against the kernel-order reference.

mod common;

use hlsrs::config::Prune;
use hlsrs::emulate::Emulator;
use hlsrs::ir::FixedType;
use hlsrs::ir::Strategy;
use hlsrs::{Config, prepare};

#[test]
fn the_integer_fast_form_gives_the_kernel_orders_bits() {
    let settings = [
        ("latency", Config::default()),
        (
            "resource R=4",
            Config {
                strategy: Strategy::Resource,
                reuse: 4,
                ..Config::default()
            },
        ),
        (
            "sparse resource R=8",
            Config {
                strategy: Strategy::Resource,
                reuse: 8,
                prune: Prune {
                    magnitude: Some(0.6),
                    ..Default::default()
                },
                ..Config::default()
            },
        ),
        (
            "narrow ap_fixed<10,4>",
            Config {
                precision: FixedType::fixed(10, 4),
                ..Config::default()
            },
        ),
    ];
    let (mut fast_layers, mut compared) = (0, 0);
    for case in common::cases() {
        let x = case.input();
        for (label, config) in &settings {
            let Ok(p) = prepare(&case.model(), config, None) else {
                continue; // (a reuse factor a layer does not accept: other tests cover refusals)
            };
            let fast = Emulator::with_plans(&p.model, &p.plans);
            let reference = Emulator::in_kernel_order(&p.model, &p.plans);
            fast_layers += fast.exact_layers();
            for r in 0..x.rows().min(40) {
                let bits = fast.quantize_input(x.row(r)).unwrap();
                assert_eq!(
                    fast.run_raw(&bits),
                    reference.run_raw(&bits),
                    "{} {label}: sample {r}",
                    case.name
                );
                compared += 1;
            }
        }
    }
    println!("{compared} samples equal; {fast_layers} layer plans in the fast form");
    assert!(fast_layers > 200, "{fast_layers}");
}
