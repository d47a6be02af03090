//! Magnitude pruning (issue 5, first part): the smallest weights become exactly zero, zero
//! weights cost no multiplication in the generated design, and the pruned design is still
//! bit-exact between the emulator and the C-simulation. Agreement with the unpruned float model
//! is printed for the issue notes.

mod common;

use hlsrs::config::LayerConfig;
use hlsrs::ir::{Op, Strategy};
use hlsrs::kernels::{Kernel, plan_model};
use hlsrs::{Config, Prepared, predict, prepare};
use std::path::Path;

fn pruned(s: f64) -> Config {
    Config {
        prune: hlsrs::config::Prune {
            magnitude: Some(s),
            ..Default::default()
        },
        ..Config::default()
    }
}

/// Multiplications per dense layer, as the kernels plan them (zero weights excluded).
fn multiplications(p: &Prepared) -> Vec<usize> {
    plan_model(&p.model)
        .unwrap()
        .iter()
        .filter_map(|l| match &l.kernel {
            Kernel::Dense(d) => Some(d.multiplications),
            _ => None,
        })
        .collect()
}

/// Of each dense layer: (multiplications, weights, nonzero weights of each output).
fn dense_sizes(p: &Prepared) -> Vec<(usize, usize, Vec<usize>)> {
    plan_model(&p.model)
        .unwrap()
        .iter()
        .filter_map(|l| match &l.kernel {
            Kernel::Dense(d) => {
                let mut per_output = vec![0; d.n_out];
                for (_, j, k) in d.entries(0) {
                    per_output[j] += usize::from(d.weights.raw[k] != 0);
                }
                Some((d.multiplications, d.n_in * d.n_out, per_output))
            }
            _ => None,
        })
        .collect()
}

/// Nonzero entries of the dense weight arrays in the generated headers (`w<k>.h`).
fn nonzero_weights_in_generated_code(dir: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir.join("firmware/weights")).unwrap() {
        let path = e.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(file.starts_with('w') && file[1..].trim_end_matches(".h").parse::<u32>().is_ok()) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let body = &text[text.find('{').unwrap() + 1..text.rfind('}').unwrap()];
        n += body
            .split(',')
            .filter(|v| v.trim().parse::<i64>().is_ok_and(|v| v != 0))
            .count();
    }
    n
}

/// `multiplier_limit` of each config struct that has `sparse = true` in parameters.h.
fn sparse_multiplier_limits(dir: &Path) -> Vec<usize> {
    let text = std::fs::read_to_string(dir.join("firmware/parameters.h")).unwrap();
    text.split("struct config")
        .skip(1)
        .filter(|body| body.contains("static const bool sparse = true;"))
        .map(|body| {
            let at = body.find("multiplier_limit = ").unwrap() + "multiplier_limit = ".len();
            body[at..body[at..].find(';').unwrap() + at]
                .parse()
                .unwrap()
        })
        .collect()
}

