//! Each layer's arithmetic as Verilog values: the plan's (kernels/) casts, in the emulator's
//! order wherever an order can change a bit, so the RTL computes the emulator's bits. A sum
//! whose accumulator cannot round or overflow (every partial sum fits it exactly) is added as a
//! balanced tree instead of the kernel's chain: exact sums do not depend on their order.

use super::rtl::{Body, Val, konst};
use crate::error::{Error, Result};
use crate::ir::activation::Piecewise;
use crate::ir::ops::PoolKind;
use crate::ir::{FixedType, Strategy};
use crate::kernels::activation::{ActPlan, TableMode};
use crate::kernels::dense::DensePlan;
use crate::kernels::{Consts, Kernel, LayerPlan};

/// Why the Verilog backend cannot build `p`, if it cannot.
pub fn unsupported(p: &LayerPlan) -> Option<String> {
    let dense = |d: &DensePlan| match d.strategy {
        Strategy::Resource => Some(
            "strategy resource folds products onto shared multipliers over reuse passes; the \
             verilog backend builds every product at II 1: use latency (multipliers) or \
             distributed_arithmetic"
                .to_string(),
        ),
        Strategy::Latency | Strategy::DistributedArithmetic if d.reuse > 1 => Some(format!(
            "reuse factor {} folds products; the verilog backend builds every product at II 1 (reuse 1)",
            d.reuse
        )),
        Strategy::Latency | Strategy::DistributedArithmetic => None,
    };
    match &p.kernel {
        Kernel::Dense(d) => dense(d),
        Kernel::Conv(c) => dense(&c.dense),
        Kernel::Recurrent(r) => {
            r.wx.iter()
                .chain(&r.rh)
                .chain(&r.rhh)
                .find_map(dense)
                .or_else(|| {
                    (!r.rec.stateful).then(|| {
                    "the verilog backend builds recurrent layers as static designs (one time step \
                     a call, the state in registers): compile with --static (or static = true in \
                     [layers.<name>])"
                        .to_string()
                })
                })
        }
        Kernel::Input
        | Kernel::ScaleShift { .. }
        | Kernel::Activation(_)
        | Kernel::Clip { .. }
        | Kernel::Quant { .. }
        | Kernel::Softmax(_)
        | Kernel::ArgMax { .. }
        | Kernel::Add
        | Kernel::Sub
        | Kernel::Mul
        | Kernel::Max
        | Kernel::Min
        | Kernel::PRelu { .. }
        | Kernel::Pool(_)
        | Kernel::Concat { .. }
        | Kernel::Transpose { .. }
        | Kernel::Gather { .. } => None,
    }
}

/// Whether the layer is wiring only (no logic, no register): its values are its inputs' moved,
/// in the same type.
pub fn wiring_only(p: &LayerPlan) -> bool {
    let same = p.input_types.iter().all(|&t| t == p.result);
    match &p.kernel {
        Kernel::Concat { .. } | Kernel::Transpose { .. } | Kernel::Gather { .. } => same,
        Kernel::Input
        | Kernel::Dense(_)
        | Kernel::ScaleShift { .. }
        | Kernel::Activation(_)
        | Kernel::Clip { .. }
        | Kernel::Quant { .. }
        | Kernel::Softmax(_)
        | Kernel::ArgMax { .. }
        | Kernel::Add
        | Kernel::Sub
        | Kernel::Mul
        | Kernel::Max
        | Kernel::Min
        | Kernel::PRelu { .. }
        | Kernel::Conv(_)
        | Kernel::Recurrent(_)
        | Kernel::Pool(_) => false,
    }
}

fn c(k: &Consts, i: usize) -> Val {
    konst(k.raw[i], k.ty.frac())
}

