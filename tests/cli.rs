//! The command-line interface as firmware Makefiles and CI scripts call it: commands, flags,
//! outputs, exit codes (0 ok, 2 bad input or config, 1 internal) and error messages that name the
//! file, the node and what was expected.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn hlsrs(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hlsrs"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn expect_user_error(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert_eq!(
        o.status.code(),
        Some(2),
        "expected exit 2, got {:?}: {err}",
        o.status
    );
    for n in needles {
        assert!(err.contains(n), "error message lacks '{n}':\n{err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

/// `hlsrs compile MODEL -o <a fresh temporary folder>/p`.
fn compile_into_temp(model: &Path) -> Output {
    hlsrs(&[
        "compile",
        &s(model),
        "-o",
        &s(&common::tempdir().path().join("p")),
    ])
}

fn s(p: &Path) -> String {
    common::path_str(p)
}

#[test]
fn compile_predict_csim_round_trip_through_the_cli() {
    let case = common::case("three_layer_keras");
    let dir = common::tempdir();
    let prj = dir.path().join("jet_tagger");
    let o = hlsrs(&[
        "compile",
        &s(&case.model()),
        "--part",
        "xcvu9p",
        "-o",
        &s(&prj),
        "--name",
        "jet_tagger",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = String::from_utf8_lossy(&o.stdout);
    assert!(
        summary.contains("xcvu9p-flga2104-2-e") && summary.contains("Softmax"),
        "{summary}"
    );
    for f in [
        "firmware/jet_tagger.cpp",
        "firmware/defines.h",
        "firmware/parameters.h",
        "tb/jet_tagger_test.cpp",
        "tb_data/tb_input_bits.dat",
        "build_prj.tcl",
        "hls_config.cfg",
        "Makefile",
        "hlsrs.json",
        "firmware/hls_lib/hlsrs_dense.h",
    ] {
        assert!(prj.join(f).is_file(), "missing {f}");
    }
    let x = case.dir.join("input.npy");
    let (y, yc, yf) = (
        dir.path().join("y.npy"),
        dir.path().join("y_csim.npy"),
        dir.path().join("y_float.npy"),
    );
    let ap = s(&common::ap_types());
    assert!(
        hlsrs(&[
            "predict",
            &s(&case.model()),
            "--input",
            &s(&x),
            "--output",
            &s(&y)
        ])
        .status
        .success()
    );
    let o = hlsrs(&[
        "csim",
        &s(&prj),
        "--input",
        &s(&x),
        "--output",
        &s(&yc),
        "--ap-types",
        &ap,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(&y).unwrap(),
        std::fs::read(&yc).unwrap(),
        "predict and csim files differ"
    );
    assert!(
        hlsrs(&[
            "predict",
            &s(&case.model()),
            "--input",
            &s(&x),
            "--output",
            &s(&yf),
            "--float"
        ])
        .status
        .success()
    );
    let (fixed, float) = (
        hlsrs::arrays::read(&y).unwrap(),
        hlsrs::arrays::read(&yf).unwrap(),
    );
    assert_eq!(fixed.shape, vec![500, 5]);
    assert_ne!(fixed.data, float.data);
    // CSV in and out too.
    let csv_in = dir.path().join("x.csv");
    let xa = hlsrs::arrays::read(&x).unwrap();
    hlsrs::arrays::write(
        &csv_in,
        &hlsrs::arrays::Array {
            shape: vec![3, 16],
            data: xa.data[..48].to_vec(),
        },
    )
    .unwrap();
    let csv_out = dir.path().join("y.csv");
    assert!(
        hlsrs(&[
            "predict",
            &s(&case.model()),
            "--input",
            &s(&csv_in),
            "--output",
            &s(&csv_out)
        ])
        .status
        .success()
    );
    let rows: Vec<Vec<f64>> = std::fs::read_to_string(&csv_out)
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1], fixed.row(1));
}

#[test]
fn default_output_dir_and_name_come_from_the_model_file() {
    let dir = common::tempdir();
    let model = dir.path().join("my-model.v2.onnx");
    std::fs::copy(common::case("two_layer_keras").model(), &model).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_hlsrs"))
        .current_dir(dir.path())
        .args(["compile", "my-model.v2.onnx"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        dir.path()
            .join("hls_my_model_v2/firmware/my_model_v2.cpp")
            .is_file()
    );
}

#[test]
fn unsupported_ops_are_all_listed_with_their_nodes() {
    let m = common::root().join("testdata/errors/unsupported_ops.onnx");
    let o = compile_into_temp(&m);
    expect_user_error(
        &o,
        &[
            "unsupported_ops.onnx",
            "3 unsupported op(s)",
            "node 'erf_node': Erf",
            "node 'topk_node': TopK",
            "node 'custom_node': MyCustomOp, domain com.example",
        ],
    );
}

#[test]
fn truncated_protobuf_is_a_clear_error() {
    let dir = common::tempdir();
    let bytes = std::fs::read(common::case("three_layer_keras").model()).unwrap();
    let m = dir.path().join("truncated.onnx");
    std::fs::write(&m, &bytes[..bytes.len() / 2]).unwrap();
    let o = hlsrs(&["compile", &s(&m), "-o", &s(&dir.path().join("p"))]);
    expect_user_error(&o, &["truncated.onnx", "not a valid ONNX protobuf"]);
    assert!(
        !dir.path().join("p").exists(),
        "no output directory after an error"
    );
    let garbage = dir.path().join("garbage.onnx");
    std::fs::write(&garbage, b"\xff\xff\xff\xff not onnx").unwrap();
    expect_user_error(
        &hlsrs(&[
            "predict",
            &s(&garbage),
            "--input",
            "x.npy",
            "--output",
            "y.npy",
        ]),
        &["garbage.onnx"],
    );
}

#[test]
fn invalid_graph_names_the_node_and_expectation() {
    let m = common::root().join("testdata/errors/bn_wrong_channels.onnx");
    let o = compile_into_temp(&m);
    expect_user_error(
        &o,
        &[
            "bn_wrong_channels.onnx",
            "node 'bn_bad'",
            "has 6 values but the channel dimension",
        ],
    );
}

#[test]
fn external_data_outside_the_model_folder_is_refused() {
    let m = common::root().join("testdata/errors/external_escape.onnx");
    let o = compile_into_temp(&m);
    expect_user_error(
        &o,
        &[
            "external_escape.onnx",
            "'../escape.bin' leaves the model's folder",
        ],
    );
}

#[test]
fn unknown_config_key_suggests_the_nearest() {
    let dir = common::tempdir();
    let cfg = dir.path().join("hls.toml");
    std::fs::write(&cfg, "precision = \"ap_fixed<16,6>\"\nreuse_factor = 4\n").unwrap();
    let m = s(&common::case("three_layer_keras").model());
    let o = hlsrs(&[
        "compile",
        &m,
        "-c",
        &s(&cfg),
        "-o",
        &s(&dir.path().join("p")),
    ]);
    expect_user_error(
        &o,
        &[
            "hls.toml",
            "unknown key 'reuse_factor'",
            "did you mean 'reuse'",
        ],
    );
    std::fs::write(&cfg, "[layers.Relu]\nresutl = \"ap_fixed<8,3>\"\n").unwrap();
    expect_user_error(
        &hlsrs(&["compile", &m, "-c", &s(&cfg)]),
        &["[layers.Relu]", "did you mean 'result'"],
    );
    std::fs::write(&cfg, "[layers.Relu2x]\nresult = \"ap_fixed<8,3>\"\n").unwrap();
    expect_user_error(
        &hlsrs(&["compile", &m, "-c", &s(&cfg)]),
        &["no layer 'Relu2x'", "did you mean 'Relu2'"],
    );
    std::fs::write(&cfg, "precision = \"ap_fixd<16,6>\"\n").unwrap();
    expect_user_error(
        &hlsrs(&["compile", &m, "-c", &s(&cfg)]),
        &["invalid precision 'ap_fixd<16,6>'"],
    );
}

#[test]
fn invalid_reuse_factor_lists_the_valid_ones() {
    let dir = common::tempdir();
    let cfg = dir.path().join("hls.toml");
    std::fs::write(&cfg, "[layers.dense]\nreuse = 3\n").unwrap();
    let m = s(&common::case("three_layer_keras").model());
    let o = hlsrs(&[
        "compile",
        &m,
        "-c",
        &s(&cfg),
        "-o",
        &s(&dir.path().join("p")),
    ]);
    expect_user_error(
        &o,
        &[
            "reuse factor 3 is not valid for this 16x64 dense layer",
            "valid: 1, 2, 4, 8, 16, 32",
        ],
    );
    // The model-wide value is adjusted per layer, and the summary says which layers differ.
    let o = hlsrs(&[
        "compile",
        &m,
        "--reuse",
        "3",
        "--strategy",
        "resource",
        "-o",
        &s(&dir.path().join("q")),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("reuse factor 3 is not valid, using 2"),
        "{out}"
    );
}

#[test]
fn output_directory_with_foreign_files_needs_force() {
    let dir = common::tempdir();
    let prj = dir.path().join("prj");
    std::fs::create_dir(&prj).unwrap();
    std::fs::write(prj.join("notes.txt"), "mine").unwrap();
    let m = s(&common::case("two_layer_keras").model());
    let o = hlsrs(&["compile", &m, "-o", &s(&prj)]);
    expect_user_error(
        &o,
        &[
            "prj",
            "1 file(s) hlsrs did not write (notes.txt)",
            "--force",
        ],
    );
    assert!(
        !prj.join("hlsrs.json").exists(),
        "nothing written after the refusal"
    );
    let o = hlsrs(&["compile", &m, "-o", &s(&prj), "--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(prj.join("notes.txt")).unwrap(),
        "mine"
    );
    // Its own earlier output is not foreign: without the user's file, no --force is needed.
    std::fs::remove_file(prj.join("notes.txt")).unwrap();
    assert!(hlsrs(&["compile", &m, "-o", &s(&prj)]).status.success());
}

#[test]
fn unwritable_output_and_bad_arguments_exit_2() {
    let m = s(&common::case("two_layer_keras").model());
    expect_user_error(
        &hlsrs(&["compile", &m, "-o", "/proc/hlsrs_cannot_write_here"]),
        &["hlsrs_cannot_write_here"],
    );
    expect_user_error(
        &hlsrs(&["compile", &m, "--part", "xcvu9"]),
        &["unknown part \"xcvu9\"", "did you mean 'xcvu9p'"],
    );
    expect_user_error(
        &hlsrs(&["compile", &m, "--strategy", "fast"]),
        &["strategy 'fast'"],
    );
    expect_user_error(&hlsrs(&["compile", "missing.onnx"]), &["missing.onnx"]);
    expect_user_error(
        &hlsrs(&["compile", &m, "--table-size", "1000"]),
        &["power of two"],
    );
    let x = common::case("three_layer_keras").dir.join("input.npy");
    expect_user_error(
        &hlsrs(&["predict", &m, "--input", &s(&x), "--output", "/tmp/y.npy"]),
        &["input.npy", "does not match the model: expected [N, 10]"],
    );
    assert_eq!(
        hlsrs(&["compile"]).status.code(),
        Some(2),
        "clap usage errors are exit 2 too"
    );
    expect_user_error(
        &hlsrs(&[
            "csim",
            "/nonexistent_project",
            "--input",
            &s(&x),
            "--output",
            "y.npy",
            "--ap-types",
            &s(&common::ap_types()),
        ]),
        &["not an hlsrs project"],
    );
}

#[test]
fn help_documents_every_flag() {
    let o = hlsrs(&["compile", "--help"]);
    let help = String::from_utf8_lossy(&o.stdout);
    for flag in [
        "--config",
        "--part",
        "--output",
        "--name",
        "--precision",
        "--reuse",
        "--strategy",
        "--io",
        "--clock",
        "--force",
        "--accum",
        "--table-size",
        "--table-precision",
        "--tb-input",
        "--dump-after",
    ] {
        assert!(help.contains(flag), "compile --help lacks {flag}");
    }
}

#[test]
fn dump_after_prints_the_ir() {
    let m = s(&common::case("three_layer_bn_keras").model());
    let o = hlsrs(&["compile", &m, "--dump-after", "fuse_batchnorm"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ir = String::from_utf8_lossy(&o.stdout);
    assert!(ir.contains("fused=[\"batch_normalization\"]"), "{ir}");
    expect_user_error(
        &hlsrs(&["compile", &m, "--dump-after", "fuse_bn"]),
        &["unknown pass 'fuse_bn'"],
    );
}

#[test]
fn export_json_then_compile_gives_the_same_project() {
    let case = common::case("three_layer_bn_keras");
    let dir = common::tempdir();
    let json = dir.path().join("model.json");
    let o = hlsrs(&["export-json", &s(&case.model()), "-o", &s(&json)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    assert!(
        hlsrs(&["compile", &s(&case.model()), "-o", &s(&a)])
            .status
            .success()
    );
    assert!(
        hlsrs(&["compile", &s(&json), "-o", &s(&b)])
            .status
            .success()
    );
    for f in [
        "firmware/three_layer_bn_keras.cpp",
        "firmware/parameters.h",
        "firmware/weights/w1.h",
        "hlsrs.json",
        "tb_data/tb_output_bits.dat",
    ] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn testbench_exits_nonzero_when_the_design_disagrees_with_the_emulator() {
    let case = common::case("two_layer_keras");
    let dir = common::tempdir();
    let prj = dir.path().join("p");
    assert!(
        hlsrs(&["compile", &s(&case.model()), "-o", &s(&prj)])
            .status
            .success()
    );
    let exe = hlsrs::csim::build(&prj, &common::ap_types()).unwrap();
    let run = || Command::new(&exe).current_dir(&prj).output().unwrap();
    let ok = run();
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("16 samples, 0 mismatching outputs"));
    // One flipped expected bit must be caught.
    let golden = prj.join("tb_data/tb_output_bits.dat");
    let text = std::fs::read_to_string(&golden).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let v: i64 = lines[3].split(' ').next().unwrap().parse().unwrap();
    lines[3] = lines[3].replacen(&v.to_string(), &(v ^ 1).to_string(), 1);
    std::fs::write(&golden, lines.join("\n") + "\n").unwrap();
    let bad = run();
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("sample 3 output 0"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn recurrent_sequence_lens_shorter_than_the_sequence_is_refused() {
    let m = common::root().join("testdata/errors/lstm_sequence_lens.onnx");
    let o = compile_into_temp(&m);
    expect_user_error(
        &o,
        &[
            "lstm_sequence_lens.onnx",
            "node 'lstm_short'",
            "sequence_lens [17.0] differ from the sequence length 20",
        ],
    );
}

#[test]
fn static_recurrent_design_through_the_cli() {
    let dir = common::tempdir();
    let case = common::case("lstm_jet_tagger");
    let (m, x) = (case.model(), case.dir.join("input.npy"));
    // A static design still takes whole sequences and answers once per time step.
    let y = dir.path().join("y.npy");
    let o = hlsrs(&[
        "predict",
        &s(&m),
        "--static",
        "--input",
        &s(&x),
        "--output",
        &s(&y),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let y = hlsrs::arrays::read(&y).unwrap();
    assert_eq!(y.shape, vec![500, 20, 5]);
    // The compile summary and the generated top function say what static means.
    let prj = dir.path().join("prj");
    let o = hlsrs(&[
        "compile",
        &s(&m),
        "--static",
        "-o",
        &s(&prj),
        "--name",
        "jet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("static: one time step per call (20 calls"),
        "{out}"
    );
    let top = std::fs::read_to_string(prj.join("firmware/jet.h")).unwrap();
    assert!(
        top.contains("(const input_t x[N_INPUT], result_t softmax[N_OUTPUT], bool reset);"),
        "{top}"
    );
    // A backwards layer cannot run one step per call: exit 2, the node named.
    let bi = common::case("lstm_bidirectional").model();
    let o = hlsrs(&[
        "compile",
        &s(&bi),
        "--static",
        "-o",
        &s(&dir.path().join("bi")),
    ]);
    expect_user_error(
        &o,
        &[
            "lstm_bidirectional",
            "node 'rec1'",
            "bidirectional",
            "whole sequence",
        ],
    );
    assert!(!dir.path().join("bi").exists(), "half-written output");
    // The config key, per layer, on a layer that has no state.
    let cfg = dir.path().join("hls.toml");
    std::fs::write(&cfg, "[layers.fc]\nstatic = true\n").unwrap();
    let o = hlsrs(&[
        "compile",
        &s(&m),
        "-c",
        &s(&cfg),
        "-o",
        &s(&dir.path().join("c")),
    ]);
    expect_user_error(&o, &["[layers.fc]", "'static' applies to recurrent layers"]);
}

#[test]
fn recurrent_layer_left_as_a_loop_is_refused_with_what_to_export() {
    let m = common::root().join("testdata/errors/recurrent_loop.onnx");
    let o = compile_into_temp(&m);
    expect_user_error(
        &o,
        &[
            "recurrent_loop.onnx",
            "node 'rnn_while_loop': Loop: not a recurrent cell hlsrs recognises (no step reads a sequence at the iteration)",
            "could not turn into an ONNX LSTM/GRU/RNN node",
        ],
    );
}

/// `hlsrs csim` parses the ap_types headers and the layer library once, into a precompiled header
/// in the cache, and still compiles each project's own library: an edit to a project's hls_lib
/// reaches its build (a new precompiled header), and the outputs stay the emulator's.
#[test]
fn csim_precompiles_the_headers_and_honours_an_edited_layer_library() {
    let case = common::case("two_layer_keras");
    let dir = common::tempdir();
    let cache = dir.path().join("cache");
    let prj = dir.path().join("prj");
    assert!(
        hlsrs(&["compile", &s(&case.model()), "-o", &s(&prj)])
            .status
            .success()
    );
    let x = case.dir.join("input.npy");
    let (y, yc) = (dir.path().join("y.npy"), dir.path().join("yc.npy"));
    assert!(
        hlsrs(&[
            "predict",
            &s(&case.model()),
            "--input",
            &s(&x),
            "--output",
            &s(&y)
        ])
        .status
        .success()
    );
    let ap = s(&common::ap_types());
    let csim = || {
        Command::new(env!("CARGO_BIN_EXE_hlsrs"))
            .args([
                "csim",
                &s(&prj),
                "--input",
                &s(&x),
                "--output",
                &s(&yc),
                "--ap-types",
                &ap,
            ])
            .env("HLSRS_CACHE", &cache)
            .output()
            .unwrap()
    };
    let headers = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(cache.join("pch"))
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.join("hlsrs_pch.h.gch").is_file())
                    .collect()
            })
            .unwrap_or_default()
    };
    let o = csim();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(headers().len(), 1, "one precompiled header made");
    assert_eq!(std::fs::read(&y).unwrap(), std::fs::read(&yc).unwrap());
    // An edit to the project's library is compiled, not the cached copy.
    let common_h = prj.join("firmware/hls_lib/hlsrs_common.h");
    let original = std::fs::read_to_string(&common_h).unwrap();
    std::fs::write(&common_h, format!("{original}\n#error edited hls_lib\n")).unwrap();
    let o = csim();
    assert!(!o.status.success());
    assert!(stderr(&o).contains("edited hls_lib"), "{}", stderr(&o));
    std::fs::write(&common_h, &original).unwrap();
    let o = csim();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(&y).unwrap(), std::fs::read(&yc).unwrap());
}

/// A command plans the model once (issue 13): `prepare` keeps the plans and the estimate, and
/// lint, the emulator (testbench outputs, predict), the writer, the manifest and the summary read
/// them. Counted in process, on this thread, by `kernels::models_planned`.
#[test]
fn each_command_plans_the_model_once() {
    use clap::Parser;
    let case = common::case("three_layer_keras");
    let model = s(&case.model());
    let dir = common::tempdir();
    let out = s(&dir.path().join("prj"));
    let x = s(&case.dir.join("input.npy"));
    let y = s(&dir.path().join("y.npy"));
    for args in [
        vec!["hlsrs", "compile", &model, "-o", &out],
        vec![
            "hlsrs", "compile", &model, "-o", &out, "--io", "stream", "--force",
        ],
        vec!["hlsrs", "predict", &model, "--input", &x, "--output", &y],
        vec!["hlsrs", "estimate", &model],
    ] {
        let before = hlsrs::kernels::models_planned();
        hlsrs::cli::run(hlsrs::cli::Cli::parse_from(&args)).unwrap();
        assert_eq!(
            hlsrs::kernels::models_planned() - before,
            1,
            "{}",
            args[1..].join(" ")
        );
    }
}

/// Max / Min forms hlsrs does not compile are refused by name: more than two inputs, or data
/// against a constant that is not a scalar.
#[test]
fn max_of_three_inputs_or_of_a_constant_vector_is_refused() {
    let root = common::root().join("testdata/errors");
    expect_user_error(
        &compile_into_temp(&root.join("max_three_inputs.onnx")),
        &[
            "node 'max3'",
            "Max of 3 inputs is not supported; expected two",
        ],
    );
    expect_user_error(
        &compile_into_temp(&root.join("max_vector_constant.onnx")),
        &["node 'max_vector'", "expected a scalar constant"],
    );
}

/// The batch may move past size-1 axes only (issue 14): behind an axis of size > 1 a Flatten would
/// merge it into the sample and a batch-first op would read another axis as the batch. Both are
/// refused naming the node and the shape, with N where the batch sits.
#[test]
fn a_batch_behind_a_longer_axis_is_refused() {
    let root = common::root().join("testdata/errors");
    expect_user_error(
        &compile_into_temp(&root.join("flatten_merges_batch.onnx")),
        &[
            "node 'flatten_time'",
            "Flatten of data [4, N, 3] to [4, 3] would merge the batch dimension into the sample",
        ],
    );
    expect_user_error(
        &compile_into_temp(&root.join("softmax_batch_second.onnx")),
        &[
            "node 'softmax_seq_first'",
            "batch dimension at axis 1 of [4, N, 3], behind an axis of size > 1",
        ],
    );
}

/// Several inputs and outputs through the CLI (issue 14): `compile` lists every port with its
/// shape and type (stdout and hlsrs.json); `predict` and `csim` read a .npz keyed by input name
/// and write a .npz keyed by output name, and agree file for file; the outputs are the library's
/// predict split by output; a missing or extra input name, a .npy for a two-input model and a
/// .npy output for a two-output model are errors naming what was expected.
#[test]
fn several_inputs_and_outputs_through_npz() {
    let case = common::case("two_inputs_two_outputs");
    let dir = common::tempdir();
    let prj = dir.path().join("prj");
    let o = hlsrs(&["compile", &s(&case.model()), "-o", &s(&prj)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = String::from_utf8_lossy(&o.stdout);
    for line in [
        "input  particles [8, 3] ap_fixed<16,6> (port particles)",
        "input  event [4] ap_fixed<16,6> (port event_port)",
        "output class_scores [5] ap_fixed<16,6> (layer class_softmax, port class_softmax",
        "output mass [1] ap_fixed<16,6> (layer mass_dense, port mass_dense",
    ] {
        assert!(summary.contains(line), "missing '{line}' in:\n{summary}");
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(prj.join("hlsrs.json")).unwrap()).unwrap();
    let names = |k: &str| -> Vec<(String, String)> {
        manifest[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["name"].as_str().unwrap().to_string(),
                    e["type"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let t = "ap_fixed<16,6>".to_string();
    assert_eq!(
        names("inputs"),
        [("particles".into(), t.clone()), ("event".into(), t.clone())]
    );
    assert_eq!(
        names("outputs"),
        [("class_scores".into(), t.clone()), ("mass".into(), t)]
    );
    // The estimate says when each output is ready; the design's latency is the slowest's.
    let outs = manifest["estimate"]["outputs"].as_array().unwrap();
    let ready: Vec<u64> = outs
        .iter()
        .map(|o| o["latency_cycles"].as_u64().unwrap())
        .collect();
    assert_eq!(
        manifest["estimate"]["latency_cycles"].as_u64(),
        ready.iter().copied().max()
    );

    let x = case.dir.join("input.npz");
    let (y, yc) = (dir.path().join("y.npz"), dir.path().join("y_csim.npz"));
    let o = hlsrs(&[
        "predict",
        &s(&case.model()),
        "--input",
        &s(&x),
        "--output",
        &s(&y),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ap = s(&common::ap_types());
    let o = hlsrs(&[
        "csim",
        &s(&prj),
        "--input",
        &s(&x),
        "--output",
        &s(&yc),
        "--ap-types",
        &ap,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (p, c) = (
        hlsrs::arrays::read_npz(&y).unwrap(),
        hlsrs::arrays::read_npz(&yc).unwrap(),
    );
    assert_eq!(p, c, "predict and csim outputs differ");
    assert_eq!(
        p.keys().collect::<Vec<_>>(),
        ["class_scores", "mass"],
        "keyed by output name"
    );
    assert_eq!(p["class_scores"].shape, [500, 5]);
    assert_eq!(p["mass"].shape, [500, 1]);
    // The same numbers as the library's predict, whose rows hold the outputs in order.
    let prepared = hlsrs::prepare(&case.model(), &hlsrs::Config::default(), None).unwrap();
    let joined = hlsrs::predict(&prepared, &case.input(), false).unwrap();
    for r in 0..500 {
        let row = joined.row(r);
        assert_eq!(&row[..5], p["class_scores"].row(r), "sample {r}");
        assert_eq!(&row[5..], p["mass"].row(r), "sample {r}");
    }

    // Bad keys and file kinds.
    let members = hlsrs::arrays::read_npz(&x).unwrap();
    let npy = |a: &hlsrs::arrays::Array| hlsrs::arrays::npy_bytes(a);
    let missing = dir.path().join("missing.npz");
    hlsrs::arrays::write_npz(
        &missing,
        &[("particles".to_string(), npy(&members["particles"]))],
    )
    .unwrap();
    let extra = dir.path().join("extra.npz");
    hlsrs::arrays::write_npz(
        &extra,
        &[
            ("particles".to_string(), npy(&members["particles"])),
            ("event".to_string(), npy(&members["event"])),
            ("jets".to_string(), npy(&members["event"])),
        ],
    )
    .unwrap();
    let predict = |input: &Path, output: &Path| {
        hlsrs(&[
            "predict",
            &s(&case.model()),
            "--input",
            &s(input),
            "--output",
            &s(output),
        ])
    };
    let out_npz = dir.path().join("out.npz");
    expect_user_error(
        &predict(&missing, &out_npz),
        &["missing.npz", "no array for input 'event'"],
    );
    expect_user_error(
        &predict(&extra, &out_npz),
        &["extra.npz", "array 'jets' is not an input of the model"],
    );
    let single = dir.path().join("particles.npy");
    std::fs::write(&single, npy(&members["particles"])).unwrap();
    expect_user_error(
        &predict(&single, &out_npz),
        &[
            "the model has 2 inputs (particles, event)",
            "expected a .npz",
        ],
    );
    expect_user_error(
        &predict(&x, &dir.path().join("y.npy")),
        &["the model has 2 outputs", "ending in .npz"],
    );
    assert!(!dir.path().join("y.npy").exists());
}

/// A testbench that dies (issue 15: a big design's arrays overflow the stack, SIGSEGV) is named
/// with how it ended, the likely cause and the fix, and `hlsrs csim` leaves no temporary file in
/// the project's build folder.
#[test]
fn a_dying_testbench_says_how_and_leaves_no_temporary_files() {
    let case = common::case("two_layer_keras");
    let dir = common::tempdir();
    let prj = dir.path().join("p");
    assert!(
        hlsrs(&["compile", &s(&case.model()), "-o", &s(&prj)])
            .status
            .success()
    );
    let tb = prj.join("tb/two_layer_keras_test.cpp");
    let text = std::fs::read_to_string(&tb).unwrap();
    let text = text.replacen(
        "int main(int argc, char **argv) {",
        "#include <csignal>\nint main(int argc, char **argv) {\n    std::raise(SIGSEGV);",
        1,
    );
    std::fs::write(&tb, text).unwrap();
    let (y, ap) = (dir.path().join("y.npy"), s(&common::ap_types()));
    let o = hlsrs(&[
        "csim",
        &s(&prj),
        "--input",
        &s(&case.dir.join("input.npy")),
        "--output",
        &s(&y),
        "--ap-types",
        &ap,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("the testbench was killed by SIGSEGV (signal 11)")
            && err.contains("exceed the stack")
            && err.contains("ulimit -H -s"),
        "{err}"
    );
    let left: Vec<String> = std::fs::read_dir(prj.join("build"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("csim_in_") || n.starts_with("csim_out_"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    assert!(!y.exists());
}

/// Issue 15: nothing silent. A compile that wraps prints, per layer, the values that wrapped and
/// the type that holds them (hlsrs.json keeps the measure); `hlsrs estimate` measures too; a
/// design that does not wrap says so; --quantize auto with no range asks for one.
#[test]
fn a_compile_that_wraps_says_where_and_what_fixes_it() {
    let case = common::case("cnn_wraps_at_default");
    let dir = common::tempdir();
    let prj = dir.path().join("p");
    let o = hlsrs(&[
        "compile",
        &s(&case.model()),
        "-o",
        &s(&prj),
        "--tb-input",
        &s(&case.dir.join("input.npy")),
    ]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{}", stderr(&o));
    println!("{out}");
    assert!(
        out.contains("fidelity on the 500 testbench samples given")
            && out.contains("warning: layer 'conv2': ")
            && out.contains("fix: [layers.conv2] result = \"ap_fixed<18,8>\"")
            && out.contains("argmax agrees with float on 245 of 500"),
        "{out}"
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(prj.join("hlsrs.json")).unwrap()).unwrap();
    let f = &manifest["fidelity"];
    assert_eq!(f["count"], 500);
    let conv2 = f["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "conv2")
        .unwrap();
    assert!(
        conv2["overflows"][0]["count"].as_u64().unwrap() > 0,
        "{conv2}"
    );
    assert_eq!(conv2["holding_type"], "ap_fixed<18,8>");
    assert!(
        manifest["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().starts_with("warning: layer 'conv2'")),
        "{}",
        manifest["notes"]
    );
    // estimate, on its default samples (uniform in [-2, 2)), as JSON too.
    let o = hlsrs(&["estimate", &s(&case.model()), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let e: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        e["fidelity"]["samples"]
            .as_str()
            .unwrap()
            .contains("seeded samples uniform in [-2, 2)"),
        "{}",
        e["fidelity"]
    );
    // A design that does not wrap says so.
    let o = hlsrs(&[
        "estimate",
        &s(&case.model()),
        "--precision",
        "ap_fixed<20,10>",
    ]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("no value wrapped or saturated in any layer") && !out.contains("warning"),
        "{out}"
    );
    // quantize auto without a range or data: a warning that asks for them.
    let o = hlsrs(&[
        "compile",
        &s(&case.model()),
        "-o",
        &s(&dir.path().join("q")),
        "--quantize",
        "auto",
    ]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("warning: --quantize auto without --input-range or --calib")
            && out.contains("fix: --input-range LO,HI"),
        "{out}"
    );
    let o = hlsrs(&[
        "compile",
        &s(&case.model()),
        "-o",
        &s(&dir.path().join("r")),
        "--quantize",
        "auto",
        "--input-range=-4,4",
    ]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success() && !out.contains("without --input-range") && !out.contains("wrapped in"),
        "{out}"
    );
}

/// `hlsrs predict --trace DIR`: fixed.npz and float.npz with every layer, and the layer where the
/// two part ways; an unwritable DIR is a clear error.
#[test]
fn predict_trace_writes_every_layer_and_names_where_fixed_and_float_part() {
    let case = common::case("cnn_wraps_at_default");
    let dir = common::tempdir();
    let trace = dir.path().join("trace");
    let o = hlsrs(&[
        "predict",
        &s(&case.model()),
        "--input",
        &s(&case.dir.join("input.npy")),
        "--output",
        &s(&dir.path().join("y.npy")),
        "--trace",
        &s(&trace),
    ]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{}", stderr(&o));
    println!("{out}");
    assert!(
        out.contains("fixed and float part ways at 'conv2'") && out.contains("14065 overflowed"),
        "{out}"
    );
    let fixed = hlsrs::arrays::read_npz(&trace.join("fixed.npz")).unwrap();
    let float = hlsrs::arrays::read_npz(&trace.join("float.npz")).unwrap();
    for name in [
        "x",
        "conv1",
        "relu1",
        "conv2",
        "relu2",
        "pool",
        "head_fc",
        "head_softmax",
    ] {
        assert_eq!(fixed[name].shape[0], 500, "{name}");
        assert_eq!(fixed[name].shape, float[name].shape, "{name}");
    }
    // The design's output, as written by predict itself.
    let y = hlsrs::arrays::read(&dir.path().join("y.npy")).unwrap();
    assert_eq!(y.data, fixed["head_softmax"].data);
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "").unwrap();
    let o = hlsrs(&[
        "predict",
        &s(&case.model()),
        "--input",
        &s(&case.dir.join("input.npy")),
        "--output",
        &s(&dir.path().join("y2.npy")),
        "--trace",
        &s(&blocker.join("trace")),
    ]);
    expect_user_error(&o, &["trace folder"]);
}
