//! Dense layers: weight layout, valid reuse factors and the accumulation order per strategy.
//!
//! Two weight layouts. Dense: every weight of the n_in x n_out block, in the strategy's order.
//! Sparse (compressed): only the weights that are nonzero in their type, each with its input and
//! output index, so that a zero weight has no multiplier at all rather than relying on the HLS
//! tool folding `x * 0` away. A latency layer takes the sparse layout when it saves multipliers,
//! a resource layer when it removes at least half of its lanes (`plan_groups`).

use super::Consts;
use crate::error::Result;
use crate::ir::{FixedType, Precision, Strategy, Tensor};

/// The compressed layout: `weights.raw[k]` multiplies input `index[k].0` into output
/// `index[k].1`. Every group's list has `slots` entries; the ones past its nonzeros are padding
/// (weight 0, index (0, 0)) and are skipped.
#[derive(Debug, Clone, PartialEq)]
pub struct Sparse {
    /// (input, output) of each entry; 32 bits each (a million-entry list is half the size).
    pub index: Vec<(u32, u32)>,
    pub slots: usize,
}

/// Widest packed sparse entry (weight bits, output index, input index) stored as a C integer.
const MAX_SPARSE_ENTRY_BITS: u32 = 62;

/// Bits to hold every index below `n` (at least 1).
pub fn index_bits(n: usize) -> u32 {
    (usize::BITS - n.saturating_sub(1).leading_zeros()).max(1)
}

/// A dense layer with quantized constants in the order the kernel reads them.
#[derive(Debug, Clone, PartialEq)]
pub struct DensePlan {
    pub n_in: usize,
    pub n_out: usize,
    pub reuse: usize,
    pub strategy: Strategy,
    /// Dense layout, per group: latency index i * n_out + j, resource index j * n_in + i.
    /// Sparse layout: the compressed lists, group after group.
    pub weights: Consts,
    pub bias: Consts,
    pub accum: FixedType,
    /// Multiplications by a non-zero weight, all groups (zero weights add nothing and cost nothing).
    pub multiplications: usize,
    pub sparse: Option<Sparse>,
}

impl DensePlan {
    /// Entries of one group's weight array (the offset from one group to the next).
    pub fn slots(&self) -> usize {
        match &self.sparse {
            Some(s) => s.slots,
            None => self.n_in * self.n_out,
        }
    }

    /// Weights per multiplier in resource strategy (the unrolled inner loop).
    pub fn block_factor(&self) -> usize {
        self.slots() / self.reuse
    }

    /// Multipliers one group's block instantiates.
    pub fn multipliers(&self, groups: usize) -> usize {
        match (self.strategy, &self.sparse) {
            (Strategy::Resource, _) => self.block_factor(),
            (Strategy::Latency, Some(s)) => s.slots,
            (Strategy::Latency, None) => (self.multiplications / groups).max(1),
        }
    }

