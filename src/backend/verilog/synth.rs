//! The RTL's synthesis: yosys `synth_xilinx` for the part's family, out of context (no I/O
//! buffers) and flattened, and its cell statistics read back as resources.

use crate::error::{Error, Result};
use std::path::Path;
use std::process::Command;

pub use crate::report::{YosysCells as Cells, parse_yosys_stat as parse_stat};

/// The statistics file `synth.ys` writes.
pub const STAT_JSON: &str = "reports/yosys_stat.json";

/// Runs the project's `synth.ys` with yosys; its log goes to build/yosys.log.
pub fn run(dir: &Path) -> Result<Cells> {
    let yosys = std::env::var("YOSYS").unwrap_or_else(|_| "yosys".into());
    if !Command::new(&yosys)
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Err(Error::input(format!(
            "{yosys} not found: install yosys (Debian: apt-get install yosys; \
             scripts/install_rtl_tools.sh does it) or set YOSYS"
        )));
    }
    if !dir.join("synth.ys").is_file() {
        return Err(Error::input(
            "no synth.ys: not a verilog project (compile with --backend verilog)",
        )
        .in_file(dir));
    }
    for d in ["build", "reports"] {
        let p = crate::confine::inside(dir, d)?;
        std::fs::create_dir_all(&p).map_err(|e| Error::io(&p, "create", e))?;
    }
    let out = Command::new(&yosys)
        .current_dir(dir)
        .args(["-q", "-l", "build/yosys.log", "-s", "synth.ys"])
        .output()
        .map_err(|e| Error::internal(format!("cannot run {yosys}: {e}")))?;
    if !out.status.success() {
        return Err(Error::internal(format!(
            "yosys failed (build/yosys.log):\n{}",
            String::from_utf8_lossy(&out.stderr).trim_end()
        )));
    }
    let path = dir.join(STAT_JSON);
    let text = crate::confine::read_text(&path).map_err(|e| Error::io(&path, "read", e))?;
    parse_stat(&text).map_err(|e| e.in_file(&path))
}