#[test]
fn magnitude_pruning_keeps_at_most_30_percent_of_the_multiplications() {
    let case = common::case("three_layer_keras");
    let x = case.input();
    let whole = prepare(&case.model(), &Config::default(), None).unwrap();
    let before: usize = multiplications(&whole).iter().sum();
    let float = predict(&whole, &x, true).unwrap();
    for config in [
        pruned(0.7),
        Config {
            strategy: Strategy::Resource,
            reuse: 4,
            ..pruned(0.7)
        },
    ] {
        let p = prepare(&case.model(), &config, None).unwrap();
        let after: usize = multiplications(&p).iter().sum();
        assert!(
            after * 10 <= before * 3,
            "{after} of {before} multiplications kept"
        );
        let dir = common::tempdir();
        let out = dir.path().join("prj");
        hlsrs::compile(&p, &out, false, Some(&x)).unwrap();
        assert_eq!(nonzero_weights_in_generated_code(&out), after);
        // A dense layer takes the sparse layout, whose multipliers serve nonzero weights only:
        // under the latency strategy every pruned layer, one multiplier per nonzero; under the
        // resource strategy those whose pruning removes at least half of the lanes (issue 25: a
        // resource lane of a sparse list multiplexes its input at run time), with the lanes each
        // output's nonzeros need at R weights a lane.
        let limits = sparse_multiplier_limits(&out);
        let r = config.reuse;
        let expected: Vec<usize> = dense_sizes(&p)
            .into_iter()
            .filter_map(|(m, total, per_output)| match config.strategy {
                Strategy::Latency => (m < total).then_some(m),
                Strategy::DistributedArithmetic => None,
                Strategy::Resource => {
                    let lanes: usize = per_output.iter().map(|n| n.div_ceil(r)).sum();
                    (lanes * r * 2 <= total).then_some(lanes)
                }
            })
            .collect();
        assert_eq!(limits, expected);
        let most = if config.strategy == Strategy::Latency {
            4
        } else {
            3
        };
        assert_eq!(limits.len(), most, "{limits:?}");
        // Bit-exact: the C-simulation of the pruned design equals the emulator.
        common::assert_csim_matches_emulator(&p, &out, &x, "pruned three_layer_keras");
        let fixed = predict(&p, &x, false).unwrap();
        let pruned_float = predict(&p, &x, true).unwrap();
        let agree = |y: &hlsrs::arrays::Array| {
            (0..x.rows())
                .filter(|&r| common::argmax(y.row(r)) == common::argmax(float.row(r)))
                .count() as f64
                / x.rows() as f64
        };
        println!(
            "three_layer_keras magnitude:0.7 {:?} R={}: {after} of {before} multiplications ({:.1}%); argmax agreement with the unpruned float model: pruned fixed {:.1}%, pruned float {:.1}%",
            config.strategy,
            config.reuse,
            100.0 * after as f64 / before as f64,
            100.0 * agree(&fixed),
            100.0 * agree(&pruned_float)
        );
    }
}

#[test]
fn layer_sparsity_removes_that_fraction_of_that_layer_only() {
    let case = common::case("three_layer_keras");
    let whole = prepare(&case.model(), &Config::default(), None).unwrap();
    let dense: Vec<String> = whole
        .model
        .graph
        .node_weights()
        .filter(|n| matches!(n.op, Op::Dense { .. }))
        .map(|n| n.name.clone())
        .collect();
    let mut config = Config::default();
    config.layers.insert(
        dense[1].clone(),
        LayerConfig {
            sparsity: Some(0.5),
            ..LayerConfig::default()
        },
    );
    let p = prepare(&case.model(), &config, None).unwrap();
    // Half of that layer's multiplications (weights nonzero in their type) go; no other changes.
    let (m0, m1) = (multiplications(&whole), multiplications(&p));
    for k in 0..m0.len() {
        let want = if k == 1 {
            m0[k] - m0[k].div_ceil(2)
        } else {
            m0[k]
        };
        assert_eq!(m1[k], want, "{}", dense[k]);
    }
    // The kept weights are exactly the largest half.
    let (n_whole, n_pruned) = (
        whole.model.find(&dense[1]).unwrap(),
        p.model.find(&dense[1]).unwrap(),
    );
    if let (Op::Dense { weights: a, .. }, Op::Dense { weights: b, .. }) =
        (&whole.model.node(n_whole).op, &p.model.node(n_pruned).op)
    {
        // Kept: the weights that are multiplications in the design (nonzero in their type).
        let ty = p.model.node(n_pruned).precision.weight;
        let smallest_kept = b
            .data
            .iter()
            .filter(|v| hlsrs::kernels::Consts::quantize(ty, [**v]).unwrap().raw[0] != 0)
            .map(|v| v.abs())
            .fold(f64::MAX, f64::min);
        let largest_cut = a
            .data
            .iter()
            .zip(&b.data)
            .filter(|(_, b)| **b == 0.0)
            .map(|(a, _)| a.abs())
            .fold(0.0, f64::max);
        assert!(
            largest_cut <= smallest_kept,
            "{largest_cut} cut, {smallest_kept} kept"
        );
    }
}

