//! Distributed arithmetic: a constant matrix-vector product as an adder graph. Each weight is
//! written in canonical signed digits (at most one nonzero digit in any two adjacent places), so
//! `x * w` is a sum of shifted, signed copies of `x`; subexpressions common to several outputs
//! (the same two values at the same relative shift and sign) are computed once, the subexpression
//! that saves the most adder bits first (its occurrences times its operands' widths);
//! and each output sums what remains narrowest first (a Huffman tree on the values' magnitudes),
//! which keeps the adders narrow and the depth near log2 of the terms.
//!
//! Hardware cost is adder bits, not adders: an adder of `a + (b << s)` is as wide as its result
//! less the `s` low bits it passes through. The choices above are made on the values' ranges for
//! inputs in one nominal range (`NOMINAL`): every input of a product shares one type, so the
//! ranges of any other type are the same up to a constant factor and would order nothing
//! differently. No multiplier: every node is one adder or subtracter of two shifted
//! values.
//!
//! The graph works on the inputs' raw integer bits and is exact: output j is
//! sum_i x_i * w_ij for any integer inputs, in units of the product's lsb. Nothing rounds or
//! overflows inside it (every node's width follows from its range, `ranges`), so the order of
//! the additions cannot change a bit and the emulator computes the plain exact product.

use std::collections::{BinaryHeap, HashMap};

/// A value of the graph, shifted left and signed: `sign * (value << shift)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Term {
    /// Input `v` for v < n_in, adder `v - n_in` after.
    pub v: usize,
    pub shift: u32,
    pub neg: bool,
}

/// One adder: `(a << a_shift) + (b << b_shift)`, or `-` for `sub`. At most one shift is nonzero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Adder {
    pub a: usize,
    pub a_shift: u32,
    pub b: usize,
    pub b_shift: u32,
    pub sub: bool,
}

/// The graph of one constant matrix (n_in x n_out).
#[derive(Debug, Clone, PartialEq)]
pub struct AdderGraph {
    pub n_in: usize,
    /// Value n_in + k is adder k; an adder reads only values before it.
    pub adders: Vec<Adder>,
    /// Each output as one term, or None where its weights are all zero.
    pub outputs: Vec<Option<Term>>,
}

/// The signed digits of `w` (lowest first): (place, negative).
pub fn csd(mut w: i128) -> Vec<(u32, bool)> {
    let mut digits = Vec::new();
    let mut place = 0;
    while w != 0 {
        if w & 1 != 0 {
            // 1 when w = 1 (mod 4), -1 when w = 3 (mod 4): the next digit is then 0.
            let neg = w & 3 == 3;
            digits.push((place, neg));
            w -= if neg { -1 } else { 1 };
        }
        w >>= 1;
        place += 1;
    }
    digits
}

/// A common subexpression's key: `first + same_sign ? + : - (second << dshift)` relative to the
/// first term's shift (the second term's shift minus the first's; either sign).
type Pattern = (usize, usize, i64, bool);

/// The pattern of two terms of one output, the first one the smaller.
fn pattern(p: Term, q: Term) -> Pattern {
    let (p, q) = if (p.v, p.shift) <= (q.v, q.shift) {
        (p, q)
    } else {
        (q, p)
    };
    (p.v, q.v, q.shift as i64 - p.shift as i64, p.neg == q.neg)
}

/// Work on pairs of terms per round, at most: a large layer pairs each term only with its
/// nearest neighbours (in input and shift order), as many as keep a round within this.
const PAIRS_PER_ROUND: usize = 1 << 22;

/// A fast hash of the small integer keys the sharing counts (SipHash's resistance to chosen
/// keys buys nothing here, and hashing is most of the planner's time).
#[derive(Default, Clone, Copy)]
struct FastHash;

struct FastHasher(u64);

impl std::hash::BuildHasher for FastHash {
    type Hasher = FastHasher;
    fn build_hasher(&self) -> FastHasher {
        FastHasher(0)
    }
}

impl std::hash::Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }
    fn write_u64(&mut self, v: u64) {
        // One rotate-xor-multiply round per word, as rustc's FxHasher: enough for keys of a
        // few small integers, whose differences sit in the low bits the product keeps.
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }
    fn write_i64(&mut self, v: i64) {
        self.write_u64(v as u64);
    }
    fn write_u8(&mut self, v: u8) {
        self.write_u64(v as u64);
    }
}

/// The inputs' range the planner weighs adders with (see the module's comment).
const NOMINAL: (i128, i128) = (-128, 127);

