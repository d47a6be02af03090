//! Dense layers: weight layout, valid reuse factors and the accumulation order per strategy.

use super::Consts;
use crate::error::Result;
use crate::ir::{FixedType, Precision, Strategy, Tensor};

/// A dense layer with quantized constants in the order the kernel reads them.
#[derive(Debug, Clone, PartialEq)]
pub struct DensePlan {
    pub n_in: usize,
    pub n_out: usize,
    pub reuse: usize,
    pub strategy: Strategy,
    /// Latency: index i * n_out + j. Resource: index j * n_in + i.
    pub weights: Consts,
    pub bias: Consts,
    pub accum: FixedType,
    /// Multiplications by a non-zero weight (zero weights add nothing and cost nothing).
    pub multiplications: usize,
}

impl DensePlan {
    /// Weights per multiplier in resource strategy (the unrolled inner loop).
    pub fn block_factor(&self) -> usize {
        self.n_in * self.n_out / self.reuse
    }

    /// The (input, output, weight index) of every multiply-accumulate, in the order the C++ kernel
    /// performs them. With saturating accumulators the order matters, so it is defined here once.
    pub fn schedule(&self) -> Vec<(usize, usize, usize)> {
        let (n_in, n_out) = (self.n_in, self.n_out);
        match self.strategy {
            Strategy::Latency => (0..n_in)
                .flat_map(|i| (0..n_out).map(move |j| (i, j, i * n_out + j)))
                .collect(),
            Strategy::Resource => {
                let rf = self.reuse;
                let block = self.block_factor();
                (0..rf)
                    .flat_map(|ir| {
                        (0..block).map(move |b| {
                            let k = ir + rf * b;
                            (k % n_in, k / n_in, k)
                        })
                    })
                    .collect()
            }
        }
    }
}

/// Reuse factors the kernels accept for an n_in x n_out layer (hls4ml's rule, so that firmware
/// engineers' existing choices stay valid): R divides n_in*n_out, and either R < n_in with
/// n_in*n_out/R a multiple of n_out, or R is a multiple of n_in.
pub fn valid_reuse_factors(n_in: usize, n_out: usize) -> Vec<usize> {
    let total = n_in * n_out;
    (1..=total)
        .filter(|&rf| {
            let mult_limit = total.div_ceil(rf.min(n_in));
            total.is_multiple_of(rf)
                && (mult_limit % n_out == 0 || rf >= n_in)
                && (rf % n_in == 0 || rf < n_in)
        })
        .collect()
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

pub fn plan(
    weights: &Tensor,
    bias: &Tensor,
    p: &Precision,
    reuse: usize,
    strategy: Strategy,
) -> Result<DensePlan> {
    let (n_in, n_out) = (weights.shape[0], weights.shape[1]);
    let ordered: Vec<f64> = match strategy {
        Strategy::Latency => weights.data.clone(),
        Strategy::Resource => (0..n_out)
            .flat_map(|j| (0..n_in).map(move |i| (i, j)))
            .map(|(i, j)| weights.data[i * n_out + j])
            .collect(),
    };
    let weights = Consts::quantize(p.weight, ordered)?;
    let multiplications = weights.raw.iter().filter(|&&w| w != 0).count();
    Ok(DensePlan {
        n_in,
        n_out,
        reuse,
        strategy,
        weights,
        bias: Consts::quantize(p.bias, bias.data.iter().copied())?,
        accum: p.accum,
        multiplications,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuse_factors_follow_hls4ml_rule() {
        assert_eq!(valid_reuse_factors(4, 2), vec![1, 2, 4, 8]);
        let v = valid_reuse_factors(16, 64);
        assert!(v.contains(&1) && v.contains(&16) && v.contains(&1024));
        assert!(!v.contains(&3) && !v.contains(&24));
    }

    #[test]
    fn resource_schedule_visits_every_product_once() {
        let w = Tensor::new(vec![6, 4], (0..24).map(|v| v as f64 / 32.0).collect());
        let b = Tensor::new(vec![4], vec![0.0; 4]);
        for rf in valid_reuse_factors(6, 4) {
            let p = plan(&w, &b, &Precision::default(), rf, Strategy::Resource).unwrap();
            let mut seen: Vec<_> = p
                .schedule()
                .iter()
                .map(|&(i, j, k)| {
                    assert_eq!(k, j * 6 + i);
                    k
                })
                .collect();
            seen.sort();
            assert_eq!(seen, (0..24).collect::<Vec<_>>());
        }
    }
}
