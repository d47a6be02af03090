//! Issue 25, point 6: sizes Vitis refuses are errors or fallbacks here, never a Vitis failure.
//! A latency block unrolls every multiplication of its n_in x n_out product, a resource block
//! n_in x n_out / R; past the 4096 iterations Vitis unrolls (XFORM 203-504, hls4ml keeps a
//! latency layer within n_in x n_out <= 4096) a layer takes the resource strategy at the
//! smallest reuse factor that fits, said in a note, or, when the layer's own settings asked for
//! more, the compile stops naming the setting that fits.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn hlsrs(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hlsrs"))
        .current_dir(dir)
        .env("HLSRS_AP_TYPES", common::ap_types())
        .args(args)
        .output()
        .unwrap()
}

/// A JSON model: one n_in x n_out dense layer, seeded weights.
fn dense_model(dir: &Path, n_in: usize, n_out: usize) -> std::path::PathBuf {
    let mut seed = 11u64;
    let w: Vec<f64> = hlsrs::ir::tensor::seeded_uniform(&mut seed, n_in * n_out)
        .into_iter()
        .map(|v| v / 16.0)
        .collect();
    let doc = serde_json::json!({
        "format": "hlsrs-model",
        "version": 1,
        "input": {"name": "x", "shape": [n_in]},
        "layers": [{"name": "fc", "op": "dense", "inputs": ["x"],
                    "weights": {"shape": [n_in, n_out], "data": w},
                    "bias": {"shape": [n_out], "data": vec![0.0; n_out]}}],
        "output": "fc"
    });
    let path = dir.join("wide.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

/// `field` of `config<k>` in a project's parameters.h.
fn config_field(prj: &Path, field: &str) -> Vec<String> {
    let text = std::fs::read_to_string(prj.join("firmware/parameters.h")).unwrap();
    text.lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix(&format!("static const unsigned {field} = "))
        })
        .map(|v| v.trim_end_matches(';').to_string())
        .collect()
}

