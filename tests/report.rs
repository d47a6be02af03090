//! Vendor reports (issue 6): the C-synthesis and Vivado utilisation parsers on real report files
//! (testdata/vitis_reports, copied from ../shared/reference/vitis-reports), `hlsrs report`, and
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

#[test]
fn other_files_are_not_reports() {
    let p = reports().join("vivado_hls.app");
    let text = std::fs::read_to_string(&p).unwrap();
    for err in [
        report::parse_csynth_xml(&text, &p).err(),
        report::parse_csynth_rpt(&text, &p).err(),
        report::parse_vivado_utilization(&text, &p).err(),
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

#[cfg(unix)]
#[test]
fn build_runs_the_tool_and_reports_its_errors() {
    use std::os::unix::fs::PermissionsExt;
    let (_d, prj) = project();
    let bin = common::tempdir();
    let tool = bin.path().join("vitis_hls");
    let args_file = bin.path().join("args");
    let write_tool = |exit: i32, line: &str| {
        std::fs::write(
            &tool,
            format!(
                "#!/bin/sh\necho \"$@\" > {}\necho 'INFO: [HLS 200-10] Running'\necho '{line}'\nexit {exit}\n",
                args_file.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    let path = format!("{}:/usr/bin:/bin", bin.path().display());
    write_tool(0, "INFO: done");
    let o = hlsrs(
        &["build", prj.to_str().unwrap(), "--csim", "--synth"],
        Some(&path),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let args = std::fs::read_to_string(&args_file).unwrap();
    assert_eq!(
        args.trim(),
        "-f build_prj.tcl csim=1 synth=1 cosim=0 export=0 vsynth=0"
    );
    write_tool(1, "ERROR: [HLS 207-812] file foo.cpp not found");
    let o = hlsrs(&["build", prj.to_str().unwrap()], Some(&path));
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("ERROR: [HLS 207-812] file foo.cpp not found"),
        "{err}"
    );
    // No step named: C-synthesis.
    let args = std::fs::read_to_string(&args_file).unwrap();
    assert_eq!(
        args.trim(),
        "-f build_prj.tcl csim=0 synth=1 cosim=0 export=0 vsynth=0"
    );
}

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
}
