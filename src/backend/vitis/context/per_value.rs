//! The template context of the per-value layers: scale and shift, activations, quantizers, clips,
//! softmax (per row) and PRelu.

use super::*;

impl Builder<'_> {
    pub(super) fn scale_shift(
        &mut self,
        index: usize,
        name: &str,
        size: usize,
        scale: &Consts,
        shift: &Consts,
        td: &mut dyn FnMut(&str, FixedType),
    ) -> (&'static str, String, Value) {
        let channels = scale.raw.len();
        td("scale", scale.ty);
        td("shift", shift.ty);
        let s = self.weight(format!("s{index}"), name, "scales", scale);
        let t = self.weight(format!("t{index}"), name, "shifts", shift);
        (
            "scale_shift",
            format!("scale and shift, {size} values, {channels} channels"),
            json!({
                "channels": channels,
                "scale_bits_t": scale.ty.c_bits_type(),
                "shift_bits_t": shift.ty.c_bits_type(),
                "scale": s, "shift": t,
            }),
        )
    }

    pub(super) fn activation(
        &mut self,
        index: usize,
        name: &str,
        size: usize,
        node: &crate::ir::Node,
        a: &crate::kernels::activation::ActPlan,
        td: &mut dyn FnMut(&str, FixedType),
    ) -> (&'static str, String, Value) {
        // Only what the kind reads; hlsrs::activation_config has placeholders for the
        // rest, so one kernel serves every kind.
        let scalars: Vec<Value> = ["alpha", "beta"]
            .into_iter()
            .zip(a.scalars())
            .filter_map(|(slot, c)| {
                let c = c?;
                td(slot, c.ty);
                Some(json!({ "slot": slot, "bits": c.raw[0].to_string() }))
            })
            .collect();
        let kind = a.kind().cpp_name();
        match a.table() {
            Some(t) => {
                td("table", t.table.ty);
                let var = self.weight(
                    format!("table{index}"),
                    name,
                    &format!("{} table", t.func),
                    &t.table,
                );
                (
                    "activation",
                    format!("{} by a {}-entry table, {size} values", t.func, t.size()),
                    json!({
                        "kind": kind, "scalars": scalars, "table": var,
                        "table_size": t.size(), "index_shift": t.index_shift,
                        "table_bits_t": t.table.ty.c_bits_type(),
                    }),
                )
            }
            None => (
                "activation",
                format!("{}, {size} values", node.op.kind().replace('_', " ")),
                json!({ "kind": kind, "scalars": scalars, "table": null }),
            ),
        }
    }

    pub(super) fn quant(
        plan: &LayerPlan,
        size: usize,
        bipolar: &bool,
        round: &Option<crate::ir::ops::QuantRound>,
        codes: &Option<(i64, i64)>,
    ) -> (&'static str, String, Value) {
        let input = plan.input_types[0];
        let (lo, hi) = codes.unwrap_or((0, 0));
        (
            "quant",
            format!(
                "{}, {size} values",
                if *bipolar {
                    "bipolar quantizer"
                } else {
                    "quantizer"
                }
            ),
            json!({
                "bipolar": bipolar,
                "round": match round {
                    None => 0,
                    Some(crate::ir::ops::QuantRound::Ceil) => 1,
                    Some(crate::ir::ops::QuantRound::Up) => 2,
                },
                "shift": input.frac() - plan.result.frac(),
                "clamp": codes.is_some(),
                "lo": lo.to_string(), "hi": hi.to_string(),
            }),
        )
    }

    pub(super) fn clip(
        size: usize,
        min: &Option<Consts>,
        max: &Option<Consts>,
        td: &mut dyn FnMut(&str, FixedType),
    ) -> (&'static str, String, Value) {
        let unused = crate::kernels::param_type(1.0);
        td("min", min.as_ref().map_or(unused, |c| c.ty));
        td("max", max.as_ref().map_or(unused, |c| c.ty));
        (
            "clip",
            format!("clip, {size} values"),
            json!({
                "has_min": min.is_some(), "has_max": max.is_some(),
                "min_bits": min.as_ref().map_or(0, |c| c.raw[0]).to_string(),
                "max_bits": max.as_ref().map_or(0, |c| c.raw[0]).to_string(),
            }),
        )
    }

    pub(super) fn softmax(
        &mut self,
        index: usize,
        name: &str,
        s: &crate::kernels::softmax::SoftmaxPlan,
        td: &mut dyn FnMut(&str, FixedType),
    ) -> (&'static str, String, Value) {
        td("table", s.exp_table.ty);
        td("sum", s.sum);
        let e = self.weight(
            format!("exp_table{index}"),
            name,
            "softmax exp table",
            &s.exp_table,
        );
        let i = self.weight(
            format!("inv_table{index}"),
            name,
            "softmax inverse table",
            &s.inv_table,
        );
        (
            "softmax",
            format!(
                "softmax over {}, {}-entry tables",
                s.n,
                s.exp_table.raw.len()
            ),
            json!({
                "rows": s.rows, "n": s.n, "table_size": s.exp_table.raw.len(),
                "exp_shift": s.exp_shift, "inv_shift": s.inv_shift,
                "table_bits_t": s.exp_table.ty.c_bits_type(),
                "exp_table": e, "inv_table": i,
            }),
        )
    }

    pub(super) fn prelu(
        &mut self,
        index: usize,
        name: &str,
        size: usize,
        slope: &Consts,
        td: &mut dyn FnMut(&str, FixedType),
    ) -> (&'static str, String, Value) {
        td("slope", slope.ty);
        let var = self.weight(format!("slope{index}"), name, "slopes", slope);
        (
            "prelu",
            format!("prelu, {size} values, {} slope(s)", slope.raw.len()),
            json!({ "n_slopes": slope.raw.len(), "slope_bits_t": slope.ty.c_bits_type(), "slope": var }),
        )
    }
}