/// The layer's result values (raw in `p.result`) from its inputs' (`ins[k][i]`).
pub fn values(b: &mut Body, p: &LayerPlan, ins: &[Vec<Val>]) -> Result<Vec<Val>> {
    let res = p.result;
    let x = |k: usize, i: usize| ins[k][i].clone();
    let each = |b: &mut Body, f: &dyn Fn(&mut Body, usize) -> Val| -> Vec<Val> {
        (0..p.size).map(|i| f(b, i)).collect()
    };
    Ok(match &p.kernel {
        Kernel::Input => {
            return Err(Error::internal("an input has no layer values"));
        }
        Kernel::Dense(d) => {
            let acc = dense_block(b, d, &ins[0], p.input_types[0], 0, 0);
            acc.iter().map(|a| b.cast(a, res)).collect()
        }
        Kernel::Conv(cp) => {
            let d = &cp.dense;
            let (cg, og) = (cp.channels_per_group(), d.n_out);
            let ksize = cp.window.size();
            let mut taps_all = Vec::new();
            cp.window
                .for_each_position(&cp.in_spatial, |t| taps_all.push(t.to_vec()));
            let mut out = Vec::with_capacity(p.size);
            for taps in &taps_all {
                for g in 0..cp.groups {
                    let patch: Vec<Val> = (0..ksize * cg)
                        .map(|k| match taps[k / cg] {
                            Some(pos) => x(0, pos * cp.in_channels + g * cg + k % cg),
                            None => konst(0, p.input_types[0].frac()),
                        })
                        .collect();
                    let acc = dense_block(b, d, &patch, p.input_types[0], g, g * og);
                    out.extend(acc.iter().map(|a| b.cast(a, res)));
                }
            }
            out
        }
        Kernel::Pool(pl) => {
            let ch = pl.channels;
            let mut taps_all = Vec::new();
            pl.window
                .for_each_position(&pl.in_spatial, |t| taps_all.push(t.to_vec()));
            let mut out = Vec::with_capacity(p.size);
            for taps in &taps_all {
                for c0 in 0..ch {
                    let vals: Vec<Val> = taps
                        .iter()
                        .flatten()
                        .map(|&pos| x(0, pos * ch + c0))
                        .collect();
                    out.push(match pl.kind {
                        PoolKind::Max => match vals.split_first() {
                            None => b.cast(&konst(0, 0), res),
                            Some((first, rest)) => {
                                let mut m = first.clone();
                                for v in rest {
                                    m = max(b, &m, v);
                                }
                                b.cast(&m, res)
                            }
                        },
                        PoolKind::Average => {
                            let count = if pl.count_include_pad {
                                taps.len()
                            } else {
                                vals.len()
                            };
                            if count == 0 {
                                b.cast(&konst(0, 0), res)
                            } else {
                                let mut sum = konst(0, pl.sum.frac());
                                for v in &vals {
                                    let s = b.add(&sum, v);
                                    sum = b.cast(&s, pl.sum);
                                }
                                let m = b.mul(&sum, &c(&pl.recip, count - 1));
                                b.cast(&m, res)
                            }
                        }
                    });
                }
            }
            out
        }
        Kernel::Recurrent(rp) => {
            if rp.rec.stateful {
                return Err(Error::internal(
                    "a static recurrent layer's values come with its state (layer_module)",
                ));
            }
            recurrent(b, rp, &ins[0], p.input_types[0], res, None).0
        }
        Kernel::Concat { sources } => sources
            .iter()
            .map(|&(k, i)| b.cast(&x(k, i), res))
            .collect(),
        Kernel::Transpose { in_shape, perm } => {
            crate::ir::tensor::TransposeSources::new(in_shape, perm)
                .map(|k| b.cast(&x(0, k), res))
                .collect()
        }
        Kernel::Gather { index, fill } => index
            .iter()
            .map(|&k| {
                if k < 0 {
                    konst(*fill, res.frac())
                } else {
                    b.cast(&x(0, k as usize), res)
                }
            })
            .collect(),
        Kernel::Add => each(b, &|b, i| {
            let s = b.add(&x(0, i), &x(1, i));
            b.cast(&s, res)
        }),
        Kernel::Sub => each(b, &|b, i| {
            let s = b.sub(&x(0, i), &x(1, i));
            b.cast(&s, res)
        }),
        Kernel::Mul => each(b, &|b, i| {
            let s = b.mul(&x(0, i), &x(1, i));
            b.cast(&s, res)
        }),
        Kernel::Max => each(b, &|b, i| {
            let m = max(b, &x(0, i), &x(1, i));
            b.cast(&m, res)
        }),
        Kernel::Min => each(b, &|b, i| {
            let (a, v) = (x(0, i), x(1, i));
            let lt = b.compare(&v, "<", &a);
            let m = b.select(&lt, &v, &a);
            b.cast(&m, res)
        }),
        Kernel::ArgMax { n, last, .. } => {
            let rows = p.size;
            (0..rows)
                .map(|r| {
                    let row: Vec<Val> = (0..*n).map(|i| x(0, r * n + i)).collect();
                    let mut best = row[0].clone();
                    let mut k = konst(0, 0);
                    for (i, v) in row.iter().enumerate().skip(1) {
                        let op = if *last { ">=" } else { ">" };
                        let take = b.compare(v, op, &best);
                        best = b.select(&take, v, &best);
                        k = b.select(&take, &konst(i as i128, 0), &k);
                    }
                    b.cast(&k, res)
                })
                .collect()
        }
        Kernel::ScaleShift {
            channels,
            scale,
            shift,
        } => each(b, &|b, i| {
            let ch = i % channels;
            let m = b.mul(&x(0, i), &c(scale, ch));
            let s = b.add(&m, &c(shift, ch));
            b.cast(&s, res)
        }),
        Kernel::Activation(a) => (0..p.size)
            .map(|i| activate(b, a, &x(0, i), res, "act"))
            .collect(),
        Kernel::Quant { bipolar: true, .. } => each(b, &|b, i| {
            let v = x(0, i);
            let nonneg = b.compare(&v, ">=", &konst(0, 0));
            b.select(&nonneg, &konst(1, res.frac()), &konst(-1, res.frac()))
        }),
        Kernel::Quant { round, codes, .. } => each(b, &|b, i| {
            let v = x(0, i);
            let code = match round {
                Some(r) => {
                    let shift = v.frac - res.frac();
                    if shift <= 0 {
                        b.shl(&v, (-shift) as u32).with_frac(res.frac())
                    } else {
                        let floor = b.shr_floor(&v, shift).with_frac(res.frac());
                        let back = b.shl(&floor, shift as u32).with_frac(v.frac);
                        let inexact = b.compare(&v, "!=", &back);
                        let up = match r {
                            crate::ir::ops::QuantRound::Ceil => inexact,
                            crate::ir::ops::QuantRound::Up => {
                                let nonneg = b.compare(&v, ">=", &konst(0, 0));
                                b.join(&inexact, '&', &nonneg)
                            }
                        };
                        let plus = b.add(&floor, &konst(1, res.frac()));
                        b.select(&up, &plus, &floor)
                    }
                }
                None => b.cast(&v, res),
            };
            match codes {
                Some((lo, hi)) => b.clamp(&code, *lo as i128, *hi as i128),
                None => code,
            }
        }),
        Kernel::Clip { min, max } => each(b, &|b, i| {
            let mut v = x(0, i);
            let (lo, hi) = (min.as_ref().map(|k| c(k, 0)), max.as_ref().map(|k| c(k, 0)));
            // As the emulator: below the minimum takes it, else above the maximum takes it.
            let below = lo.as_ref().map(|lo| b.compare(&v, "<", lo));
            if let Some(hi) = &hi {
                let above = b.compare(&v, ">", hi);
                v = b.select(&above, hi, &v);
            }
            if let (Some(lo), Some(below)) = (&lo, below) {
                v = b.select(&below, lo, &v);
            }
            b.cast(&v, res)
        }),
        Kernel::PRelu { slope } => each(b, &|b, i| {
            let v = x(0, i);
            let pos = b.compare(&v, ">", &konst(0, 0));
            let m = b.mul(&v, &c(slope, i % slope.raw.len()));
            let s = b.select(&pos, &v, &m);
            b.cast(&s, res)
        }),
        Kernel::Softmax(s) => {
            let mut out = Vec::with_capacity(p.size);
            let et = s.exp_table.ty;
            for r in 0..s.rows {
                let row: Vec<Val> = (0..s.n).map(|i| x(0, r * s.n + i)).collect();
                let mut m = row[0].clone();
                for v in &row[1..] {
                    m = max(b, &m, v);
                }
                let n_exp = s.exp_table.raw.len() as i128;
                let e: Vec<Val> = row
                    .iter()
                    .map(|v| {
                        let d = b.sub(&m, v);
                        // ceil(d / 2^shift) = -floor(-d / 2^shift)
                        let nd = b.neg(&d);
                        let f = b.shr_floor(&nd, s.exp_shift);
                        let idx = b.neg(&f);
                        let idx = b.clamp(&idx, 0, n_exp - 1);
                        b.rom("exp", &s.exp_table.raw, et.frac(), &idx)
                    })
                    .collect();
                let mut sum = konst(0, s.sum.frac());
                for v in &e {
                    let t = b.add(&sum, v);
                    sum = b.cast(&t, s.sum);
                }
                let n_inv = s.inv_table.raw.len() as i128;
                let idx = b.shr_floor(&sum, s.inv_shift);
                let idx = b.clamp(&idx, 0, n_inv - 1);
                let inv = b.rom("inv", &s.inv_table.raw, s.inv_table.ty.frac(), &idx);
                for v in &e {
                    let y = b.mul(v, &inv);
                    out.push(b.cast(&y, res));
                }
            }
            out
        }
    })
}