/// `hlsrs compile MODEL -c (a config holding toml) -o dir/out`: refused with exit 2; its stderr.
fn refused_with_config(dir: &Path, model: &Path, toml: &str) -> String {
    let cfg = dir.join("c.toml");
    std::fs::write(&cfg, toml).unwrap();
    let out = dir.join("refused");
    let o = hlsrs(
        dir,
        &[
            "compile",
            model.to_str().unwrap(),
            "-c",
            cfg.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!out.exists());
    err
}

#[test]
fn a_128x128_latency_layer_takes_the_resource_kernel_it_fits_in() {
    let d = common::tempdir();
    let model = dense_model(d.path(), 128, 128);
    let prj = d.path().join("prj");
    let o = hlsrs(
        d.path(),
        &[
            "compile",
            model.to_str().unwrap(),
            "-o",
            prj.to_str().unwrap(),
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let said = format!("{}{err}", String::from_utf8_lossy(&o.stdout));
    assert!(
        said.contains("the latency kernel would unroll 16384 multiplications, beyond the 4096 Vitis unrolls; built with the resource strategy at reuse factor 4"),
        "{said}"
    );
    assert_eq!(config_field(&prj, "reuse_factor"), ["4"]);
    assert_eq!(config_field(&prj, "strategy"), ["hlsrs::resource"]);
    assert_eq!(config_field(&prj, "block_factor"), ["4096"]);
    // Still the emulator's bits.
    let x = d.path().join("x.npy");
    let rows: Vec<Vec<f64>> = (0..8)
        .map(|r| {
            (0..128)
                .map(|i| ((r * 37 + i * 11) % 29) as f64 / 7.0 - 2.0)
                .collect()
        })
        .collect();
    hlsrs::arrays::write(&x, &hlsrs::arrays::Array::from_rows(&[128], &rows)).unwrap();
    let (yc, yp) = (d.path().join("yc.npy"), d.path().join("yp.npy"));
    for args in [
        [
            "csim",
            prj.to_str().unwrap(),
            "--input",
            x.to_str().unwrap(),
            "--output",
            yc.to_str().unwrap(),
        ],
        [
            "predict",
            model.to_str().unwrap(),
            "--input",
            x.to_str().unwrap(),
            "--output",
            yp.to_str().unwrap(),
        ],
    ] {
        let o = hlsrs(d.path(), &args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert_eq!(
        hlsrs::arrays::read(&yc).unwrap(),
        hlsrs::arrays::read(&yp).unwrap()
    );
}

#[test]
fn a_layer_set_beyond_the_limit_names_the_setting_that_fits() {
    let d = common::tempdir();
    let model = dense_model(d.path(), 128, 128);
    for (settings, says) in [
        (
            "[layers.fc]\nstrategy = \"latency\"\n",
            "the latency kernel unrolls 16384",
        ),
        (
            "[layers.fc]\nstrategy = \"resource\"\nreuse = 2\n",
            "the resource kernel at reuse 2 unrolls 8192",
        ),
    ] {
        let err = refused_with_config(d.path(), &model, settings);
        assert!(
            err.contains(says) && err.contains("reuse = 4 or larger"),
            "{err}"
        );
    }
    // Reuse factor advice offers only what Vitis unrolls.
    let o = hlsrs(d.path(), &["estimate", model.to_str().unwrap(), "--advise"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    let offered: Vec<usize> = text
        .lines()
        .skip_while(|l| !l.contains("reuse factors of 'fc'"))
        .skip(1)
        .take_while(|l| l.starts_with("    "))
        .flat_map(|l| l.split("   ").map(str::trim).filter(|c| !c.is_empty()))
        .map(|c| c.split(':').next().unwrap().parse().unwrap())
        .collect();
    assert!(!offered.is_empty(), "{text}");
    assert!(offered.iter().all(|&r| r >= 4), "{offered:?}");
}

/// A recurrent layer's products too: an LSTM with 32 inputs and 64 hidden units has a 32x256
/// input product and a 64x256 recurrent one; at the latency default they would unroll 8192 and
/// 16384 multiplications a step, so it takes the resource kernel at reuse 2 and 4.
#[test]
fn a_large_lstm_takes_reuse_factors_within_the_limit() {
    let d = common::tempdir();
    let (n_in, hidden, seq) = (32, 64, 4);
    let mut seed = 5u64;
    let mut values = |n: usize| -> Vec<f64> {
        hlsrs::ir::tensor::seeded_uniform(&mut seed, n)
            .into_iter()
            .map(|v| v / 8.0)
            .collect()
    };
    let doc = serde_json::json!({
        "format": "hlsrs-model",
        "version": 1,
        "input": {"name": "x", "shape": [seq, n_in]},
        "layers": [{"name": "lstm", "op": "recurrent", "inputs": ["x"],
                    "cell": {"kind": "lstm"}, "direction": "forward", "hidden": hidden,
                    "activations": [{"fn": "sigmoid"}, {"fn": "tanh"}, {"fn": "tanh"}],
                    "w": {"shape": [1, 4 * hidden, n_in], "data": values(4 * hidden * n_in)},
                    "r": {"shape": [1, 4 * hidden, hidden], "data": values(4 * hidden * hidden)},
                    "b": {"shape": [1, 8 * hidden], "data": values(8 * hidden)},
                    "output": "last_hidden"}],
        "output": "lstm"
    });
    let model = d.path().join("lstm.json");
    std::fs::write(&model, doc.to_string()).unwrap();
    let o = hlsrs(d.path(), &["compile", model.to_str().unwrap(), "-o", "prj"]);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{said}");
    assert!(
        said.contains(
            "built with the resource strategy at reuse factors 2 (input) and 4 (recurrent)"
        ),
        "{said}"
    );
    let prj = d.path().join("prj");
    let reuse = config_field(&prj, "reuse_factor");
    assert!(
        reuse.contains(&"2".to_string()) && reuse.contains(&"4".to_string()),
        "{reuse:?}"
    );
    let err = refused_with_config(d.path(), &model, "[layers.lstm]\nreuse = 2\n");
    assert!(
        err.contains("reuse = 2 and recurrent_reuse = 4 or larger"),
        "{err}"
    );
}

/// A JSON model: a `h x w x c` input, a 3x3 conv to 4 channels.
fn image_model(dir: &Path, h: usize, w: usize, c: usize) -> std::path::PathBuf {
    let mut seed = 5u64;
    let wts = hlsrs::ir::tensor::seeded_uniform(&mut seed, 9 * c * 4);
    let doc = serde_json::json!({
        "format": "hlsrs-model",
        "version": 1,
        "input": {"name": "x", "shape": [h, w, c]},
        "layers": [{"name": "conv", "op": "conv", "inputs": ["x"], "groups": 1,
                    "window": {"kernel": [3, 3], "strides": [1, 1], "dilations": [1, 1],
                               "pads_begin": [0, 0], "pads_end": [0, 0]},
                    "weights": {"shape": [1, 3, 3, c, 4], "data": wts},
                    "bias": {"shape": [4], "data": vec![0.0; 4]}}],
        "output": "conv"
    });
    let path = dir.join(format!("image_{h}x{w}x{c}.json"));
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

/// Issue 25, point 6: an io_parallel input is one port word (ARRAY_RESHAPE complete); past the
/// 65,536 bits Vitis reshapes (XFORM 203-133, hls4ml #506) the compile stops naming what fits
/// and writes nothing; io_stream takes the same model a pixel a cycle. At the limit it compiles.
#[test]
fn an_input_wider_than_a_port_word_is_refused_with_what_fits() {
    let d = common::tempdir();
    let wide = image_model(d.path(), 64, 64, 3);
    let out = d.path().join("refused");
    let o = hlsrs(
        d.path(),
        &[
            "compile",
            wide.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("input 'x' (12288 values of 16 bits)")
            && err.contains("196608 bits, beyond the 65536 bits Vitis reshapes (XFORM 203-133)")
            && err.contains("use --io stream"),
        "{err}"
    );
    assert!(!out.exists());
    for (model, args) in [
        (&wide, &["--io", "stream"][..]),
        // 64 x 64 x 1 values of 16 bits: exactly 65,536.
        (&image_model(d.path(), 64, 64, 1), &[][..]),
    ] {
        let prj = d.path().join(format!("ok{}", args.len()));
        let mut a = vec![
            "compile",
            model.to_str().unwrap(),
            "-o",
            prj.to_str().unwrap(),
        ];
        a.extend_from_slice(args);
        let o = hlsrs(d.path(), &a);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

/// A resource kernel reads one ROM word of every group's block a cycle (ARRAY_RESHAPE): past
/// the word limit, refused with the reuse factor that fits.
#[test]
fn a_resource_rom_word_wider_than_vitis_reshapes_is_refused() {
    let d = common::tempdir();
    let model = dense_model(d.path(), 128, 128);
    // R = 4: 4096 weights of 18 bits a cycle, 73,728 bits; R = 8: 36,864.
    let err = refused_with_config(
        d.path(),
        &model,
        "[layers.fc]\nstrategy = \"resource\"\nreuse = 4\nweight = \"ap_fixed<18,6>\"\n",
    );
    assert!(
        err.contains("layer 'fc': its resource kernel at reuse 4 reads one ROM word of 73728 bits")
            && err.contains("use [layers.fc] reuse = 8 or larger"),
        "{err}"
    );
}

/// `--unroll-steps` on a long sequence: every step is hardware of its own, each step's products
/// within the unroll limit, so Vitis unrolls it; what it costs is the estimate's to say. A
/// 200-step LSTM compiles with the warning that it exceeds the part, naming the pipelined steps
/// as the fix; without --unroll-steps it fits.
#[test]
fn a_long_unrolled_sequence_is_told_what_it_costs() {
    let d = common::tempdir();
    let text = std::fs::read_to_string(common::case("lstm_mish_gates_json").model()).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["input"]["shape"] = serde_json::json!([200, 6]);
    let model = d.path().join("long.json");
    std::fs::write(&model, doc.to_string()).unwrap();
    for (unroll, warned) in [(true, true), (false, false)] {
        let prj = d.path().join(format!("p{unroll}"));
        let mut args = vec![
            "compile",
            model.to_str().unwrap(),
            "-o",
            prj.to_str().unwrap(),
        ];
        if unroll {
            args.push("--unroll-steps");
        }
        let o = hlsrs(d.path(), &args);
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(o.status.success(), "{said}");
        assert_eq!(
            said.contains("warning: the estimate exceeds")
                && said.contains("fix: the time steps pipelined instead of unrolled"),
            warned,
            "{said}"
        );
    }
}
