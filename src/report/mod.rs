//! Reads what the vendor tools wrote into a project: the C-synthesis report (XML, else the text
//! report), the C/RTL co-simulation report and the Vivado utilisation report. The formats are the
//! tools' own (Vivado HLS 2020.1 and Vitis HLS 2020-2024 name the DSP column `DSP48E` or `DSP`;
//! 7-series utilisation reports say `Slice LUTs`, UltraScale ones `CLB LUTs`).

pub mod html;

use crate::error::{Error, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// A number in few digits, as the summaries and the HTML report print figures.
pub fn short_number(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 1e-3 && v.abs() < 1e5 {
        format!("{}", (v * 1e4).round() / 1e4)
    } else {
        format!("{v:.3e}")
    }
}

/// Resource counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Resources {
    pub dsp: Option<u64>,
    pub lut: Option<u64>,
    pub ff: Option<u64>,
    pub bram_18k: Option<u64>,
    pub uram: Option<u64>,
}

/// The C-synthesis estimate of the top function.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Csynth {
    pub file: PathBuf,
    pub part: Option<String>,
    pub target_clock_ns: Option<f64>,
    pub estimated_clock_ns: Option<f64>,
    pub latency_best: Option<u64>,
    pub latency_worst: Option<u64>,
    pub interval_min: Option<u64>,
    pub interval_max: Option<u64>,
    pub used: Resources,
    pub available: Resources,
}

/// Post-synthesis utilisation from Vivado.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VivadoSynth {
    pub file: PathBuf,
    pub used: Resources,
    pub available: Resources,
}

/// The C/RTL co-simulation result (`<top>_cosim.rpt`): the RTL the testbench drove, whether
/// its outputs matched the C model's, and the measured latency and interval. Figures are `None`
/// where the tool wrote `NA` (a failed run; the interval of a single transaction).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Cosim {
    pub file: PathBuf,
    pub rtl: String,
    pub status: String,
    pub latency_min: Option<u64>,
    pub latency_avg: Option<u64>,
    pub latency_max: Option<u64>,
    pub interval_min: Option<u64>,
    pub interval_avg: Option<u64>,
    pub interval_max: Option<u64>,
    /// Vitis 2023 and later add the cycles of the whole run.
    pub total_cycles: Option<u64>,
}

impl Cosim {
    pub fn passed(&self) -> bool {
        self.status.eq_ignore_ascii_case("pass")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Reports {
    pub csynth: Option<Csynth>,
    pub cosim: Option<Cosim>,
    pub vivado: Option<VivadoSynth>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub yosys: Option<YosysCells>,
}

/// What yosys built (`stat -json` after synth_xilinx: a verilog project's `build --synth`), in
/// Xilinx primitives.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct YosysCells {
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

impl YosysCells {
    /// As the other reports' resources (LUTs as logic LUTs; no URAM in yosys's mapping).
    pub fn used(&self) -> Resources {
        Resources {
            dsp: Some(self.dsp),
            lut: Some(self.lut),
            ff: Some(self.ff),
            bram_18k: Some(self.bram_18k),
            uram: None,
        }
    }
}

/// Reads yosys's `stat -json` output: the design's cells by type.
pub fn parse_yosys_stat(json: &str) -> Result<YosysCells> {
    let v: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| Error::input(format!("yosys statistics are not JSON: {e}")))?;
    let cells = v["design"]["num_cells_by_type"]
        .as_object()
        .ok_or_else(|| Error::input("yosys statistics hold no design cell counts"))?;
    let mut c = YosysCells::default();
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

/// The text of `<tag>..</tag>` (first occurrence after `from`).
fn tag<'a>(xml: &'a str, name: &str, from: usize) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml[from..].find(&open)? + from + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(xml[start..end].trim())
}

