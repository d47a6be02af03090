//! Writes a generated project: never half-written, never over files hlsrs did not write, and
//! without touching files whose contents did not change (so make rebuilds only what changed).

use crate::backend::Files;
use crate::confine;
use crate::error::{Error, Result};
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
    // `.X.hlsrs-tmp`: a file an earlier hlsrs was writing when it was stopped.
    rel == "report.html"
        || rel.ends_with(".hlsrs-tmp")
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

/// How long a compile waits for another hlsrs writing the same project.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

/// Inside a project: the files of a rerun being written (`STAGE`), then, once all are there, the
/// same folder renamed (`COMMIT`: the point where the new project exists) while its files are
/// moved into place. A run that finds `COMMIT` finishes moving it; one that finds `STAGE`
/// removes it. `files/` holds the new files, `remove` the paths to delete, one per line.
const STAGE: &str = ".hlsrs-stage";
const COMMIT: &str = ".hlsrs-commit";

/// The staging folder of a fresh project, beside it: `.NAME.hlsrs-staging-PID`.
fn fresh_staging_prefix(dir: &Path) -> String {
    format!(
        ".{}.hlsrs-staging-",
        dir.file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    )
}

fn parent_of(dir: &Path) -> PathBuf {
    match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Takes the lock of the project at `dir` (the folder that holds it: `dir` itself may not exist
/// yet, or be replaced), then finishes or discards what an interrupted run left: a fresh
/// project's staging folder beside it, a rerun's stage or commit inside it. `hlsrs compile`
/// holds this while it writes.
pub fn lock_project(dir: &Path) -> Result<confine::DirLock> {
    let parent = parent_of(dir);
    std::fs::create_dir_all(&parent)
        .map_err(|e| Error::io(&parent, "create the output's parent directory", e))?;
    let lock = confine::lock(&parent, "writing a project", LOCK_WAIT)?;
    // A staging folder beside the project is a dead writer's: a live one would hold the lock.
    let prefix = fresh_staging_prefix(dir);
    for e in std::fs::read_dir(&parent).into_iter().flatten().flatten() {
        let n = e.file_name();
        if n.to_string_lossy().starts_with(&prefix) && e.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
    if dir.is_dir() {
        let stage = dir.join(STAGE);
        if stage.symlink_metadata().is_ok() {
            std::fs::remove_dir_all(&stage)
                .or_else(|_| std::fs::remove_file(&stage))
                .map_err(|e| Error::io(&stage, "remove an interrupted run's files", e))?;
        }
        if dir.join(COMMIT).symlink_metadata().is_ok() {
            apply_commit(dir)?;
        }
    }
    Ok(lock)
}

/// Moves a committed rerun's files into place and deletes what it removes; safe to run again
/// after an interruption at any point (a moved file is no longer in the commit).
fn apply_commit(dir: &Path) -> Result<()> {
    let commit = dir.join(COMMIT);
    if commit
        .symlink_metadata()
        .is_ok_and(|m| !m.file_type().is_dir())
    {
        return Err(
            Error::input(format!("{COMMIT} is not a folder hlsrs made; remove it")).in_file(dir),
        );
    }
    let files = commit.join("files");
    let mut moved = Vec::new();
    if files.is_dir() {
        list_files(&files, &files, &mut moved)
            .map_err(|e| Error::io(&files, "read an interrupted run's files", e))?;
    }
    let _deferred = crate::interrupt::Deferred::new();
    for rel in &moved {
        let to = confine::inside(dir, rel)?;
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::io(parent, "create the directory", e))?;
        }
        std::fs::rename(files.join(rel), &to).map_err(|e| Error::io(&to, "write", e))?;
    }
    if let Ok(list) = confine::read_text(&commit.join("remove")) {
        for rel in list.lines().filter(|l| confine::is_confined(l)) {
            if let Ok(p) = confine::inside(dir, rel) {
                let _ = std::fs::remove_file(p);
            }
        }
    }
    std::fs::remove_dir_all(&commit).map_err(|e| Error::io(&commit, "remove", e))
}

/// Writes `files` into `dir`, as a whole or not at all: a fresh project is written beside and
/// renamed into place; a rerun writes its changed files into a stage inside the project, which
/// becomes the commit in one rename and is then moved into place (an interrupted move is
/// finished by the next run: `lock_project`). Concurrent writers take turns (the lock). `name`
/// is the design name (to recognise tool outputs).
pub fn write_project(dir: &Path, name: &str, files: &Files, force: bool) -> Result<WriteReport> {
    let _lock = lock_project(dir)?;
    let mut report = WriteReport::default();
    if dir.symlink_metadata().is_err() {
        let staging = parent_of(dir).join(format!(
            "{}{}",
            fresh_staging_prefix(dir),
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
    let previous = crate::backend::listed_files(dir).unwrap_or_default();
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
    // Nothing written yet: every path must stay inside the project, --force or not.
    let mut old = Vec::new();
    let mut changed = Vec::new();
    for (rel, bytes) in files {
        let p = confine::inside(dir, rel)?;
        if holds(&p, bytes, &mut old) {
            report.unchanged += 1;
        } else {
            changed.push((rel, bytes));
        }
    }
    let removed: Vec<&String> = previous
        .iter()
        .filter(|f| !files.contains_key(*f))
        .filter(|f| confine::inside(dir, f).is_ok_and(|p| p.is_file()))
        .collect();
    if changed.is_empty() && removed.is_empty() {
        return Ok(report);
    }
    let stage = dir.join(STAGE);
    let result = (|| {
        for (rel, bytes) in &changed {
            let p = stage.join("files").join(rel);
            std::fs::create_dir_all(p.parent().unwrap())
                .map_err(|e| Error::io(dir, "write the project", e))?;
            std::fs::write(&p, bytes).map_err(|e| Error::io(dir, "write the project", e))?;
        }
        let list: String = removed.iter().map(|r| format!("{r}\n")).collect();
        std::fs::write(stage.join("remove"), list)
            .map_err(|e| Error::io(dir, "write the project", e))?;
        std::fs::rename(&stage, dir.join(COMMIT))
            .map_err(|e| Error::io(dir, "write the project", e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&stage);
    }
    result?;
    apply_commit(dir)?;
    report.written = changed.iter().map(|(r, _)| (*r).clone()).collect();
    report.removed = removed.into_iter().cloned().collect();
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