/// A recurrent layer over its `rp.seq` steps (every step unrolled; a static layer's one), as
/// `emulate::fixed::run_recurrent` computes it: its outputs (raw in `res`) and the final state
/// (h, c per direction, raw in the state type), starting from `start` (h, c) or the initial state.
#[allow(clippy::needless_range_loop)] // j indexes several per-gate arrays at once, as the emulator
pub fn recurrent(
    b: &mut Body,
    rp: &crate::kernels::recurrent::RecurrentPlan,
    x: &[Val],
    xt: FixedType,
    res: FixedType,
    start: Option<(&[Val], &[Val])>,
) -> (Vec<Val>, Vec<Val>, Vec<Val>) {
    use crate::ir::recurrent::{Cell, Direction, RecurrentOutput};
    let rec = &rp.rec;
    let (dirs, hs, n_in, seq) = (rec.direction.count(), rec.hidden, rp.n_in, rp.seq);
    let (a, st, gt) = (rp.accum, rp.state, rp.gate_type);
    let per_dir = rec.cell.activation_count();
    let one = konst(1, 0);
    let clipf = |b: &mut Body, acc: Val| -> Val {
        match &rp.clip {
            None => acc,
            Some(c) => {
                let cl = konst(c.raw[0], c.ty.frac());
                let ncl = konst(-c.raw[0], c.ty.frac());
                let below = b.compare(&acc, "<", &ncl);
                let above = b.compare(&acc, ">", &cl);
                let (lo, hi) = (b.cast(&ncl, a), b.cast(&cl, a));
                let v = b.select(&above, &hi, &acc);
                b.select(&below, &lo, &v)
            }
        }
    };
    let mut y: Vec<Option<Val>> = vec![None; seq * dirs * hs];
    let (mut last_h, mut last_c, mut fin_h, mut fin_c) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for d in 0..dirs {
        let reverse = rec.direction == Direction::Reverse || d == 1;
        let acts = &rp.acts[d * per_dir..(d + 1) * per_dir];
        // A table per direction and function (the ROM functions are keyed by it).
        let key = |f: &str| format!("{f}{d}");
        let init = |k: &Consts| -> Vec<Val> {
            (d * hs..(d + 1) * hs)
                .map(|i| konst(k.raw[i], st.frac()))
                .collect()
        };
        let (mut h, mut c) = match start {
            Some((h, c)) => (
                h[d * hs..(d + 1) * hs].to_vec(),
                c[d * hs..(d + 1) * hs].to_vec(),
            ),
            None => (init(&rp.h0), init(&rp.c0)),
        };
        for step in 0..seq {
            let t = if reverse { seq - 1 - step } else { step };
            let xr = &x[t * n_in..(t + 1) * n_in];
            let wx = dense_block(b, &rp.wx[d], xr, xt, 0, 0);
            let rh = dense_block(b, &rp.rh[d], &h, st, 0, 0);
            let sum = |b: &mut Body, row: usize| -> Val {
                let s = b.add(&wx[row], &rh[row]);
                b.cast(&s, a)
            };
            let mut nh = Vec::with_capacity(hs);
            match &rec.cell {
                Cell::Rnn => {
                    for j in 0..hs {
                        let s = sum(b, j);
                        let s = clipf(b, s);
                        let g = activate(b, &acts[0], &s, gt, &key("f"));
                        nh.push(b.cast(&g, st));
                    }
                }
                Cell::Lstm { input_forget } => {
                    let peep = |b: &mut Body, acc: Val, k: usize, j: usize, cv: &Val| -> Val {
                        match &rp.p {
                            None => acc,
                            Some(p) => {
                                let pw = konst(p.raw[d * 3 * hs + k * hs + j], p.ty.frac());
                                let m = b.mul(&pw, cv);
                                let s = b.add(&acc, &m);
                                b.cast(&s, a)
                            }
                        }
                    };
                    let mut nc = Vec::with_capacity(hs);
                    for j in 0..hs {
                        let gi = sum(b, j);
                        let gi = peep(b, gi, 0, j, &c[j]);
                        let gi = clipf(b, gi);
                        let i_g = activate(b, &acts[0], &gi, gt, &key("f"));
                        let f_g = if *input_forget {
                            let s = b.sub(&one, &i_g);
                            b.cast(&s, gt)
                        } else {
                            let gf = sum(b, 2 * hs + j);
                            let gf = peep(b, gf, 2, j, &c[j]);
                            let gf = clipf(b, gf);
                            activate(b, &acts[0], &gf, gt, &key("f"))
                        };
                        let gc = sum(b, 3 * hs + j);
                        let gc = clipf(b, gc);
                        let c_g = activate(b, &acts[1], &gc, gt, &key("g"));
                        let fc = b.mul(&f_g, &c[j]);
                        let ig = b.mul(&i_g, &c_g);
                        let s = b.add(&fc, &ig);
                        let ncj = b.cast(&s, st);
                        let go = sum(b, hs + j);
                        let go = peep(b, go, 1, j, &ncj);
                        let go = clipf(b, go);
                        let o_g = activate(b, &acts[0], &go, gt, &key("f"));
                        let hc = activate(b, &acts[2], &ncj, gt, &key("h"));
                        let m = b.mul(&o_g, &hc);
                        nh.push(b.cast(&m, st));
                        nc.push(ncj);
                    }
                    c = nc;
                }
                Cell::Gru {
                    linear_before_reset,
                } => {
                    let mut z = Vec::with_capacity(hs);
                    let mut r = Vec::with_capacity(hs);
                    for j in 0..hs {
                        let s = sum(b, j);
                        let s = clipf(b, s);
                        z.push(activate(b, &acts[0], &s, gt, &key("f")));
                    }
                    for j in 0..hs {
                        let s = sum(b, hs + j);
                        let s = clipf(b, s);
                        r.push(activate(b, &acts[0], &s, gt, &key("f")));
                    }
                    let rhh = if *linear_before_reset {
                        Vec::new()
                    } else {
                        let rh_in: Vec<Val> = (0..hs)
                            .map(|i| {
                                let m = b.mul(&r[i], &h[i]);
                                b.cast(&m, st)
                            })
                            .collect();
                        dense_block(b, &rp.rhh[d], &rh_in, st, 0, 0)
                    };
                    for j in 0..hs {
                        let ax = &wx[2 * hs + j];
                        let pre = if *linear_before_reset {
                            let m = b.mul(&r[j], &rh[2 * hs + j]);
                            let s = b.add(ax, &m);
                            b.cast(&s, a)
                        } else {
                            let s = b.add(ax, &rhh[j]);
                            b.cast(&s, a)
                        };
                        let pre = clipf(b, pre);
                        let hh = activate(b, &acts[1], &pre, gt, &key("g"));
                        let omz = b.sub(&one, &z[j]);
                        let m1 = b.mul(&omz, &hh);
                        let m2 = b.mul(&z[j], &h[j]);
                        let s = b.add(&m1, &m2);
                        nh.push(b.cast(&s, st));
                    }
                }
            }
            h = nh;
            for j in 0..hs {
                y[(t * dirs + d) * hs + j] = Some(b.cast(&h[j], res));
            }
        }
        for j in 0..hs {
            last_h.push(b.cast(&h[j], res));
            last_c.push(b.cast(&c[j], res));
        }
        fin_h.extend(h);
        fin_c.extend(c);
    }
    let out = match rec.output {
        RecurrentOutput::Sequence => y
            .into_iter()
            .map(|v| v.expect("every step written"))
            .collect(),
        RecurrentOutput::LastHidden => last_h,
        RecurrentOutput::LastCell => last_c,
    };
    (out, fin_h, fin_c)
}

