//! What hlsrs does when it is told to stop (SIGINT, SIGTERM, SIGHUP). The process still ends at
//! once, as a command-line tool should; `install` (called by `main`) adds three things first:
//! - a vendor tool run in a process group of its own (`ChildGroup`) gets the same signal, so
//!   `vitis_hls` does not run on after hlsrs;
//! - a file registered with `remove_on_stop` (the vitis-run wrapper script in the temp folder)
//!   is removed;
//! - inside a `Deferred` section (a project's files being moved into place) the signal waits
//!   until the section ends, so a project is never left half old, half new.
//!
//! The handler does only what is async-signal-safe: atomics, kill, unlink, signal and raise.
//! Without `install` (the library in another program) signals keep their usual meaning.

use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicUsize, Ordering::SeqCst};

/// The process group of the running vendor tool, or 0.
static CHILD_GROUP: AtomicI32 = AtomicI32::new(0);
/// Open `Deferred` sections.
static DEFERRED: AtomicUsize = AtomicUsize::new(0);
/// A signal that arrived inside a `Deferred` section, or 0.
static PENDING: AtomicI32 = AtomicI32::new(0);
/// A NUL-terminated path to unlink on a signal, or null. Never freed once set: the handler
/// may read it on another thread at any moment.
static REMOVE: AtomicPtr<libc::c_char> = AtomicPtr::new(std::ptr::null_mut());

const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// Installs the handler for SIGINT, SIGTERM and SIGHUP (only where they are not ignored: a
/// command started with `nohup` keeps ignoring SIGHUP).
pub fn install() {
    for sig in SIGNALS {
        // SAFETY: sigaction with a handler that only calls async-signal-safe functions.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, std::ptr::null(), &mut old) != 0
                || old.sa_sigaction == libc::SIG_IGN
            {
                continue;
            }
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
}

extern "C" fn on_signal(sig: libc::c_int) {
    let group = CHILD_GROUP.load(SeqCst);
    if group > 0 {
        // SAFETY: kill is async-signal-safe.
        unsafe { libc::kill(-group, sig) };
    }
    if DEFERRED.load(SeqCst) > 0 {
        PENDING.store(sig, SeqCst);
        return;
    }
    stop(sig);
}

/// Removes the registered file and ends the process by `sig`, as its default action does.
fn stop(sig: libc::c_int) {
    let path = REMOVE.load(SeqCst);
    // SAFETY: unlink, signal and raise are async-signal-safe; `path` is a leaked CString.
    unsafe {
        if !path.is_null() {
            libc::unlink(path);
        }
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

/// While alive, a signal waits (`install`'s handler records it); dropping the last one acts on
/// it.
pub struct Deferred(());

impl Deferred {
    pub fn new() -> Deferred {
        DEFERRED.fetch_add(1, SeqCst);
        Deferred(())
    }
}

impl Default for Deferred {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Deferred {
    fn drop(&mut self) {
        if DEFERRED.fetch_sub(1, SeqCst) == 1 {
            let sig = PENDING.swap(0, SeqCst);
            if sig != 0 {
                stop(sig);
            }
        }
    }
}

/// A child process leading a process group of its own (`CommandExt::process_group(0)`): a
/// signal to hlsrs is passed on to the whole group while this lives.
pub struct ChildGroup(());

impl ChildGroup {
    pub fn new(pid: u32) -> ChildGroup {
        CHILD_GROUP.store(pid as i32, SeqCst);
        ChildGroup(())
    }

    /// Ends the group: SIGTERM, then SIGKILL for what is left after `grace`.
    pub fn kill(&self, grace: std::time::Duration) {
        let group = CHILD_GROUP.load(SeqCst);
        if group <= 0 {
            return;
        }
        // SAFETY: signals to a process group hlsrs started.
        unsafe { libc::kill(-group, libc::SIGTERM) };
        let until = std::time::Instant::now() + grace;
        // A group with no process left answers ESRCH.
        while std::time::Instant::now() < until {
            if unsafe { libc::kill(-group, 0) } != 0 {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        unsafe { libc::kill(-group, libc::SIGKILL) };
    }
}

impl Drop for ChildGroup {
    fn drop(&mut self) {
        CHILD_GROUP.store(0, SeqCst);
    }
}

/// Removes `path` if hlsrs is stopped by a signal before the caller removes it itself (one
/// path at a time; a later call replaces it).
pub fn remove_on_stop(path: &std::path::Path) {
    use std::os::unix::ffi::OsStrExt;
    if let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) {
        REMOVE.store(c.into_raw(), SeqCst);
    }
}

/// Forgets the path `remove_on_stop` registered (the caller removed it).
pub fn keep_on_stop() {
    REMOVE.store(std::ptr::null_mut(), SeqCst);
}
