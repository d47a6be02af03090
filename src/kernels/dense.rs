//! Dense layers: weight layout, valid reuse factors and the accumulation order per strategy.
//!
//! Two weight layouts. Dense: every weight of the n_in x n_out block, in the strategy's order.
//! Sparse (compressed): only the weights that are nonzero in their type, each with its input and
//! output index, so that a zero weight has no multiplier at all rather than relying on the HLS
//! tool folding `x * 0` away. A latency layer takes the sparse layout when it saves multipliers,
//! a resource layer when it removes at least half of its lanes (`plan_groups`).
//!
//! A resource layer's sparse lanes are output-major: each output has the lanes its nonzeros need
//! at R a lane (`Sparse::lane_start`), so a lane's output is a compile-time constant and only its
//! input is named by the ROM. Each pass sums an output's lanes in an adder tree (`tree_sum`, over
//! `max_lanes` leaves, the missing ones zero) and adds the tree into the accumulator: one carried
//! add per pass.

use super::Consts;
use super::da::AdderGraph;
use crate::error::Result;
use crate::ir::{FixedType, Precision, Strategy, Tensor};

/// The compressed layout: `weights.raw[k]` multiplies input `index[k].0` into output
/// `index[k].1`. Every group's list has `slots` entries; the ones past its nonzeros are padding
/// (weight 0, input 0) and add nothing. Latency: a group's nonzeros in order, then padding at
/// output 0. Resource: slot `ir + R * b` is pass `ir` of lane `b`; output `j` has lanes
/// `lane_start[j] .. lane_start[j + 1]` (as many as its fullest group needs), and its lane `l`
/// takes its nonzeros `l * R .. (l + 1) * R` (in input order), padded to R.
#[derive(Debug, Clone, PartialEq)]
pub struct Sparse {
    /// (input, output) of each entry; 32 bits each (a million-entry list is half the size).
    pub index: Vec<(u32, u32)>,
    pub slots: usize,
    /// Resource layout: the first lane of each output, and the lane count last (n_out + 1
    /// entries). Latency layout: empty.
    pub lane_start: Vec<u32>,
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
    /// Dense layout, per group: latency (and distributed arithmetic) index i * n_out + j,
    /// resource index j * n_in + i.
    /// Sparse layout: the compressed lists, group after group.
    pub weights: Consts,
    pub bias: Consts,
    pub accum: FixedType,
    /// Multiplications by a non-zero weight, all groups (zero weights add nothing and cost nothing).
    pub multiplications: usize,
    pub sparse: Option<Sparse>,
    /// Distributed arithmetic: each group's adder graph over the dense layout's weights.
    pub da: Vec<AdderGraph>,
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

    /// Output `j`'s lanes in a sparse resource layout (see `Sparse`); none in any other.
    pub fn output_lanes(&self, j: usize) -> std::ops::Range<usize> {
        match &self.sparse {
            Some(s) if !s.lane_start.is_empty() => {
                s.lane_start[j] as usize..s.lane_start[j + 1] as usize
            }
            _ => 0..0,
        }
    }

    /// The most lanes of one output in a sparse resource layout: the leaves of its pass tree
    /// (1 in any other layout).
    pub fn max_lanes(&self) -> usize {
        (0..self.n_out)
            .map(|j| self.output_lanes(j).len())
            .max()
            .unwrap_or(0)
            .max(1)
    }

    /// The weight indices (into `weights.raw`) of output `j`'s lanes in pass `ir` of group
    /// `group`'s sparse resource layout, in the leaf order of the pass's adder tree.
    pub fn pass_lanes(&self, group: usize, ir: usize, j: usize) -> impl Iterator<Item = usize> {
        let base = group * self.slots() + ir;
        let rf = self.reuse;
        self.output_lanes(j).map(move |b| base + rf * b)
    }

