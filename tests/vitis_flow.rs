//! The flow to hardware without Vitis: every generated build_prj.tcl runs in a real Tcl
//! interpreter (tclsh) against stand-ins for the vendor commands (tests/vitis_standin), which
//! check each command's options and order and record the calls; C-simulation is compiled the
//! way Vitis compiles it, in `<prj>/solution1/csim/build` with only the flags build_prj.tcl gives
//! add_files; `hlsrs build` is run with stand-in `vitis_hls` and `vitis-run` executables.

mod common;

use hlsrs::Config;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn standin() -> PathBuf {
    common::root().join("tests/vitis_standin")
}

fn tclsh() -> &'static str {
    let ok = Command::new("tclsh")
        .arg("/dev/null")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "tclsh is needed to test the build scripts: scripts/test.sh installs it (Debian package tcl)"
    );
    "tclsh"
}

/// A compiled project of `case` in a temporary directory.
fn project(case: &str, config: &Config) -> (tempfile::TempDir, PathBuf) {
    let dir = common::tempdir();
    let out = dir.path().join("prj");
    let mut config = config.clone();
    config.name = Some(case.to_string());
    let p = hlsrs::prepare(&common::case(case).model(), &config, None).unwrap();
    hlsrs::compile(&p, &out, false, None).unwrap();
    (dir, out)
}

/// The stand-in log of one run.
struct Run {
    output: Output,
    log: Vec<String>,
}

impl Run {
    fn ok(&self) -> bool {
        self.output.status.success()
    }
    fn text(&self) -> String {
        format!(
            "{}{}\nlog:\n{}",
            String::from_utf8_lossy(&self.output.stdout),
            String::from_utf8_lossy(&self.output.stderr),
            self.log.join("\n")
        )
    }
    /// The step commands that ran, in order.
    fn steps(&self) -> Vec<&str> {
        self.log
            .iter()
            .map(|l| l.split(' ').next().unwrap())
            .filter(|c| {
                [
                    "csim_design",
                    "csynth_design",
                    "cosim_design",
                    "export_design",
                    "synth_design",
                ]
                .contains(c)
            })
            .collect()
    }
}

fn run(mut cmd: Command, log_dir: &Path) -> Run {
    let log = log_dir.join("standin.log");
    let _ = std::fs::remove_file(&log);
    let output = cmd
        .env("HLSRS_STANDIN_LOG", &log)
        .env("HLSRS_AP_TYPES", common::ap_types())
        .output()
        .unwrap();
    let log = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect();
    Run { output, log }
}

/// build_prj.tcl in tclsh with the stand-in commands, argv exactly `argv`, started in `cwd`.
fn tcl(prj: &Path, cwd: &Path, argv: &[&str]) -> Run {
    let mut c = Command::new(tclsh());
    c.current_dir(cwd)
        .arg(standin().join("run.tcl"))
        .arg(standin().join("hls_commands.tcl"))
        .arg(prj.join("build_prj.tcl"))
        .args(argv);
    run(c, prj.parent().unwrap())
}

/// The stand-in `vitis_hls` as a user runs it in the project: `vitis_hls -f build_prj.tcl ARGS`.
fn vitis_hls(prj: &Path, args: &[&str]) -> Run {
    let mut c = Command::new(standin().join("bin/vitis_hls"));
    c.current_dir(prj).arg("-f").arg("build_prj.tcl").args(args);
    c.env("PATH", path_with(&standin().join("bin")));
    run(c, prj.parent().unwrap())
}

fn path_with(dir: &Path) -> String {
    format!("{}:{}", dir.display(), std::env::var("PATH").unwrap())
}

/// Adds one to the first expected output of the testbench data.
fn corrupt_first_expected_bit(prj: &Path) {
    let exp = prj.join("tb_data/tb_output_bits.dat");
    let text = std::fs::read_to_string(&exp).unwrap();
    let end = text.find(|c: char| c.is_whitespace()).unwrap();
    let bumped = text[..end].parse::<i64>().unwrap() + 1;
    std::fs::write(&exp, format!("{bumped}{}", &text[end..])).unwrap();
}

