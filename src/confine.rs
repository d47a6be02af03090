//! A project folder as a boundary: paths read back from a project (its manifest is untrusted:
//! anyone may have edited it) must name files inside it, nothing hlsrs writes goes through a
//! symbolic link, and one writer at a time holds a folder.

use crate::error::{Error, Result};
use std::path::{Component, Path, PathBuf};

/// Whether `rel` names a place inside a folder: relative, of plain components only (no `..`,
/// `.`, root or prefix, no empty component, no NUL, no backslash).
pub fn is_confined(rel: &str) -> bool {
    !rel.is_empty()
        && !rel.contains(['\0', '\\'])
        && !rel.split('/').any(str::is_empty)
        && Path::new(rel)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

/// `dir/rel` for writing or removing: `rel` is confined and no folder between `dir` and the
/// file (nor the file itself) is a symbolic link, so what happens there stays inside `dir`.
/// (`dir` itself may be one: it is the path the user gave.)
pub fn inside(dir: &Path, rel: &str) -> Result<PathBuf> {
    if !is_confined(rel) {
        return Err(Error::input(format!(
            "{rel:?} is not a path inside the project (an absolute path, '..' or an empty part)"
        ))
        .in_file(dir));
    }
    let mut p = dir.to_path_buf();
    for part in rel.split('/') {
        p.push(part);
        if p.symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink())
        {
            return Err(Error::input(format!(
                "{} is a symbolic link: hlsrs writes only inside the project, never through a link (remove it, or choose another -o)",
                p.display()
            )));
        }
    }
    Ok(p)
}

/// The largest file hlsrs reads back from a project (its manifest, a vendor report): a
/// million-weight design's manifest is a few MB, Vitis's largest reports tens.
pub const MAX_READ: u64 = 256 << 20;

/// Reads a file of a project: a regular file (a link is followed once; a device, FIFO or
/// folder is refused, so /dev/zero cannot stand in for a report) of at most `MAX_READ` bytes.
pub fn read(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let f = std::fs::File::open(path)?;
    let meta = f.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    if meta.len() > MAX_READ {
        return Err(std::io::Error::other(format!(
            "{} bytes, more than the {MAX_READ} a project file may hold",
            meta.len()
        )));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // A file growing while read stops at the cap too.
    f.take(MAX_READ + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_READ {
        return Err(std::io::Error::other(
            "grew past the size a project file may hold",
        ));
    }
    Ok(bytes)
}

/// `read`, as UTF-8 text.
pub fn read_text(path: &Path) -> std::io::Result<String> {
    String::from_utf8(read(path)?)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
}

/// An exclusive lock on a folder (flock on the folder itself: nothing is left behind, and the
/// lock ends with the process however it ends).
pub struct DirLock(#[allow(dead_code)] std::fs::File);

/// Takes `dir`'s lock, waiting up to `wait` for another hlsrs that holds it; `what` says what
/// the lock is for, in the message when the wait runs out.
pub fn lock(dir: &Path, what: &str, wait: std::time::Duration) -> Result<DirLock> {
    use std::os::unix::io::AsRawFd;
    let f =
        std::fs::File::open(dir).map_err(|e| Error::io(dir, "open the folder to lock it", e))?;
    let until = std::time::Instant::now() + wait;
    loop {
        // SAFETY: flock on a descriptor this function owns.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(DirLock(f));
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(Error::io(dir, "lock the folder", e));
        }
        if std::time::Instant::now() >= until {
            return Err(Error::input(format!(
                "another hlsrs has been {what} here for {} s; try again when it has finished",
                wait.as_secs()
            ))
            .in_file(dir));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths_are_confined() {
        for ok in ["hlsrs.json", "firmware/weights/w2.h", "a.b/c..d"] {
            assert!(is_confined(ok), "{ok}");
        }
        for bad in [
            "",
            "../victim",
            "/abs/victim",
            "firmware/../../x",
            "./x",
            "a//b",
            "a/",
            "a\0b",
            "a\\..\\b",
            "..",
        ] {
            assert!(!is_confined(bad), "{bad:?}");
        }
    }

    #[test]
    fn nothing_is_reached_through_a_link() {
        let d = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), d.path().join("firmware")).unwrap();
        assert!(inside(d.path(), "firmware/x.h").is_err());
        assert!(inside(d.path(), "firmware").is_err());
        assert_eq!(
            inside(d.path(), "tb/x.cpp").unwrap(),
            d.path().join("tb/x.cpp")
        );
    }

    #[test]
    fn a_second_lock_waits_then_gives_up() {
        let d = tempfile::tempdir().unwrap();
        let held = lock(d.path(), "writing", std::time::Duration::ZERO).unwrap();
        let e = lock(d.path(), "writing", std::time::Duration::from_millis(50))
            .err()
            .unwrap();
        assert!(e.to_string().contains("another hlsrs"), "{e}");
        drop(held);
        assert!(lock(d.path(), "writing", std::time::Duration::ZERO).is_ok());
    }
}
