//! Leg 1 of correctness: the IR evaluated in f64 matches ONNX Runtime (or numpy, where ORT cannot
//! run the model) on every test case, before and after the canonicalising passes.

mod common;

use hlsrs::emulate;

fn check(case: &common::Case, model: &hlsrs::ir::Model, stage: &str) {
    let x = case.input();
    let gold = case.golden();
    assert_eq!(x.rows(), gold.rows());
    let mut worst = 0.0f64;
    for r in 0..x.rows() {
        let y = emulate::float::run(model, x.row(r));
        let g = gold.row(r);
        assert_eq!(y.len(), g.len(), "{}: output size", case.name);
        for (a, b) in y.iter().zip(g) {
            // ORT computes in f32: numpy's allclose with rtol 1e-5 and atol 1e-6 (values that
            // cancel to near zero carry f32 rounding of the larger terms).
            let err = (a - b).abs() / (b.abs() + 0.1);
            worst = worst.max(err);
            assert!(
                (a - b).abs() <= 1e-6 + 1e-5 * b.abs(),
                "{} ({stage}) row {r}: {a} vs golden {b}",
                case.name
            );
        }
    }
    println!(
        "{:28} {stage:10} max |err|/(|golden|+0.1) {worst:.2e}",
        case.name
    );
}

#[test]
fn float_matches_golden_for_every_case() {
    for case in common::cases() {
        let model = hlsrs::frontend::load(&case.model(), "m").unwrap();
        hlsrs::ir::verify(&model).unwrap();
        check(&case, &model, "frontend");
        // After the passes (BatchNormalization folded, reshapes dropped, types assigned) the
        // float meaning must not change.
        let prepared = hlsrs::prepare(&case.model(), &hlsrs::Config::default(), None).unwrap();
        hlsrs::ir::verify(&prepared.model).unwrap();
        check(&case, &prepared.model, "passes");
    }
}
