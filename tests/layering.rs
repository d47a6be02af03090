//! The module order of ARCHITECTURE.md holds: every `crate::` path in src/ (outside
//! `#[cfg(test)]` modules and comments) names a module on a row above the using module's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod common;

/// module -> row, from ARCHITECTURE.md's "Module order" table.
fn rows() -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(common::root().join("ARCHITECTURE.md")).unwrap();
    let section = text
        .split("## Module order")
        .nth(1)
        .expect("ARCHITECTURE.md has a Module order section");
    let mut rows = BTreeMap::new();
    for line in section.lines().take_while(|l| !l.starts_with("## ")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let Some(row) = cells.get(1).and_then(|c| c.parse::<usize>().ok()) else {
            continue;
        };
        for m in cells[2].split(',') {
            assert!(
                rows.insert(m.trim().to_string(), row).is_none(),
                "{m} is on two rows"
            );
        }
    }
    assert!(rows.len() > 10, "the table was not read: {rows:?}");
    rows
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level modules a file's code names with `crate::` paths (root re-exports mapped to
/// their modules; other root items are the API, as `api`).
fn used_modules(code: &str) -> Vec<String> {
    let code = code.split("#[cfg(test)]").next().unwrap();
    let mut used = Vec::new();
    for line in code.lines() {
        let line = line.split("//").next().unwrap();
        for (i, _) in line.match_indices("crate::") {
            let rest = &line[i + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let module = match name.as_str() {
                "Config" => "config".to_string(),
                "Error" | "Result" => "error".to_string(),
                n if n.starts_with(|c: char| c.is_uppercase()) => "api".to_string(),
                n => n.to_string(),
            };
            used.push(module);
        }
    }
    used
}

/// (file, used module, why it is forbidden) for every edge the table does not allow.
fn violations(src: &Path, rows: &BTreeMap<String, usize>) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut bad = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(src).unwrap();
        let module = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if module == "lib" || module == "main" {
            continue; // the API and the binary may use anything
        }
        let own = *rows
            .get(&module)
            .unwrap_or_else(|| panic!("src/{module} is not in ARCHITECTURE.md's module order"));
        for used in used_modules(&std::fs::read_to_string(f).unwrap()) {
            if used == module {
                continue;
            }
            let ok = match rows.get(&used) {
                Some(&r) => r < own,
                // The crate root's functions (prepare, compile, ...): only the CLI builds on them.
                None => module == "cli" && rows.get("cli") == Some(&own),
            };
            if !ok {
                bad.push(format!(
                    "src/{} (row {own}, {module}) uses crate::{used} (row {})",
                    rel.display(),
                    rows.get(&used).map_or("API".to_string(), |r| r.to_string())
                ));
            }
        }
    }
    bad.sort();
    bad.dedup();
    bad
}

#[test]
fn every_module_uses_only_modules_above_it() {
    let rows = rows();
    let bad = violations(&common::root().join("src"), &rows);
    assert!(
        bad.is_empty(),
        "imports against ARCHITECTURE.md's module order:\n{}",
        bad.join("\n")
    );
}

#[test]
fn an_upward_import_is_caught() {
    // The checker itself, on a copy of one file with an edge the table forbids added.
    let rows = rows();
    let dir = common::tempdir();
    let kernels = dir.path().join("kernels");
    std::fs::create_dir_all(&kernels).unwrap();
    let original = std::fs::read_to_string(common::root().join("src/kernels/mod.rs")).unwrap();
    std::fs::write(kernels.join("mod.rs"), &original).unwrap();
    assert!(violations(dir.path(), &rows).is_empty());
    std::fs::write(
        kernels.join("mod.rs"),
        format!("use crate::backend::vitis::render;\n{original}"),
    )
    .unwrap();
    assert_eq!(
        violations(dir.path(), &rows),
        ["src/mod.rs (row 5, kernels) uses crate::backend (row 13)"
            .replace("src/mod.rs", "src/kernels/mod.rs")]
    );
}

/// Each backend (a folder under src/backend/) uses what backend/mod.rs shares, never another
/// backend: (file, the other backend it names) for every such edge.
fn cross_backend(src: &Path) -> Vec<String> {
    let root = src.join("backend");
    let backends: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            p.is_dir()
                .then(|| p.file_name().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    let mut bad = Vec::new();
    for own in &backends {
        let mut files = Vec::new();
        rust_files(&root.join(own), &mut files);
        for f in files {
            let code = std::fs::read_to_string(&f).unwrap();
            let code = code.split("#[cfg(test)]").next().unwrap();
            for other in backends.iter().filter(|b| *b != own) {
                let named = code.lines().any(|l| {
                    let l = l.split("//").next().unwrap();
                    l.contains(&format!("backend::{other}"))
                        || l.contains(&format!("super::{other}"))
                });
                if named {
                    bad.push(format!("{} uses backend {other}", f.display()));
                }
            }
        }
    }
    bad.sort();
    bad
}

#[test]
fn no_backend_uses_another() {
    let bad = cross_backend(&common::root().join("src"));
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    // The checker itself, on a copy with a second backend that names the first.
    let dir = common::tempdir();
    for (b, text) in [
        ("vitis", "pub fn render() {}\n"),
        ("verilog", "use crate::backend::vitis::render;\n"),
    ] {
        std::fs::create_dir_all(dir.path().join("backend").join(b)).unwrap();
        std::fs::write(dir.path().join("backend").join(b).join("mod.rs"), text).unwrap();
    }
    let found = cross_backend(dir.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].ends_with("verilog/mod.rs uses backend vitis"),
        "{found:?}"
    );
}