#[test]
fn bad_pruning_settings_are_errors() {
    let case = common::case("three_layer_keras");
    for (toml, needle) in [
        ("prune = \"random:0.5\"", "unknown kind 'random'"),
        ("prune = \"magnitude:1.5\"", "below 1"),
        (
            "[layers.Relu]\nsparsity = 0.5",
            "'sparsity' applies to dense, conv and recurrent layers",
        ),
    ] {
        let config =
            Config::from_toml(toml).and_then(|c| prepare(&case.model(), &c, None).map(|_| ()));
        let err = config.expect_err(toml);
        assert!(
            err.is_user_error() && err.to_string().contains(needle),
            "{toml}: {err}"
        );
    }
}

// ---- Structured pruning -------------------------------------------------------------------

/// A case's model with planted dead units: for each (layer, unit), the unit's incoming weights
/// are set to zero (and its bias too with `zero_bias`).
fn planted(case: &str, plant: &[(&str, usize)], zero_bias: bool) -> hlsrs::ir::Model {
    let case = common::case(case);
    let mut m = hlsrs::frontend::load(&case.model(), "planted").unwrap();
    // Planted where the pruning pass sees the layers: biases folded in.
    hlsrs::passes::run(&mut m, &Config::default(), Some("fuse_batchnorm")).unwrap();
    for &(layer, unit) in plant {
        let n = m.find(layer).unwrap_or_else(|| panic!("no layer {layer}"));
        match &mut m.node_mut(n).op {
            Op::Dense { weights, bias } | Op::Conv { weights, bias, .. } => {
                let c = bias.len();
                for (k, w) in weights.data.iter_mut().enumerate() {
                    if k % c == unit {
                        *w = 0.0;
                    }
                }
                if zero_bias {
                    bias.data[unit] = 0.0;
                }
            }
            op => panic!("{layer} is a {}", op.kind()),
        }
    }
    m
}

/// Zeroes the weights through which `reader` reads channel `unit` of its `channels`-channel
/// input: the unit is read by nobody.
fn plant_unread(m: &mut hlsrs::ir::Model, reader: &str, channels: usize, unit: usize) {
    let n = m.find(reader).unwrap();
    if let Op::Dense { weights, .. } = &mut m.node_mut(n).op {
        let n_out = weights.shape[1];
        for (k, w) in weights.data.iter_mut().enumerate() {
            if (k / n_out) % channels == unit {
                *w = 0.0;
            }
        }
    }
}

fn prune_units(spec: &str) -> Config {
    Config {
        prune: hlsrs::config::parse_prune(spec).unwrap(),
        ..Config::default()
    }
}

/// Runs the pass pipeline on a copy of `m`; returns it and its notes.
fn run_passes(m: &hlsrs::ir::Model, c: &Config) -> (hlsrs::ir::Model, Vec<String>) {
    let mut m = m.clone();
    let notes = hlsrs::passes::run(&mut m, c, None).unwrap();
    (m, notes)
}

fn width(m: &hlsrs::ir::Model, layer: &str) -> usize {
    *m.node(m.find(layer).unwrap()).shape.last().unwrap()
}

fn float_outputs(m: &hlsrs::ir::Model, x: &hlsrs::arrays::Array) -> Vec<Vec<f64>> {
    (0..x.rows())
        .map(|r| hlsrs::emulate::float::run(m, x.row(r)))
        .collect()
}