/// Pairs of terms within outputs up to which every pair is counted and the most frequent
/// pattern is taken one at a time (`share_one_at_a_time`); past it, rounds (`share_in_rounds`).
const EXACT_PAIRS: usize = 1 << 25;

/// The one-at-a-time sharing looks at every output for each pattern it takes (at most one per
/// term): terms x outputs up to this, rounds past it (a 64 x 1024 layer: 49 s one at a time).
const EXACT_SCANS: usize = 1 << 27;

impl AdderGraph {
    /// The graph of `weights` ([n_in][n_out] raw integers).
    pub fn build(weights: &[i128], n_in: usize, n_out: usize) -> AdderGraph {
        let mut terms: Vec<Vec<Term>> = vec![Vec::new(); n_out];
        for i in 0..n_in {
            for (j, t) in terms.iter_mut().enumerate() {
                for (shift, neg) in csd(weights[i * n_out + j]) {
                    t.push(Term { v: i, shift, neg });
                }
            }
        }
        let mut g = AdderGraph {
            n_in,
            adders: Vec::new(),
            outputs: vec![None; n_out],
        };
        let pairs: usize = terms.iter().map(|t| t.len() * t.len() / 2).sum();
        let scans = terms.iter().map(Vec::len).sum::<usize>() * n_out;
        let mut rng = vec![NOMINAL; n_in];
        if pairs <= EXACT_PAIRS && scans <= EXACT_SCANS {
            g.share_one_at_a_time(&mut terms, &mut rng);
        } else {
            g.share_in_rounds(&mut terms, &mut rng);
        }
        let mut depth = vec![0u32; n_in];
        for (j, t) in terms.into_iter().enumerate() {
            g.outputs[j] = g.sum(t, &mut depth, &mut rng);
        }
        g
    }

    /// The value of a shared pair p, q relative to their smaller shift and p's sign: `p +- q`
    /// unshifted where one of them has the smaller shift.
    fn pair_node(&mut self, p: Term, q: Term, rng: &mut Vec<(i128, i128)>) -> usize {
        self.push(
            Term { neg: false, ..p },
            Term {
                neg: p.neg != q.neg,
                ..q
            },
            rng,
        )
        .v
    }

    /// Adds the adder `p +- q` and its value's range to `rng`.
    fn push(&mut self, p: Term, q: Term, rng: &mut Vec<(i128, i128)>) -> Term {
        // (p << (sp - m)) +- (q << (sq - m)) at shift m, signed as p: p's sign out in front.
        let m = p.shift.min(q.shift);
        self.adders.push(Adder {
            a: p.v,
            a_shift: p.shift - m,
            b: q.v,
            b_shift: q.shift - m,
            sub: p.neg != q.neg,
        });
        let a = self.adders.last().expect("just pushed");
        rng.push(adder_range(a, rng));
        Term {
            v: self.n_in + self.adders.len() - 1,
            shift: m,
            neg: p.neg,
        }
    }