const SETUP: &[&str] = &[
    "open_project",
    "set_top",
    "add_files",
    "add_files",
    "add_files",
    "open_solution",
    "set_part",
    "create_clock",
    "set_clock_uncertainty",
    "config_compile",
    "config_schedule",
];

#[test]
fn build_prj_runs_exactly_the_steps_asked_in_every_argv_form() {
    let (d, prj) = project("two_layer_keras", &Config::default());
    let asked = ["csynth_design", "cosim_design", "export_design"];
    // Started elsewhere: the script works from its own folder.
    for argv in [
        vec!["-f", "build_prj.tcl", "csim=0 synth=1 cosim=1 export=1"],
        vec!["csim=0 synth=1 cosim=1 export=1"],
        vec!["csim=0", "synth=1", "cosim=1", "export=1"],
        vec!["-f", "build_prj.tcl", "csim=0", "cosim=1", "export=1"],
    ] {
        let r = tcl(&prj, d.path(), &argv);
        assert!(r.ok(), "{argv:?}: {}", r.text());
        assert_eq!(r.steps(), asked, "{argv:?}: {}", r.text());
        let setup: Vec<&str> = r
            .log
            .iter()
            .map(|l| l.split(' ').next().unwrap())
            .take(SETUP.len())
            .collect();
        assert_eq!(setup, SETUP, "{argv:?}");
    }
    // The settings given to the tool.
    let r = tcl(&prj, &prj, &["csim=0"]);
    assert!(r.ok(), "{}", r.text());
    for line in [
        "open_project two_layer_keras_prj",
        "set_top two_layer_keras",
        "add_files firmware/two_layer_keras.cpp -cflags -std=c++14",
        "add_files -tb tb/two_layer_keras_test.cpp -cflags -std=c++14",
        "add_files -tb tb_data",
        "open_solution -flow_target vivado solution1",
        "set_part xcvu9p-flga2104-2-e",
        "create_clock -period 5.0 -name default",
        "set_clock_uncertainty 27% default",
        "config_schedule -enable_dsp_full_reg=false",
    ] {
        assert!(r.log.iter().any(|l| l == line), "{line}: {}", r.text());
    }
    assert_eq!(r.steps(), ["csynth_design"]);

    // No switches: build_opt.tcl's steps (C-simulation, then C-synthesis), in tclsh and through
    // the stand-in vitis_hls, whose argv holds its own `-f build_prj.tcl`.
    for r in [tcl(&prj, &prj, &[]), vitis_hls(&prj, &[])] {
        assert!(r.ok(), "{}", r.text());
        assert_eq!(r.steps(), ["csim_design", "csynth_design"], "{}", r.text());
        assert!(r.log.iter().any(|l| l == "csim_passed"), "{}", r.text());
    }
    // build_opt.tcl is what a no-argument run follows.
    let opt = prj.join("build_opt.tcl");
    let text = std::fs::read_to_string(&opt).unwrap();
    std::fs::write(
        &opt,
        text.replace("csim   1", "csim   0")
            .replace("cosim  0", "cosim  1"),
    )
    .unwrap();
    let r = tcl(&prj, &prj, &[]);
    assert_eq!(r.steps(), ["csynth_design", "cosim_design"], "{}", r.text());
    // ... and switches override it.
    let r = vitis_hls(&prj, &["cosim=0"]);
    assert_eq!(r.steps(), ["csynth_design"], "{}", r.text());

    // A misspelt switch stops before any tool command, naming the known ones.
    let r = vitis_hls(&prj, &["csim=0 synth=1 cosin=1"]);
    assert!(!r.ok());
    let out = r.text();
    assert!(
        out.contains("unknown switch 'cosin=1'")
            && out.contains("cosim csim export reset synth vsynth"),
        "{out}"
    );
    assert!(
        !r.log.iter().any(|l| l.starts_with("open_project")),
        "{out}"
    );
    let r = vitis_hls(&prj, &["synth=maybe"]);
    assert!(!r.ok() && r.text().contains("takes 0 or 1"), "{}", r.text());
}

