//! Issue 24: hlsrs as an attacker and an unlucky user meet it. Each test keeps one of the
//! defects found then (numbered as in the issue) from coming back: hostile names and settings
//! are data in every generated language, files read back from a project are untrusted, sizes
//! are capped before anything is allocated, builds end with hlsrs, projects are replaced whole.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn hlsrs_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hlsrs"))
        .current_dir(cwd)
        .env("HLSRS_AP_TYPES", common::ap_types())
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Exit 0, or the test fails showing both streams.
fn succeeded(o: &Output) {
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        stderr(o)
    );
}

/// Exit 2 (a user error) whose message holds every one of `says`.
fn user_error(o: &Output, says: &[&str]) {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    for s in says {
        assert!(e.contains(s), "{s:?} not in: {e}");
    }
}

fn standin() -> PathBuf {
    common::root().join("tests/vitis_standin")
}

fn path_with(dir: &Path) -> String {
    format!("{}:{}", dir.display(), std::env::var("PATH").unwrap())
}

/// Every file under `dir` (relative paths), for "nothing was created here" checks.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(
                    e.path()
                        .strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    out.sort();
    out
}

fn no_pwned(dirs: &[&Path]) {
    for d in dirs {
        for f in files_under(d) {
            let file = f.rsplit('/').next().unwrap();
            assert!(
                !file.starts_with("PWNED"),
                "{} holds {f}: a name ran as code",
                d.display()
            );
        }
    }
}