    /// Greedy common-subexpression elimination, one pattern at a time: every pair of terms
    /// within an output counted; the pattern of the highest `saving` (ties: the smallest) replaced in
    /// every output where it occurs, as often as it occurs there; the counts of the pairs the
    /// replaced and the new terms make updated; until no pattern occurs twice.
    fn share_one_at_a_time(&mut self, terms: &mut [Vec<Term>], rng: &mut Vec<(i128, i128)>) {
        use std::collections::BTreeSet;
        let mut sets: Vec<BTreeSet<Term>> =
            terms.iter().map(|t| t.iter().copied().collect()).collect();
        let mut count: HashMap<Pattern, u32, FastHash> = HashMap::default();
        for s in &sets {
            let t: Vec<Term> = s.iter().copied().collect();
            for (k, &p) in t.iter().enumerate() {
                for &q in &t[k + 1..] {
                    *count.entry(pattern(p, q)).or_insert(0) += 1;
                }
            }
        }
        let mut heap: BinaryHeap<(u64, std::cmp::Reverse<Pattern>)> = count
            .iter()
            .filter(|&(_, &c)| c >= 2)
            .map(|(&p, &c)| (saving(rng, &p, c), std::cmp::Reverse(p)))
            .collect();
        while let Some((c, std::cmp::Reverse(pat))) = heap.pop() {
            // A count only drops between pushes: a stale entry goes back at its saving now.
            match count.get(&pat) {
                Some(&now) if saving(rng, &pat, now) == c => {}
                Some(&now) => {
                    if now >= 2 {
                        heap.push((saving(rng, &pat, now), std::cmp::Reverse(pat)));
                    }
                    continue;
                }
                None => continue,
            }
            let (va, vb, d, same) = pat;
            let mut node: Option<usize> = None;
            // (Each output is looked at: a range query for the terms of value va finds whether
            // the pattern occurs in it, cheaper than keeping a list of outputs per pattern.)
            for set in sets.iter_mut() {
                loop {
                    // The first term p of an occurrence (a term of value va), and its partner q.
                    let first = Term {
                        v: va,
                        shift: 0,
                        neg: false,
                    };
                    let past = Term {
                        v: va + 1,
                        shift: 0,
                        neg: false,
                    };
                    let found = set.range(first..past).copied().find_map(|p| {
                        let shift = p.shift as i64 + d;
                        if shift < 0 {
                            return None;
                        }
                        let q = Term {
                            v: vb,
                            shift: shift as u32,
                            neg: if same { p.neg } else { !p.neg },
                        };
                        (q != p && set.contains(&q)).then_some((p, q))
                    });
                    let Some((p, q)) = found else { break };
                    set.remove(&p);
                    set.remove(&q);
                    let mut drop = |a: Term, b: Term| {
                        if let Some(n) = count.get_mut(&pattern(a, b)) {
                            *n -= 1;
                        }
                    };
                    drop(p, q);
                    for &x in set.iter() {
                        drop(p, x);
                        drop(q, x);
                    }
                    let m = p.shift.min(q.shift);
                    let v = *node.get_or_insert_with(|| self.pair_node(p, q, rng));
                    let t = Term {
                        v,
                        shift: m,
                        neg: p.neg,
                    };
                    for &x in set.iter() {
                        let pt = pattern(t, x);
                        let n = count.entry(pt).or_insert(0);
                        *n += 1;
                        if *n >= 2 {
                            heap.push((saving(rng, &pt, *n), std::cmp::Reverse(pt)));
                        }
                    }
                    set.insert(t);
                }
            }
            // Every occurrence is gone (or overlapped one taken): the pattern's count is spent.
            count.remove(&pat);
        }
        for (t, s) in terms.iter_mut().zip(sets) {
            *t = s.into_iter().collect();
        }
    }

    /// Greedy common-subexpression elimination in rounds: count every pattern of two terms
    /// within an output (each output's term list sorted, each term paired with its next
    /// `window` terms), then take the patterns seen twice or more, highest `saving` first, and
    /// replace their pairs in every output where both terms are still unused this round.
    fn share_in_rounds(&mut self, terms: &mut [Vec<Term>], rng: &mut Vec<(i128, i128)>) {
        loop {
            let total: usize = terms.iter().map(Vec::len).sum();
            let window = (PAIRS_PER_ROUND / total.max(1)).max(4);
            let mut count: HashMap<Pattern, u32, FastHash> = HashMap::default();
            for t in terms.iter_mut() {
                t.sort_unstable();
                for (k, &p) in t.iter().enumerate() {
                    for &q in &t[k + 1..(k + 1 + window).min(t.len())] {
                        *count.entry(pattern(p, q)).or_insert(0) += 1;
                    }
                }
            }
            let mut common: Vec<(u64, Pattern)> = count
                .into_iter()
                .filter(|&(_, c)| c >= 2)
                .map(|(p, c)| (saving(rng, &p, c), p))
                .collect();
            if common.is_empty() {
                return;
            }
            // Highest saving first; ties in pattern order, so the graph is deterministic.
            common.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            let rank: HashMap<Pattern, usize, FastHash> = common
                .iter()
                .enumerate()
                .map(|(r, &(_, p))| (p, r))
                .collect();
            // Per output, its candidate pairs in rank order; a pattern's node is made once.
            let mut node: HashMap<Pattern, usize, FastHash> = HashMap::default();
            let mut made = false;
            for t in terms.iter_mut() {
                let mut pairs: Vec<(usize, usize, usize)> = Vec::new();
                for (k, &p) in t.iter().enumerate() {
                    for (l, &q) in t.iter().enumerate().skip(k + 1).take(window) {
                        if let Some(&r) = rank.get(&pattern(p, q)) {
                            pairs.push((r, k, l));
                        }
                    }
                }
                pairs.sort_unstable();
                let mut used = vec![false; t.len()];
                let mut new_terms = Vec::new();
                for (r, k, l) in pairs {
                    if used[k] || used[l] {
                        continue;
                    }
                    used[k] = true;
                    used[l] = true;
                    let (p, q) = if (t[k].v, t[k].shift) <= (t[l].v, t[l].shift) {
                        (t[k], t[l])
                    } else {
                        (t[l], t[k])
                    };
                    let pat = common[r].1;
                    let m = p.shift.min(q.shift);
                    let v = match node.get(&pat) {
                        Some(&v) => v,
                        None => {
                            let v = self.pair_node(p, q, rng);
                            node.insert(pat, v);
                            made = true;
                            v
                        }
                    };
                    new_terms.push(Term {
                        v,
                        shift: m,
                        neg: p.neg,
                    });
                }
                let mut k = 0;
                t.retain(|_| {
                    k += 1;
                    !used[k - 1]
                });
                t.extend(new_terms);
            }
            // A round that removes under 1% of the terms is the last: the rounds after it
            // would cost as much for less.
            let left: usize = terms.iter().map(Vec::len).sum();
            if !made || (total - left) * 100 < total {
                return;
            }
        }
    }