    /// The (input, output, weight index) of every entry of group `group`'s block (padding
    /// included), in memory order: `schedule`'s entries where the order does not matter (sums
    /// and counts over a million weights), without its per-entry index arithmetic.
    pub fn entries(&self, group: usize) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        let (n_in, n_out) = (self.n_in, self.n_out);
        let slots = self.slots();
        let base = group * slots;
        let index = self.sparse.as_ref().map(|s| &s.index[base..base + slots]);
        // Dense layouts: (i, j) counted along (latency [i][j], resource [j][i]), not divided out.
        let (mut i, mut j) = (0, 0);
        let latency = self.strategy == Strategy::Latency;
        (0..slots).map(move |c| {
            let at = match index {
                Some(index) => (index[c].0 as usize, index[c].1 as usize),
                None => {
                    let at = (i, j);
                    if latency {
                        j += 1;
                        if j == n_out {
                            (i, j) = (i + 1, 0);
                        }
                    } else {
                        i += 1;
                        if i == n_in {
                            (i, j) = (0, j + 1);
                        }
                    }
                    at
                }
            };
            (at.0, at.1, base + c)
        })
    }

    /// The (input, output, weight index) of every multiply-accumulate of group `group`, in the
    /// order the C++ kernel performs them. With saturating accumulators the order matters, so it
    /// is defined here once. Weight indices are into `weights.raw`.
    pub fn schedule(&self, group: usize) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        let (n_in, n_out) = (self.n_in, self.n_out);
        let slots = self.slots();
        let base = group * slots;
        // Latency: slot order. Resource: pass `ir` of the reuse loop visits slots ir, ir + R, ...
        let (rf, block) = match self.strategy {
            Strategy::Latency => (1, slots),
            Strategy::Resource => (self.reuse, self.block_factor()),
        };
        (0..rf)
            .flat_map(move |ir| (0..block).map(move |b| ir + rf * b))
            .map(move |c| {
                let k = base + c;
                let (i, j) = match (&self.sparse, self.strategy) {
                    (Some(s), _) => (s.index[k].0 as usize, s.index[k].1 as usize),
                    (None, Strategy::Latency) => (c / n_out, c % n_out),
                    (None, Strategy::Resource) => (c % n_in, c / n_in),
                };
                (i, j, k)
            })
    }

    /// The sparse entries packed as the generated code stores them: weight bits in the low
    /// `weight.width` bits, then the output index, then the input index.
    pub fn packed_sparse_entries(&self) -> Option<Vec<i128>> {
        let s = self.sparse.as_ref()?;
        let w = self.weights.ty.width;
        let out_bits = index_bits(self.n_out);
        let mask = (1i128 << w) - 1;
        Some(
            self.weights
                .raw
                .iter()
                .zip(&s.index)
                .map(|(&v, &(i, j))| {
                    ((i as i128) << (w + out_bits)) | ((j as i128) << w) | (v & mask)
                })
                .collect(),
        )
    }

    /// Width of a packed sparse entry.
    pub fn sparse_entry_bits(&self) -> u32 {
        self.weights.ty.width + index_bits(self.n_out) + index_bits(self.n_in)
    }
}
/// Reuse factors the kernels accept for an n_in x n_out layer (hls4ml's rule, so that firmware
/// engineers' existing choices stay valid): R divides n_in*n_out, and either R < n_in with
/// n_in*n_out/R a multiple of n_out, or R is a multiple of n_in.
pub fn valid_reuse_factors(n_in: usize, n_out: usize) -> Vec<usize> {
    let total = n_in * n_out;
    // Every valid factor divides the weights: the divisors, found in pairs up to the square
    // root (a 1024x1024 layer has 21 of its million candidates).
    let mut divisors: Vec<usize> = (1..)
        .take_while(|&d| d * d <= total)
        .filter(|&d| total.is_multiple_of(d))
        .flat_map(|d| [d, total / d])
        .collect();
    divisors.sort_unstable();
    divisors.dedup();
    divisors
        .into_iter()
        .filter(|&rf| reuse_factor_is_valid(n_in, n_out, rf))
        .collect()
}

/// hls4ml's rule for one reuse factor `rf` of an n_in x n_out layer.
fn reuse_factor_is_valid(n_in: usize, n_out: usize, rf: usize) -> bool {
    let total = n_in * n_out;
    let mult_limit = total.div_ceil(rf.min(n_in));
    total.is_multiple_of(rf)
        && (mult_limit.is_multiple_of(n_out) || rf >= n_in)
        && (rf.is_multiple_of(n_in) || rf < n_in)
}

/// The most iterations Vitis unrolls in one loop: past it, it stops (XFORM 203-504, "Stop
/// unrolling loop ... because it may cause large runtime and excessive memory usage"), and
/// hls4ml keeps a latency layer's n_in x n_out within it (hls4ml #252, #1013).
pub const UNROLL_LIMIT: usize = 4096;

/// Multiplications one block of an n_in x n_out product unrolls: all of them in the latency
/// kernel (its Product loop), n_in x n_out / R in the resource kernel (its MultLoop).
pub fn unrolled(n_in: usize, n_out: usize, strategy: Strategy, reuse: usize) -> usize {
    match strategy {
        Strategy::Latency => n_in * n_out,
        Strategy::Resource => (n_in * n_out).div_ceil(reuse.max(1)),
    }
}

