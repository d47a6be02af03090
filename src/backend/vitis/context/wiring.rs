//! The template context of the layers that only move data: concatenation, transposes and gathers
//! (pad, nearest resize).

use super::*;

impl Builder<'_> {
    pub(super) fn concat(
        &mut self,
        index: usize,
        name: &str,
        size: usize,
        plan: &LayerPlan,
        node: &crate::ir::Node,
        sources: &[(usize, usize)],
    ) -> (&'static str, String, Value) {
        // A stream design joins pixels: the tables describe one pixel.
        let per_pixel: Vec<(usize, usize)>;
        let sources = if self.stream {
            let wa = *self
                .model
                .node(self.model.inputs(plan.node)[0])
                .shape
                .last()
                .unwrap();
            let w = *node.shape.last().unwrap();
            per_pixel = (0..w)
                .map(|c| if c < wa { (0, c) } else { (1, c - wa) })
                .collect();
            &per_pixel
        } else {
            sources
        };
        let n_a = sources.iter().filter(|s| s.0 == 0).count();
        let from = format!("from_b{index}");
        let idx = format!("index{index}");
        for (var, c_type, data, what) in [
            (
                &from,
                "unsigned char",
                format_data(sources.iter().map(|s| s.0 as i128)),
                "1 where an output comes from the second input",
            ),
            (
                &idx,
                "int",
                format_data(sources.iter().map(|s| s.1 as i128)),
                "source index of each output",
            ),
        ] {
            self.weights.push(WeightCtx {
                guard: format!("HLSRS_{}_H_", var.to_uppercase()),
                c_type: c_type.into(),
                cpp_type: c_type.into(),
                count: sources.len(),
                comment: format!("{name}: {what}"),
                data,
                var: var.clone(),
                stats: None,
            });
        }
        (
            "concat",
            format!("concatenate, {size} values"),
            json!({ "n_a": n_a, "n_b": sources.len() - n_a, "from_b": from, "index": idx }),
        )
    }

    pub(super) fn gather(
        &mut self,
        index: usize,
        name: &str,
        size: usize,
        g: &[i64],
        fill: &i128,
    ) -> (&'static str, String, Value) {
        let var = format!("index{index}");
        self.weights.push(WeightCtx {
            guard: format!("HLSRS_{}_H_", var.to_uppercase()),
            c_type: "int".into(),
            cpp_type: "int".into(),
            count: g.len(),
            comment: format!("{name}: source index of each output (-1: the fill value)"),
            data: format_data(g.iter().map(|&v| v as i128)),
            var: var.clone(),
            stats: None,
        });
        (
            "gather",
            format!("data movement, {size} values"),
            json!({ "index": var, "fill_bits": fill.to_string() }),
        )
    }

    /// A transpose as the C++ kernel reads it: the output's shape and the input's stride along
    /// each output axis, padded in front to four axes (size 1, stride 0).
    pub(super) fn transpose(
        size: usize,
        in_shape: &[usize],
        perm: &[usize],
    ) -> (&'static str, String, Value) {
        let src = crate::ir::tensor::TransposeSources::new(in_shape, perm);
        let pad = crate::kernels::MAX_TRANSPOSE_RANK - perm.len();
        let dims: Vec<usize> = std::iter::repeat_n(1, pad)
            .chain(src.out_shape().iter().copied())
            .collect();
        let strides: Vec<usize> = std::iter::repeat_n(0, pad)
            .chain(src.src_strides().iter().copied())
            .collect();
        (
            "transpose",
            format!("transpose {in_shape:?} by {perm:?}, {size} values"),
            json!({ "dims": dims, "strides": strides }),
        )
    }
}