#[test]
fn vivado_synthesis_reads_the_exported_ip_with_its_clock() {
    let config = Config {
        clock: 3.125,
        ..Config::default()
    };
    let (_d, prj) = project("two_layer_keras", &config);
    // Without an exported IP: a clear error, no Vivado.
    let r = vitis_hls(&prj, &["csim=0 synth=1 vsynth=1"]);
    assert!(
        !r.ok() && r.text().contains("run export=1 first"),
        "{}",
        r.text()
    );
    let r = vitis_hls(&prj, &["csim=0 synth=1 export=1 vsynth=1"]);
    assert!(r.ok(), "{}", r.text());
    assert_eq!(
        r.steps(),
        ["csynth_design", "export_design", "synth_design"]
    );
    for line in [
        "read_verilog 1 files",
        // The ROM contents Vitis writes beside the Verilog.
        "add_files 1 files",
        "read_xdc clock.xdc period=3.125",
        "synth_design -top two_layer_keras -part xcvu9p-flga2104-2-e -mode out_of_context",
        "report_utilization -file vivado_synth.rpt",
    ] {
        assert!(r.log.iter().any(|l| l == line), "{line}: {}", r.text());
    }
}

#[test]
fn every_generated_build_script_runs_in_tclsh() {
    let cases = common::cases();
    for case in &cases {
        let (_d, prj) = project(&case.name, &Config::default());
        let r = tcl(&prj, &prj, &["csim=0 synth=1 cosim=1 export=1"]);
        assert!(r.ok(), "{}: {}", case.name, r.text());
        assert_eq!(
            r.steps(),
            ["csynth_design", "cosim_design", "export_design"],
            "{}",
            case.name
        );
    }
    println!("{} build scripts ran", cases.len());
}

/// Vitis compiles C-simulation in `<prj>/solution1/csim/build` with the add_files flags only;
/// the stand-in does the same, and the testbench checks every output bit against the emulator.
#[test]
fn c_simulation_builds_where_vitis_builds_it() {
    let stream = Config {
        io: hlsrs::config::IoType::Stream,
        ..Config::default()
    };
    let stat = Config {
        static_state: true,
        ..Config::default()
    };
    for (case, config, what) in [
        ("three_layer_keras", Config::default(), "io_parallel"),
        ("conv2d_nchw", stream, "io_stream"),
        ("lstm_jet_tagger", stat, "static recurrent"),
    ] {
        let (_d, prj) = project(case, &config);
        let r = tcl(&prj, &prj, &["csim=1 synth=0"]);
        assert!(r.ok(), "{case} {what}: {}", r.text());
        assert_eq!(r.steps(), ["csim_design"]);
        assert!(
            r.log.iter().any(|l| l == "csim_passed")
                && r.text().contains(", 0 mismatching outputs"),
            "{case} {what}: {}",
            r.text()
        );
        assert!(
            prj.join(format!(
                "{case}_prj/solution1/csim/build/tb_data/tb_input_bits.dat"
            ))
            .is_file()
        );
        if what == "io_parallel" {
            // A wrong expected bit fails C-simulation: the check is real.
            corrupt_first_expected_bit(&prj);
            let r = tcl(&prj, &prj, &["csim=1 synth=0"]);
            assert!(!r.ok() && r.text().contains("CSim failed"), "{}", r.text());
        }
    }
}

