//! Keras GRU and SimpleRNN exported by tf2onnx as Loop nodes (issue 14): the cell is recognised
//! and then checked by evaluating the Loop's body against it, so a body that computes anything
//! else is refused. (The float, bit-exact and fidelity legs of the real exports run with every
//! other case: keras_gru*, keras_simplernn_*.)

mod common;

use hlsrs::{Config, prepare};
use onnx_protobuf::{Message, ModelProto};

/// The keras_gru export with one constant of its Loop body changed (`edit` gets the body's
/// initializers); compiled, it must be refused naming the check that failed.
fn refused_after_editing_the_body(
    edit: impl Fn(&mut Vec<onnx_protobuf::TensorProto>) -> bool,
) -> String {
    let bytes = std::fs::read(common::root().join("testdata/keras_gru/model.onnx")).unwrap();
    let mut m = ModelProto::parse_from_bytes(&bytes).unwrap();
    let graph = m.graph.as_mut().unwrap();
    let lp = graph.node.iter_mut().find(|n| n.op_type == "Loop").unwrap();
    let body = lp.attribute.iter_mut().find(|a| a.name == "body").unwrap();
    assert!(
        edit(&mut body.g.as_mut().unwrap().initializer),
        "nothing edited"
    );
    let dir = common::tempdir();
    let path = dir.path().join("edited.onnx");
    std::fs::write(&path, m.write_to_bytes().unwrap()).unwrap();
    let err = prepare(&path, &Config::default(), None)
        .err()
        .expect("compiled an edited cell");
    assert!(err.is_user_error(), "{err}");
    err.to_string()
}

#[test]
fn a_loop_body_that_is_not_the_recognised_cell_is_refused() {
    // The GRU's `1 - z` becomes `0.5 - z`: still the same ops, another state.
    let msg = refused_after_editing_the_body(|inits| {
        let mut done = false;
        for t in inits.iter_mut() {
            let v: Vec<f32> = if !t.raw_data.is_empty() {
                t.raw_data
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                    .collect()
            } else {
                t.float_data.clone()
            };
            if t.data_type == 1 && v == [1.0] && t.dims.is_empty() {
                let half = 0.5f32;
                if t.raw_data.is_empty() {
                    t.float_data = vec![half];
                } else {
                    t.raw_data = half.to_le_bytes().to_vec();
                }
                done = true;
            }
        }
        done
    });
    assert!(
        msg.contains("node 'loop_9': Loop: not a recurrent cell hlsrs recognises")
            && msg.contains("the GRU cell recognised in it computes another state than the cell"),
        "{msg}"
    );
}

#[test]
fn the_recognised_cells_are_the_onnx_layers_they_stand_for() {
    use hlsrs::ir::Op;
    use hlsrs::ir::recurrent::Cell;
    for (case, cell, acts) in [
        (
            "keras_gru",
            Cell::Gru {
                linear_before_reset: true,
            },
            "sigmoid, tanh",
        ),
        (
            "keras_gru_reset_before",
            Cell::Gru {
                linear_before_reset: false,
            },
            "sigmoid, tanh",
        ),
        (
            "keras_gru_stacked",
            Cell::Gru {
                linear_before_reset: true,
            },
            "sigmoid, tanh",
        ),
        ("keras_simplernn_tanh", Cell::Rnn, "tanh"),
        ("keras_simplernn_relu", Cell::Rnn, "relu"),
    ] {
        let m = hlsrs::frontend::load(&common::case(case).model(), "m").unwrap();
        let recs: Vec<_> = m
            .graph
            .node_weights()
            .filter_map(|n| match &n.op {
                Op::Recurrent(r) => Some(r.clone()),
                _ => None,
            })
            .collect();
        let want = if case == "keras_gru_stacked" { 2 } else { 1 };
        assert_eq!(recs.len(), want, "{case}");
        let names: Vec<&str> = recs[0].activations.iter().map(|a| a.name()).collect();
        assert_eq!(recs[0].cell, cell, "{case}");
        assert_eq!(names.join(", "), acts, "{case}");
    }
}
