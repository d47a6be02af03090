//! QONNX (issue 5): Quant, BipolarQuant, Trunc and QuantizeLinear/DequantizeLinear map to exact
//! fixed-point types. The emulator equals qonnx's own execution (qonnx.core.onnx_exec, golden
//! outputs made by scripts/make_qonnx_testdata.sh) bit for bit, the float IR does too, and the
//! C-simulation equals the emulator, including the real separable_conv_model_ch_last.onnx
//! (512x512x3, qonnx channels-last convolutions) as a stream design. (The three generated
//! cases are also in the every-case bit-exact matrix of tests/csim_bitexact.rs, and their JSON
//! twins in tests/project_files.rs.)

mod common;

use hlsrs::arrays;
use hlsrs::config::IoType;
use hlsrs::{Config, predict, prepare};

const CASES: &[&str] = &[
    "qonnx_dense",
    "qonnx_conv",
    "qonnx_qcdq",
    "qonnx_channels_last",
];

#[test]
fn emulator_and_float_ir_equal_qonnx_execution_bit_for_bit() {
    for name in CASES {
        let case = common::case(name);
        let (x, golden) = (case.input(), case.golden());
        let p = prepare(&case.model(), &Config::default(), None).unwrap();
        let quantizers = p
            .model
            .graph
            .node_weights()
            .filter(|n| matches!(n.op, hlsrs::ir::Op::Quant { .. }))
            .count();
        assert!(quantizers >= 3, "{name}: {quantizers} quantizer layers");
        for (what, y) in [
            ("fixed", predict(&p, &x, false).unwrap()),
            ("float", predict(&p, &x, true).unwrap()),
        ] {
            assert_eq!(y.data.len(), golden.data.len(), "{name}");
            let differ = y
                .data
                .iter()
                .zip(&golden.data)
                .filter(|(a, b)| a != b)
                .count();
            assert_eq!(
                differ, 0,
                "{name} {what}: {differ} values differ from qonnx"
            );
        }
        println!(
            "{name}: {} values of {} samples equal qonnx's execution bit for bit ({quantizers} quantizers)",
            golden.data.len(),
            x.rows()
        );
    }
}

/// FNV-1a 64 of float32 little-endian bytes (the digest make_qonnx_testdata.py stores).
fn fnv1a64(values: &[f64]) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for v in values {
        for b in (*v as f32).to_le_bytes() {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01B3);
        }
    }
    h
}

/// A real qonnx channels-last model stored with one image and qonnx's output as a digest plus its
/// first rows (scripts/make_qonnx_testdata.py): compiled as a stream design, `predict` equals
/// qonnx's execution value for value (the float IR too: every value is exact), and the
/// C-simulation of the generated project equals the emulator bit for bit.
fn real_model_stream_design_equals_qonnx_and_csim(case: &str, shape: &[usize]) {
    let dir = common::root().join("testdata").join(case);
    let about: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("about.json")).unwrap()).unwrap();
    let x = arrays::read(&dir.join("input.npy")).unwrap();
    let head = arrays::read(&dir.join("golden_head.npy")).unwrap();
    let config = Config {
        io: IoType::Stream,
        ..Config::default()
    };
    let p = prepare(&dir.join("model.onnx"), &config, None).unwrap();
    let y = predict(&p, &x, false).unwrap();
    assert_eq!(y.shape, shape, "{case}");
    // The first rows, value by value, then the whole output by its digest.
    let n = head.data.len();
    assert_eq!(
        &y.data[..n],
        &head.data[..],
        "{case}: first rows differ from qonnx"
    );
    assert_eq!(
        format!("{:016x}", fnv1a64(&y.data)),
        about["golden_fnv1a64"].as_str().unwrap(),
        "{case}: output digest differs from qonnx's"
    );
    let float = predict(&p, &x, true).unwrap();
    assert_eq!(fnv1a64(&float.data), fnv1a64(&y.data), "{case}: float IR");
    let tmp = common::tempdir();
    let out = tmp.path().join("prj");
    hlsrs::compile(&p, &out, false, Some(&x)).unwrap();
    let csim = common::assert_csim_matches_emulator(&p, &out, &x, case);
    assert_eq!(csim.data, y.data);
    println!(
        "{case}: {} output values equal qonnx's execution (digest {}); stream csim equals the emulator",
        y.data.len(),
        about["golden_fnv1a64"]
    );
}

#[test]
fn separable_conv_model_stream_design_equals_qonnx_and_csim() {
    real_model_stream_design_equals_qonnx_and_csim("qonnx_separable_conv", &[1, 512, 512, 16]);
}

/// hls4ml's tiny_unet_ch_last.onnx (issue 14): 40 channels-last Convs, 4 MaxPools, 4 Resizes and
/// 4 Concats over a 256x256x3 image; hls4ml 1.3.0 crashes on it.
#[test]
fn tiny_unet_stream_design_equals_qonnx_and_csim() {
    real_model_stream_design_equals_qonnx_and_csim("qonnx_tiny_unet", &[1, 256, 256, 2]);
}

/// hls4ml's branched_model_ch_last.onnx (issue 14): two branches joined by a Concat after a
/// Resize, channels-last Convs and a MaxPool over a 256x256x3 image.
#[test]
fn branched_model_stream_design_equals_qonnx_and_csim() {
    real_model_stream_design_equals_qonnx_and_csim("qonnx_branched", &[1, 256, 256, 2]);
}

#[test]
fn quantizers_without_an_exact_type_are_refused_with_the_reason() {
    for (file, needle) in [
        ("qonnx_scale", "scale 0.3"),
        ("qonnx_zero_point", "nonzero zero point"),
        ("qonnx_channel_scales", "per-channel scales"),
    ] {
        let m = common::root().join(format!("testdata/errors/{file}.onnx"));
        let err = prepare(&m, &Config::default(), None).err().expect(file);
        let text = err.to_string();
        assert!(
            err.is_user_error() && text.contains(needle),
            "{file}: {text}"
        );
        assert!(text.contains("quant_"), "{file}: names the node: {text}");
    }
}

/// Issue 15: the io_parallel design of the 512x512x3 separable model keeps every layer's output
/// (512x512x16 values and more) on the testbench's stack, beyond the usual 8 MB; `hlsrs csim`
/// runs it with the stack limit raised, and it equals the emulator bit for bit.
#[test]
fn separable_conv_io_parallel_csim_runs_beyond_the_default_stack() {
    let dir = common::root().join("testdata/qonnx_separable_conv");
    let x = arrays::read(&dir.join("input.npy")).unwrap();
    let p = prepare(&dir.join("model.onnx"), &Config::default(), None).unwrap();
    let stack_bytes: usize = p.model.graph.node_weights().map(|n| n.size() * 2).sum();
    assert!(
        stack_bytes > 8 << 20,
        "the design's arrays hold {stack_bytes} bytes"
    );
    let tmp = common::tempdir();
    let out = tmp.path().join("prj");
    hlsrs::compile(&p, &out, false, Some(&x)).unwrap();
    let csim = common::assert_csim_matches_emulator(&p, &out, &x, "separable conv parallel");
    let y = predict(&p, &x, false).unwrap();
    assert_eq!(fnv1a64(&csim.data), fnv1a64(&y.data));
}