    /// Sums `terms` narrowest first: a Huffman tree on the terms' magnitudes (shallower first
    /// among equals), so the wide values meet in the few adders at the top; `depth` is every
    /// value's adder depth (inputs 0), extended as adders are made.
    fn sum(
        &mut self,
        terms: Vec<Term>,
        depth: &mut Vec<u32>,
        rng: &mut Vec<(i128, i128)>,
    ) -> Option<Term> {
        depth.resize(self.n_in + self.adders.len(), 0);
        let magnitude = |rng: &[(i128, i128)], t: &Term| -> u128 {
            let (lo, hi) = rng[t.v];
            lo.unsigned_abs().max(hi.unsigned_abs()) << t.shift
        };
        // Min-heap on (magnitude, depth, term) (term order breaks ties: deterministic).
        let mut heap: BinaryHeap<std::cmp::Reverse<(u128, u32, Term)>> = terms
            .into_iter()
            .map(|t| std::cmp::Reverse((magnitude(rng, &t), depth[t.v], t)))
            .collect();
        loop {
            let std::cmp::Reverse((_, dp, p)) = heap.pop()?;
            let Some(std::cmp::Reverse((_, dq, q))) = heap.pop() else {
                return Some(p);
            };
            // A positive term first where there is one: p - q rather than -(q - p).
            let (p, q) = if p.neg && !q.neg { (q, p) } else { (p, q) };
            let t = self.push(p, q, rng);
            depth.push(dp.max(dq) + 1);
            heap.push(std::cmp::Reverse((magnitude(rng, &t), dp.max(dq) + 1, t)));
        }
    }

    /// Every value (inputs, then adders) for integer inputs `x`.
    pub fn values(&self, x: &[i128]) -> Vec<i128> {
        let mut v = x[..self.n_in].to_vec();
        v.reserve(self.adders.len());
        for a in &self.adders {
            let (l, r) = (v[a.a] << a.a_shift, v[a.b] << a.b_shift);
            v.push(if a.sub { l - r } else { l + r });
        }
        v
    }

    /// The outputs for integer inputs `x`: sum_i x_i * w_ij, exactly.
    pub fn eval(&self, x: &[i128]) -> Vec<i128> {
        let v = self.values(x);
        self.outputs
            .iter()
            .map(|t| match t {
                None => 0,
                Some(t) => {
                    let y = v[t.v] << t.shift;
                    if t.neg { -y } else { y }
                }
            })
            .collect()
    }

    /// Every value's range (inputs, then adders) for inputs each within `x`.
    pub fn ranges(&self, x: (i128, i128)) -> Vec<(i128, i128)> {
        let mut r = vec![x; self.n_in];
        r.reserve(self.adders.len());
        for a in &self.adders {
            r.push(adder_range(a, &r));
        }
        r
    }

    /// Adder depth of every value (inputs 0) and of the deepest output.
    pub fn depths(&self) -> (Vec<u32>, u32) {
        let mut d = vec![0u32; self.n_in];
        for a in &self.adders {
            d.push(d[a.a].max(d[a.b]) + 1);
        }
        let deepest = self
            .outputs
            .iter()
            .flatten()
            .map(|t| d[t.v])
            .max()
            .unwrap_or(0);
        (d, deepest)
    }
}

/// The range of adder `a`'s value, its operands' ranges in `r`.
fn adder_range(a: &Adder, r: &[(i128, i128)]) -> (i128, i128) {
    let (al, ah) = (r[a.a].0 << a.a_shift, r[a.a].1 << a.a_shift);
    let (bl, bh) = (r[a.b].0 << a.b_shift, r[a.b].1 << a.b_shift);
    if a.sub {
        (al - bh, ah - bl)
    } else {
        (al + bl, ah + bh)
    }
}

