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

/// Issue 15 / issue 25: the 512x512x3 separable model's io_parallel input is 786,432 values,
/// one port word of 3,145,728 bits at its 4-bit type, beyond the 65,536 bits Vitis reshapes
/// (XFORM 203-133): refused naming io_stream, which compiles it (the stream test above runs it).
#[test]
fn separable_conv_io_parallel_is_refused_for_its_port_word() {
    let dir = common::root().join("testdata/qonnx_separable_conv");
    let p = prepare(&dir.join("model.onnx"), &Config::default(), None).unwrap();
    let tmp = common::tempdir();
    let out = tmp.path().join("prj");
    let Err(err) = hlsrs::compile(&p, &out, false, None) else {
        panic!("compiled")
    };
    assert!(err.is_user_error(), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("3145728 bits") && text.contains("use --io stream"),
        "{text}"
    );
    assert!(!out.exists());
}

/// Issue 15: an io_parallel design keeps every layer's output on the testbench's stack; one
/// whose arrays pass the usual 8 MB (a 64x64 image through a 64-filter conv and 16 more layers
/// of 64x64x64 values: 8.9 MB) runs with the stack limit `hlsrs csim` raises, bit for bit.
#[test]
fn io_parallel_csim_runs_beyond_the_default_stack() {
    let tmp = common::tempdir();
    let mut seed = 9u64;
    let mut layers = vec![
        serde_json::json!({"name": "conv", "op": "conv", "inputs": ["x"],
        "groups": 1,
        "window": {"kernel": [3, 3], "strides": [1, 1], "dilations": [1, 1],
                   "pads_begin": [1, 1], "pads_end": [1, 1]},
        "weights": {"shape": [1, 3, 3, 1, 64],
                    "data": hlsrs::ir::tensor::seeded_uniform(&mut seed, 576)},
        "bias": {"shape": [64], "data": vec![0.0; 64]}}),
    ];
    let mut prev = "conv".to_string();
    for k in 0..16 {
        let op = if k % 2 == 0 { "relu" } else { "sigmoid" };
        layers.push(serde_json::json!({"name": format!("a{k}"), "op": op, "inputs": [prev]}));
        prev = format!("a{k}");
    }
    let doc = serde_json::json!({"format": "hlsrs-model", "version": 1,
        "input": {"name": "x", "shape": [64, 64, 1]}, "layers": layers, "output": prev});
    let model = tmp.path().join("deep.json");
    std::fs::write(&model, doc.to_string()).unwrap();
    let p = prepare(&model, &Config::default(), None).unwrap();
    let stack_bytes: usize = p.model.graph.node_weights().map(|n| n.size() * 2).sum();
    assert!(
        stack_bytes > 8 << 20,
        "the design's arrays hold {stack_bytes} bytes"
    );
    let rows: Vec<Vec<f64>> = (0..2)
        .map(|r| {
            (0..4096)
                .map(|i| ((r * 31 + i * 7) % 23) as f64 / 6.0 - 2.0)
                .collect()
        })
        .collect();
    let x = arrays::Array::from_rows(&[64, 64, 1], &rows);
    let out = tmp.path().join("prj");
    hlsrs::compile(&p, &out, false, Some(&x)).unwrap();
    let csim = common::assert_csim_matches_emulator(&p, &out, &x, "deep io_parallel");
    let y = predict(&p, &x, false).unwrap();
    assert_eq!(fnv1a64(&csim.data), fnv1a64(&y.data));
}
