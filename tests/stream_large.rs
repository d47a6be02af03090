//! A stream design for a 128x128x3 image: compiles, its C-simulation runs (line buffers, not whole
//! images, between the convolutions) and equals the emulator bit for bit. The wall time is printed
//! for the issue notes; speed is a benchmark matter, not asserted here.

mod common;

use common::Rng;
use hlsrs::config::IoType;
use hlsrs::ir::ops::{PoolKind, Window};
use hlsrs::ir::{Model, Node, Op, Tensor};
use hlsrs::{Config, arrays::Array};

fn window(k: usize, s: usize, p: usize) -> Window {
    Window {
        kernel: vec![k, k],
        strides: vec![s, s],
        dilations: vec![1, 1],
        pads_begin: vec![p, p],
        pads_end: vec![p, p],
    }
}

fn random(rng: &mut Rng, n: usize, scale: f64) -> Vec<f64> {
    (0..n)
        .map(|_| (rng.range(-1000, 1000) as f64 / 1000.0) * scale)
        .collect()
}

fn model(rng: &mut Rng) -> Model {
    let mut m = Model::new("image", Node::new("image", Op::Input, vec![128, 128, 3]));
    let conv = |rng: &mut Rng, cin: usize, cout: usize| Op::Conv {
        window: window(3, 1, 1),
        groups: 1,
        weights: Tensor::new(
            vec![1, 3, 3, cin, cout],
            random(rng, 9 * cin * cout, (3.0 / (9 * cin) as f64).sqrt()),
        ),
        bias: Tensor::new(vec![cout], random(rng, cout, 0.1)),
    };
    let c1 = m.add(
        Node::new("conv1", conv(rng, 3, 4), vec![128, 128, 4]),
        &[m.inputs[0]],
    );
    let r1 = m.add(
        Node::new(
            "relu1",
            Op::Activation(hlsrs::ir::Activation::Relu),
            vec![128, 128, 4],
        ),
        &[c1],
    );
    let p1 = m.add(
        Node::new(
            "pool1",
            Op::Pool {
                kind: PoolKind::Max,
                window: window(2, 2, 0),
                count_include_pad: false,
            },
            vec![64, 64, 4],
        ),
        &[r1],
    );
    let c2 = m.add(Node::new("conv2", conv(rng, 4, 6), vec![64, 64, 6]), &[p1]);
    let r2 = m.add(
        Node::new(
            "relu2",
            Op::Activation(hlsrs::ir::Activation::Relu),
            vec![64, 64, 6],
        ),
        &[c2],
    );
    let gap = Window {
        kernel: vec![64, 64],
        strides: vec![1, 1],
        dilations: vec![1, 1],
        pads_begin: vec![0, 0],
        pads_end: vec![0, 0],
    };
    let g = m.add(
        Node::new(
            "gap",
            Op::Pool {
                kind: PoolKind::Average,
                window: gap,
                count_include_pad: false,
            },
            vec![1, 1, 6],
        ),
        &[r2],
    );
    let d = m.add(
        Node::new(
            "fc",
            Op::Dense {
                weights: Tensor::new(vec![6, 5], random(rng, 30, 0.7)),
                bias: Tensor::new(vec![5], random(rng, 5, 0.1)),
            },
            vec![5],
        ),
        &[g],
    );
    let s = m.add(Node::new("softmax", Op::Softmax, vec![5]), &[d]);
    m.set_outputs(&[("y".to_string(), s)]);
    m
}

#[test]
fn stream_design_for_a_128x128x3_image_simulates_bit_exact() {
    let mut rng = Rng(128);
    let dir = common::tempdir();
    let json = dir.path().join("image.json");
    hlsrs::frontend::json::write(&model(&mut rng), &json, true).unwrap();
    let config = Config {
        io: IoType::Stream,
        ..Config::default()
    };
    let prepared = hlsrs::prepare(&json, &config, None).unwrap();
    let n = 128 * 128 * 3;
    let x = Array {
        shape: vec![2, 128, 128, 3],
        data: random(&mut rng, 2 * n, 2.0),
    };
    let prj = dir.path().join("prj");
    hlsrs::compile(&prepared, &prj, false, Some(&x)).unwrap();
    let top = std::fs::read_to_string(prj.join("firmware/image.cpp")).unwrap();
    assert!(
        top.contains("#pragma HLS DATAFLOW") && top.contains("conv_stream"),
        "not a stream design"
    );
    let ap = common::ap_types();
    let t0 = std::time::Instant::now();
    let exe = hlsrs::csim::build(&prj, &ap).unwrap();
    let built = t0.elapsed();
    let t1 = std::time::Instant::now();
    let (_, bits) = hlsrs::csim::run(&prj, &x, &ap).unwrap();
    let ran = t1.elapsed();
    let emu = hlsrs::emulate::Emulator::new(&prepared.model).unwrap();
    for (r, got) in bits.iter().enumerate() {
        assert_eq!(
            got,
            &emu.run_raw(&emu.quantize_input(x.row(r)).unwrap()),
            "sample {r}"
        );
    }
    // The testbench's own check on the golden bits written at compile time.
    let tb = std::process::Command::new(&exe)
        .current_dir(&prj)
        .output()
        .unwrap();
    assert!(
        tb.status.success(),
        "{}",
        String::from_utf8_lossy(&tb.stderr)
    );
    println!("128x128x3 stream design: g++ build {built:.1?}, C-simulation of 2 images {ran:.1?}");
}
