//! The distributed_arithmetic strategy (issue 26): every constant product of a dense,
//! convolution or recurrent layer (its input and recurrent products) is an adder graph of shifted inputs (kernels::da), written as explicit
//! shifts and adds (firmware/da/<config>.h). Its sum is exact, so the emulator computes the
//! plain exact product: checked here on the real layers' graphs, and bit for bit against the
//! C-simulation of the generated C++ (g++, ap_types).

mod common;

use hlsrs::config::IoType;
use hlsrs::ir::{FixedType, Op, Strategy};
use hlsrs::kernels::{Kernel, plan_model};
use hlsrs::{Config, prepare};

/// Distributed arithmetic model-wide, each dense, conv and recurrent layer's weights of type
/// `weight`.
fn da_config(case: &common::Case, weight: FixedType, io: IoType) -> Config {
    let mut c = Config {
        strategy: Strategy::DistributedArithmetic,
        io,
        ..Config::default()
    };
    let p = prepare(&case.model(), &Config::default(), None).unwrap();
    for n in p.model.topo_order() {
        let node = p.model.node(n);
        if matches!(
            node.op,
            Op::Dense { .. } | Op::Conv { .. } | Op::Recurrent(_)
        ) {
            c.layers.entry(node.name.clone()).or_default().weight = Some(weight);
        }
    }
    c
}

