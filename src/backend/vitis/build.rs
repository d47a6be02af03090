//! Runs the vendor tool on a generated project (`hlsrs build`): Vitis HLS's `vitis_hls`, or the
//! Vitis Unified flow's `vitis-run --mode hls`, on the project's build_prj.tcl. The tool's output
//! is passed through; when a step fails, its ERROR lines are what the user gets back.

use crate::error::{Error, Result};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Which steps of build_prj.tcl to run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Steps {
    pub csim: bool,
    pub synth: bool,
    pub cosim: bool,
    pub export: bool,
    pub vsynth: bool,
}

/// Each step: its build_prj.tcl switch, the banner the script prints when it runs it, and what
/// a user calls it.
const STEPS: [(&str, &str, &str); 5] = [
    ("csim", "***** C SIMULATION *****", "C-simulation"),
    ("synth", "***** C/RTL SYNTHESIS *****", "C-synthesis"),
    (
        "cosim",
        "***** C/RTL COSIMULATION *****",
        "C/RTL co-simulation",
    ),
    ("export", "***** EXPORT IP *****", "IP export"),
    ("vsynth", "***** VIVADO SYNTHESIS *****", "Vivado synthesis"),
];

impl Steps {
    fn flags(&self) -> [bool; 5] {
        [self.csim, self.synth, self.cosim, self.export, self.vsynth]
    }

    /// build_prj.tcl's switches, one `key=value` word each.
    pub fn tcl_args(&self) -> String {
        STEPS
            .iter()
            .zip(self.flags())
            .map(|((key, _, _), on)| format!("{key}={}", on as u8))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The steps by name, in the order they run.
    pub fn names(&self) -> Vec<&'static str> {
        STEPS
            .iter()
            .zip(self.flags())
            .filter(|(_, on)| *on)
            .map(|((_, _, name), _)| *name)
            .collect()
    }

    /// The steps whose banners appear in a tool's output.
    fn seen(banners: &[bool; 5]) -> Steps {
        Steps {
            csim: banners[0],
            synth: banners[1],
            cosim: banners[2],
            export: banners[3],
            vsynth: banners[4],
        }
    }
}

