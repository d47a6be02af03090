//! Vendor reports (issue 6): the C-synthesis, co-simulation and Vivado utilisation parsers on
//! real report files (testdata/vitis_reports: from ../shared/reference/vitis-reports, and two
//! co-simulation reports from public projects), `hlsrs report`, and
//! `hlsrs build` without Vitis (the clear error) and with a stand-in tool (its arguments, and
//! its ERROR lines when it fails).

mod common;

use hlsrs::report::{self, Resources};
use std::path::Path;
use std::process::{Command, Output};

fn reports() -> std::path::PathBuf {
    common::root().join("testdata/vitis_reports")
}

fn csynth_file(ext: &str) -> std::path::PathBuf {
    reports().join(format!(
        "myproject_prj/solution1/syn/report/myproject_csynth.{ext}"
    ))
}

#[test]
fn csynth_xml_and_text_reports_give_the_same_figures() {
    let read = |p: &Path| std::fs::read_to_string(p).unwrap();
    let xml = report::parse_csynth_xml(&read(&csynth_file("xml")), &csynth_file("xml")).unwrap();
    let rpt = report::parse_csynth_rpt(&read(&csynth_file("rpt")), &csynth_file("rpt")).unwrap();
    // The two files the tool wrote for one synthesis: every figure agrees.
    assert_eq!(xml.used, rpt.used);
    assert_eq!(xml.available, rpt.available);
    for (a, b) in [
        (xml.latency_best, rpt.latency_best),
        (xml.latency_worst, rpt.latency_worst),
        (xml.interval_min, rpt.interval_min),
        (xml.interval_max, rpt.interval_max),
    ] {
        assert_eq!(a, b);
    }
    assert_eq!(xml.target_clock_ns, rpt.target_clock_ns);
    assert_eq!(xml.estimated_clock_ns, rpt.estimated_clock_ns);
    assert_eq!(xml.part, rpt.part);
    // And they are the report's: 73 DSP48E, 2532 LUT, 7969 FF, latency 10, interval 8.
    assert_eq!(
        xml.used,
        Resources {
            dsp: Some(73),
            lut: Some(2532),
            ff: Some(7969),
            bram_18k: Some(0),
            uram: Some(0)
        }
    );
    assert_eq!((xml.latency_worst, xml.interval_max), (Some(10), Some(8)));
    assert_eq!(xml.available.dsp, Some(220));
    assert_eq!(xml.part.as_deref(), Some("xc7z020-clg400-1"));
}

/// The parts table against what the vendor tools report as available: xc7z020 from the C-synthesis
/// and Vivado reports, xcvu13p from every Vitis result in testdata/estimator.
#[test]
fn part_totals_match_the_vendor_reports() {
    let read = |p: &Path| std::fs::read_to_string(p).unwrap();
    let xml = report::parse_csynth_xml(&read(&csynth_file("xml")), &csynth_file("xml")).unwrap();
    let viv = reports().join("vivado_synth.rpt");
    let viv = report::parse_vivado_utilization(&read(&viv), &viv).unwrap();
    let z = hlsrs::parts::resolve(xml.part.as_deref().unwrap()).unwrap();
    let ours = |p: &hlsrs::parts::Part| Resources {
        dsp: Some(p.dsp as u64),
        lut: Some(p.lut as u64),
        ff: Some(p.ff as u64),
        bram_18k: Some(p.bram_18k as u64),
        uram: Some(p.uram as u64),
    };
    assert_eq!(xml.available, ours(&z));
    assert_eq!(
        (
            viv.available.dsp,
            viv.available.lut,
            viv.available.ff,
            viv.available.bram_18k
        ),
        (
            Some(z.dsp as u64),
            Some(z.lut as u64),
            Some(z.ff as u64),
            Some(z.bram_18k as u64)
        )
    );
    let vu13p = hlsrs::parts::resolve("xcvu13p").unwrap();
    for set in ["estimator", "estimator_holdout"] {
        for e in std::fs::read_dir(common::root().join("testdata").join(set)).unwrap() {
            let r: serde_json::Value =
                serde_json::from_str(&read(&e.unwrap().path().join("reference.json"))).unwrap();
            let avail = |k: &str| {
                r["CSynthesisReport"][format!("Available{k}")]
                    .as_str()
                    .unwrap()
                    .parse::<u64>()
                    .ok()
            };
            assert_eq!(
                Resources {
                    dsp: avail("DSP"),
                    lut: avail("LUT"),
                    ff: avail("FF"),
                    bram_18k: avail("BRAM_18K"),
                    uram: avail("URAM"),
                },
                ours(&vu13p)
            );
        }
    }
}

#[test]
fn vivado_utilization_report_is_read() {
    let p = reports().join("vivado_synth.rpt");
    let v = report::parse_vivado_utilization(&std::fs::read_to_string(&p).unwrap(), &p).unwrap();
    assert_eq!(
        v.used,
        Resources {
            dsp: Some(66),
            lut: Some(1526),
            ff: Some(2428),
            bram_18k: Some(0),
            uram: None
        }
    );
    assert_eq!(v.available.lut, Some(53200));
    assert_eq!(v.available.bram_18k, Some(280));
}

fn cosim_file(which: &str) -> std::path::PathBuf {
    reports().join(format!("cosim/{which}/myproject_cosim.rpt"))
}

