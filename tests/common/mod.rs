//! Shared test helpers: the test cases under testdata/ and their data.
#![allow(dead_code)]

use hlsrs::arrays::{self, Array};
use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One folder of testdata/ made by scripts/make_testdata.py.
pub struct Case {
    pub name: String,
    pub dir: PathBuf,
    pub classifier: bool,
    /// Whether the 99% argmax agreement target applies (else agreement is only printed).
    pub argmax_target: bool,
}

impl Case {
    /// model.onnx, or model.json for cases written in the JSON format.
    pub fn model(&self) -> PathBuf {
        let onnx = self.dir.join("model.onnx");
        if onnx.exists() {
            onnx
        } else {
            self.dir.join("model.json")
        }
    }
    pub fn is_onnx(&self) -> bool {
        self.dir.join("model.onnx").exists()
    }
    /// The samples: rows of every input one after another (input.npz keyed by input name for
    /// a model with several inputs, else input.npy).
    pub fn input(&self) -> Array {
        let npz = self.dir.join("input.npz");
        if npz.exists() {
            return arrays::read_model_inputs(&npz, &self.ir()).unwrap();
        }
        arrays::read(&self.dir.join("input.npy")).unwrap()
    }
    /// The golden outputs: rows of every output one after another (golden.npz keyed by output
    /// name for a model with several outputs, else golden.npy).
    pub fn golden(&self) -> Array {
        let npz = self.dir.join("golden.npz");
        if npz.exists() {
            // Keyed by output name: joined in the model's output order, as predict gives them.
            let m = self.ir();
            let names: Vec<String> = m.outputs.iter().map(|o| o.name.clone()).collect();
            return arrays::read_inputs(&npz, &names, &m.sample_output_shapes()).unwrap();
        }
        arrays::read(&self.dir.join("golden.npy")).unwrap()
    }
    /// Whether the model has several inputs or outputs.
    pub fn multi_io(&self) -> bool {
        self.dir.join("input.npz").exists()
    }
    fn ir(&self) -> hlsrs::ir::Model {
        hlsrs::frontend::load(&self.model(), "m").unwrap()
    }
}

/// Every case in testdata/ (folders with a case.json and a model).
pub fn cases() -> Vec<Case> {
    let mut v: Vec<Case> = std::fs::read_dir(root().join("testdata"))
        .unwrap()
        .filter_map(|e| {
            let dir = e.unwrap().path();
            let meta = std::fs::read_to_string(dir.join("case.json")).ok()?;
            let meta: serde_json::Value = serde_json::from_str(&meta).unwrap();
            (dir.join("model.onnx").exists() || dir.join("model.json").exists()).then(|| Case {
                name: dir.file_name().unwrap().to_string_lossy().into_owned(),
                classifier: meta["classifier"].as_bool().unwrap(),
                argmax_target: meta["argmax_target"].as_bool().unwrap_or(true),
                dir,
            })
        })
        .collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(v.len() >= 19, "testdata cases missing: found {}", v.len());
    v
}

pub fn case(name: &str) -> Case {
    cases().into_iter().find(|c| c.name == name).unwrap()
}

pub fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

pub fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// The ap_types headers: HLSRS_AP_TYPES, else fetched into the cache by scripts/fetch_ap_types.sh.
pub fn ap_types() -> PathBuf {
    if let Ok(p) = std::env::var("HLSRS_AP_TYPES") {
        return PathBuf::from(p);
    }
    let out = std::process::Command::new(root().join("scripts/fetch_ap_types.sh"))
        .output()
        .expect("run scripts/fetch_ap_types.sh");
    assert!(
        out.status.success(),
        "scripts/fetch_ap_types.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// Runs `hlsrs csim` on the project in `out` and asserts its output bits equal the emulator's
/// for every sample (`what` names the setting in failures); returns the csim outputs as floats.
pub fn assert_csim_matches_emulator(
    prepared: &hlsrs::Prepared,
    out: &Path,
    x: &Array,
    what: &str,
) -> Array {
    let (csim, bits) = hlsrs::csim::run(out, x, &ap_types()).unwrap();
    let emu = hlsrs::emulate::Emulator::new(&prepared.model).unwrap();
    assert_eq!(bits.len(), x.rows(), "{what}");
    for (r, got) in bits.iter().enumerate() {
        let want = emu.run_raw(&emu.quantize_input(x.row(r)).unwrap());
        assert_eq!(got, &want, "{what}: sample {r} differs");
    }
    csim
}

/// A small deterministic generator (xorshift64*), so tests need no extra crate.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }
    /// Uniform in [lo, hi].
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo + 1) as u64)) as i64
    }
}

/// Every metacharacter of every language a project is written in (C++, Tcl, cfg, Makefile,
/// xdc, JSON, HTML), with payloads that run a command where a name escapes.
pub const HOSTILE: [&str; 4] = [
    "a\nstd::system(\"touch PWNED_CPP\"); //",
    "b */ int pwned = std::system(\"touch PWNED_CPP\"); /* \\",
    "c [exec touch PWNED_TCL] $env(HOME) {x} ; \"q\" # <script>console.log('PWNED')</script><b id=\"pwned\">&amp;</b>",
    "d \u{0} \u{e9}\u{2028} \r\n#include </etc/passwd>\n",
];

/// A JSON model (dense, relu, dense) whose every name is hostile, weights inline.
pub fn hostile_json(dir: &Path) -> PathBuf {
    let w1: Vec<f64> = (0..12).map(|k| (k as f64 - 5.5) / 8.0).collect();
    let w2: Vec<f64> = (0..6).map(|k| (k as f64 - 2.5) / 4.0).collect();
    let doc = serde_json::json!({
        "format": "hlsrs-model",
        "version": 1,
        "name": "m\"; [exec touch PWNED_TCL]\n",
        "input": {"name": "x\n[exec touch PWNED_TCL]\"*/", "shape": [4]},
        "layers": [
            {"name": HOSTILE[0], "op": "dense", "inputs": ["x\n[exec touch PWNED_TCL]\"*/"],
             "weights": {"shape": [4, 3], "data": w1}, "bias": {"shape": [3], "data": [0.1, -0.2, 0.3]}},
            {"name": HOSTILE[1], "op": "relu", "inputs": [HOSTILE[0]]},
            {"name": HOSTILE[2], "op": "dense", "inputs": [HOSTILE[1]],
             "weights": {"shape": [3, 2], "data": w2}, "bias": {"shape": [2], "data": [0.0, 0.5]}},
            {"name": HOSTILE[3], "op": "sigmoid", "inputs": [HOSTILE[2]]}
        ],
        "output": HOSTILE[3],
        "output_name": "y\n}; system(\"touch PWNED_CPP\"); {"
    });
    let path = dir.join("model.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}
