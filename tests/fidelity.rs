//! Leg 3 of correctness: at default settings (ap_fixed<16,6>, 1024-entry tables) the fixed-point
//! design agrees with float on argmax for at least 99% of each classifier's test inputs, and
//! stays close to float on every model. The error is printed for the issue notes.

mod common;

use hlsrs::{Config, predict, prepare};

#[test]
fn default_precision_agrees_with_float() {
    let mut failures = Vec::new();
    for case in common::cases() {
        let p = prepare(&case.model(), &Config::default(), None).unwrap();
        let x = case.input();
        let fixed = predict(&p, &x, false).unwrap();
        let float = predict(&p, &x, true).unwrap();
        let n = x.rows();
        let mut agree = 0;
        let mut max_err = 0.0f64;
        let mut sum_err = 0.0f64;
        for r in 0..n {
            let (a, b) = (fixed.row(r), float.row(r));
            if common::argmax(a) == common::argmax(b) {
                agree += 1;
            }
            for (u, v) in a.iter().zip(b) {
                max_err = max_err.max((u - v).abs());
                sum_err += (u - v).abs();
            }
        }
        let agreement = agree as f64 / n as f64;
        let mean_err = sum_err / (n * fixed.row_len()) as f64;
        println!(
            "{:28} argmax agreement {:6.2}%  mean |fixed - float| {mean_err:.2e}  max {max_err:.2e}{}",
            case.name,
            100.0 * agreement,
            if !case.classifier {
                "  (regression)"
            } else if !case.argmax_target {
                "  (printed only: issue 4 targets the jet-tagger shape)"
            } else {
                ""
            }
        );
        if case.classifier && case.argmax_target && agreement < 0.99 {
            failures.push(format!("{}: {:.2}%", case.name, 100.0 * agreement));
        }
        // Regressions: outputs within a few result LSBs of float, typically.
        if !case.classifier && mean_err > 0.05 {
            failures.push(format!("{}: mean error {mean_err}", case.name));
        }
    }
    assert!(failures.is_empty(), "fidelity below target: {failures:?}");
}

/// Issue 4's fidelity target: every recurrent model at ap_fixed<16,6> with 1024-entry tables, on
/// 1000 seeded standard-normal sequences, agreement printed; the LSTM jet-tagger shape (sequence
/// 20, 6 features, hidden 16) must agree on at least 99%, whole-sequence and static alike.
#[test]
fn recurrent_models_agree_on_1000_sequences() {
    let mut jet_tagger = None;
    for case in common::cases() {
        let p = prepare(&case.model(), &Config::default(), None).unwrap();
        if !p
            .model
            .graph
            .node_weights()
            .any(|n| matches!(n.op, hlsrs::ir::Op::Recurrent(_)))
        {
            continue;
        }
        // Rows of every input one after another (a model with several inputs).
        let shape = vec![p.model.sample_input_size()];
        let mut rng = common::Rng(1000);
        let mut normal = || {
            // Box-Muller from two uniforms in (0, 1].
            let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
            let v = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
            (-2.0 * (1.0 - u).ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
        };
        let n: usize = shape.iter().product();
        let x = hlsrs::arrays::Array {
            shape: [vec![1000], shape].concat(),
            data: (0..1000 * n).map(|_| normal()).collect(),
        };
        let fixed = predict(&p, &x, false).unwrap();
        let float = predict(&p, &x, true).unwrap();
        let agree = (0..1000)
            .filter(|&r| common::argmax(fixed.row(r)) == common::argmax(float.row(r)))
            .count();
        println!(
            "{:28} 1000 sequences: argmax agreement {:.1}%",
            case.name,
            agree as f64 / 10.0
        );
        if case.name == "lstm_jet_tagger" {
            // The static design's last call gives the same bits, so the same agreement.
            let config = Config {
                static_state: true,
                ..Config::default()
            };
            let s = prepare(&case.model(), &config, None).unwrap();
            let stepped = predict(&s, &x, false).unwrap();
            let k = fixed.row_len();
            let static_agree = (0..1000)
                .filter(|&r| {
                    let last = &stepped.row(r)[stepped.row_len() - k..];
                    common::argmax(last) == common::argmax(float.row(r))
                })
                .count();
            println!(
                "{:28} static design: argmax agreement {:.1}%",
                "",
                static_agree as f64 / 10.0
            );
            jet_tagger = Some((agree, static_agree));
        }
    }
    let (agree, static_agree) = jet_tagger.expect("lstm_jet_tagger is a recurrent case");
    assert!(
        agree >= 990 && static_agree >= 990,
        "{agree}/1000, static {static_agree}/1000"
    );
}