/// The larger of two values (`a` when equal), as the kernels compare.
fn max(b: &mut Body, a: &Val, v: &Val) -> Val {
    let lt = b.compare(a, "<", v);
    b.select(&lt, v, a)
}

/// An activation of the value `v` (raw in `ty`) into `out`: `emulate::fixed::activate`'s cases.
pub fn activate(b: &mut Body, a: &ActPlan, v: &Val, out: FixedType, key: &str) -> Val {
    let zero = konst(0, 0);
    let k = |c: &Consts| konst(c.raw[0], c.ty.frac());
    let r = match a {
        ActPlan::Table(t) => {
            let n = t.size() as i128;
            let f = b.shr_floor(v, t.index_shift);
            let unclamped = b.add(&f.with_frac(0), &konst(n / 2, 0));
            let idx = b.clamp(&unclamped, 0, n - 1);
            let entry = b.rom(key, &t.table.raw, t.table.ty.frac(), &idx);
            match t.mode {
                TableMode::Table => entry,
                TableMode::PositivePass => {
                    let pos = b.compare(v, ">", &zero);
                    b.select(&pos, v, &entry)
                }
                TableMode::AbovePass => {
                    let above = b.compare(&unclamped, ">=", &konst(n, 0));
                    b.select(&above, v, &entry)
                }
                TableMode::PositiveScale => match &t.gamma {
                    Some(g) => {
                        let pos = b.compare(v, ">", &zero);
                        let m = b.mul(v, &k(g));
                        b.select(&pos, &m, &entry)
                    }
                    None => entry,
                },
            }
        }
        ActPlan::Piecewise(Piecewise::Relu) => {
            let pos = b.compare(v, ">", &zero);
            b.select(&pos, v, &konst(0, v.frac))
        }
        ActPlan::Piecewise(Piecewise::LeakyRelu { alpha }) => {
            let pos = b.compare(v, ">", &zero);
            let m = b.mul(v, &k(alpha));
            b.select(&pos, v, &m)
        }
        ActPlan::Piecewise(Piecewise::ThresholdedRelu { alpha }) => {
            let gt = b.compare(v, ">", &k(alpha));
            b.select(&gt, v, &konst(0, v.frac))
        }
        ActPlan::Piecewise(Piecewise::Affine { alpha, beta }) => {
            let m = b.mul(v, &k(alpha));
            b.add(&m, &k(beta))
        }
        ActPlan::Piecewise(Piecewise::HardSigmoid { alpha, beta }) => {
            let m = b.mul(v, &k(alpha));
            let t = b.add(&m, &k(beta));
            let one = konst(1, 0);
            let neg = b.compare(&t, "<", &zero);
            let above = b.compare(&t, ">", &one);
            let capped = b.select(&above, &one, &t);
            b.select(&neg, &konst(0, t.frac), &capped)
        }
    };
    b.cast(&r, out)
}

