//! The template context of a recurrent layer: its input, recurrent and (GRU) r*h products as
//! dense-kernel configs over one weight array per product (every direction), the gate tables and
//! activation parameters, initial states and peepholes.

use super::*;

/// A one-value placeholder for an empty array (C++ has no zero-length arrays).
fn nonempty(c: &Consts) -> Consts {
    if c.raw.is_empty() {
        Consts {
            ty: c.ty,
            raw: vec![0],
        }
    } else {
        c.clone()
    }
}

impl Builder<'_> {
    /// (kind, summary, parameters) of a recurrent layer; `td` records its typedefs.
    pub(super) fn recurrent(
        &mut self,
        index: usize,
        name: &str,
        op_kind: &str,
        rp: &crate::kernels::recurrent::RecurrentPlan,
        x: FixedType,
        td: &mut dyn FnMut(&str, FixedType),
    ) -> (&'static str, String, Value) {
        let rec = &rp.rec;
        let (w_ty, b_ty) = (rp.wx[0].weights.ty, rp.wx[0].bias.ty);
        td("weight", w_ty);
        td("bias", b_ty);
        td("accum", rp.accum);
        td("state", rp.state);
        td("gate", rp.gate_type);
        td("param", rp.param);
        let table_ty = rp
            .acts
            .iter()
            .find_map(|a| a.table().map(|t| t.table.ty))
            .unwrap_or(rp.gate_type);
        td("table", table_ty);
        let size = rp
            .acts
            .iter()
            .find_map(|a| a.table().map(|t| t.size()))
            .unwrap_or(16);
        // One array per product, directions one after the other (the kernel's offsets).
        let mut product = |tag: &str, what: &str, plans: &[DensePlan]| {
            let cat = |f: fn(&DensePlan) -> &Consts, ty| {
                let raw: Vec<i128> = plans
                    .iter()
                    .flat_map(|d| f(d).raw.iter().copied())
                    .collect();
                nonempty(&Consts { ty, raw })
            };
            let w = match plans.first().filter(|d| d.sparse.is_some()) {
                // Pruned: every direction's packed nonzero entries, padded alike.
                Some(first) => {
                    let packed: Vec<i128> = plans
                        .iter()
                        .flat_map(|d| d.packed_sparse_entries().unwrap_or_default())
                        .collect();
                    self.sparse_weights(
                        format!("{tag}_w{index}"),
                        name,
                        &format!("{what} "),
                        first,
                        &packed,
                        &cat(|d| &d.weights, w_ty),
                    )
                }
                None => self.weight(
                    format!("{tag}_w{index}"),
                    name,
                    &format!("{what} weights"),
                    &cat(|d| &d.weights, w_ty),
                ),
            };
            let b = self.weight(
                format!("{tag}_b{index}"),
                name,
                &format!("{what} biases"),
                &cat(|d| &d.bias, b_ty),
            );
            (w, b)
        };
        let (wx_w, wx_b) = product("wx", "input product (W, Wb + Rb)", &rp.wx);
        let (rh_w, rh_b) = product("rh", "recurrent product (R)", &rp.rh);
        let (rhh_w, rhh_b) = product("rhh", "GRU h-gate product of r*h", &rp.rhh);
        // The directions share one weight array: its reshape counts them all.
        let dense_cfg = |plans: &[DensePlan], fallback: &DensePlan| {
            let mut v = dense_params(plans.first().unwrap_or(fallback), 1);
            v["n_groups"] = json!(plans.len().max(1));
            v
        };
        // Distributed arithmetic: each product's graphs, a direction each; the input product
        // reads the layer's input, the recurrent ones the state (as the emulator's).
        let mut wx_cfg = dense_cfg(&rp.wx, &rp.wx[0]);
        wx_cfg["da_struct"] = json!(self.da_struct(format!("config{index}_wx"), &rp.wx, x));
        let mut rh_cfg = dense_cfg(&rp.rh, &rp.rh[0]);
        rh_cfg["da_struct"] = json!(self.da_struct(format!("config{index}_rh"), &rp.rh, rp.state));
        // Unused without an r*h product: a dense-layout config, as its (placeholder) weight
        // array is (and no graph: a distributed-arithmetic placeholder is a latency one).
        let placeholder_strategy = match rp.rh[0].strategy {
            crate::ir::Strategy::DistributedArithmetic => crate::ir::Strategy::Latency,
            s @ (crate::ir::Strategy::Latency | crate::ir::Strategy::Resource) => s,
        };
        let mut rhh_cfg = dense_cfg(
            &rp.rhh,
            &DensePlan {
                sparse: None,
                strategy: placeholder_strategy,
                ..rp.rh[0].clone()
            },
        );
        rhh_cfg["da_struct"] =
            json!(self.da_struct(format!("config{index}_rhh"), &rp.rhh, rp.state));
        let peep = rp.p.clone().unwrap_or(Consts {
            ty: w_ty,
            raw: vec![0],
        });
        let pv = self.weight(format!("peep{index}"), name, "peepholes", &peep);
        let h0 = self.weight(format!("h0_{index}"), name, "initial hidden state", &rp.h0);
        let c0 = self.weight(format!("c0_{index}"), name, "initial cell state", &rp.c0);
        let mut tables = Vec::new();
        let (mut kinds, mut shifts, mut alphas, mut betas) = (vec![], vec![], vec![], vec![]);
        for a in &rp.acts {
            kinds.push(a.kind() as i128);
            match a.table() {
                Some(t) => {
                    tables.extend_from_slice(&t.table.raw);
                    shifts.push(t.index_shift as i128);
                }
                None => {
                    tables.extend(std::iter::repeat_n(0, size));
                    shifts.push(0);
                }
            }
            let [alpha, beta] = a.scalars().map(|c| c.map_or(0, |c| c.raw[0]));
            alphas.push(alpha);
            betas.push(beta);
        }
        let tv = self.weight(
            format!("tables{index}"),
            name,
            "gate activation tables",
            &Consts {
                ty: table_ty,
                raw: tables,
            },
        );
        let mut int_array = |var: String, c_type: &str, vals: Vec<i128>, what: &str| {
            self.weights.push(WeightCtx {
                guard: format!("HLSRS_{}_H_", var.to_uppercase()),
                c_type: c_type.into(),
                cpp_type: c_type.into(),
                count: vals.len(),
                comment: format!("{name}: {what}"),
                data: format_data(vals.into_iter()),
                var: var.clone(),
                stats: None,
            });
            var
        };
        let kv = int_array(
            format!("act_kind{index}"),
            "int",
            kinds,
            "gate activation kinds",
        );
        let sv = int_array(
            format!("act_shift{index}"),
            "int",
            shifts,
            "table index shifts",
        );
        let av = int_array(
            format!("act_alpha{index}"),
            "long long",
            alphas,
            "activation alpha bits",
        );
        let bv = int_array(
            format!("act_beta{index}"),
            "long long",
            betas,
            "activation beta bits",
        );
        use crate::ir::recurrent::{Cell, Direction, RecurrentOutput};
        let (cell, lbr, input_forget) = match rec.cell {
            Cell::Rnn => (0, false, false),
            Cell::Lstm { input_forget } => (1, false, input_forget),
            Cell::Gru {
                linear_before_reset,
            } => (2, linear_before_reset, false),
        };
        let output = match rec.output {
            RecurrentOutput::Sequence => 0,
            RecurrentOutput::LastHidden => 1,
            RecurrentOutput::LastCell => 2,
        };
        (
            "recurrent",
            format!(
                "{} {}, {} -> hidden {}, reuse {} (input) / {} (recurrent)",
                op_kind,
                if rec.stateful {
                    "static, one step per call, state kept between calls".to_string()
                } else {
                    format!("{:?}, {} steps", rec.direction, rp.seq)
                },
                rp.n_in,
                rec.hidden,
                rp.wx[0].reuse,
                rp.rh[0].reuse
            ),
            json!({
                "seq": rp.seq, "n_in": rp.n_in, "hidden": rec.hidden, "gates": rec.cell.gates(),
                "dirs": rec.direction.count(), "reverse": rec.direction == Direction::Reverse,
                "acts_per_dir": rec.cell.activation_count(), "table_size": size,
                // The tables array holds one table per activation, each `size` long.
                "n_tables": rp.acts.len(),
                "cell": cell, "linear_before_reset": lbr, "input_forget": input_forget,
                "pipeline_steps": rp.latency_products(),
                "unroll_steps": rp.unrolled,
                "has_peep": rp.p.is_some(), "has_clip": rp.clip.is_some(),
                "clip_bits": rp.clip.as_ref().map_or(0, |c| c.raw[0]).to_string(),
                "output": output,
                "weight_bits_t": w_ty.c_bits_type(), "bias_bits_t": b_ty.c_bits_type(),
                "state_bits_t": rp.state.c_bits_type(), "table_bits_t": table_ty.c_bits_type(),
                "wx": wx_cfg, "rh": rh_cfg, "rhh": rhh_cfg,
                "static": rec.stateful,
                "wx_w": wx_w, "wx_b": wx_b, "rh_w": rh_w, "rh_b": rh_b, "rhh_w": rhh_w, "rhh_b": rhh_b,
                "peep": pv, "h0": h0, "c0": c0,
                "tables": tv, "act_kind": kv, "act_shift": sv, "act_alpha": av, "act_beta": bv,
            }),
        )
    }
}