/// hls_config.cfg (the Unified flow) names the same top, sources, flags, part, clock and
/// uncertainty as build_prj.tcl, whose flags the stand-in compiles with above.
#[test]
fn hls_config_matches_build_prj() {
    let (_d, prj) = project("two_layer_keras", &Config::default());
    let cfg = std::fs::read_to_string(prj.join("hls_config.cfg")).unwrap();
    let r = tcl(&prj, &prj, &["csim=0 synth=0"]);
    assert!(r.ok(), "{}", r.text());
    let mut expect = vec![
        "part=xcvu9p-flga2104-2-e".to_string(),
        "clock=5.0ns".into(),
        "clock_uncertainty=27%".into(),
        "syn.top=two_layer_keras".into(),
        "syn.schedule.enable_dsp_full_reg=0".into(),
        "syn.compile.name_max_length=80".into(),
    ];
    for l in r.log.iter().filter(|l| l.starts_with("add_files")) {
        let words: Vec<&str> = l.split(' ').collect();
        let tb = words[1] == "-tb";
        let key = if tb { "tb" } else { "syn" };
        let file = words[if tb { 2 } else { 1 }];
        expect.push(format!("{key}.file={file}"));
        if let Some(k) = words.iter().position(|w| *w == "-cflags") {
            expect.push(format!(
                "{key}.file_cflags={file},{}",
                words[k + 1..].join(" ")
            ));
        }
    }
    let lines: Vec<&str> = cfg.lines().collect();
    for e in &expect {
        assert!(
            lines.contains(&e.as_str()),
            "hls_config.cfg lacks {e}:\n{cfg}"
        );
    }
}

/// `hlsrs build` through the stand-in vitis_hls (argv as the tool gives it) and, separately,
/// through a stand-in vitis-run that passes the script no arguments: exactly the steps asked.
#[test]
fn hlsrs_build_runs_exactly_the_steps_asked_with_either_tool() {
    let (d, prj) = project("two_layer_keras", &Config::default());
    let only_run = d.path().join("only_vitis_run");
    std::fs::create_dir(&only_run).unwrap();
    std::os::unix::fs::symlink(standin().join("bin/vitis-run"), only_run.join("vitis-run"))
        .unwrap();
    for (tool, bin) in [
        ("vitis_hls", standin().join("bin")),
        ("vitis-run", only_run.clone()),
    ] {
        let mut c = Command::new(env!("CARGO_BIN_EXE_hlsrs"));
        c.args(["build", prj.to_str().unwrap(), "--synth", "--cosim"])
            .env("PATH", path_with(&bin));
        let r = run(c, d.path());
        assert!(r.ok(), "{tool}: {}", r.text());
        assert!(r.log[0].starts_with(tool), "{tool}: {}", r.text());
        assert_eq!(
            r.steps(),
            ["csynth_design", "cosim_design"],
            "{tool}: {}",
            r.text()
        );
        let out = String::from_utf8_lossy(&r.output.stdout);
        assert!(
            out.contains(&format!("{tool} ran C-synthesis, C/RTL co-simulation")),
            "{tool}: {out}"
        );
    }
    // The wrapper hlsrs gives vitis-run is gone, and the project is as compile wrote it.
    let leftovers: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("hlsrs_build_{}_", std::process::id()))
        })
        .collect();
    assert!(leftovers.is_empty());

    // A failing step is exit 2 with the tool's ERROR line.
    corrupt_first_expected_bit(&prj);
    let mut c = Command::new(env!("CARGO_BIN_EXE_hlsrs"));
    c.args(["build", prj.to_str().unwrap(), "--csim"])
        .env("PATH", path_with(&standin().join("bin")));
    let r = run(c, d.path());
    assert_eq!(r.output.status.code(), Some(2), "{}", r.text());
    assert!(
        String::from_utf8_lossy(&r.output.stderr)
            .contains("ERROR: [standin] csim_design: the testbench failed"),
        "{}",
        r.text()
    );
}