/// What sharing `pattern` in `count` places saves, in the measure the planner ranks patterns by:
/// one adder each, weighed by its operands' bits together. (Weighing by the narrower operand
/// alone, the bits where the operands overlap, or by the count alone, makes 1% and 1.6% more
/// adder bits on the jet tagger's four matrices.)
fn saving(rng: &[(i128, i128)], pattern: &Pattern, count: u32) -> u64 {
    let bits = signed_bits(rng[pattern.0]) + signed_bits(rng[pattern.1]);
    count as u64 * bits as u64
}

/// Adders of the same matrix without sharing: each output's signed digits summed on their own
/// (what the graph's sharing is measured against).
pub fn unshared_adders(weights: &[i128], n_in: usize, n_out: usize) -> usize {
    (0..n_out)
        .map(|j| {
            let digits: usize = (0..n_in).map(|i| csd(weights[i * n_out + j]).len()).sum();
            digits.saturating_sub(1)
        })
        .sum()
}

/// Bits of a signed integer type that holds every value of `range`.
pub fn signed_bits(range: (i128, i128)) -> u32 {
    let bits = |v: i128| {
        128 - if v < 0 {
            (!v).leading_zeros()
        } else {
            v.leading_zeros()
        } + 1
    };
    bits(range.0).max(bits(range.1)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift), so the tests need no crate.
    fn numbers(seed: u64, n: usize, lo: i128, hi: i128) -> Vec<i128> {
        let mut s = seed.max(1);
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                lo + (s % (hi - lo + 1) as u64) as i128
            })
            .collect()
    }

    #[test]
    fn signed_digits_are_canonical_and_sum_to_the_weight() {
        for w in -300i128..=300 {
            let d = csd(w);
            let sum: i128 = d
                .iter()
                .map(|&(p, neg)| if neg { -(1i128 << p) } else { 1 << p })
                .sum();
            assert_eq!(sum, w);
            // No two nonzero digits in adjacent places.
            assert!(d.windows(2).all(|p| p[1].0 > p[0].0 + 1), "{w}: {d:?}");
        }
    }

    #[test]
    fn the_graph_computes_the_exact_product_with_fewer_adders() {
        for (seed, n_in, n_out, w_max, zeros) in [
            (1, 16, 64, 127, false),
            (2, 64, 32, 127, false),
            (3, 32, 5, 7, false),
            (4, 24, 24, 255, true),
            (5, 1, 3, 0, false),
        ] {
            let mut w = numbers(seed, n_in * n_out, -w_max, w_max);
            if zeros {
                w.iter_mut().step_by(3).for_each(|v| *v = 0);
            }
            let g = AdderGraph::build(&w, n_in, n_out);
            // Every adder reads values before it.
            for (k, a) in g.adders.iter().enumerate() {
                assert!(a.a < n_in + k && a.b < n_in + k);
                assert!(a.a_shift == 0 || a.b_shift == 0, "{a:?}");
            }
            let x_range = (-512, 511);
            let ranges = g.ranges(x_range);
            for sample in 0..20 {
                let x = numbers(seed * 100 + sample, n_in, x_range.0, x_range.1);
                let y = g.eval(&x);
                let v = g.values(&x);
                for (value, r) in v.iter().zip(&ranges) {
                    assert!(r.0 <= *value && *value <= r.1);
                }
                for j in 0..n_out {
                    let want: i128 = (0..n_in).map(|i| x[i] * w[i * n_out + j]).sum();
                    assert_eq!(y[j], want, "seed {seed} output {j}");
                }
            }
            let naive = unshared_adders(&w, n_in, n_out);
            let outputs = g.outputs.iter().flatten().count();
            assert!(
                g.adders.len() <= naive,
                "{n_in}x{n_out}: {} adders, {naive} unshared",
                g.adders.len()
            );
            if n_in * n_out >= 256 {
                assert!(
                    g.adders.len() * 10 < naive * 8,
                    "{n_in}x{n_out}: sharing saves under 20%: {} of {naive}",
                    g.adders.len()
                );
            }
            let (_, depth) = g.depths();
            println!(
                "{n_in}x{n_out} |w| <= {w_max}: {} adders ({naive} unshared), depth {depth}, {outputs} outputs",
                g.adders.len()
            );
        }
    }

    #[test]
    fn the_graph_is_deterministic() {
        let w = numbers(9, 32 * 16, -100, 100);
        assert_eq!(AdderGraph::build(&w, 32, 16), AdderGraph::build(&w, 32, 16));
    }

    #[test]
    fn signed_bits_hold_the_range() {
        assert_eq!(signed_bits((-128, 127)), 8);
        assert_eq!(signed_bits((-129, 0)), 9);
        assert_eq!(signed_bits((0, 128)), 9);
        assert_eq!(signed_bits((0, 0)), 1);
        assert_eq!(signed_bits((-1, 0)), 1);
    }
}