#[test]
fn adder_graphs_are_exact_and_bit_exact_in_c_simulation_with_no_multiplier() {
    let w8 = FixedType::fixed(8, 2);
    // The jet tagger (dense), a CNN with an ordinary, a depthwise (8 groups: 8 graphs) and a
    // pointwise convolution and a dense head, a 1D CNN in io_stream, and recurrent layers: a
    // bidirectional GRU with its r*h product (a graph per direction and product) and the
    // LSTM jet tagger.
    for (name, io, samples) in [
        ("three_layer_keras", IoType::Parallel, 200),
        ("conv2d_nchw", IoType::Parallel, 50),
        ("conv1d_small_keras", IoType::Stream, 50),
        ("gru_bidirectional_states", IoType::Parallel, 50),
        ("lstm_jet_tagger", IoType::Parallel, 30),
    ] {
        let case = common::case(name);
        let config = da_config(&case, w8, io);
        let p = prepare(&case.model(), &config, None).unwrap();
        // Every product is a graph per group, and each graph gives sum_i x_i w_ij exactly on
        // inputs across the input type's range.
        let plans = plan_model(&p.model).unwrap();
        let (mut graphs, mut products) = (0, 0);
        let mut rng = common::Rng(7);
        for plan in &plans {
            // (product, groups, input type) of each constant product.
            let of: Vec<(&hlsrs::kernels::dense::DensePlan, usize, FixedType)> = match &plan.kernel
            {
                Kernel::Dense(d) => vec![(d, 1, plan.input_types[0])],
                Kernel::Conv(c) => vec![(&c.dense, c.groups, plan.input_types[0])],
                Kernel::Recurrent(r) => {
                    products += [&r.wx, &r.rh, &r.rhh]
                        .iter()
                        .filter(|p| !p.is_empty())
                        .count();
                    let x = plan.input_types[0];
                    let dirs = r.wx.iter().map(|d| (d, 1, x));
                    let state = r.rh.iter().chain(&r.rhh).map(|d| (d, 1, r.state));
                    dirs.chain(state).collect()
                }
                _ => continue,
            };
            products += usize::from(!matches!(plan.kernel, Kernel::Recurrent(_)));
            for (d, groups, x_ty) in of {
                assert_eq!(d.strategy, Strategy::DistributedArithmetic, "{name}");
                assert_eq!(d.da.len(), groups, "{name}: a graph per group");
                let (lo, hi) = x_ty.raw_range();
                for (g, graph) in d.da.iter().enumerate() {
                    graphs += 1;
                    let w = &d.weights.raw[g * d.n_in * d.n_out..(g + 1) * d.n_in * d.n_out];
                    for _ in 0..5 {
                        let x: Vec<i128> = (0..d.n_in)
                            .map(|_| rng.range(lo as i64, hi as i64) as i128)
                            .collect();
                        let y = graph.eval(&x);
                        for j in 0..d.n_out {
                            let want: i128 = (0..d.n_in).map(|i| x[i] * w[i * d.n_out + j]).sum();
                            assert_eq!(y[j], want, "{name}: group {g} output {j}");
                        }
                    }
                }
            }
        }
        assert!(graphs > 0, "{name}");
        let dir = common::tempdir();
        let out = dir.path().join("prj");
        let x = case.input();
        let rows: Vec<Vec<f64>> = (0..samples.min(x.rows()))
            .map(|r| x.row(r).to_vec())
            .collect();
        let x = hlsrs::arrays::Array::from_rows(&x.shape[1..], &rows);
        hlsrs::compile(&p, &out, false, Some(&x)).unwrap();
        // The graphs are shifts and adds only: no multiplication in the generated headers, and
        // no DSP in the estimate of a product layer.
        let mut headers = 0;
        for e in std::fs::read_dir(out.join("firmware/da")).unwrap() {
            let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
            let code: String = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect();
            // (The one `*` is the bias array's pointer.)
            assert!(!code.contains(" * "), "{name}: a multiplication");
            headers += 1;
        }
        assert_eq!(headers, products, "{name}: a header per product");
        let e = hlsrs::estimate::estimate(&p.model, config.io, config.clock, &p.part).unwrap();
        for l in e
            .layers
            .iter()
            .filter(|l| l.kind == "dense" || l.kind == "conv")
        {
            // (A recurrent layer's gate multiplies stay general multipliers.)
            assert_eq!(l.cost.dsp, 0, "{name}: {}", l.name);
        }
        let csim = common::assert_csim_matches_emulator(&p, &out, &x, &format!("{name} da"));
        // Fidelity: against the float model.
        let float = hlsrs::predict(&p, &x, true).unwrap();
        let (mut worst, mut agree) = (0.0f64, 0);
        for r in 0..x.rows() {
            let (a, b) = (csim.row(r), float.row(r));
            worst = a
                .iter()
                .zip(b)
                .map(|(u, v)| (u - v).abs())
                .fold(worst, f64::max);
            agree += usize::from(common::argmax(a) == common::argmax(b));
        }
        println!(
            "{name} ({io:?}, 8-bit weights, distributed arithmetic): {graphs} graph(s), {} samples bit-exact; max |fixed - float| {worst:.4}, argmax agreement {agree}/{}",
            x.rows(),
            x.rows()
        );
    }
}

#[test]
fn reuse_factors_distributed_arithmetic_cannot_take_are_errors() {
    let case = common::case("three_layer_keras");
    let at = |reuse| Config {
        strategy: Strategy::DistributedArithmetic,
        reuse,
        ..Config::default()
    };
    let e = prepare(&case.model(), &at(2), None)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("reuse factor 1") && e.contains("not 2"), "{e}");
    assert!(prepare(&case.model(), &at(1), None).is_ok());
    // A recurrent layer's own reuse factor too.
    let case = common::case("lstm_jet_tagger");
    let p = prepare(&case.model(), &at(1), None).unwrap();
    let mut own = at(1);
    for n in p.model.topo_order() {
        let node = p.model.node(n);
        if matches!(node.op, Op::Recurrent(_)) {
            own.layers
                .entry(node.name.clone())
                .or_default()
                .recurrent_reuse = Some(4);
        }
    }
    let e = prepare(&case.model(), &own, None)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("reuse factor 1") && e.contains("not 4"), "{e}");
    // The CLI takes hls4ml's name and the short one.
    for s in ["distributed_arithmetic", "da", "DA"] {
        assert_eq!(
            hlsrs::config::parse_strategy(s).unwrap(),
            Strategy::DistributedArithmetic
        );
    }
}