/// A tool that runs other steps than asked (an old build_prj.tcl, or one that ignores its
/// switches) is an error naming both.
#[test]
fn hlsrs_build_refuses_a_run_of_other_steps() {
    let (d, prj) = project("two_layer_keras", &Config::default());
    // A script that ignores its switches and runs its defaults, as the one before this fix did
    // under vitis-run.
    let script = prj.join("build_prj.tcl");
    let text = std::fs::read_to_string(&script).unwrap();
    std::fs::write(
        &script,
        text.replace("foreach arg $::argv {", "foreach arg {} {"),
    )
    .unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_hlsrs"));
    c.args(["build", prj.to_str().unwrap(), "--synth", "--cosim"])
        .env("PATH", path_with(&standin().join("bin")));
    let r = run(c, d.path());
    assert_eq!(r.output.status.code(), Some(2), "{}", r.text());
    let err = String::from_utf8_lossy(&r.output.stderr);
    assert!(
        err.contains(
            "ran C-simulation, C-synthesis where C-synthesis, C/RTL co-simulation was asked"
        ),
        "{err}"
    );
}

/// The top function's ports carry the model's input and output names, legal in C, Verilog and
/// VHDL (the legalising rules are unit-tested in backend::vitis::ports).
#[test]
fn ports_are_named_after_the_model() {
    for (case, ports) in [
        (
            "two_layer_keras",
            "const input_t input_1_0[N_INPUT], result_t Sigmoid[N_OUTPUT]",
        ),
        (
            "three_layer_pytorch",
            "const input_t input_0[N_INPUT], result_t Softmax_16[N_OUTPUT]",
        ),
    ] {
        let (_d, prj) = project(case, &Config::default());
        let h = std::fs::read_to_string(prj.join(format!("firmware/{case}.h"))).unwrap();
        assert!(h.contains(ports), "{case}: {h}");
    }
}

/// Under `__SYNTHESIS__` constants are stored as ap_int of exactly their width (the ROM's width);
/// C-simulation stores them in plain C integers. HLSRS_EXACT_CONSTANTS selects the synthesis
/// storage for g++, and the testbench then still matches the emulator bit for bit: dense,
/// sparse-packed and resource weights, tables, recurrent and stream designs, unsigned types.
#[test]
fn synthesis_constant_storage_holds_the_same_bits() {
    let resource = Config {
        strategy: hlsrs::ir::Strategy::Resource,
        reuse: 4,
        prune: hlsrs::config::Prune {
            magnitude: Some(0.5),
            ..Default::default()
        },
        ..Config::default()
    };
    let stream = Config {
        io: hlsrs::config::IoType::Stream,
        strategy: hlsrs::ir::Strategy::Resource,
        reuse: 2,
        ..Config::default()
    };
    for (case, config) in [
        ("three_layer_keras", resource),
        ("lstm_jet_tagger", Config::default()),
        ("conv2d_nchw", stream),
        ("qonnx_dense", Config::default()),
    ] {
        let (_d, prj) = project(case, &config);
        let params = std::fs::read_to_string(prj.join("firmware/parameters.h")).unwrap();
        assert!(params.contains("hlsrs::bits_t<"), "{case}");
        let build = Command::new("make")
            .current_dir(&prj)
            .arg("-s")
            .arg("build/csim")
            .arg(format!("AP_TYPES={}", common::ap_types().display()))
            .arg("CXXFLAGS=-std=c++14 -O1 -w -DHLSRS_EXACT_CONSTANTS")
            .output()
            .unwrap();
        assert!(
            build.status.success(),
            "{case}: {}",
            String::from_utf8_lossy(&build.stderr)
        );
        // The Makefile's own run target (it raises the stack limit first).
        let run = Command::new("make")
            .current_dir(&prj)
            .arg("-s")
            .arg("csim")
            .arg(format!("AP_TYPES={}", common::ap_types().display()))
            .arg("CXXFLAGS=-std=c++14 -O1 -w -DHLSRS_EXACT_CONSTANTS")
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&run.stdout);
        assert!(
            run.status.success() && out.contains(" 0 mismatching outputs"),
            "{case}: {out}"
        );
    }
}
