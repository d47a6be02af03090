//! No input makes hlsrs panic: corrupted ONNX files (bytes flipped, truncated, spliced), and odd
//! but well-formed inputs either compile or give an error.

mod common;

use common::Rng;
use hlsrs::{Config, prepare};

#[test]
fn corrupted_models_never_panic() {
    let dir = common::tempdir();
    // A fixed seed in CI; HLSRS_FUZZ_SEED explores others locally.
    let seed = std::env::var("HLSRS_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0xbadc0de);
    let mut rng = Rng(seed);
    let mut outcomes = (0, 0);
    for case in common::cases().into_iter().filter(|c| c.is_onnx()) {
        let bytes = std::fs::read(case.model()).unwrap();
        for k in 0..120 {
            let mut b = bytes.clone();
            match k % 3 {
                0 => {
                    for _ in 0..rng.range(1, 8) {
                        let i = rng.range(0, b.len() as i64 - 1) as usize;
                        b[i] = rng.next() as u8;
                    }
                }
                1 => b.truncate(rng.range(0, b.len() as i64 - 1) as usize),
                _ => {
                    let i = rng.range(0, b.len() as i64 - 1) as usize;
                    let j = rng.range(0, b.len() as i64 - 1) as usize;
                    let chunk: Vec<u8> = b[i.min(j)..i.max(j)].to_vec();
                    b.splice(i..i, chunk);
                }
            }
            let path = dir.path().join("m.onnx");
            std::fs::write(&path, &b).unwrap();
            let result = std::panic::catch_unwind(|| {
                prepare(&path, &Config::default(), None).map(|p| {
                    // Whatever parses must also plan and emulate without panicking.
                    let x = vec![0.5; p.model.sample_input_size()];
                    let _ = hlsrs::emulate::Emulator::new(&p.model).and_then(|e| e.run(&x));
                })
            });
            match result {
                Ok(Ok(())) => outcomes.0 += 1,
                Ok(Err(e)) => {
                    assert!(
                        e.is_user_error(),
                        "{}: mutation {k}: internal error {e}",
                        case.name
                    );
                    outcomes.1 += 1;
                }
                Err(_) => panic!("{}: mutation {k} panicked", case.name),
            }
        }
    }
    println!(
        "{} mutated models compiled, {} rejected with a user error",
        outcomes.0, outcomes.1
    );
    assert!(outcomes.1 > 0);
}