    /// Multipliers one group's block instantiates.
    pub fn multipliers(&self, groups: usize) -> usize {
        match (self.strategy, &self.sparse) {
            (Strategy::Resource, _) => self.block_factor(),
            (Strategy::Latency, Some(s)) => s.slots,
            (Strategy::Latency, None) => (self.multiplications / groups).max(1),
            (Strategy::DistributedArithmetic, _) => 0,
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
        let latency = self.strategy != Strategy::Resource;
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
    /// is defined here once. Weight indices are into `weights.raw`. (A sparse resource layout
    /// sums each pass's lanes per output in a tree first: `pass_lanes`, `tree_sum`; this is then
    /// its entries pass by pass.)
    pub fn schedule(&self, group: usize) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        let (n_in, n_out) = (self.n_in, self.n_out);
        let slots = self.slots();
        let base = group * slots;
        // Latency: slot order. Resource: pass `ir` of the reuse loop visits slots ir, ir + R, ...
        let (rf, block) = match self.strategy {
            Strategy::Latency | Strategy::DistributedArithmetic => (1, slots),
            Strategy::Resource => (self.reuse, self.block_factor()),
        };
        (0..rf)
            .flat_map(move |ir| (0..block).map(move |b| ir + rf * b))
            .map(move |c| {
                let k = base + c;
                let (i, j) = match (&self.sparse, self.strategy) {
                    (Some(s), _) => (s.index[k].0 as usize, s.index[k].1 as usize),
                    (None, Strategy::Latency | Strategy::DistributedArithmetic) => {
                        (c / n_out, c % n_out)
                    }
                    (None, Strategy::Resource) => (c % n_in, c / n_in),
                };
                (i, j, k)
            })
    }

    /// The sparse entries packed as the generated code stores them: weight bits in the low
    /// `weight.width` bits, then the output index (`sparse_out_bits`), then the input index.
    pub fn packed_sparse_entries(&self) -> Option<Vec<i128>> {
        let s = self.sparse.as_ref()?;
        let w = self.weights.ty.width;
        let out_bits = self.sparse_out_bits();
        let (mask, out_mask) = ((1i128 << w) - 1, (1i128 << out_bits) - 1);
        Some(
            self.weights
                .raw
                .iter()
                .zip(&s.index)
                .map(|(&v, &(i, j))| {
                    ((i as i128) << (w + out_bits)) | ((j as i128 & out_mask) << w) | (v & mask)
                })
                .collect(),
        )
    }

    /// Bits of a packed sparse entry's output index: none in the resource layout, where the
    /// lane fixes the output.
    pub fn sparse_out_bits(&self) -> u32 {
        match self.strategy {
            Strategy::Latency | Strategy::DistributedArithmetic => index_bits(self.n_out),
            Strategy::Resource => 0,
        }
    }

    /// Width of a packed sparse entry.
    pub fn sparse_entry_bits(&self) -> u32 {
        self.weights.ty.width + self.sparse_out_bits() + index_bits(self.n_in)
    }
}

/// The adder tree that sums one output's lanes of a pass in a sparse resource layout (hls_lib's
/// `lane_tree`): the first half of the leaves (rounded down), then the rest, added.
pub fn tree_sum<T: Clone>(leaves: &[T], add: &impl Fn(T, T) -> T) -> T {
    if leaves.len() == 1 {
        return leaves[0].clone();
    }
    let half = leaves.len() / 2;
    add(
        tree_sum(&leaves[..half], add),
        tree_sum(&leaves[half..], add),
    )
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
/// kernel (its Product loop), n_in x n_out / R in the resource kernel (its MultLoop), none in
/// distributed arithmetic (straight-line adders, no loop).
pub fn unrolled(n_in: usize, n_out: usize, strategy: Strategy, reuse: usize) -> usize {
    match strategy {
        Strategy::Latency => n_in * n_out,
        Strategy::Resource => (n_in * n_out).div_ceil(reuse.max(1)),
        Strategy::DistributedArithmetic => 0,
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
            Strategy::Latency | Strategy::DistributedArithmetic => {
                Consts::quantize_into(p.weight, &w.data, &mut raw)?
            }
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
        da: Vec::new(),
    };
    // Latency: one multiplier per nonzero, the fullest group's count. Resource: each output
    // gets the lanes its fullest row (over the groups) needs, each lane serving R entries.
    let mut lane_start = Vec::new();
    let slots = match strategy {
        Strategy::Latency => nonzero.iter().copied().max().unwrap_or(0).max(1),
        // (Never sparse: the adder graph has no term for a zero weight anyway.)
        Strategy::DistributedArithmetic => total,
        Strategy::Resource => {
            let mut lanes = vec![0u32; n_out];
            for (r, row) in plan.weights.raw.chunks(n_in.max(1)).enumerate() {
                let need = row.iter().filter(|&&v| v != 0).count().div_ceil(reuse) as u32;
                let l = &mut lanes[r % n_out.max(1)];
                *l = (*l).max(need);
            }
            lane_start.push(0u32);
            for l in lanes {
                lane_start.push(lane_start.last().unwrap().saturating_add(l));
            }
            (*lane_start.last().unwrap() as usize).max(1) * reuse
        }
    };
    // Latency: the product loop is unrolled, so every entry's indices are constants and a sparse
    // list is plain wiring. Resource: the reuse loop reads an entry's input index from the ROM
    // at run time, so each lane selects its input through an n_in:1 multiplexer (hls4ml's
    // dense_compressed does the same); worth it only where it removes at least half of the
    // lanes (a pruned layer), never for a few stray zeros.
    let worth = match strategy {
        Strategy::Latency => slots < total,
        Strategy::Resource => total > 0 && slots * 2 <= total,
        Strategy::DistributedArithmetic => false,
    };
    if allow_sparse
        && worth
        && total <= u32::MAX as usize
        && plan.sparse_entry_bits() <= MAX_SPARSE_ENTRY_BITS
    {
        let raw = &mut plan.weights.raw;
        let mut index = Vec::with_capacity(slots * blocks.len());
        match strategy {
            // Each group's nonzero weights in memory order (the dense layout's accumulation
            // order per output, and the slot order of its schedule), padded with zero weights at
            // index (0, 0) to `slots`. Compacted in place: a group's list starts no later than
            // its dense block did.
            Strategy::Latency | Strategy::DistributedArithmetic => {
                for group in 0..blocks.len() {
                    let end = (group + 1) * slots;
                    for c in 0..total {
                        let v = raw[group * total + c];
                        if v != 0 {
                            raw[index.len()] = v;
                            index.push(((c / n_out) as u32, (c % n_out) as u32));
                        }
                    }
                    // (Slots end before the next group's dense block begins: slots < total.)
                    raw[index.len()..end].fill(0);
                    index.resize(end, (0, 0));
                }
            }
            // Lane-major within a pass (see `Sparse`). A group's list is read out of its dense
            // block before it is written over the front of it; it ends before the next group's
            // block begins ((g + 1) * slots <= (g + 1) * total / 2 <= g * total for g >= 1).
            Strategy::Resource => {
                let mut rows: Vec<Vec<(u32, i128)>> = vec![Vec::new(); n_out];
                for group in 0..blocks.len() {
                    let block = &raw[group * total..(group + 1) * total];
                    for (row, dense) in rows.iter_mut().zip(block.chunks_exact(n_in)) {
                        row.clear();
                        row.extend(
                            (0..n_in as u32)
                                .zip(dense.iter().copied())
                                .filter(|&(_, v)| v != 0),
                        );
                    }
                    let start = index.len();
                    index.resize(start + slots, (0, 0));
                    let list = &mut raw[start..start + slots];
                    for (j, row) in rows.iter().enumerate() {
                        for (l, b) in (lane_start[j]..lane_start[j + 1]).enumerate() {
                            let b = b as usize;
                            for ir in 0..reuse {
                                let (i, v) = row.get(l * reuse + ir).copied().unwrap_or((0, 0));
                                list[ir + reuse * b] = v;
                                index[start + ir + reuse * b] = (i, j as u32);
                            }
                        }
                    }
                }
            }
        }
        raw.truncate(index.len());
        plan.sparse = Some(Sparse {
            index,
            slots,
            lane_start,
        });
    }
    if strategy == Strategy::DistributedArithmetic {
        plan.da = (0..blocks.len())
            .map(|g| AdderGraph::build(&plan.weights.raw[g * total..(g + 1) * total], n_in, n_out))
            .collect();
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
            let data: Vec<f64> = (0..48)
                .map(|v| {
                    if v % keep_every == 0 {
                        (v + 1) as f64 / 32.0
                    } else {
                        0.0
                    }
                })
                .collect();
            let (w, b) = (
                Tensor::new(vec![12, 4], data),
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
        // 16 x 4 weights at R = 4: 16 dense lanes. The sparse layout gives each output the lanes
        // its nonzeros need (4 weights a lane), so it is taken when that is at most 8 lanes;
        // latency takes it for any zero.
        let b = Tensor::new(vec![4], vec![0.0; 4]);
        let p = Precision::default();
        // (zeroed weights [i][j] = i * 4 + j below `zeros`; then output 0 alone kept whole)
        for (zeros, whole_output) in [
            (0, false),
            (1, false),
            (32, false),
            (36, false),
            (48, false),
            (32, true),
            (48, true),
        ] {
            let data: Vec<f64> = (0..64)
                .map(|v| {
                    if v < zeros && !(whole_output && v % 4 == 0) {
                        0.0
                    } else {
                        (v + 1) as f64 / 64.0
                    }
                })
                .collect();
            let needs: Vec<usize> = (0..4)
                .map(|j| {
                    (0..16)
                        .filter(|i| data[i * 4 + j] != 0.0)
                        .count()
                        .div_ceil(4)
                })
                .collect();
            let w = Tensor::new(vec![16, 4], data);
            let latency = plan(&w, &b, &p, 1, Strategy::Latency).unwrap();
            assert_eq!(
                latency.sparse.is_some(),
                zeros > 0,
                "latency, {zeros} zeros"
            );
            let resource = plan(&w, &b, &p, 4, Strategy::Resource).unwrap();
            let lanes: usize = needs.iter().sum();
            assert_eq!(
                resource.sparse.is_some(),
                lanes * 2 <= 16,
                "resource, {zeros} zeros, output 0 whole: {whole_output}"
            );
            if resource.sparse.is_some() {
                assert_eq!(resource.block_factor(), lanes);
                for (j, &need) in needs.iter().enumerate() {
                    assert_eq!(resource.output_lanes(j).len(), need);
                }
                assert_eq!(resource.max_lanes(), *needs.iter().max().unwrap());
            }
        }
    }

    #[test]
    fn sparse_layout_lists_each_nonzero_weight_once_with_its_indices() {
        // Two weights of three zero: 16 of 48 kept, 4 per output.
        let data: Vec<f64> = (0..48)
            .map(|v| {
                if v % 3 != 0 {
                    0.0
                } else {
                    (v + 1) as f64 / 64.0
                }
            })
            .collect();
        let w = Tensor::new(vec![12, 4], data.clone());
        let b = Tensor::new(vec![4], vec![0.0; 4]);
        for (strategy, rf, slots) in [
            (Strategy::Latency, 1, 16),
            (Strategy::Resource, 2, 16),
            (Strategy::Resource, 4, 16),
            (Strategy::Resource, 6, 24),
        ] {
            let p = plan(&w, &b, &Precision::default(), rf, strategy).unwrap();
            let s = p.sparse.as_ref().expect("sparse layout");
            assert_eq!(p.multiplications, 16);
            assert_eq!(s.slots, slots, "{strategy:?} R={rf}");
            let mut seen: Vec<(usize, usize)> = p
                .schedule(0)
                .filter(|&(_, _, k)| p.weights.raw[k] != 0)
                .map(|(i, j, k)| {
                    assert_eq!(p.weights.ty.to_f64(p.weights.raw[k]), data[i * 4 + j]);
                    (i, j)
                })
                .collect();
            seen.sort();
            let want: Vec<(usize, usize)> = (0..48)
                .filter(|v| v % 3 == 0)
                .map(|v| (v / 4, v % 4))
                .collect();
            assert_eq!(seen, want, "{strategy:?} R={rf}");
            // Resource: output j's lanes are consecutive, and every entry of its lanes (slots
            // ir + R b) adds into it.
            if strategy == Strategy::Resource {
                let mut next_lane = 0;
                for j in 0..4 {
                    assert_eq!(p.output_lanes(j).start, next_lane);
                    next_lane = p.output_lanes(j).end;
                    for ir in 0..rf {
                        for k in p.pass_lanes(0, ir, j) {
                            assert_eq!(s.index[k].1 as usize, j);
                            assert_eq!(k % rf, ir);
                            assert!(p.output_lanes(j).contains(&(k / rf)));
                        }
                    }
                }
                assert_eq!(next_lane * rf, s.slots);
            }
            // Packed entries unpack to the same weight and indices (the resource layout stores
            // no output: its lane fixes it).
            let packed = p.packed_sparse_entries().unwrap();
            let wbits = p.weights.ty.width;
            let out_bits = p.sparse_out_bits();
            assert_eq!(out_bits, if strategy == Strategy::Latency { 2 } else { 0 });
            for (k, &e) in packed.iter().enumerate() {
                let (i, j) = s.index[k];
                assert_eq!(
                    e & ((1 << wbits) - 1),
                    p.weights.raw[k] & ((1 << wbits) - 1)
                );
                if out_bits > 0 {
                    assert_eq!((e >> wbits) & 3, j as i128);
                }
                assert_eq!(e >> (wbits + out_bits), i as i128);
            }
        }
    }

    #[test]
    fn a_pass_tree_adds_the_first_half_then_the_rest() {
        let shape = |n: usize| {
            let leaves: Vec<String> = (0..n).map(|v| v.to_string()).collect();
            tree_sum(&leaves, &|a: String, b: String| format!("({a}+{b})"))
        };
        assert_eq!(shape(1), "0");
        assert_eq!(shape(3), "(0+(1+2))");
        assert_eq!(shape(5), "((0+1)+(2+(3+4)))");
    }
}
