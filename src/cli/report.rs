//! `hlsrs report`: the vendor tools' figures found under a project, beside the estimate the
//! project's manifest recorded.

use super::*;

/// The estimate recorded in the project's manifest, if any.
fn project_estimate(dir: &Path) -> Option<serde_json::Value> {
    let text = crate::confine::read_text(&dir.join("hlsrs.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some(v["estimate"].clone()).filter(|e| e.is_object())
}

/// The design name from the project's manifest, if it has one.
fn project_name(dir: &Path) -> Option<String> {
    let text = crate::confine::read_text(&dir.join("hlsrs.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["name"].as_str().map(str::to_string)
}

pub(super) fn report(a: ReportArgs) -> Result<()> {
    if a.html {
        let page = crate::write_html_report(&a.project)?;
        println!("wrote {} (open it in a browser)", page.display());
        return Ok(());
    }
    let r = crate::report::find(&a.project, project_name(&a.project).as_deref())?;
    if a.check {
        return check(&a.project, &r);
    }
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&r).map_err(|e| Error::internal(e.to_string()))?
        );
        return Ok(());
    }
    if r.csynth.is_none() && r.cosim.is_none() && r.vivado.is_none() && r.yosys.is_none() {
        return Err(Error::input(format!(
            "no reports under {}: run `hlsrs build {}` (C-synthesis, or yosys for a verilog project) first",
            a.project.display(),
            a.project.display()
        )));
    }
    let show = |v: Option<u64>| v.map_or("-".to_string(), |x| x.to_string());
    let row = |name: &str, used: &crate::report::Resources, avail: &crate::report::Resources| {
        println!(
            "  {name:<22} {:>8} {:>10} {:>10} {:>9} {:>6}",
            show(used.dsp),
            show(used.lut),
            show(used.ff),
            show(used.bram_18k),
            show(used.uram)
        );
        println!(
            "  {:<22} {:>8} {:>10} {:>10} {:>9} {:>6}",
            "  available",
            show(avail.dsp),
            show(avail.lut),
            show(avail.ff),
            show(avail.bram_18k),
            show(avail.uram)
        );
    };
    println!(
        "  {:<22} {:>8} {:>10} {:>10} {:>9} {:>6}",
        "", "DSP", "LUT", "FF", "BRAM_18K", "URAM"
    );
    if let Some(c) = &r.csynth {
        row("C-synthesis", &c.used, &c.available);
        println!(
            "  C-synthesis latency {}..{} cycles, interval {}..{}, clock {} ns (estimated {} ns), part {} [{}]",
            show(c.latency_best),
            show(c.latency_worst),
            show(c.interval_min),
            show(c.interval_max),
            c.target_clock_ns.map_or("-".into(), |v| v.to_string()),
            c.estimated_clock_ns.map_or("-".into(), |v| v.to_string()),
            c.part.as_deref().unwrap_or("-"),
            c.file.display()
        );
    }
    if let Some(c) = &r.cosim {
        println!(
            "  co-simulation ({}): {}, latency {}/{}/{} cycles (min/avg/max), interval {}/{}/{}{} [{}]",
            c.rtl,
            c.status,
            show(c.latency_min),
            show(c.latency_avg),
            show(c.latency_max),
            show(c.interval_min),
            show(c.interval_avg),
            show(c.interval_max),
            c.total_cycles
                .map_or(String::new(), |t| format!(", {t} cycles in all")),
            c.file.display()
        );
        if !c.passed() {
            eprintln!(
                "warning: co-simulation {}: the RTL's outputs did not match the C model's (see the simulation log beside {})",
                c.status,
                c.file.display()
            );
        }
    }
    if let Some(v) = &r.vivado {
        row("Vivado synthesis", &v.used, &v.available);
        println!("  [{}]", v.file.display());
    }
    if let Some(y) = &r.yosys {
        row(
            "yosys synth_xilinx",
            &y.used(),
            &crate::report::Resources::default(),
        );
        println!(
            "  yosys: LUT1..LUT6 {:?}, CARRY {}, MUXF {}, LUTRAM/SRL {}",
            y.lut_by_size, y.carry, y.mux, y.lutram
        );
    }
    // The estimate hlsrs compile recorded, and each real figure against it.
    if let Some(est) = project_estimate(&a.project) {
        let e = |k: &str| est["total"][k].as_u64();
        println!(
            "  {:<22} {:>8} {:>10} {:>10} {:>9} {:>6}   latency {} cycles, II {}",
            "estimate (hlsrs.json)",
            show(e("dsp")),
            show(e("lut")),
            show(e("ff")),
            show(e("bram_18k")),
            show(e("uram")),
            show(est["latency_cycles"].as_u64()),
            show(est["ii"].as_u64())
        );
        let ratio = |real: Option<u64>, est: Option<u64>| match (real, est) {
            (Some(r), Some(e)) if e > 0 => format!("{:.2}", r as f64 / e as f64),
            _ => "-".into(),
        };
        for (name, used, lat, ii) in [
            (
                "real / estimate (C)",
                r.csynth.as_ref().map(|c| c.used.clone()),
                r.csynth.as_ref().and_then(|c| c.latency_worst),
                r.csynth.as_ref().and_then(|c| c.interval_max),
            ),
            (
                "real / estimate (Viv)",
                r.vivado.as_ref().map(|v| v.used.clone()),
                None,
                None,
            ),
            (
                "yosys / estimate",
                r.yosys.as_ref().map(|y| y.used()),
                None,
                None,
            ),
        ] {
            let Some(u) = used else { continue };
            println!(
                "  {name:<22} {:>8} {:>10} {:>10} {:>9} {:>6}   latency {}, II {}",
                ratio(u.dsp, e("dsp")),
                ratio(u.lut, e("lut")),
                ratio(u.ff, e("ff")),
                ratio(u.bram_18k, e("bram_18k")),
                ratio(u.uram, e("uram")),
                ratio(lat, est["latency_cycles"].as_u64()),
                ratio(ii, est["ii"].as_u64())
            );
        }
        // The co-simulation measures the latency of the RTL itself.
        if let Some(lat) = r.cosim.as_ref().and_then(|c| c.latency_max) {
            println!(
                "  {:<22} {:>47}   latency {}",
                "real / estimate (cosim)",
                "",
                ratio(Some(lat), est["latency_cycles"].as_u64())
            );
        }
    }
    Ok(())
}

/// `--check`: each C-synthesis figure against the recorded estimate, one line each, flagged
/// where beyond its tolerance (crate::estimate::Figure); an error (exit 3) naming them.
fn check(project: &Path, r: &crate::report::Reports) -> Result<()> {
    use crate::estimate::Figure;
    let Some(c) = &r.csynth else {
        return Err(Error::input(format!(
            "no C-synthesis report under {}: run `hlsrs build {}` first",
            project.display(),
            project.display()
        )));
    };
    let Some(est) = project_estimate(project) else {
        return Err(Error::input(format!(
            "{}: no estimate in hlsrs.json (a project written by `hlsrs compile`)",
            project.display()
        )));
    };
    let e = |k: &str| est["total"][k].as_u64();
    let mut beyond = Vec::new();
    println!(
        "  {:<10} {:>10} {:>10} {:>7}  tolerance",
        "figure", "estimate", "csynth", "ratio"
    );
    for figure in Figure::ALL {
        let (est_v, real) = match figure {
            Figure::Latency => (est["latency_cycles"].as_u64(), c.latency_worst),
            Figure::Interval => (est["ii"].as_u64(), c.interval_max),
            Figure::Dsp => (e("dsp"), c.used.dsp),
            Figure::Lut => (e("lut"), c.used.lut),
            Figure::Ff => (e("ff"), c.used.ff),
            Figure::Bram => (e("bram_18k"), c.used.bram_18k),
        };
        let (Some(est_v), Some(real)) = (est_v, real) else {
            println!(
                "  {:<10} {:>10} {:>10} {:>7}  (not reported)",
                figure.name(),
                "-",
                "-",
                "-"
            );
            continue;
        };
        let ok = figure.within(est_v, real);
        let ratio = if est_v > 0 {
            format!("{:.2}", real as f64 / est_v as f64)
        } else {
            "-".into()
        };
        println!(
            "  {:<10} {:>10} {:>10} {:>7}  {}{}",
            figure.name(),
            est_v,
            real,
            ratio,
            figure.tolerance(),
            if ok { "" } else { "  BEYOND" }
        );
        if !ok {
            beyond.push(format!("{} {est_v} against {real}", figure.name()));
        }
    }
    if beyond.is_empty() {
        Ok(())
    } else {
        Err(Error::Beyond(format!(
            "{}: {}",
            project.display(),
            beyond.join(", ")
        )))
    }
}