fn num<T: std::str::FromStr>(s: Option<&str>) -> Option<T> {
    s.and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// A C-synthesis XML report (`<top>_csynth.xml`).
pub fn parse_csynth_xml(text: &str, file: &Path) -> Result<Csynth> {
    let bad = || Error::input("not a C-synthesis XML report (no <AreaEstimates>)").in_file(file);
    let area = text.find("<AreaEstimates>").ok_or_else(bad)?;
    let avail = text[area..]
        .find("<AvailableResources>")
        .map(|i| i + area)
        .ok_or_else(bad)?;
    let res = |from: usize| Resources {
        dsp: num(tag(text, "DSP", from).or_else(|| tag(text, "DSP48E", from))),
        lut: num(tag(text, "LUT", from)),
        ff: num(tag(text, "FF", from)),
        bram_18k: num(tag(text, "BRAM_18K", from)),
        uram: num(tag(text, "URAM", from)),
    };
    Ok(Csynth {
        file: file.to_path_buf(),
        part: tag(text, "Part", 0).map(str::to_string),
        target_clock_ns: num(tag(text, "TargetClockPeriod", 0)),
        estimated_clock_ns: num(tag(text, "EstimatedClockPeriod", 0)),
        latency_best: num(tag(text, "Best-caseLatency", 0)),
        latency_worst: num(tag(text, "Worst-caseLatency", 0)),
        interval_min: num(tag(text, "Interval-min", 0)),
        interval_max: num(tag(text, "Interval-max", 0)),
        used: res(area),
        available: res(avail),
    })
}

/// The cells of a `|a|b|c|` table row.
fn cells(line: &str) -> Vec<&str> {
    let t = line.trim();
    t.trim_start_matches('|')
        .trim_end_matches('|')
        .split('|')
        .map(str::trim)
        .collect()
}

/// A C-synthesis text report (`<top>_csynth.rpt`).
pub fn parse_csynth_rpt(text: &str, file: &Path) -> Result<Csynth> {
    let lines: Vec<&str> = text.lines().collect();
    let bad =
        |what: &str| Error::input(format!("not a C-synthesis report: no {what}")).in_file(file);
    let mut c = Csynth {
        file: file.to_path_buf(),
        ..Csynth::default()
    };
    c.part = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("* Target device:"))
        .map(|s| s.trim().to_string());
    if let Some(l) = lines.iter().find(|l| l.trim_start().starts_with("|ap_clk")) {
        let v = cells(l);
        c.target_clock_ns = num(v.get(1).copied());
        c.estimated_clock_ns = num(v.get(2).copied());
    }
    // The first row of numbers after the latency summary header.
    let lat = lines
        .iter()
        .position(|l| l.contains("Latency (cycles)"))
        .ok_or_else(|| bad("latency summary"))?;
    let row = lines[lat..]
        .iter()
        .map(|l| cells(l))
        .find(|v| v.len() >= 6 && v[0].parse::<u64>().is_ok())
        .ok_or_else(|| bad("latency figures"))?;
    c.latency_best = num(Some(row[0]));
    c.latency_worst = num(Some(row[1]));
    c.interval_min = num(Some(row[4]));
    c.interval_max = num(Some(row[5]));
    let util = lines
        .iter()
        .position(|l| l.contains("Utilization Estimates"))
        .ok_or_else(|| bad("utilization estimates"))?;
    let header = lines[util..]
        .iter()
        .map(|l| cells(l))
        .find(|v| v.first() == Some(&"Name"))
        .ok_or_else(|| bad("utilization table"))?;
    let col = |name: &str| header.iter().position(|h| h.starts_with(name));
    let row_of = |label: &str| {
        lines[util..]
            .iter()
            .map(|l| cells(l))
            .find(|v| v.first() == Some(&label))
    };
    let res = |row: Option<Vec<&str>>| {
        let get = |name: &str| {
            let r = row.as_ref()?;
            num(col(name).and_then(|k| r.get(k).copied()))
        };
        Resources {
            dsp: get("DSP"),
            lut: get("LUT"),
            ff: get("FF"),
            bram_18k: get("BRAM_18K"),
            uram: get("URAM"),
        }
    };
    c.used = res(row_of("Total"));
    c.available = res(row_of("Available"));
    Ok(c)
}

/// A co-simulation report (`<top>_cosim.rpt`). One row per RTL language; the one that ran is
/// the row whose status is not `NA`.
pub fn parse_cosim_rpt(text: &str, file: &Path) -> Result<Cosim> {
    let row = text
        .lines()
        .map(cells)
        .filter(|v| v.len() >= 2 && matches!(v[0], "Verilog" | "VHDL" | "SystemC"))
        .find(|v| v[1] != "NA")
        .ok_or_else(|| {
            Error::input("not a co-simulation report: no Verilog or VHDL row with a status")
                .in_file(file)
        })?;
    // Averages may be written with decimals.
    let at = |k: usize| {
        row.get(k)
            .and_then(|s| s.parse::<f64>().ok())
            .map(|v| v.round() as u64)
    };
    Ok(Cosim {
        file: file.to_path_buf(),
        rtl: row[0].to_string(),
        status: row[1].to_string(),
        latency_min: at(2),
        latency_avg: at(3),
        latency_max: at(4),
        interval_min: at(5),
        interval_avg: at(6),
        interval_max: at(7),
        total_cycles: at(8),
    })
}

