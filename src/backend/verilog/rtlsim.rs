//! The RTL's C-simulation: Verilator builds the project's Verilog with its harness, and the
//! samples run through the pipeline back to back, one a cycle.

use crate::arrays::Array;
use crate::backend::project::{End, parse_output_bits, read_info};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// What a run measured beside the outputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// Clock edges from the edge that takes a sample in to the one its outputs appear after.
    pub latency: usize,
    /// Cycles from the first output to the last, both counted: the call count at II 1.
    pub cycles: usize,
    /// Calls made: samples x the design's steps (a static design's time steps).
    pub calls: usize,
    /// The latency the project states (hlsrs.json).
    pub stated: Option<usize>,
}

/// The project's top module and stated latency, from its manifest (untrusted: the top must be
/// an identifier).
fn top_of(dir: &Path) -> Result<(String, Option<usize>)> {
    let path = dir.join(crate::backend::MANIFEST);
    let text = crate::confine::read_text(&path).map_err(|e| Error::io(&path, "read", e))?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::input(format!("invalid manifest: {e}")).in_file(&path))?;
    if v["backend"].as_str() != Some("verilog") {
        return Err(Error::input(
            "not a verilog project (compile it with --backend verilog; `hlsrs csim` runs a vitis project)",
        )
        .in_file(dir));
    }
    let top = v["top"].as_str().unwrap_or_default().to_string();
    if top.is_empty() || crate::ir::names::c_identifier(&top) != top {
        return Err(Error::input(format!(
            "manifest names the top module {top:?}, not an identifier"
        ))
        .in_file(&path));
    }
    let stated = v["latency_cycles"].as_u64().map(|l| l as usize);
    Ok((top, stated))
}

/// Verilator, or why not.
fn verilator() -> Result<String> {
    let v = std::env::var("VERILATOR").unwrap_or_else(|_| "verilator".into());
    match Command::new(&v).arg("--version").output() {
        Ok(o) if o.status.success() => Ok(v),
        _ => Err(Error::input(format!(
            "{v} not found: install Verilator (Debian: apt-get install verilator; \
             scripts/install_rtl_tools.sh does it) or set VERILATOR"
        ))),
    }
}

/// Builds (when the sources are newer) and returns the simulator.
pub fn build(dir: &Path) -> Result<PathBuf> {
    let info = read_info(dir)?;
    let (top, _) = top_of(dir)?;
    let dir = &std::path::absolute(dir).map_err(|e| Error::io(dir, "resolve", e))?;
    let build = crate::confine::inside(dir, "build")?;
    let mdir = build.join("verilator");
    let exe = mdir.join("rtlsim");
    let sources = [
        dir.join(format!("rtl/{}.v", info.name)),
        dir.join(format!("rtl/{}_harness.cpp", info.name)),
    ];
    let newest = sources
        .iter()
        .filter_map(|p| p.metadata().and_then(|m| m.modified()).ok())
        .max();
    let fresh = || {
        exe.metadata()
            .and_then(|m| m.modified())
            .ok()
            .zip(newest)
            .is_some_and(|(e, s)| e >= s)
    };
    if fresh() {
        return Ok(exe);
    }
    for s in &sources {
        if !s.is_file() {
            return Err(Error::input(format!("{} is missing", s.display())).in_file(dir));
        }
    }
    std::fs::create_dir_all(&build).map_err(|e| Error::io(&build, "create", e))?;
    let _lock = crate::confine::lock(
        &build,
        "building this RTL simulation",
        std::time::Duration::from_secs(1800),
    )?;
    if fresh() {
        return Ok(exe);
    }
    let v = verilator()?;
    let jobs = crate::ir::parallel::cores().to_string();
    let out = Command::new(&v)
        .current_dir(dir)
        .args([
            "--cc",
            "--exe",
            "--build",
            "-O1",
            "-Wno-fatal",
            "-Wno-lint",
            "-Wno-style",
        ])
        .args(["-j", &jobs, "--top-module", &top, "-Mdir"])
        .arg(&mdir)
        // The generated C++ unoptimised: half the build time, and a thousand samples run in
        // milliseconds either way.
        .args(["-MAKEFLAGS", "OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O0"])
        .args(["-o", "rtlsim"])
        .args(&sources)
        .output()
        .map_err(|e| Error::internal(format!("cannot run {v}: {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(30).collect();
        return Err(Error::internal(format!(
            "Verilator failed to build the design:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        )));
    }
    Ok(exe)
}

/// Runs the samples through the RTL: the outputs (exact values of their bits), the bits, and
/// the timing measured.
pub fn run(dir: &Path, input: &Array) -> Result<(Array, Vec<Vec<i128>>, Timing)> {
    let info = read_info(dir)?;
    let (_, stated) = top_of(dir)?;
    let rows = info.input_bits(input)?;
    let size = |e: &End| e.shape.iter().product::<usize>();
    // A static design runs `steps` calls a sample: call t holds step t of every input (each
    // input whole in the sample, time first), and its outputs likewise.
    let steps = info.steps;
    let per_call = |ends: &[End]| -> Vec<usize> { ends.iter().map(|e| size(e) / steps).collect() };
    let (in_call, out_call) = (per_call(&info.inputs), per_call(&info.outputs));
    let exe = build(dir)?;
    let dir = &std::path::absolute(dir).map_err(|e| Error::io(dir, "resolve", e))?;
    let mut text = String::new();
    for bits in &rows {
        for t in 0..steps {
            text.push_str(if t == 0 { "1" } else { "0" });
            let mut at = 0;
            for (e, &n) in info.inputs.iter().zip(&in_call) {
                for b in &bits[at + t * n..at + (t + 1) * n] {
                    text.push(' ');
                    text.push_str(&b.to_string());
                }
                at += size(e);
            }
            text.push('\n');
        }
    }
    let tag = std::process::id();
    let in_path = dir.join(format!("build/rtlsim_in_{tag}.dat"));
    let out_path = dir.join(format!("build/rtlsim_out_{tag}.dat"));
    std::fs::write(&in_path, text).map_err(|e| Error::io(&in_path, "write", e))?;
    let run = Command::new(&exe).arg(&in_path).arg(&out_path).output();
    let out = std::fs::read_to_string(&out_path);
    let _ = std::fs::remove_file(&in_path);
    let _ = std::fs::remove_file(&out_path);
    let run = run.map_err(|e| Error::internal(format!("cannot run {}: {e}", exe.display())))?;
    if !run.status.success() {
        return Err(Error::internal(format!(
            "the RTL simulation failed: {}",
            String::from_utf8_lossy(&run.stderr).trim_end()
        )));
    }
    let out = out.map_err(|e| Error::io(&out_path, "read", e))?;
    let calls = parse_output_bits(&out, input.rows() * steps, info.output_count() / steps)?;
    let bits: Vec<Vec<i128>> = calls
        .chunks(steps)
        .map(|c| {
            let mut row = Vec::with_capacity(info.output_count());
            let mut at = 0;
            for &n in &out_call {
                for call in c {
                    row.extend_from_slice(&call[at..at + n]);
                }
                at += n;
            }
            row
        })
        .collect();
    let report = String::from_utf8_lossy(&run.stdout);
    let field = |key: &str| -> Option<usize> {
        report
            .lines()
            .find_map(|l| l.strip_prefix(key)?.trim().parse().ok())
    };
    let timing = Timing {
        latency: field("latency ").unwrap_or(0),
        cycles: field("cycles ").unwrap_or(0),
        calls: input.rows() * steps,
        stated,
    };
    Ok((info.output_array(&bits), bits, timing))
}