/// `hlsrs csim` of `prj` equals `hlsrs predict` of `model` on `x`, bit for bit.
fn csim_equals_predict(dir: &Path, prj: &Path, model: &Path, x: &Path) {
    let (yc, yp) = (dir.join("yc.npy"), dir.join("yp.npy"));
    for args in [
        ["csim", s(prj), "--input", s(x), "--output", s(&yc)],
        ["predict", s(model), "--input", s(x), "--output", s(&yp)],
    ] {
        let o = hlsrs_in(dir, &args);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    assert_eq!(
        hlsrs::arrays::read(&yc).unwrap(),
        hlsrs::arrays::read(&yp).unwrap()
    );
}

/// 1: names with newlines, comment ends and Tcl's metacharacters reach comments only as text:
/// g++ compiles the design bit-exact with the emulator, tclsh runs every build step against
/// the stand-ins, and no payload runs.
#[test]
fn hostile_names_are_data_for_gxx_and_tclsh() {
    let d = common::tempdir();
    let model = common::hostile_json(d.path());
    let prj = d.path().join("prj");
    let o = hlsrs_in(
        d.path(),
        &[
            "compile",
            s(&model),
            "-o",
            s(&prj),
            "--name",
            "n\"];[exec touch PWNED_TCL]",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // Every generated text keeps each name inside its comment: no line starts with a payload.
    for f in files_under(&prj) {
        let text = std::fs::read(prj.join(&f)).unwrap();
        let text = String::from_utf8_lossy(&text);
        for line in text.lines() {
            let t = line.trim_start();
            for payload in ["std::system", "int pwned", "#include </etc", "[exec"] {
                assert!(!t.starts_with(payload), "{f}: {line}");
            }
        }
        if f.ends_with(".tcl") || f.ends_with(".cfg") || f == "Makefile" || f.ends_with(".xdc") {
            assert!(!text.contains("[exec"), "{f}");
        }
    }
    // g++: the C-simulation equals the emulator bit for bit.
    let x = d.path().join("x.npy");
    let xs: Vec<f64> = (0..40).map(|k| (k as f64 - 20.0) / 7.0).collect();
    hlsrs::arrays::write(
        &x,
        &hlsrs::arrays::Array {
            shape: vec![10, 4],
            data: xs,
        },
    )
    .unwrap();
    csim_equals_predict(d.path(), &prj, &model, &x);
    // tclsh: every step of build_prj.tcl, Vivado synthesis too, against the stand-ins.
    let log = d.path().join("standin.log");
    let o = Command::new(standin().join("bin/vitis_hls"))
        .current_dir(&prj)
        .args([
            "-f",
            "build_prj.tcl",
            "csim=1 synth=1 cosim=1 export=1 vsynth=1",
        ])
        .env("PATH", path_with(&standin().join("bin")))
        .env("HLSRS_STANDIN_LOG", &log)
        .env("HLSRS_AP_TYPES", common::ap_types())
        .output()
        .unwrap();
    succeeded(&o);
    let log = std::fs::read_to_string(&log).unwrap();
    for step in [
        "csim_design",
        "csynth_design",
        "cosim_design",
        "export_design",
        "synth_design",
    ] {
        assert!(log.lines().any(|l| l.starts_with(step)), "{step}: {log}");
    }
    no_pwned(&[d.path(), &prj]);
}

/// 1: the same through ONNX: node names of a real export made hostile.
#[test]
fn hostile_onnx_node_names_compile_to_the_same_design() {
    use onnx_protobuf::{Message, ModelProto};
    let case = common::case("three_layer_keras");
    let bytes = std::fs::read(case.model()).unwrap();
    let mut m = ModelProto::parse_from_bytes(&bytes).unwrap();
    for (k, n) in m.graph.as_mut().unwrap().node.iter_mut().enumerate() {
        n.name = format!("{}{k}", common::HOSTILE[k % common::HOSTILE.len()]);
    }
    let d = common::tempdir();
    let path = d.path().join("three_layer_keras.onnx");
    std::fs::write(&path, m.write_to_bytes().unwrap()).unwrap();
    let prj = d.path().join("prj");
    let o = hlsrs_in(d.path(), &["compile", s(&path), "-o", s(&prj)]);
    assert!(o.status.success(), "{}", stderr(&o));
    csim_equals_predict(d.path(), &prj, &case.model(), &case.dir.join("input.npy"));
    no_pwned(&[d.path(), &prj]);
}

/// 2: a part is a part number: Tcl command substitution, quotes and newlines are refused
/// (flag and config), nothing is written.
#[test]
fn a_hostile_part_is_refused() {
    let d = common::tempdir();
    let m = common::case("two_layer_keras").model();
    for part in [
        "xcvu9p-x[exec touch PWNED_TCL]",
        "xcvu9p-x\"; exec touch PWNED_TCL; \"",
        "xcvu9p-flga2104-2-e\nsyn.top=evil",
        "xcvu9p-x$env(HOME)",
        "xcvu9p-x}",
    ] {
        let prj = d.path().join("prj");
        let o = hlsrs_in(d.path(), &["compile", s(&m), "--part", part, "-o", s(&prj)]);
        user_error(&o, &["not a part number"]);
        let o = compile_with_config(d.path(), &format!("part = {}\n", toml_string(part)));
        user_error(&o, &["not a part number"]);
        assert!(!prj.exists() && !d.path().join("p").exists());
    }
    no_pwned(&[d.path()]);
}

/// `hlsrs compile` of two_layer_keras with a config file holding `toml` (into `dir/p`).
fn compile_with_config(dir: &Path, toml: &str) -> Output {
    let cfg = dir.join("c.toml");
    std::fs::write(&cfg, toml).unwrap();
    let m = common::case("two_layer_keras").model();
    hlsrs_in(
        dir,
        &["compile", s(&m), "-c", s(&cfg), "-o", s(&dir.join("p"))],
    )
}

fn toml_string(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// two_layer_keras compiled into `dir/folder`.
fn compile_small(dir: &Path, folder: &str) -> PathBuf {
    let prj = dir.join(folder);
    let m = common::case("two_layer_keras").model();
    let o = hlsrs_in(dir, &["compile", s(&m), "-o", s(&prj)]);
    assert!(o.status.success(), "{}", stderr(&o));
    prj
}

/// two_layer_keras compiled into a temporary folder's `prj`.
fn small_project() -> (tempfile::TempDir, PathBuf) {
    let d = common::tempdir();
    let prj = compile_small(d.path(), "prj");
    (d, prj)
}

/// 3: a recompile removes only what the project holds, whatever its manifest lists.
#[test]
fn a_manifest_cannot_name_files_outside_the_project() {
    let d = common::tempdir();
    let m = common::case("two_layer_keras").model();
    let prj = compile_small(d.path(), "prj");
    let victim = d.path().join("victim");
    std::fs::write(&victim, "mine").unwrap();
    let manifest = prj.join("hlsrs.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    let files = v["files"].as_array_mut().unwrap();
    for f in [
        "../victim",
        s(&victim),
        "firmware/../../victim",
        "./../victim",
    ] {
        files.push(f.into());
    }
    std::fs::write(&manifest, v.to_string()).unwrap();
    // Another reuse factor: files change, and removals are considered.
    let o = hlsrs_in(d.path(), &["compile", s(&m), "-o", s(&prj), "--reuse", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "mine");
    assert!(!String::from_utf8_lossy(&o.stdout).contains("removed"));
}

/// 5: vitis-run's wrapper names a project whose folder holds Tcl's metacharacters.
#[test]
fn vitis_run_builds_a_project_in_a_folder_named_with_tcl_metacharacters() {
    let d = common::tempdir();
    let prj = compile_small(d.path(), "my}project [x] $y \"z\" {w");
    let only_run = d.path().join("bin");
    std::fs::create_dir(&only_run).unwrap();
    std::os::unix::fs::symlink(standin().join("bin/vitis-run"), only_run.join("vitis-run"))
        .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_hlsrs"))
        .args(["build", s(&prj), "--synth"])
        .env("PATH", path_with(&only_run))
        .env("HLSRS_STANDIN_LOG", d.path().join("log"))
        .output()
        .unwrap();
    succeeded(&o);
}

/// 6: neither csim nor a forced compile writes through a link inside the project.
#[test]
fn nothing_is_written_through_a_link_in_the_project() {
    let d = common::tempdir();
    let m = common::case("two_layer_keras").model();
    let prj = compile_small(d.path(), "prj");
    let outside = d.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, prj.join("build")).unwrap();
    let x = common::case("two_layer_keras").dir.join("input.npy");
    let y = d.path().join("y.npy");
    let o = hlsrs_in(
        d.path(),
        &["csim", s(&prj), "--input", s(&x), "--output", s(&y)],
    );
    user_error(&o, &["symbolic link"]);
    std::fs::remove_file(prj.join("build")).unwrap();
    std::fs::rename(prj.join("firmware"), d.path().join("fw")).unwrap();
    std::os::unix::fs::symlink(&outside, prj.join("firmware")).unwrap();
    for force in [false, true] {
        let mut args = vec!["compile", s(&m), "-o", s(&prj), "--reuse", "2"];
        if force {
            args.push("--force");
        }
        let o = hlsrs_in(d.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    }
    assert!(
        files_under(&outside).is_empty(),
        "{:?}",
        files_under(&outside)
    );
}

/// 7: corrupt .npy headers are errors, never panics.
#[test]
fn corrupt_npy_headers_are_user_errors() {
    let d = common::tempdir();
    let m = common::case("two_layer_keras").model();
    let header = |h: &str| {
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(h.len() as u16).to_le_bytes());
        b.extend_from_slice(h.as_bytes());
        b.extend_from_slice(&[0; 256]);
        b
    };
    for h in [
        "{'descr': '', 'fortran_order': False, 'shape': (2, 16), }",
        "{'descr': \u{e9}'<f8', 'shape': (2, 16), }",
        "{'descr': '<f8', 'shape': (4294967296, 4294967296, 16), }",
        "{'descr': '<f8', 'shape': (18446744073709551615, 16), }",
    ] {
        let x = d.path().join("x.npy");
        std::fs::write(&x, header(h)).unwrap();
        let o = hlsrs_in(
            d.path(),
            &[
                "predict",
                s(&m),
                "--input",
                s(&x),
                "--output",
                s(&d.path().join("y.npy")),
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{h}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    }
}

/// 8: a JSON model's sizes are capped and checked: no allocation failure, no wrapped product.
#[test]
fn json_shapes_are_capped() {
    let d = common::tempdir();
    for (shape, says) in [
        ("[65536, 65536]", "more than 16777216 values"),
        ("[4294967296, 4294967296, 2]", "more than 16777216 values"),
        ("[18446744073709551615, 2]", "more than 16777216 values"),
    ] {
        let path = d.path().join("m.json");
        std::fs::write(
            &path,
            format!(
                "{{\"format\":\"hlsrs-model\",\"version\":1,\"input\":{{\"name\":\"x\",\"shape\":{shape}}},\"layers\":[{{\"name\":\"r\",\"op\":\"relu\",\"inputs\":[\"x\"]}}],\"output\":\"r\"}}"
            ),
        )
        .unwrap();
        let o = hlsrs_in(
            d.path(),
            &["compile", s(&path), "-o", s(&d.path().join("p"))],
        );
        user_error(&o, &[says]);
    }
    // A weight file that is a link to a device is not read forever.
    std::fs::write(
        d.path().join("z.json"),
        r#"{"format":"hlsrs-model","version":1,"input":{"name":"x","shape":[2]},"layers":[{"name":"d","op":"dense","inputs":["x"],"weights":{"npy":"zero.npy"},"bias":{"shape":[3],"data":[1,2,3]}}],"output":"d"}"#,
    )
    .unwrap();
    std::os::unix::fs::symlink("/dev/zero", d.path().join("zero.npy")).unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_hlsrs"));
    c.current_dir(d.path())
        .args(["compile", "z.json", "-o", "pz"]);
    let o = ends_within(c, Duration::from_secs(60));
    user_error(&o, &["zero.npy", "not a regular file"]);
    // A tensor whose data does not fill its shape (was an index panic in planning).
    let path = d.path().join("m.json");
    std::fs::write(&path, r#"{"format":"hlsrs-model","version":1,"input":{"name":"x","shape":[2]},"layers":[{"name":"d","op":"dense","inputs":["x"],"weights":{"shape":[2,3],"data":[1,2,3,4,5]},"bias":{"shape":[3],"data":[1,2,3]}}],"output":"d"}"#).unwrap();
    let o = hlsrs_in(
        d.path(),
        &["compile", s(&path), "-o", s(&d.path().join("p"))],
    );
    user_error(&o, &["needs 6 values", "holds 5"]);
}

/// 9: a Concat of n inputs plans layers holding O(n log n) values (joined left to right they
/// held n^2 / 2), and more than the cap is refused before planning.
#[test]
fn concat_fan_in_is_bounded_and_cheap() {
    use onnx_protobuf::{Message, ModelProto};
    let case = common::case("conv2d_flatten_concat");
    let bytes = std::fs::read(case.model()).unwrap();
    let with_inputs = |n: usize| {
        let mut m = ModelProto::parse_from_bytes(&bytes).unwrap();
        let graph = m.graph.as_mut().unwrap();
        // The graph up to its Concat, which becomes the output.
        let at = graph
            .node
            .iter()
            .position(|n| n.op_type == "Concat")
            .unwrap();
        graph.node.truncate(at + 1);
        let c = &mut graph.node[at];
        let first = c.input[0].clone();
        c.input = vec![first; n];
        let out = c.output[0].clone();
        graph.output.truncate(1);
        graph.output[0].name = out;
        graph.output[0].type_ = Default::default();
        m
    };
    let d = common::tempdir();
    let path = d.path().join("m.onnx");
    let n = 2000;
    std::fs::write(&path, with_inputs(n).write_to_bytes().unwrap()).unwrap();
    let model = hlsrs::frontend::load(&path, "m").unwrap();
    let concats: Vec<usize> = model
        .topo_order()
        .into_iter()
        .filter(|&i| model.node(i).op.kind() == "concat")
        .map(|i| model.node(i).size())
        .collect();
    assert_eq!(concats.len(), n - 1);
    let largest = *concats.iter().max().unwrap();
    let one = largest / n;
    let total: usize = concats.iter().sum();
    let bound = one * n * (n.ilog2() as usize + 2);
    assert!(
        total <= bound,
        "concat layers hold {total} values; n log n is {bound}"
    );
    std::fs::write(&path, with_inputs(5000).write_to_bytes().unwrap()).unwrap();
    let o = hlsrs_in(
        d.path(),
        &["compile", s(&path), "-o", s(&d.path().join("p"))],
    );
    user_error(&o, &["Concat of 5000 inputs", "at most 4096"]);
}

/// Runs `cmd` and fails the test if it has not ended after `limit` (a hang guard, not a
/// speed target).
fn ends_within(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("{cmd:?} ran past {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// 10: folder links that loop do not make report or csim walk forever.
#[test]
fn link_loops_in_a_project_end() {
    let d = common::tempdir();
    let case = common::case("two_layer_keras");
    let prj = d.path().join("prj");
    let o = hlsrs_in(d.path(), &["compile", s(&case.model()), "-o", s(&prj)]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::os::unix::fs::symlink(prj.join("tb/b"), prj.join("firmware/a")).unwrap();
    std::os::unix::fs::symlink(prj.join("firmware/a"), prj.join("tb/b")).unwrap();
    std::os::unix::fs::symlink(&prj, prj.join("firmware/up")).unwrap();
    std::os::unix::fs::symlink(&prj, prj.join("two_layer_keras_prj")).unwrap();
    let mut report = Command::new(env!("CARGO_BIN_EXE_hlsrs"));
    report.args(["report", s(&prj)]);
    let o = ends_within(report, Duration::from_secs(60));
    assert!(o.status.code().is_some(), "{}", stderr(&o));
    let mut csim = Command::new(env!("CARGO_BIN_EXE_hlsrs"));
    csim.args([
        "csim",
        s(&prj),
        "--input",
        s(&case.dir.join("input.npy")),
        "--output",
        s(&d.path().join("y.npy")),
    ])
    .env("HLSRS_AP_TYPES", common::ap_types());
    let o = ends_within(csim, Duration::from_secs(120));
    assert!(o.status.success(), "{}", stderr(&o));
}

/// Peak memory of the children this process has waited for, in kB.
fn children_peak_kb() -> i64 {
    // SAFETY: getrusage fills the struct it is given.
    unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut u);
        u.ru_maxrss
    }
}

/// 11: an .npz member that inflates far past its declared shape is read only as far as the
/// shape: a 300 MB bomb costs no 300 MB.
#[test]
fn an_npz_bomb_is_read_only_as_far_as_its_header() {
    use std::io::Write;
    let d = common::tempdir();
    let case = common::case("two_layer_keras");
    let bomb = d.path().join("bomb.npz");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&bomb).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    let name = hlsrs::frontend::load(&case.model(), "m")
        .map(|m| m.node(m.inputs[0]).name.clone())
        .unwrap();
    zip.start_file(format!("{name}.npy"), opts).unwrap();
    let sample = case.input();
    let header = hlsrs::arrays::npy_bytes(&sample);
    zip.write_all(&header).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..300 {
        zip.write_all(&zeros).unwrap();
    }
    zip.finish().unwrap();
    assert!(std::fs::metadata(&bomb).unwrap().len() < 4 << 20);
    let before = children_peak_kb();
    let o = hlsrs_in(
        d.path(),
        &[
            "predict",
            s(&case.model()),
            "--input",
            s(&bomb),
            "--output",
            s(&d.path().join("y.npy")),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let peak = children_peak_kb();
    assert!(
        peak.max(before) < 200 * 1024,
        "peak memory {peak} kB reading a 300 MB member"
    );
}

/// 12: non-finite and absurd clocks are refused, from the flag and the config.
#[test]
fn clocks_must_be_finite_and_sane() {
    let d = common::tempdir();
    let m = common::case("two_layer_keras").model();
    for clock in ["inf", "NaN", "1e-300", "0", "-5", "1e9"] {
        let o = hlsrs_in(
            d.path(),
            &[
                "compile",
                s(&m),
                &format!("--clock={clock}"),
                "-o",
                s(&d.path().join("p")),
            ],
        );
        user_error(&o, &["--clock", "from 0.1 to 1000"]);
    }
    for clock in ["inf", "nan", "1e-300"] {
        let o = compile_with_config(d.path(), &format!("clock = {clock}\n"));
        user_error(&o, &["'clock'", "from 0.1 to 1000"]);
    }
    assert!(!d.path().join("p").exists());
}

/// A stand-in `vitis_hls` (or `vitis-run`) written as a shell script in `dir`.
fn fake_tool(dir: &Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn build_command(prj: &Path, bin: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hlsrs"));
    c.args(["build", s(prj), "--synth"])
        .args(extra)
        .env("PATH", path_with(bin))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// 13: a line of tool output that is not UTF-8, followed by more than a pipe holds: the run
/// is read to its end and succeeds.
#[test]
fn vendor_output_that_is_not_utf8_is_read_to_its_end() {
    let (d, prj) = small_project();
    let bin = d.path().join("bin");
    fake_tool(
        &bin,
        "vitis_hls",
        "printf 'INFO: \\377\\376 Latin-1 caf\\351\\n'\n\
         i=0; while [ $i -lt 4000 ]; do echo \"INFO: line $i of a long log, padded to fill the pipe\"; i=$((i+1)); done\n\
         echo '***** C/RTL SYNTHESIS *****'\n",
    );
    let o = build_command(&prj, &bin, &[]).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("line 3999"), "the log was cut");
    assert!(
        out.contains("caf\u{fffd}"),
        "the line that is not UTF-8 is shown"
    );
}

/// Whether process `pid` has ended (gone, or a zombie nobody reaped yet).
fn ended(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

fn wait_for_file(p: &Path) -> String {
    let start = Instant::now();
    loop {
        if let Ok(t) = std::fs::read_to_string(p)
            && t.ends_with('\n')
        {
            return t.trim().to_string();
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{} never came",
            p.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn ends_soon(pid: i32) {
    let start = Instant::now();
    while !ended(pid) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "process {pid} the tool started still runs after hlsrs"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// 14: --timeout stops the tool and what it started; SIGTERM to hlsrs does too; Ctrl-C in the
/// vitis-run flow removes the wrapper script.
#[test]
fn a_build_ends_with_hlsrs() {
    let (d, prj) = small_project();
    let bin = d.path().join("bin");
    let pidfile = d.path().join("pid");
    fake_tool(
        &bin,
        "vitis_hls",
        &format!(
            "sleep 1000 &\necho $! > '{}.tmp'; mv '{0}.tmp' '{0}'\nwait\n",
            s(&pidfile)
        ),
    );
    let o = build_command(&prj, &bin, &["--timeout", "1"])
        .output()
        .unwrap();
    user_error(&o, &["ran past --timeout 1 s"]);
    ends_soon(wait_for_file(&pidfile).parse().unwrap());

    std::fs::remove_file(&pidfile).unwrap();
    let mut child = build_command(&prj, &bin, &[]).spawn().unwrap();
    let tool: i32 = wait_for_file(&pidfile).parse().unwrap();
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    child.wait().unwrap();
    ends_soon(tool);

    // vitis-run alone on PATH: hlsrs writes it a wrapper script in the temp folder.
    let run_bin = d.path().join("run_bin");
    let wrapper_file = d.path().join("wrapper");
    fake_tool(
        &run_bin,
        "vitis-run",
        &format!(
            "echo \"$4\" > '{}.tmp'; mv '{0}.tmp' '{0}'\nsleep 1000 &\nwait\n",
            s(&wrapper_file)
        ),
    );
    let mut child = build_command(&prj, &run_bin, &[]).spawn().unwrap();
    let wrapper = PathBuf::from(wait_for_file(&wrapper_file));
    assert!(wrapper.is_file());
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert!(!wrapper.exists(), "{} left behind", wrapper.display());
}

/// A JSON model large enough that writing its project takes a while: 64-1024-256, weights in
/// .npy files beside it.
fn large_json(dir: &Path) -> PathBuf {
    let mut seed = 7u64;
    let mut weights = |n_in: usize, n_out: usize, name: &str| {
        let data = hlsrs::ir::tensor::seeded_uniform(&mut seed, n_in * n_out)
            .into_iter()
            .map(|v| v / 8.0)
            .collect();
        let a = hlsrs::arrays::Array {
            shape: vec![n_in, n_out],
            data,
        };
        hlsrs::arrays::write(&dir.join(format!("{name}.npy")), &a).unwrap();
        serde_json::json!({ "npy": format!("{name}.npy") })
    };
    let (w1, w2) = (weights(64, 1024, "w1"), weights(1024, 256, "w2"));
    let doc = serde_json::json!({
        "format": "hlsrs-model",
        "version": 1,
        "input": {"name": "x", "shape": [64]},
        "layers": [
            {"name": "fc1", "op": "dense", "inputs": ["x"], "weights": w1,
             "bias": {"shape": [1024], "data": vec![0.0; 1024]}},
            {"name": "relu1", "op": "relu", "inputs": ["fc1"]},
            {"name": "fc2", "op": "dense", "inputs": ["relu1"], "weights": w2,
             "bias": {"shape": [256], "data": vec![0.0; 256]}}
        ],
        "output": "fc2"
    });
    let path = dir.join("big.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

/// The files a project's manifest lists, with their contents.
fn project_files(prj: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(prj.join("hlsrs.json")).unwrap()).unwrap();
    m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let f = f.as_str().unwrap().to_string();
            let bytes = std::fs::read(prj.join(&f)).unwrap_or_default();
            (f, bytes)
        })
        .collect()
}

/// Leftovers of an interrupted write, inside the project or beside it.
fn leftovers(parent: &Path) -> Vec<String> {
    files_under(parent)
        .into_iter()
        .chain(
            std::fs::read_dir(parent)
                .unwrap()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned()),
        )
        .filter(|f| f.contains(".hlsrs-"))
        .collect()
}

/// 15: two compiles into one project leave one design whole, never a mix; a compile stopped by
/// SIGINT leaves the old project or the new one, and the next compile clears what it left.
#[test]
fn a_project_is_replaced_whole_or_not_at_all() {
    let d = common::tempdir();
    let model = large_json(d.path());
    let settings: [&[&str]; 2] = [&[], &["--precision", "ap_fixed<12,4>"]];
    let compile = |out: &Path, k: usize| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_hlsrs"));
        c.args(["compile", s(&model), "-o", s(out), "--name", "big"])
            .args(settings[k])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        c
    };
    let refs: Vec<_> = (0..2)
        .map(|k| {
            let out = d.path().join(format!("ref{k}"));
            assert!(compile(&out, k).status().unwrap().success());
            project_files(&out)
        })
        .collect();
    let whole = |prj: &Path, what: &str| {
        let now = project_files(prj);
        assert!(
            now == refs[0] || now == refs[1],
            "{what}: the project mixes both designs"
        );
    };
    let work = d.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let prj = work.join("prj");
    assert!(compile(&prj, 0).status().unwrap().success());
    for trial in 0..6 {
        let mut a = compile(&prj, trial % 2).spawn().unwrap();
        let mut b = compile(&prj, 1 - trial % 2).spawn().unwrap();
        assert!(a.wait().unwrap().success() && b.wait().unwrap().success());
        whole(&prj, &format!("concurrent trial {trial}"));
    }
    // SIGINT at times spread over a compile's run.
    let start = Instant::now();
    assert!(compile(&prj, 1).status().unwrap().success());
    let run = start.elapsed();
    for trial in 0..12u32 {
        let mut c = compile(&prj, (trial % 2) as usize).spawn().unwrap();
        std::thread::sleep(run * trial / 10);
        unsafe { libc::kill(c.id() as i32, libc::SIGINT) };
        c.wait().unwrap();
        whole(&prj, &format!("interrupted trial {trial}"));
    }
    assert!(compile(&prj, 0).status().unwrap().success());
    assert!(leftovers(&work).is_empty(), "{:?}", leftovers(&work));
    // A fresh project stopped part way: the next compile removes its staging folder.
    for trial in 0..6u32 {
        let fresh = work.join(format!("fresh{trial}"));
        let mut c = compile(&fresh, 0).spawn().unwrap();
        std::thread::sleep(run * trial / 5);
        unsafe { libc::kill(c.id() as i32, libc::SIGINT) };
        c.wait().unwrap();
        if fresh.exists() {
            whole(&fresh, "a fresh project");
        }
        assert!(compile(&fresh, 1).status().unwrap().success());
    }
    assert!(leftovers(&work).is_empty(), "{:?}", leftovers(&work));
}

/// 16: two C-simulations of one fresh project at once both succeed, with the same outputs.
#[test]
fn two_csims_of_one_fresh_project_share_its_build() {
    let (d, prj) = small_project();
    let x = common::case("two_layer_keras").dir.join("input.npy");
    let csim = |k: usize| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_hlsrs"));
        c.args(["csim", s(&prj), "--input", s(&x), "--output"])
            .arg(d.path().join(format!("y{k}.npy")))
            .env("HLSRS_AP_TYPES", common::ap_types())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        c.spawn().unwrap()
    };
    let (a, b) = (csim(0), csim(1));
    for o in [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()] {
        assert!(o.status.success(), "{}", stderr(&o));
    }
    assert_eq!(
        hlsrs::arrays::read(&d.path().join("y0.npy")).unwrap(),
        hlsrs::arrays::read(&d.path().join("y1.npy")).unwrap()
    );
}

/// 17: layers whose names become the same file name get a weight file each.
#[test]
fn npy_weight_files_are_one_per_tensor() {
    let d = common::tempdir();
    let doc = serde_json::json!({
        "format": "hlsrs-model",
        "version": 1,
        "input": {"name": "x", "shape": [3]},
        "layers": [
            {"name": "fc-1", "op": "dense", "inputs": ["x"],
             "weights": {"shape": [3, 3], "data": [0.5, -0.25, 0.125, 1.0, 0.75, -0.5, 0.25, 0.0, -1.0]},
             "bias": {"shape": [3], "data": [0.1, 0.2, 0.3]}},
            {"name": "fc.1", "op": "dense", "inputs": ["fc-1"],
             "weights": {"shape": [3, 2], "data": [-0.75, 0.5, 0.25, 0.125, -1.0, 0.5]},
             "bias": {"shape": [2], "data": [-0.1, 0.4]}},
            {"name": "FC_1", "op": "dense", "inputs": ["fc.1"],
             "weights": {"shape": [2, 2], "data": [1.0, -1.0, 0.5, 0.5]},
             "bias": {"shape": [2], "data": [0.0, 0.0]}}
        ],
        "output": "FC_1"
    });
    let model = d.path().join("m.json");
    std::fs::write(&model, doc.to_string()).unwrap();
    let out = d.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let exported = out.join("e.json");
    let o = hlsrs_in(
        d.path(),
        &[
            "export-json",
            s(&model),
            "-o",
            s(&exported),
            "--npy-weights",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(files_under(&out).len(), 1 + 6, "{:?}", files_under(&out));
    let x = d.path().join("x.npy");
    hlsrs::arrays::write(
        &x,
        &hlsrs::arrays::Array {
            shape: vec![4, 3],
            data: (0..12).map(|k| k as f64 / 5.0 - 1.0).collect(),
        },
    )
    .unwrap();
    let predict = |m: &Path, y: &str| {
        let y = d.path().join(y);
        let o = hlsrs_in(
            d.path(),
            &[
                "predict",
                s(m),
                "--input",
                s(&x),
                "--output",
                s(&y),
                "--float",
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        hlsrs::arrays::read(&y).unwrap()
    };
    assert_eq!(predict(&model, "a.npy"), predict(&exported, "b.npy"));
}

/// 18: a project source removed or edited since the compile is the user's to fix (exit 2,
/// naming the file), not an internal error.
#[test]
fn edited_project_sources_are_user_errors() {
    let (d, prj) = small_project();
    let x = common::case("two_layer_keras").dir.join("input.npy");
    let y = d.path().join("y.npy");
    let cpp = prj.join("firmware/two_layer_keras.cpp");
    let mut text = std::fs::read_to_string(&cpp).unwrap();
    text.push_str("\nint broken = ;\n");
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&cpp, text).unwrap();
    let o = hlsrs_in(
        d.path(),
        &["csim", s(&prj), "--input", s(&x), "--output", s(&y)],
    );
    user_error(
        &o,
        &["firmware/two_layer_keras.cpp was changed after hlsrs wrote it"],
    );
    std::fs::remove_file(&cpp).unwrap();
    let o = hlsrs_in(
        d.path(),
        &["csim", s(&prj), "--input", s(&x), "--output", s(&y)],
    );
    user_error(&o, &["firmware/two_layer_keras.cpp is missing"]);
}

/// 19: a sample that is not a number: the message names the file, the sample and the input.
#[test]
fn a_non_finite_input_is_named() {
    let (d, prj) = small_project();
    let mut a = common::case("two_layer_keras").input();
    let n = a.row_len();
    a.data[2 * n + 3] = f64::NAN;
    let x = d.path().join("nan.npy");
    hlsrs::arrays::write(&x, &a).unwrap();
    let o = hlsrs_in(
        d.path(),
        &[
            "csim",
            s(&prj),
            "--input",
            s(&x),
            "--output",
            s(&d.path().join("y.npy")),
        ],
    );
    user_error(&o, &["nan.npy", "sample 2", "input '", "value 3", "NaN"]);
}

/// 20: invalid TOML names the line and the key.
#[test]
fn invalid_toml_names_the_line_and_key() {
    let d = common::tempdir();
    let o = compile_with_config(d.path(), "part = \"xcvu9p\"\nreuse = 2\nreuse = 4\n");
    user_error(&o, &["c.toml", "line 3", "`reuse`", "duplicate key"]);
}

/// A build that ends within its --timeout is a success, not a timeout (the acceptance kit found
/// that the watchdog took the tool's end for the time running out).
#[test]
fn a_build_within_its_timeout_succeeds() {
    let (d, prj) = small_project();
    let bin = d.path().join("bin");
    fake_tool(&bin, "vitis_hls", "echo '***** C/RTL SYNTHESIS *****'\n");
    let o = build_command(&prj, &bin, &["--timeout", "600"])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}