/// The first of a layer's products past the unroll limit, as (n_in, n_out, multiplications
/// unrolled): `products[0]` at `reuse`, the others (a recurrent layer's recurrent products) at
/// `recurrent_reuse`.
pub fn past_unroll_limit(
    products: &[(usize, usize)],
    strategy: Strategy,
    reuse: usize,
    recurrent_reuse: usize,
) -> Option<(usize, usize, usize)> {
    products.iter().enumerate().find_map(|(k, &(i, o))| {
        let u = unrolled(i, o, strategy, if k == 0 { reuse } else { recurrent_reuse });
        (u > UNROLL_LIMIT).then_some((i, o, u))
    })
}

/// Reuse factors valid for every one of `products` (n_in x n_out each), which share one factor.
pub fn common_reuse_factors(products: &[(usize, usize)]) -> Vec<usize> {
    let mut valid = valid_reuse_factors(products[0].0, products[0].1);
    for &(i, o) in &products[1..] {
        let v = valid_reuse_factors(i, o);
        valid.retain(|r| v.contains(r));
    }
    valid
}

/// Plans a dense layer (one group, sparse layout when it saves multipliers).
pub fn plan(
    weights: &Tensor,
    bias: &Tensor,
    p: &Precision,
    reuse: usize,
    strategy: Strategy,
) -> Result<DensePlan> {
    plan_groups(&[(weights, bias)], p, reuse, strategy, true)
}

