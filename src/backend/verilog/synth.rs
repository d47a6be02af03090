//! The RTL's synthesis: yosys `synth_xilinx` for the part's family, out of context (no I/O
//! buffers) and flattened, and its cell statistics read back as resources.

use crate::error::{Error, Result};
use serde::Serialize;
use std::path::Path;
use std::process::Command;

/// What yosys built, in Xilinx primitives.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Cells {
    /// LUT1..LUT6 together, and each size.
    pub lut: u64,
    pub lut_by_size: [u64; 6],
    /// Flip-flops (FDRE, FDSE, FDCE, FDPE).
    pub ff: u64,
    /// Carry chains (CARRY4 or CARRY8).
    pub carry: u64,
    /// Wide multiplexers (MUXF7, MUXF8, MUXF9).
    pub mux: u64,
    pub dsp: u64,
    /// 18K block RAMs (a 36K one counts two).
    pub bram_18k: u64,
    /// Distributed and shift-register LUTs (RAM32M, SRL16E, ...).
    pub lutram: u64,
}

/// Reads yosys's `stat -json` output: the design's cells by type.
pub fn parse_stat(json: &str) -> Result<Cells> {
    let v: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| Error::input(format!("yosys statistics are not JSON: {e}")))?;
    let cells = v["design"]["num_cells_by_type"]
        .as_object()
        .ok_or_else(|| Error::input("yosys statistics hold no design cell counts"))?;
    let mut c = Cells::default();
    for (ty, n) in cells {
        let n = n.as_u64().unwrap_or(0);
        match ty.as_str() {
            t if t.len() == 4 && t.starts_with("LUT") => {
                if let Some(k) = t[3..].parse::<usize>().ok().filter(|k| (1..=6).contains(k)) {
                    c.lut += n;
                    c.lut_by_size[k - 1] += n;
                }
            }
            "FDRE" | "FDSE" | "FDCE" | "FDPE" => c.ff += n,
            "CARRY4" | "CARRY8" => c.carry += n,
            "MUXF7" | "MUXF8" | "MUXF9" => c.mux += n,
            t if t.starts_with("DSP48") || t.starts_with("DSP58") => c.dsp += n,
            t if t.starts_with("RAMB18") => c.bram_18k += n,
            t if t.starts_with("RAMB36") => c.bram_18k += 2 * n,
            t if t.starts_with("RAM") || t.starts_with("SRL") => c.lutram += n,
            _ => {}
        }
    }
    Ok(c)
}

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

#[cfg(test)]
mod tests {
    #[test]
    fn stat_counts_cells_by_kind() {
        let json = r#"{"design": {"num_cells_by_type": {"LUT2": 8, "LUT6": 2, "FDRE": 9,
            "CARRY8": 3, "DSP48E2": 1, "RAMB36E2": 1, "MUXF7": 4, "BUFG": 1}}}"#;
        let c = super::parse_stat(json).unwrap();
        assert_eq!((c.lut, c.lut_by_size[1], c.lut_by_size[5]), (10, 8, 2));
        assert_eq!((c.ff, c.carry, c.dsp, c.bram_18k, c.mux), (9, 3, 1, 2, 4));
    }
}