#[test]
fn cosim_reports_of_both_layouts_are_read() {
    let read = |p: &Path| report::parse_cosim_rpt(&std::fs::read_to_string(p).unwrap(), p).unwrap();
    // Vitis 2022: latency and interval columns only; one transaction, so no interval.
    let pass = read(&cosim_file("vitis2022_pass"));
    assert!(pass.passed());
    assert_eq!(pass.rtl, "Verilog");
    assert_eq!(
        (pass.latency_min, pass.latency_avg, pass.latency_max),
        (Some(777), Some(777), Some(777))
    );
    assert_eq!(
        (pass.interval_min, pass.interval_avg, pass.interval_max),
        (None, None, None)
    );
    assert_eq!(pass.total_cycles, None);
    // The newer layout (a total-execution-time column); a failed run has no figures.
    let fail = read(&cosim_file("vitis2024_fail"));
    assert!(!fail.passed());
    assert_eq!(
        (fail.rtl.as_str(), fail.status.as_str()),
        ("Verilog", "Fail")
    );
    assert_eq!((fail.latency_max, fail.total_cycles), (None, None));
    // A passing run in that layout carries the total in its ninth column.
    let text = std::fs::read_to_string(cosim_file("vitis2024_fail"))
        .unwrap()
        .replace(
            "|   Verilog|      Fail|             NA|             NA|             NA|             NA|             NA|             NA|                    NA|",
            "|   Verilog|      Pass|            301|          302.5|            304|            100|            100|            100|                  1304|",
        );
    let p = report::parse_cosim_rpt(&text, Path::new("edited.rpt")).unwrap();
    assert_eq!(
        (
            p.latency_min,
            p.latency_avg,
            p.latency_max,
            p.interval_max,
            p.total_cycles
        ),
        (Some(301), Some(303), Some(304), Some(100), Some(1304))
    );
}

#[test]
fn report_command_shows_the_cosimulation() {
    let (_d, prj) = project();
    for (which, status) in [("vitis2022_pass", "Pass"), ("vitis2024_fail", "Fail")] {
        let dst = prj.join("myproject_prj/solution1/sim/report");
        std::fs::create_dir_all(&dst).unwrap();
        std::fs::copy(cosim_file(which), dst.join("myproject_cosim.rpt")).unwrap();
        let o = hlsrs(&["report", prj.to_str().unwrap()], None);
        assert!(o.status.success());
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            text.contains(&format!("co-simulation (Verilog): {status}")),
            "{text}"
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(
            err.contains("warning: co-simulation Fail"),
            status == "Fail",
            "{err}"
        );
        if status == "Pass" {
            // Measured latency beside the estimate hlsrs.json holds.
            assert!(
                text.contains("latency 777/777/777") && text.contains("real / estimate (cosim)"),
                "{text}"
            );
        }
        let o = hlsrs(&["report", prj.to_str().unwrap(), "--json"], None);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["cosim"]["status"], status);
    }
}

#[test]
fn other_files_are_not_reports() {
    let p = reports().join("vivado_hls.app");
    let text = std::fs::read_to_string(&p).unwrap();
    for err in [
        report::parse_csynth_xml(&text, &p).err(),
        report::parse_csynth_rpt(&text, &p).err(),
        report::parse_vivado_utilization(&text, &p).err(),
        report::parse_cosim_rpt(&text, &p).err(),
    ] {
        let err = err.expect("refused");
        assert!(
            err.is_user_error() && err.to_string().contains("vivado_hls.app"),
            "{err}"
        );
    }
}

fn hlsrs(args: &[&str], path: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hlsrs"));
    c.args(args);
    if let Some(p) = path {
        c.env("PATH", p);
    }
    c.output().unwrap()
}

#[test]
fn report_command_prints_table_and_json() {
    let dir = reports();
    let d = dir.to_str().unwrap();
    let o = hlsrs(&["report", d], None);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("C-synthesis") && text.contains("7969") && text.contains("1526"),
        "{text}"
    );
    let o = hlsrs(&["report", d, "--json"], None);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["csynth"]["used"]["dsp"], 73);
    assert_eq!(v["vivado"]["used"]["ff"], 2428);
    // A directory without reports: exit 2, saying what to run.
    let empty = common::tempdir();
    let o = hlsrs(&["report", empty.path().to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("hlsrs build"));
}

/// A project to build, compiled into a temporary directory.
fn project() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = common::tempdir();
    let out = dir.path().join("prj");
    let case = common::case("two_layer_keras");
    let p = hlsrs::prepare(&case.model(), &hlsrs::Config::default(), None).unwrap();
    hlsrs::compile(&p, &out, false, None).unwrap();
    (dir, out)
}

#[test]
fn build_without_vitis_names_what_to_install() {
    let (_d, prj) = project();
    let empty = common::tempdir();
    let o = hlsrs(
        &["build", prj.to_str().unwrap()],
        Some(empty.path().to_str().unwrap()),
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("vitis_hls") && err.contains("install Vitis"),
        "{err}"
    );
}

// `hlsrs build` with a tool on PATH: tests/vitis_flow.rs (stand-in vitis_hls and vitis-run).

#[test]
fn report_shows_the_real_figures_beside_the_estimate() {
    // A compiled project (its hlsrs.json holds the estimate) with the reference reports in it.
    let (_d, prj) = project();
    let dst = prj.join("myproject_prj/solution1/syn/report");
    std::fs::create_dir_all(&dst).unwrap();
    for ext in ["xml", "rpt"] {
        std::fs::copy(
            csynth_file(ext),
            dst.join(format!("myproject_csynth.{ext}")),
        )
        .unwrap();
    }
    let o = hlsrs(&["report", prj.to_str().unwrap()], None);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("estimate (hlsrs.json)") && text.contains("real / estimate (C)"),
        "{text}"
    );
    // The report's interval (8) against the estimate's.
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(prj.join("hlsrs.json")).unwrap()).unwrap();
    let ii = manifest["estimate"]["ii"].as_u64().unwrap();
    assert!(
        text.contains(&format!("II {:.2}", 8.0 / ii as f64)),
        "{text}"
    );
}