#[test]
fn removing_planted_all_zero_units_keeps_the_float_outputs_equal() {
    // (case, planted all-zero units (weights and bias), an unread unit (reader, channels, unit,
    // its layer), spec, layers and how many units each loses)
    struct Plant {
        case: &'static str,
        zero: Vec<(&'static str, usize)>,
        unread: Option<(&'static str, usize, usize)>,
        spec: &'static str,
        shrinks: Vec<(&'static str, usize)>,
    }
    let plants = [
        // Dense: two all-zero neurons in the first layer, one unread neuron of the second.
        Plant {
            case: "three_layer_keras",
            zero: vec![("dense", 3), ("dense", 17)],
            unread: Some(("dense_2", 32, 5)),
            spec: "neurons:zero",
            shrinks: vec![("dense", 2), ("dense_1", 1)],
        },
        // Conv filters through elu (elu(0) = 0) into a padded convolution.
        Plant {
            case: "conv2d_activations",
            zero: vec![("conv1", 2)],
            unread: None,
            spec: "filters:zero",
            shrinks: vec![("conv1", 1)],
        },
        // Conv filters through relu and two average pools into a dense layer.
        Plant {
            case: "conv2d_nchw",
            zero: vec![("pointwise", 1), ("pointwise", 4)],
            unread: None,
            spec: "filters:zero",
            shrinks: vec![("pointwise", 2)],
        },
        // Conv filters through relu and a (dropped) flatten into a dense layer.
        Plant {
            case: "conv2d_small_keras",
            zero: vec![("conv2d", 0)],
            unread: None,
            spec: "filters:zero",
            shrinks: vec![("conv2d", 1)],
        },
    ];
    for p in &plants {
        let mut m = planted(p.case, &p.zero, true);
        if let Some((reader, channels, unit)) = p.unread {
            plant_unread(&mut m, reader, channels, unit);
        }
        let x = common::case(p.case).input();
        let (whole, _) = run_passes(&m, &Config::default());
        let (pruned, notes) = run_passes(&m, &prune_units(p.spec));
        for &(layer, lost) in &p.shrinks {
            assert_eq!(
                width(&pruned, layer),
                width(&whole, layer) - lost,
                "{}: {layer} ({notes:?})",
                p.case
            );
        }
        let (a, b) = (float_outputs(&whole, &x), float_outputs(&pruned, &x));
        assert_eq!(a, b, "{}: float outputs changed", p.case);
        println!(
            "{}: {} -> float outputs equal on {} samples",
            p.case,
            notes.join("; "),
            x.rows()
        );
    }
}

#[test]
fn a_constant_unit_is_folded_into_the_next_bias() {
    // Zero incoming weights, nonzero bias: the neuron is relu(b), a constant the next layer adds.
    let m = planted("three_layer_keras", &[("dense", 7)], false);
    let x = common::case("three_layer_keras").input();
    let (whole, _) = run_passes(&m, &Config::default());
    let (pruned, _) = run_passes(&m, &prune_units("neurons:zero"));
    assert_eq!(width(&pruned, "dense"), 63);
    let (a, b) = (float_outputs(&whole, &x), float_outputs(&pruned, &x));
    for (ra, rb) in a.iter().zip(&b) {
        for (va, vb) in ra.iter().zip(rb) {
            assert!((va - vb).abs() <= 1e-12 * (1.0 + va.abs()), "{va} vs {vb}");
        }
    }
    // Untouched without pruning: nothing is dead in the trained model itself.
    let (_, notes) = run_passes(
        &hlsrs::frontend::load(&common::case("three_layer_keras").model(), "m").unwrap(),
        &prune_units("neurons:zero"),
    );
    assert!(
        notes.iter().all(|n| !n.contains("pruned neurons")),
        "{notes:?}"
    );
}

#[test]
fn pruning_units_by_norm_shrinks_every_hidden_layer_and_stays_bit_exact() {
    let case = common::case("three_layer_keras");
    let x = case.input();
    let whole = prepare(&case.model(), &Config::default(), None).unwrap();
    let p = prepare(&case.model(), &prune_units("neurons:0.25"), None).unwrap();
    // Hidden layers 64, 32, 32 lose ceil(25%); the output layer (the model's output) stays.
    for (layer, before) in [
        ("dense", 64),
        ("dense_1", 32),
        ("dense_2", 32),
        ("dense_3", 5),
    ] {
        let after = if before == 5 { 5 } else { before - before / 4 };
        assert_eq!(width(&p.model, layer), after, "{layer}: {:?}", p.notes);
    }
    let (m0, m1): (usize, usize) = (
        multiplications(&whole).iter().sum(),
        multiplications(&p).iter().sum(),
    );
    // At most the products of the smaller layers (16x48, 48x24, 24x24, 24x5).
    assert!(m1 <= 16 * 48 + 48 * 24 + 24 * 24 + 24 * 5, "{m1} of {m0}");
    let dir = common::tempdir();
    let out = dir.path().join("prj");
    hlsrs::compile(&p, &out, false, Some(&x)).unwrap();
    common::assert_csim_matches_emulator(&p, &out, &x, "neurons:0.25 three_layer_keras");
    let float = predict(&whole, &x, true).unwrap();
    let fixed = predict(&p, &x, false).unwrap();
    let agree = (0..x.rows())
        .filter(|&r| common::argmax(fixed.row(r)) == common::argmax(float.row(r)))
        .count();
    println!(
        "three_layer_keras neurons:0.25: {m1} of {m0} multiplications; argmax agreement with the unpruned float model {:.1}%",
        100.0 * agree as f64 / x.rows() as f64
    );
}

#[test]
fn pruned_convolutions_take_the_sparse_layout_and_stay_bit_exact() {
    // conv2d_nchw has an ordinary, a depthwise (groups with different nonzero counts, so padded
    // lists) and a pointwise convolution, then a dense head.
    let case = common::case("conv2d_nchw");
    let x = case.input();
    let rows: Vec<Vec<f64>> = (0..100).map(|r| x.row(r).to_vec()).collect();
    let x_few = hlsrs::arrays::Array::from_rows(&x.shape[1..], &rows);
    for (what, config) in [
        ("latency", pruned(0.5)),
        (
            "resource R=4",
            Config {
                strategy: Strategy::Resource,
                reuse: 4,
                ..pruned(0.5)
            },
        ),
        (
            "stream resource R=4",
            Config {
                strategy: Strategy::Resource,
                reuse: 4,
                io: hlsrs::config::IoType::Stream,
                ..pruned(0.5)
            },
        ),
    ] {
        let p = prepare(&case.model(), &config, None).unwrap();
        let dir = common::tempdir();
        let out = dir.path().join("prj");
        hlsrs::compile(&p, &out, false, Some(&x_few)).unwrap();
        // Latency: every pruned layer sparse. Resource: the layers whose pruning removes at
        // least half of the lanes (kernels::dense, unit-tested there), as the plans say.
        let sparse = sparse_multiplier_limits(&out).len();
        let planned = p
            .plans
            .iter()
            .filter(|l| match &l.kernel {
                Kernel::Dense(d) => d.sparse.is_some(),
                Kernel::Conv(c) => c.dense.sparse.is_some(),
                _ => false,
            })
            .count();
        assert_eq!(sparse, planned, "{what}");
        if config.strategy == Strategy::Latency {
            assert_eq!(sparse, 4, "{what}: every conv and dense layer sparse");
        } else {
            assert!(sparse >= 1, "{what}: no sparse layer");
        }
        let text = std::fs::read_to_string(out.join("firmware/parameters.h")).unwrap();
        assert!(text.contains("n_groups = 8"), "{what}: the depthwise layer");
        common::assert_csim_matches_emulator(
            &p,
            &out,
            &x_few,
            &format!("pruned conv2d_nchw {what}"),
        );
    }
}

/// Recurrent layers' input and recurrent matrices are pruned too: every product of every
/// direction takes the sparse layout (padded to the fullest direction), the multiplications per
/// step drop, and the design stays bit-exact (bidirectional LSTM; GRU with r*h as its own
/// product; latency and resource strategies).
#[test]
fn pruned_recurrent_layers_take_the_sparse_layout_and_stay_bit_exact() {
    let recurrent = |p: &Prepared| -> Vec<hlsrs::kernels::recurrent::RecurrentPlan> {
        plan_model(&p.model)
            .unwrap()
            .into_iter()
            .filter_map(|l| match l.kernel {
                Kernel::Recurrent(r) => Some(*r),
                _ => None,
            })
            .collect()
    };
    for (name, strategy, reuse) in [
        ("lstm_bidirectional", Strategy::Latency, 1),
        ("lstm_bidirectional", Strategy::Resource, 2),
        ("gru_lbr0", Strategy::Latency, 1),
        ("gru_bidirectional_states", Strategy::Resource, 2),
    ] {
        let case = common::case(name);
        let x = case.input();
        let rows: Vec<Vec<f64>> = (0..50).map(|r| x.row(r).to_vec()).collect();
        let x_few = hlsrs::arrays::Array::from_rows(&x.shape[1..], &rows);
        let base = Config {
            strategy,
            reuse,
            ..Config::default()
        };
        let full = prepare(&case.model(), &base, None).unwrap();
        // Each recurrent layer's own sparsity: 60% of its multiplications go; 80% under the
        // resource strategy, which takes the sparse layout only where at least half of a
        // product's lanes go.
        let sparsity = if strategy == Strategy::Latency {
            0.6
        } else {
            0.8
        };
        let mut config = base.clone();
        for n in full.model.topo_order() {
            if matches!(full.model.node(n).op, Op::Recurrent(_)) {
                config.layers.insert(
                    full.model.node(n).name.clone(),
                    LayerConfig {
                        sparsity: Some(sparsity),
                        ..LayerConfig::default()
                    },
                );
            }
        }
        let p = prepare(&case.model(), &config, None).unwrap();
        let what = format!("{name} {strategy:?} R={reuse}");
        let (before, after) = (recurrent(&full), recurrent(&p));
        assert!(!after.is_empty(), "{what}");
        for (b, a) in before.iter().zip(&after) {
            let (mb, ma) = (b.multiplications_per_step(), a.multiplications_per_step());
            assert!(
                (ma as f64) < 0.5 * mb as f64,
                "{what}: {ma} of {mb} multiplications per step"
            );
            for product in [&a.wx, &a.rh, &a.rhh] {
                for d in product.iter() {
                    let s = d
                        .sparse
                        .as_ref()
                        .unwrap_or_else(|| panic!("{what}: sparse layout"));
                    assert_eq!(
                        s.slots,
                        product[0].slots(),
                        "{what}: directions share a stride"
                    );
                }
            }
            println!("{what}: {ma} of {mb} multiplications per step");
        }
        let dir = common::tempdir();
        let out = dir.path().join("prj");
        hlsrs::compile(&p, &out, false, Some(&x_few)).unwrap();
        let params = std::fs::read_to_string(out.join("firmware/parameters.h")).unwrap();
        assert!(
            params.contains("static const bool sparse = true;"),
            "{what}"
        );
        common::assert_csim_matches_emulator(&p, &out, &x_few, &format!("pruned {what}"));
    }
}

/// Issue 25, point 1: a resource layer takes the sparse layout only where it removes at least
/// half of its lanes. Read from every generated parameters.h of every test case at R = 2 and 4
/// (a sparse config's n_slots, its lanes times R, at most half its n_in x n_out weights), and
/// the issue's own example: three_layer_keras at R = 4 (8 zero weights of 2048) is all dense.
#[test]
fn resource_layers_are_sparse_only_where_half_the_lanes_go() {
    let field = |body: &str, name: &str| -> usize {
        let key = format!("unsigned {name} = ");
        let at = body.find(&key).unwrap() + key.len();
        body[at..at + body[at..].find(';').unwrap()]
            .parse()
            .unwrap()
    };
    let (mut layers, mut sparse) = (0, 0);
    for case in common::cases() {
        for reuse in [2, 4] {
            let config = Config {
                strategy: Strategy::Resource,
                reuse,
                ..Config::default()
            };
            let Ok(p) = prepare(&case.model(), &config, None) else {
                continue; // (a reuse factor a layer does not accept)
            };
            let dir = common::tempdir();
            let out = dir.path().join("prj");
            hlsrs::compile(&p, &out, false, None).unwrap();
            let text = std::fs::read_to_string(out.join("firmware/parameters.h")).unwrap();
            for body in text.split("struct config").skip(1) {
                if !body.contains("strategy = hlsrs::resource;") {
                    continue;
                }
                layers += 1;
                if body.contains("static const bool sparse = true;") {
                    sparse += 1;
                    let (slots, n_in, n_out) = (
                        field(body, "n_slots"),
                        field(body, "n_in"),
                        field(body, "n_out"),
                    );
                    assert!(
                        slots * 2 <= n_in * n_out,
                        "{} R={reuse}: a sparse resource layer keeps {slots} of {} slots",
                        case.name,
                        n_in * n_out
                    );
                }
            }
            if case.name == "three_layer_keras" && reuse == 4 {
                assert!(!text.contains("sparse = true"), "three_layer_keras R=4");
            }
        }
    }
    println!("{layers} resource layers, {sparse} of them sparse");
    assert!(layers > 20);
}
