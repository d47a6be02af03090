//! No input makes hlsrs panic: corrupted ONNX files (bytes flipped, truncated, spliced), and odd
//! but well-formed inputs either compile or give an error.

mod common;

use common::Rng;
use hlsrs::{Config, prepare};

#[test]
fn corrupted_models_never_panic() {
    let dir = common::tempdir();
    let mut rng = Rng(seed());
    let mut outcomes = (0, 0);
    for case in common::cases().into_iter().filter(|c| c.is_onnx()) {
        let bytes = std::fs::read(case.model()).unwrap();
        for k in 0..120 {
            let b = mutate(&mut rng, &bytes, k);
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

/// One random mutation of `bytes`: values flipped, a cut, or a span repeated.
fn mutate(rng: &mut Rng, bytes: &[u8], k: usize) -> Vec<u8> {
    let mut b = bytes.to_vec();
    if b.is_empty() {
        return b;
    }
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
    b
}

/// Outcomes of a fuzzed reader: (accepted, refused with a user error); panics and internal
/// errors fail the test.
fn tally<T>(
    what: &str,
    k: usize,
    outcomes: &mut (usize, usize),
    r: std::thread::Result<hlsrs::Result<T>>,
) {
    match r {
        Ok(Ok(_)) => outcomes.0 += 1,
        Ok(Err(e)) => {
            assert!(
                e.is_user_error(),
                "{what}: mutation {k}: internal error {e}"
            );
            outcomes.1 += 1;
        }
        Err(_) => panic!("{what}: mutation {k} panicked"),
    }
}

/// A fixed seed in CI; HLSRS_FUZZ_SEED explores others locally.
fn seed() -> u64 {
    std::env::var("HLSRS_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0xbadc0de)
}

/// Sample archives (.npz: a zip of .npy files), configs and project manifests, mutated: each
/// reader answers with data or a user error (issue 24: an .npy header panicked).
#[test]
fn corrupted_archives_configs_and_manifests_never_panic() {
    let dir = common::tempdir();
    let mut rng = Rng(seed());
    let case = common::case("two_inputs_two_outputs");
    let model = hlsrs::frontend::load(&case.model(), "m").unwrap();
    let names: Vec<String> = model
        .inputs
        .iter()
        .map(|&i| model.node(i).name.clone())
        .collect();
    let shapes = model.sample_input_shapes();
    let npz = std::fs::read(case.dir.join("input.npz")).unwrap();
    let mut outcomes = (0, 0);
    for k in 0..300 {
        let path = dir.path().join("x.npz");
        std::fs::write(&path, mutate(&mut rng, &npz, k)).unwrap();
        let r = std::panic::catch_unwind(|| hlsrs::arrays::read_inputs(&path, &names, &shapes));
        tally("npz", k, &mut outcomes, r);
    }
    let config = "part = \"xcvu9p-flga2104-2-e\"\nclock = 4.0\nclock_uncertainty = \"12.5%\"\n\
                  precision = \"ap_fixed<16,6>\"\nreuse = 2\nstrategy = \"resource\"\n\
                  prune = \"magnitude:0.5\"\n[layers.dense]\nresult = \"ap_fixed<10,4,AP_RND,AP_SAT>\"\nreuse = 4\n";
    for k in 0..600 {
        let text = mutate(&mut rng, config.as_bytes(), k);
        let text = String::from_utf8_lossy(&text).into_owned();
        let r = std::panic::catch_unwind(|| hlsrs::Config::from_toml(&text));
        tally("config", k, &mut outcomes, r);
    }
    // A project's manifest, mutated as bytes and as values: reading it back (csim's facts,
    // the HTML report) and recompiling over it.
    let two = common::case("two_layer_keras");
    let prepared = hlsrs::prepare(&two.model(), &hlsrs::Config::default(), None).unwrap();
    let prj = dir.path().join("prj");
    hlsrs::compile(&prepared, &prj, false, None).unwrap();
    let manifest = std::fs::read(prj.join("hlsrs.json")).unwrap();
    let value: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
    for k in 0..90 {
        let bytes = if k % 2 == 0 {
            mutate(&mut rng, &manifest, k / 2)
        } else {
            let mut v = value.clone();
            scramble(&mut rng, &mut v);
            v.to_string().into_bytes()
        };
        std::fs::write(prj.join("hlsrs.json"), &bytes).unwrap();
        let r = std::panic::catch_unwind(|| hlsrs::csim::read_info(&prj));
        tally("manifest (csim)", k, &mut outcomes, r);
        let r = std::panic::catch_unwind(|| hlsrs::write_html_report(&prj));
        tally("manifest (report)", k, &mut outcomes, r);
        let r = std::panic::catch_unwind(|| hlsrs::compile(&prepared, &prj, true, None));
        tally("manifest (recompile)", k, &mut outcomes, r);
        assert!(
            prj.join("firmware").is_dir(),
            "mutation {k}: the project lost its files"
        );
    }
    println!(
        "{} read, {} refused with a user error",
        outcomes.0, outcomes.1
    );
    assert!(outcomes.0 > 0 && outcomes.1 > 0);
}

/// Replaces a few values anywhere in `v` by values of other kinds (huge numbers, negative
/// ones, strings of paths and markup, nested arrays).
fn scramble(rng: &mut Rng, v: &mut serde_json::Value) {
    use serde_json::{Value, json};
    let pick = |rng: &mut Rng| match rng.range(0, 7) {
        0 => json!(u64::MAX),
        1 => json!(-1),
        2 => json!("../../victim"),
        3 => json!("<script>x</script>"),
        4 => json!([[1, 2], {"a": null}]),
        5 => json!(1e308),
        6 => json!(null),
        _ => json!(""),
    };
    match v {
        Value::Object(m) => {
            for x in m.values_mut() {
                if rng.range(0, 9) == 0 {
                    *x = pick(rng);
                } else {
                    scramble(rng, x);
                }
            }
        }
        Value::Array(a) => {
            for x in a.iter_mut() {
                if rng.range(0, 9) == 0 {
                    *x = pick(rng);
                } else {
                    scramble(rng, x);
                }
            }
        }
        _ => {}
    }
}