/// A Vivado utilisation report (`report_utilization`).
pub fn parse_vivado_utilization(text: &str, file: &Path) -> Result<VivadoSynth> {
    let rows: Vec<Vec<&str>> = text.lines().map(cells).filter(|v| v.len() >= 4).collect();
    let find = |names: &[&str]| {
        rows.iter()
            .find(|v| names.iter().any(|n| v[0].trim_end_matches('*') == *n))
    };
    let used = |names: &[&str]| find(names).and_then(|v| num::<f64>(Some(v[1])));
    let avail = |names: &[&str]| find(names).and_then(|v| num::<f64>(Some(v[3])));
    let luts = ["Slice LUTs", "CLB LUTs"];
    let regs = ["Slice Registers", "CLB Registers"];
    if find(&luts).is_none() {
        return Err(
            Error::input("not a Vivado utilization report: no Slice LUTs / CLB LUTs row")
                .in_file(file),
        );
    }
    // Block RAM tiles hold two 18K blocks each.
    let bram = |f: &dyn Fn(&[&str]) -> Option<f64>| {
        f(&["Block RAM Tile"]).map(|t| (t * 2.0).round() as u64)
    };
    let u = |v: Option<f64>| v.map(|x| x.round() as u64);
    Ok(VivadoSynth {
        file: file.to_path_buf(),
        used: Resources {
            dsp: u(used(&["DSPs"])),
            lut: u(used(&luts)),
            ff: u(used(&regs)),
            bram_18k: bram(&used),
            uram: u(used(&["URAM"])),
        },
        available: Resources {
            dsp: u(avail(&["DSPs"])),
            lut: u(avail(&luts)),
            ff: u(avail(&regs)),
            bram_18k: bram(&avail),
            uram: u(avail(&["URAM"])),
        },
    })
}

fn files_named(dir: &Path, suffix: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    // Each entry's own type: a link to a folder is not followed (two links to each other's
    // folders would make the walk endless).
    let mut entries: Vec<_> = entries
        .flatten()
        .map(|e| (e.path(), e.file_type().is_ok_and(|t| t.is_dir())))
        .collect();
    entries.sort();
    for (p, is_dir) in entries {
        if is_dir {
            files_named(&p, suffix, out);
        } else if p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().ends_with(suffix))
        {
            out.push(p);
        }
    }
}

/// Every report found under a project directory. `top` (the design name) picks the top
/// function's C-synthesis report among the per-module ones.
pub fn find(dir: &Path, top: Option<&str>) -> Result<Reports> {
    if !dir.is_dir() {
        return Err(Error::input(format!(
            "{} is not a directory",
            dir.display()
        )));
    }
    let pick = |suffix: &str| {
        let mut v = Vec::new();
        files_named(dir, suffix, &mut v);
        match top {
            Some(t) => v
                .iter()
                .find(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy() == format!("{t}{suffix}"))
                })
                .cloned()
                .or_else(|| v.first().cloned()),
            None => v.first().cloned(),
        }
    };
    let read =
        |p: &Path| crate::confine::read_text(p).map_err(|e| Error::io(p, "read the report", e));
    let csynth = match (pick("_csynth.xml"), pick("_csynth.rpt")) {
        (Some(x), _) => Some(parse_csynth_xml(&read(&x)?, &x)?),
        (None, Some(r)) => Some(parse_csynth_rpt(&read(&r)?, &r)?),
        _ => None,
    };
    let cosim = match pick("_cosim.rpt") {
        Some(p) => Some(parse_cosim_rpt(&read(&p)?, &p)?),
        None => None,
    };
    let vivado = match pick("vivado_synth.rpt") {
        Some(p) => Some(parse_vivado_utilization(&read(&p)?, &p)?),
        None => None,
    };
    let yosys = match pick("yosys_stat.json") {
        Some(p) => Some(parse_yosys_stat(&read(&p)?).map_err(|e| e.in_file(&p))?),
        None => None,
    };
    Ok(Reports {
        csynth,
        cosim,
        vivado,
        yosys,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn yosys_stat_counts_cells_by_kind() {
        let json = r#"{"design": {"num_cells_by_type": {"LUT2": 8, "LUT6": 2, "FDRE": 9,
            "CARRY8": 3, "DSP48E2": 1, "RAMB36E2": 1, "MUXF7": 4, "BUFG": 1}}}"#;
        let c = super::parse_yosys_stat(json).unwrap();
        assert_eq!((c.lut, c.lut_by_size[1], c.lut_by_size[5]), (10, 8, 2));
        assert_eq!((c.ff, c.carry, c.dsp, c.bram_18k, c.mux), (9, 3, 1, 2, 4));
    }
}
