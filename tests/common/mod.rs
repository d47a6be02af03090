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
}

impl Case {
    pub fn model(&self) -> PathBuf {
        self.dir.join("model.onnx")
    }
    pub fn input(&self) -> Array {
        arrays::read(&self.dir.join("input.npy")).unwrap()
    }
    pub fn golden(&self) -> Array {
        arrays::read(&self.dir.join("golden.npy")).unwrap()
    }
}

/// Every ONNX case in testdata/ (folders with a case.json).
pub fn cases() -> Vec<Case> {
    let mut v: Vec<Case> = std::fs::read_dir(root().join("testdata"))
        .unwrap()
        .filter_map(|e| {
            let dir = e.unwrap().path();
            let meta = std::fs::read_to_string(dir.join("case.json")).ok()?;
            let meta: serde_json::Value = serde_json::from_str(&meta).unwrap();
            dir.join("model.onnx").exists().then(|| Case {
                name: dir.file_name().unwrap().to_string_lossy().into_owned(),
                classifier: meta["classifier"].as_bool().unwrap(),
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