/// One dense block (group `group`, biases from `b_off`): each output's accumulator value (raw
/// in `d.accum`) for inputs `x` of type `xt`, as `emulate::fixed::dense_block` computes it.
pub fn dense_block(
    b: &mut Body,
    d: &DensePlan,
    x: &[Val],
    xt: FixedType,
    group: usize,
    b_off: usize,
) -> Vec<Val> {
    let bias = |j: usize| konst(d.bias.raw[b_off + j], d.bias.ty.frac());
    if d.strategy == Strategy::DistributedArithmetic {
        // The adder graph on the inputs' raw integers; each output the exact product sum in
        // units of the input's and weight's lsb, plus the bias, cast once.
        let g = &d.da[group];
        let mut v: Vec<Val> = x.iter().map(|v| v.with_frac(0)).collect();
        for a in &g.adders {
            let (l, r) = (b.shl(&v[a.a], a.a_shift), b.shl(&v[a.b], a.b_shift));
            let s = if a.sub { b.sub(&l, &r) } else { b.add(&l, &r) };
            v.push(s);
        }
        let frac = xt.frac() + d.weights.ty.frac();
        return g
            .outputs
            .iter()
            .enumerate()
            .map(|(j, t)| {
                let prod = match t {
                    None => konst(0, frac),
                    Some(t) => {
                        let s = b.shl(&v[t.v], t.shift);
                        let s = if t.neg { b.neg(&s) } else { s };
                        s.with_frac(frac)
                    }
                };
                let sum = b.add(&prod, &bias(j));
                b.cast(&sum, d.accum)
            })
            .collect();
    }
    // Multipliers: each output's products in the kernel's order.
    let mut terms: Vec<Vec<Val>> = vec![Vec::new(); d.n_out];
    for (i, j, k) in d.schedule(group) {
        if d.weights.raw[k] != 0 {
            let w = konst(d.weights.raw[k], d.weights.ty.frac());
            terms[j].push(b.mul(&x[i], &w));
        }
    }
    let (alo, ahi) = d.accum.raw_range();
    terms
        .into_iter()
        .enumerate()
        .map(|(j, ts)| {
            let start = b.cast(&bias(j), d.accum);
            // Exact when the accumulator holds every term's lsb and every partial sum.
            let af = d.accum.frac();
            let scale = |v: &Val| -> (i128, i128) {
                let k = af - v.frac;
                (v.lo.min(0) << k.max(0), v.hi.max(0) << k.max(0))
            };
            let exact = ts.iter().all(|t| t.frac <= af) && {
                let (mut lo, mut hi) = scale(&start);
                for t in &ts {
                    let (l, h) = scale(t);
                    lo += l;
                    hi += h;
                }
                lo >= alo && hi <= ahi
            };
            if exact {
                let mut all = vec![start];
                all.extend(ts);
                let s = b.sum(all);
                b.cast(&s, d.accum)
            } else {
                let mut acc = start;
                for t in &ts {
                    let s = b.add(&acc, t);
                    acc = b.cast(&s, d.accum);
                }
                acc
            }
        })
        .collect()
}
