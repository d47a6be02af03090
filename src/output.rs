//! Writes a generated project: never half-written, never over files hlsrs did not write, and
//! without touching files whose contents did not change (so make rebuilds only what changed).

use crate::backend::vitis::{Files, MANIFEST};
use crate::error::{Error, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What a write did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WriteReport {
    pub written: Vec<String>,
    pub unchanged: usize,
    pub removed: Vec<String>,
}

/// Outputs of the tools that run in a project (C-simulation builds, vitis_hls, vivado, the HTML
/// report): they may sit beside hlsrs's files.
fn is_tool_output(rel: &str, name: &str) -> bool {
    let top = rel.split('/').next().unwrap_or("");
    // report.html: `hlsrs report --html` draws it from the manifest, after the compile.
    rel == "report.html"
        || top == "build"
        || top == ".Xil"
        || top == format!("{name}_prj")
        || top == format!("{name}_vitis")
        || (!rel.contains('/')
            && (rel.ends_with(".log") || rel.ends_with(".jou") || rel.starts_with("vivado_")))
}

fn list_files(dir: &Path, base: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let p = e.path();
        // The entry's own type (from the directory listing, no stat per file); a symbolic
        // link is listed as itself.
        if e.file_type()?.is_dir() {
            list_files(&p, base, out)?;
        } else {
            let rel = p
                .strip_prefix(base)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push(rel);
        }
    }
    Ok(())
}

/// Files a previous run listed in its manifest.
fn previous_files(dir: &Path) -> Option<BTreeSet<String>> {
    // Only the list is read: the rest of the manifest is skipped, not built.
    #[derive(serde::Deserialize)]
    struct Listed {
        files: BTreeSet<String>,
    }
    let text = std::fs::read(dir.join(MANIFEST)).ok()?;
    serde_json::from_slice::<Listed>(&text)
        .ok()
        .map(|l| l.files)
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::io(parent, "create the directory", e))?;
    }
    let tmp = path.with_file_name(format!(
        ".{}.hlsrs-tmp",
        path.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(path, "write", e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, "write", e))
}

/// Whether the file at `path` holds exactly `bytes`: read into `buf` up to one byte more than
/// `bytes` (open, read, close: a rerun compares every file of the project, and `fs::read` asks
/// for the file's size and reads once more to see its end).
fn holds(path: &Path, bytes: &[u8], buf: &mut Vec<u8>) -> bool {
    use std::io::Read;
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    buf.clear();
    buf.reserve(bytes.len() + 1);
    f.take(bytes.len() as u64 + 1).read_to_end(buf).is_ok() && buf == bytes
}

/// Writes `files` into `dir`. `name` is the design name (to recognise tool outputs).
pub fn write_project(dir: &Path, name: &str, files: &Files, force: bool) -> Result<WriteReport> {
    let mut report = WriteReport::default();
    if !dir.exists() {
        // Fresh project: write beside, then rename into place in one step.
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent)
            .map_err(|e| Error::io(&parent, "create the output's parent directory", e))?;
        let staging = parent.join(format!(
            ".{}.hlsrs-staging-{}",
            dir.file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            std::process::id()
        ));
        let result = (|| {
            for (rel, bytes) in files {
                let p = staging.join(rel);
                std::fs::create_dir_all(p.parent().unwrap())
                    .map_err(|e| Error::io(dir, "create the output directory", e))?;
                std::fs::write(&p, bytes).map_err(|e| Error::io(dir, "write the project", e))?;
            }
            std::fs::rename(&staging, dir)
                .map_err(|e| Error::io(dir, "create the output directory", e))
        })();
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&staging);
        }
        result?;
        report.written = files.keys().cloned().collect();
        return Ok(report);
    }
    if !dir.is_dir() {
        return Err(Error::input("the output path exists and is not a directory").in_file(dir));
    }
    let mut existing = Vec::new();
    list_files(dir, dir, &mut existing)
        .map_err(|e| Error::io(dir, "read the output directory", e))?;
    let previous = previous_files(dir).unwrap_or_default();
    let foreign: Vec<&String> = existing
        .iter()
        .filter(|f| !previous.contains(*f) && !is_tool_output(f, name))
        .collect();
    if !foreign.is_empty() && !force {
        let shown: Vec<&str> = foreign.iter().take(5).map(|s| s.as_str()).collect();
        return Err(Error::input(format!(
            "the output directory holds {} file(s) hlsrs did not write ({}{}); refusing to write into it \
             (use --force to write anyway, or choose another -o)",
            foreign.len(),
            shown.join(", "),
            if foreign.len() > 5 { ", ..." } else { "" }
        ))
        .in_file(dir));
    }
    let mut old = Vec::new();
    for (rel, bytes) in files {
        let p = dir.join(rel);
        if holds(&p, bytes, &mut old) {
            report.unchanged += 1;
            continue;
        }
        write_atomic(&p, bytes)?;
        report.written.push(rel.clone());
    }
    for old in previous.iter().filter(|f| !files.contains_key(*f)) {
        if std::fs::remove_file(dir.join(old)).is_ok() {
            report.removed.push(old.clone());
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::holds;

    #[test]
    fn a_file_holds_exactly_its_own_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.h");
        std::fs::write(&path, b"int x = 1;\n").unwrap();
        let mut buf = Vec::new();
        assert!(holds(&path, b"int x = 1;\n", &mut buf));
        for other in [&b"int x = 2;\n"[..], b"int x = 1;", b"int x = 1;\n\n", b""] {
            assert!(!holds(&path, other, &mut buf), "{other:?}");
        }
        assert!(!holds(&dir.path().join("missing.h"), b"", &mut buf));
        std::fs::write(&path, b"").unwrap();
        assert!(holds(&path, b"", &mut buf));
    }
}
