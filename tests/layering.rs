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
