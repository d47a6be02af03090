//! The template context of the product and window layers: dense, convolution (a dense block per
//! position) and pooling.

use super::*;

impl Builder<'_> {
    pub(super) fn dense(
        &mut self,
        index: usize,
        name: &str,
        d: &DensePlan,
        x: FixedType,
        td: &mut dyn FnMut(&str, FixedType),
    ) -> (&'static str, String, Value) {
        td("weight", d.weights.ty);
        td("bias", d.bias.ty);
        td("accum", d.accum);
        let w = self.dense_weights(index, name, d);
        let b = self.weight(format!("b{index}"), name, "biases", &d.bias);
        let work = match d.strategy {
            Strategy::Latency => format!(
                "latency, reuse {}, {} multiplications",
                d.reuse, d.multiplications
            ),
            Strategy::Resource => format!(
                "resource, reuse {}, {} multiplications",
                d.reuse, d.multiplications
            ),
            Strategy::DistributedArithmetic => format!(
                "distributed arithmetic, {} adders for {} multiplications",
                d.da.iter().map(|g| g.adders.len()).sum::<usize>(),
                d.multiplications
            ),
        };
        (
            "dense",
            format!("dense {} -> {}, {work}", d.n_in, d.n_out),
            with(
                dense_params(d, 1),
                json!({ "weights": w, "bias": b, "da_struct": self.da_struct(format!("config{index}"), std::slice::from_ref(d), x) }),
            ),
        )
    }

    pub(super) fn conv(
        &mut self,
        index: usize,
        name: &str,
        c: &crate::kernels::conv::ConvPlan,
        x: FixedType,
        td: &mut dyn FnMut(&str, FixedType),
    ) -> (&'static str, String, Value) {
        let d = &c.dense;
        td("weight", d.weights.ty);
        td("bias", d.bias.ty);
        td("accum", d.accum);
        let w = self.dense_weights(index, name, d);
        let b = self.weight(format!("b{index}"), name, "biases", &d.bias);
        let g = geometry(&c.window, &c.in_spatial, &c.out_spatial);
        let strategy = d.strategy.name();
        (
            "conv",
            format!(
                "conv {:?} -> {:?}, kernel {:?}, {} group(s), {} -> {} channels, {strategy}, reuse {}, {} multiplications per position{}",
                c.in_spatial,
                c.out_spatial,
                c.window.kernel,
                c.groups,
                c.in_channels,
                c.out_channels(),
                d.reuse,
                d.multiplications,
                parallel_summary(self.stream, c.parallel, c.positions())
            ),
            with(
                dense_params(d, c.groups),
                json!({
                    "g": g, "in_c": c.in_channels, "out_c": c.out_channels(), "groups": c.groups,
                    "weights": w, "bias": b,
                    "parallel": c.parallel, "partitions": c.partitions(),
                    "da_struct": self.da_struct(format!("config{index}"), std::slice::from_ref(d), x),
                }),
            ),
        )
    }

    pub(super) fn pool(
        &mut self,
        index: usize,
        name: &str,
        pl: &crate::kernels::pool::PoolPlan,
        td: &mut dyn FnMut(&str, FixedType),
    ) -> (&'static str, String, Value) {
        td("sum", pl.sum);
        td("recip", pl.recip.ty);
        let r = self.weight(
            format!("recip{index}"),
            name,
            "reciprocals of window counts",
            &pl.recip,
        );
        let g = geometry(&pl.window, &pl.in_spatial, &pl.out_spatial);
        let what = match pl.kind {
            crate::ir::ops::PoolKind::Max => "max",
            crate::ir::ops::PoolKind::Average => "average",
        };
        (
            "pool",
            format!(
                "{what} pool {:?} -> {:?}, kernel {:?}, {} channels{}",
                pl.in_spatial,
                pl.out_spatial,
                pl.window.kernel,
                pl.channels,
                parallel_summary(self.stream, pl.parallel, pl.positions())
            ),
            json!({
                "g": g, "in_c": pl.channels,
                "is_max": matches!(pl.kind, crate::ir::ops::PoolKind::Max),
                "count_include_pad": pl.count_include_pad,
                "recip_bits_t": pl.recip.ty.c_bits_type(), "recip": r,
                "parallel": pl.parallel, "partitions": pl.partitions(),
            }),
        )
    }
}