/// Plans `blocks` ([n_in, n_out] weights and n_out biases each, a convolution's groups) as one
/// kernel. `allow_sparse` = false keeps the dense layout (kernels that index weights by offset).
pub fn plan_groups(
    blocks: &[(&Tensor, &Tensor)],
    p: &Precision,
    reuse: usize,
    strategy: Strategy,
    allow_sparse: bool,
) -> Result<DensePlan> {
    let (n_in, n_out) = (blocks[0].0.shape[0], blocks[0].0.shape[1]);
    // Quantized straight into one array in the kernel's order (a million-weight layer is not
    // copied on the way).
    let mut raw = Vec::with_capacity(n_in * n_out * blocks.len());
    let mut bias = Vec::with_capacity(n_out * blocks.len());
    let (qw, qb) = (Consts::quantizer(p.weight), Consts::quantizer(p.bias));
    // Each group's nonzero weights.
    let mut nonzero = vec![0usize; blocks.len()];
    for ((w, b), nonzero) in blocks.iter().zip(&mut nonzero) {
        let start = raw.len();
        match strategy {
            Strategy::Latency => Consts::quantize_into(p.weight, &w.data, &mut raw)?,
            Strategy::Resource => {
                for j in 0..n_out {
                    for i in 0..n_in {
                        raw.push(qw(w.data[i * n_out + j])?);
                    }
                }
            }
        }
        *nonzero = raw[start..].iter().filter(|&&r| r != 0).count();
        for &v in &b.data {
            bias.push(qb(v)?);
        }
    }
    let total = n_in * n_out;
    let multiplications = nonzero.iter().sum();
    let mut plan = DensePlan {
        n_in,
        n_out,
        reuse,
        strategy,
        weights: Consts { ty: p.weight, raw },
        bias: Consts {
            ty: p.bias,
            raw: bias,
        },
        accum: p.accum,
        multiplications,
        sparse: None,
    };
    let most = nonzero.iter().copied().max().unwrap_or(0).max(1);
    // Latency: one multiplier per nonzero. Resource: each multiplier serves `reuse` entries.
    let slots = match strategy {
        Strategy::Latency => most,
        Strategy::Resource => most.div_ceil(reuse) * reuse,
    };
    // Latency: the product loop is unrolled, so every entry's indices are constants and a sparse
    // list is plain wiring. Resource: the reuse loop reads an entry's indices from the ROM at run
    // time, so each lane selects its input through an n_in:1 multiplexer and adds into a
    // run-time accumulator (hls4ml's dense_compressed does the same); worth it only where it
    // removes at least half of the lanes (a pruned layer), never for a few stray zeros.
    let worth = match strategy {
        Strategy::Latency => slots < total,
        Strategy::Resource => slots * 2 <= total,
    };
    if allow_sparse
        && worth
        && total <= u32::MAX as usize
        && plan.sparse_entry_bits() <= MAX_SPARSE_ENTRY_BITS
    {
        // Each group's nonzero weights in memory order (latency: the dense layout's accumulation
        // order per output, and the slot order of its schedule; resource: the order its reuse
        // loop reads the block's ROM), padded with zero weights at index (0, 0) to `slots`.
        // Compacted in place: a group's list starts no later than its dense block did.
        let (n_in32, n_out32) = (n_in as u32, n_out as u32);
        let at = |c: usize| -> (u32, u32) {
            let c = c as u32;
            match strategy {
                Strategy::Latency => (c / n_out32, c % n_out32),
                Strategy::Resource => (c % n_in32, c / n_in32),
            }
        };
        let raw = &mut plan.weights.raw;
        let mut index = Vec::with_capacity(slots * blocks.len());
        for group in 0..blocks.len() {
            let end = (group + 1) * slots;
            for c in 0..total {
                let v = raw[group * total + c];
                if v != 0 {
                    raw[index.len()] = v;
                    index.push(at(c));
                }
            }
            // (Slots end before the next group's dense block begins: slots < total.)
            raw[index.len()..end].fill(0);
            index.resize(end, (0, 0));
        }
        raw.truncate(index.len());
        plan.sparse = Some(Sparse { index, slots });
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_the_schedule_in_memory_order() {
        // Dense and sparse layouts, both strategies, two groups.
        for keep_every in [1, 3] {
            // (Sparse: two thirds zero, so the resource layouts take it too.)
            let data: Vec<f64> = (0..24)
                .map(|v| {
                    if v % keep_every == 0 {
                        (v + 1) as f64 / 32.0
                    } else {
                        0.0
                    }
                })
                .collect();
            let (w, b) = (
                Tensor::new(vec![6, 4], data),
                Tensor::new(vec![4], vec![0.0; 4]),
            );
            for (strategy, rf) in [
                (Strategy::Latency, 1),
                (Strategy::Resource, 4),
                (Strategy::Resource, 6),
            ] {
                let p = plan_groups(
                    &[(&w, &b), (&w, &b)],
                    &Precision::default(),
                    rf,
                    strategy,
                    true,
                )
                .unwrap();
                assert_eq!(p.sparse.is_some(), keep_every > 1);
                for g in 0..2 {
                    // Each group's entries hold its own weights (the sparse lists compacted
                    // in place from the dense blocks).
                    let mut kept = 0;
                    for (i, j, k) in p.entries(g) {
                        let v = p.weights.ty.to_f64(p.weights.raw[k]);
                        if v != 0.0 {
                            assert_eq!(v, w.data[i * 4 + j]);
                            kept += 1;
                        }
                    }
                    assert_eq!(kept, w.data.iter().filter(|&&v| v != 0.0).count());
                    let mut scheduled: Vec<_> = p.schedule(g).collect();
                    scheduled.sort_by_key(|&(_, _, k)| k);
                    assert_eq!(
                        p.entries(g).collect::<Vec<_>>(),
                        scheduled,
                        "{strategy:?} R={rf}"
                    );
                }
            }
        }
    }

    #[test]
    fn reuse_factors_are_every_valid_candidate() {
        // The rule tried on every candidate up to the layer's weights, as hls4ml does.
        for n_in in 1..=40 {
            for n_out in 1..=40 {
                let every: Vec<usize> = (1..=n_in * n_out)
                    .filter(|&rf| reuse_factor_is_valid(n_in, n_out, rf))
                    .collect();
                assert_eq!(valid_reuse_factors(n_in, n_out), every, "{n_in}x{n_out}");
            }
        }
    }

    #[test]
    fn reuse_factors_follow_hls4ml_rule() {
        assert_eq!(valid_reuse_factors(4, 2), vec![1, 2, 4, 8]);
        let v = valid_reuse_factors(16, 64);
        assert!(v.contains(&1) && v.contains(&16) && v.contains(&1024));
        assert!(!v.contains(&3) && !v.contains(&24));
    }

    #[test]
    fn resource_schedule_visits_every_product_once() {
        // No zero weight: the dense layout.
        let w = Tensor::new(vec![6, 4], (1..=24).map(|v| v as f64 / 32.0).collect());
        let b = Tensor::new(vec![4], vec![0.0; 4]);
        for rf in valid_reuse_factors(6, 4) {
            let p = plan(&w, &b, &Precision::default(), rf, Strategy::Resource).unwrap();
            assert!(p.sparse.is_none());
            let mut seen: Vec<_> = p
                .schedule(0)
                .map(|(i, j, k)| {
                    assert_eq!(k, j * 6 + i);
                    k
                })
                .collect();
            seen.sort();
            assert_eq!(seen, (0..24).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_resource_layer_is_sparse_only_where_half_its_lanes_go() {
        // 24 weights, `zeros` of them zero: latency takes the sparse list for any zero, the
        // resource kernel (R = 4: slots rounded up to a multiple of 4) once at most 12 remain.
        let b = Tensor::new(vec![4], vec![0.0; 4]);
        for zeros in [0usize, 1, 8, 11, 12, 16] {
            let data: Vec<f64> = (0..24)
                .map(|v| {
                    if v < zeros {
                        0.0
                    } else {
                        (v + 1) as f64 / 32.0
                    }
                })
                .collect();
            let w = Tensor::new(vec![6, 4], data);
            let p = Precision::default();
            let latency = plan(&w, &b, &p, 1, Strategy::Latency).unwrap();
            assert_eq!(
                latency.sparse.is_some(),
                zeros > 0,
                "latency, {zeros} zeros"
            );
            let resource = plan(&w, &b, &p, 4, Strategy::Resource).unwrap();
            assert_eq!(
                resource.sparse.is_some(),
                (24 - zeros).div_ceil(4) * 4 * 2 <= 24,
                "resource, {zeros} zeros"
            );
        }
    }

    #[test]
    fn sparse_layout_lists_each_nonzero_weight_once_with_its_indices() {
        // Two weights of three zero: 8 of 24 kept.
        let data: Vec<f64> = (0..24)
            .map(|v| {
                if v % 3 != 0 {
                    0.0
                } else {
                    (v + 1) as f64 / 32.0
                }
            })
            .collect();
        let w = Tensor::new(vec![6, 4], data.clone());
        let b = Tensor::new(vec![4], vec![0.0; 4]);
        for (strategy, rf) in [
            (Strategy::Latency, 1),
            (Strategy::Resource, 4),
            (Strategy::Resource, 6),
        ] {
            let p = plan(&w, &b, &Precision::default(), rf, strategy).unwrap();
            let s = p.sparse.as_ref().expect("sparse layout");
            assert_eq!(p.multiplications, 8);
            assert_eq!(s.slots, 8usize.div_ceil(rf) * rf);
            let mut seen: Vec<(usize, usize)> = p
                .schedule(0)
                .filter(|&(_, _, k)| p.weights.raw[k] != 0)
                .map(|(i, j, k)| {
                    assert_eq!(p.weights.ty.to_f64(p.weights.raw[k]), data[i * 4 + j]);
                    (i, j)
                })
                .collect();
            seen.sort();
            let want: Vec<(usize, usize)> = (0..24)
                .filter(|v| v % 3 == 0)
                .map(|v| (v / 4, v % 4))
                .collect();
            assert_eq!(seen, want, "{strategy:?} R={rf}");
            // Packed entries unpack to the same weight and indices.
            let packed = p.packed_sparse_entries().unwrap();
            let wbits = p.weights.ty.width;
            for (k, &e) in packed.iter().enumerate() {
                let (i, j) = s.index[k];
                assert_eq!(
                    e & ((1 << wbits) - 1),
                    p.weights.raw[k] & ((1 << wbits) - 1)
                );
                assert_eq!((e >> wbits) & 3, j as i128);
                assert_eq!(e >> (wbits + 2), i as i128);
            }
        }
    }
}
