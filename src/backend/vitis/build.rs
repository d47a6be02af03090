//! Runs the vendor tool on a generated project (`hlsrs build`): Vitis HLS's `vitis_hls`, or the
//! Vitis Unified flow's `vitis-run --mode hls`, on the project's build_prj.tcl. The tool's output
//! is passed through; when a step fails, its ERROR lines are what the user gets back.

use crate::error::{Error, Result};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Which steps of build_prj.tcl to run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Steps {
    pub csim: bool,
    pub synth: bool,
    pub cosim: bool,
    pub export: bool,
    pub vsynth: bool,
}

impl Steps {
    /// build_prj.tcl's switches.
    pub fn tcl_args(&self) -> String {
        let b = |v: bool| v as u8;
        format!(
            "csim={} synth={} cosim={} export={} vsynth={}",
            b(self.csim),
            b(self.synth),
            b(self.cosim),
            b(self.export),
            b(self.vsynth)
        )
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

/// Runs the steps in `dir`; returns the tool's name.
pub fn run(dir: &Path, steps: Steps) -> Result<String> {
    if !dir.join("build_prj.tcl").is_file() {
        return Err(Error::input(format!(
            "{} has no build_prj.tcl: expected a project written by `hlsrs compile`",
            dir.display()
        )));
    }
    let (tool, mut cmd) = if let Some(p) = on_path("vitis_hls") {
        let mut c = Command::new(p);
        c.arg("-f").arg("build_prj.tcl").arg(steps.tcl_args());
        ("vitis_hls", c)
    } else if let Some(p) = on_path("vitis-run") {
        let mut c = Command::new(p);
        c.args(["--mode", "hls", "--tcl", "build_prj.tcl"])
            .arg(steps.tcl_args());
        ("vitis-run", c)
    } else {
        return Err(Error::input(
            "hlsrs build needs AMD Vitis HLS, and neither vitis_hls nor vitis-run is on PATH: install Vitis (2023.2 or later, the AMD Unified Installer's Vitis HLS component) and source its settings64.sh, or copy the project to a machine that has it and run `vitis_hls -f build_prj.tcl` there. Without Vitis, `hlsrs csim` runs the C-simulation with g++.",
        ));
    };
    let mut child = cmd
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| Error::internal(format!("cannot run {tool}: {e}")))?;
    let mut errors = Vec::new();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(|l| l.ok()) {
            println!("{line}");
            if line.trim_start().starts_with("ERROR") {
                errors.push(line);
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| Error::internal(format!("{tool} did not finish: {e}")))?;
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
    Ok(tool.to_string())
}