/// An executable named `name` on PATH.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// Runs the steps in `dir`, stopping the tool after `timeout` if one is given; returns the
/// tool's name.
pub fn run(dir: &Path, steps: Steps, timeout: Option<std::time::Duration>) -> Result<String> {
    if !dir.join("build_prj.tcl").is_file() {
        return Err(Error::input(format!(
            "{} has no build_prj.tcl: expected a project written by `hlsrs compile`",
            dir.display()
        )));
    }
    let mut wrapper = None;
    let (tool, mut cmd) = if let Some(p) = on_path("vitis_hls") {
        let mut c = Command::new(p);
        c.arg("-f").arg("build_prj.tcl").arg(steps.tcl_args());
        ("vitis_hls", c)
    } else if let Some(p) = on_path("vitis-run") {
        // vitis-run hands a script no arguments: a wrapper sets them and sources build_prj.tcl,
        // so the project's own files stay as they are.
        wrapper = Some(Wrapper::new(dir, steps)?);
        let mut c = Command::new(p);
        c.args(["--mode", "hls", "--tcl"])
            .arg(&wrapper.as_ref().unwrap().path);
        ("vitis-run", c)
    } else {
        return Err(Error::input(
            "hlsrs build needs AMD Vitis HLS, and neither vitis_hls nor vitis-run is on PATH: install Vitis (2023.2 or later, the AMD Unified Installer's Vitis HLS component) and source its settings64.sh, or copy the project to a machine that has it and run `vitis_hls -f build_prj.tcl` there. Without Vitis, `hlsrs csim` runs the C-simulation with g++.",
        ));
    };
    // A process group of its own: a signal to hlsrs reaches the tool and everything it started
    // (crate::interrupt), and the timeout ends them all. Should hlsrs die without a chance to
    // pass a signal on (SIGKILL), the kernel sends the tool SIGTERM.
    use std::os::unix::process::CommandExt;
    cmd.process_group(0);
    // SAFETY: prctl is async-signal-safe; it only sets this child's parent-death signal.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    let mut child = cmd
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| Error::internal(format!("cannot run {tool}: {e}")))?;
    let group = std::sync::Arc::new(crate::interrupt::ChildGroup::new(child.id()));
    let timed_out = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let watchdog = timeout.map(|limit| {
        let (group, timed_out) = (group.clone(), timed_out.clone());
        std::thread::spawn(move || {
            // The sender is dropped when the tool ends: only running out the time is a timeout.
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(limit) {
                timed_out.store(true, std::sync::atomic::Ordering::SeqCst);
                group.kill(std::time::Duration::from_secs(10));
            }
        })
    });
    let mut errors = Vec::new();
    let mut banners = [false; 5];
    if let Some(out) = child.stdout.take() {
        // Bytes, not text: a line that is not UTF-8 (a vendor tool's output often is not) is
        // shown as well as it can be, and the pipe is read to its end, so the tool never dies
        // writing to a closed pipe.
        let mut out = BufReader::new(out);
        let mut raw = Vec::new();
        let stdout = std::io::stdout();
        loop {
            raw.clear();
            match out.read_until(b'\n', &mut raw) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let line = String::from_utf8_lossy(&raw);
            let line = line.trim_end_matches(['\n', '\r']);
            let _ = writeln!(stdout.lock(), "{line}");
            let t = line.trim();
            if t.starts_with("ERROR") {
                errors.push(line.to_string());
            }
            if let Some(k) = STEPS.iter().position(|(_, banner, _)| *banner == t) {
                banners[k] = true;
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| Error::internal(format!("{tool} did not finish: {e}")))?;
    drop(done);
    if let Some(w) = watchdog {
        let _ = w.join();
    }
    drop(group);
    drop(wrapper);
    if timed_out.load(std::sync::atomic::Ordering::SeqCst) {
        return Err(Error::input(format!(
            "{tool} ran past --timeout {} s and was stopped ({})",
            timeout.unwrap_or_default().as_secs_f64(),
            steps.tcl_args()
        )));
    }
    if !status.success() || !errors.is_empty() {
        let what = if errors.is_empty() {
            format!("{tool} exited with {status} without an ERROR line; see its log above")
        } else {
            errors.join("\n")
        };
        return Err(Error::input(format!(
            "{tool} failed ({}):\n{what}",
            steps.tcl_args()
        )));
    }
    let ran = Steps::seen(&banners);
    if ran != steps {
        return Err(Error::input(format!(
            "{tool} ran {} where {} was asked ({}): is build_prj.tcl the one hlsrs wrote?",
            list_or_none(&ran.names()),
            list_or_none(&steps.names()),
            steps.tcl_args()
        )));
    }
    Ok(tool.to_string())
}

fn list_or_none(names: &[&str]) -> String {
    if names.is_empty() {
        "no step".into()
    } else {
        names.join(", ")
    }
}

/// A Tcl script outside the project that gives build_prj.tcl its switches; removed when dropped.
struct Wrapper {
    path: PathBuf,
}

impl Wrapper {
    fn new(dir: &Path, steps: Steps) -> Result<Wrapper> {
        let script = std::path::absolute(dir.join("build_prj.tcl"))
            .map_err(|e| Error::io(dir, "resolve", e))?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path =
            std::env::temp_dir().join(format!("hlsrs_build_{}_{nanos}.tcl", std::process::id()));
        let script = script.to_str().ok_or_else(|| {
            Error::input("the project's path is not UTF-8, which vitis-run's Tcl cannot name")
                .in_file(dir)
        })?;
        let text = format!(
            "# Written by hlsrs build for vitis-run, which passes a script no arguments.\n\
             set ::argv [list {}]\nset ::argc 1\nsource {}\n",
            super::templates::tcl_word(&steps.tcl_args()),
            super::templates::tcl_word(script)
        );
        // Removed by Drop, or by the signal handler should hlsrs be stopped meanwhile.
        crate::interrupt::remove_on_stop(&path);
        std::fs::write(&path, text).map_err(|e| Error::io(&path, "write", e))?;
        Ok(Wrapper { path })
    }
}

impl Drop for Wrapper {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        crate::interrupt::keep_on_stop();
    }
}
