//! Constant tensors (weights, biases, scales) held in f64 exactly as the model gave them.

use serde::{Deserialize, Serialize};

/// A dense row-major constant tensor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

impl Tensor {
    pub fn new(shape: Vec<usize>, data: Vec<f64>) -> Tensor {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        Tensor { shape, data }
    }
    pub fn filled(shape: Vec<usize>, v: f64) -> Tensor {
        let n = shape.iter().product();
        Tensor {
            shape,
            data: vec![v; n],
        }
    }
    pub fn len(&self) -> usize {
        self.data.len()
    }
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// Row-major strides of a shape.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// For a transpose of `in_shape` by `perm` (output axis k is input axis perm[k]), the flat input
/// index read by each flat output index.
pub fn transpose_gather(in_shape: &[usize], perm: &[usize]) -> Vec<usize> {
    let in_strides = strides(in_shape);
    let out_shape: Vec<usize> = perm.iter().map(|&p| in_shape[p]).collect();
    let n: usize = out_shape.iter().product();
    let out_strides = strides(&out_shape);
    (0..n)
        .map(|o| {
            perm.iter()
                .enumerate()
                .map(|(k, &p)| (o / out_strides[k]) % out_shape[k] * in_strides[p])
                .sum()
        })
        .collect()
}

/// `n` values uniform in [-2, 2) from a xorshift generator whose state is `seed` (advanced):
/// deterministic stand-in data (testbench samples, checks of a recognised pattern).
pub fn seeded_uniform(seed: &mut u64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|_| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            (*seed >> 11) as f64 / (1u64 << 53) as f64 * 4.0 - 2.0
        })
        .collect()
}
