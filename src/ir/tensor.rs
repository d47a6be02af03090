//! Constant tensors (weights, biases, scales) held in f64 exactly as the model gave them.

use serde::{Deserialize, Serialize};

/// A dense row-major constant tensor.
/// The most values one tensor may hold (weights or a layer's output), whatever the model format:
/// far beyond any FPGA design, small enough that a corrupted or hostile dimension is an error
/// rather than an allocation failure.
pub const MAX_VALUES: usize = 1 << 24;

/// The number of values of a shape, if it is at most `MAX_VALUES` (None also when the product
/// overflows).
pub fn checked_size(shape: &[usize]) -> Option<usize> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= MAX_VALUES)
}

/// Read from data (a JSON model): its values must fill its shape exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TensorData")]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

#[derive(Deserialize)]
struct TensorData {
    shape: Vec<usize>,
    data: Vec<f64>,
}

impl TryFrom<TensorData> for Tensor {
    type Error = String;
    fn try_from(t: TensorData) -> Result<Tensor, String> {
        match checked_size(&t.shape) {
            Some(n) if n == t.data.len() => Ok(Tensor {
                shape: t.shape,
                data: t.data,
            }),
            Some(n) => Err(format!(
                "a tensor of shape {:?} needs {n} values, and \"data\" holds {}",
                t.shape,
                t.data.len()
            )),
            None => Err(format!(
                "a tensor of shape {:?} holds more than {MAX_VALUES} values",
                t.shape
            )),
        }
    }
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
    TransposeSources::new(in_shape, perm).collect()
}

/// The flat input index read by each flat output index of a transpose, in output order, counted
/// without a table (a transposed image of 16 M values needs no 16 M-entry index).
#[derive(Debug, Clone)]
pub struct TransposeSources {
    /// The output's shape, and the input's stride along each output axis.
    out_shape: Vec<usize>,
    src_strides: Vec<usize>,
    /// The output position's index along each axis, and its source.
    at: Vec<usize>,
    src: usize,
    left: usize,
}

impl TransposeSources {
    pub fn new(in_shape: &[usize], perm: &[usize]) -> TransposeSources {
        let in_strides = strides(in_shape);
        let out_shape: Vec<usize> = perm.iter().map(|&p| in_shape[p]).collect();
        TransposeSources {
            src_strides: perm.iter().map(|&p| in_strides[p]).collect(),
            at: vec![0; out_shape.len()],
            src: 0,
            left: out_shape.iter().product(),
            out_shape,
        }
    }

    /// The output's shape.
    pub fn out_shape(&self) -> &[usize] {
        &self.out_shape
    }

    /// The input's stride along each output axis: output position (i_0, ..., i_k) reads input
    /// index sum(i_a * src_strides[a]).
    pub fn src_strides(&self) -> &[usize] {
        &self.src_strides
    }
}

impl Iterator for TransposeSources {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let here = self.src;
        // Advance like an odometer, the last axis fastest.
        for a in (0..self.out_shape.len()).rev() {
            self.at[a] += 1;
            self.src += self.src_strides[a];
            if self.at[a] < self.out_shape[a] {
                break;
            }
            self.src -= self.at[a] * self.src_strides[a];
            self.at[a] = 0;
        }
        Some(here)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for TransposeSources {}

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

#[cfg(test)]
mod tests {
    use super::{TransposeSources, strides};

    /// The definition: output position o unravelled over the output's shape, each axis index
    /// times the input's stride of the axis it came from.
    fn by_definition(in_shape: &[usize], perm: &[usize]) -> Vec<usize> {
        let in_strides = strides(in_shape);
        let out_shape: Vec<usize> = perm.iter().map(|&p| in_shape[p]).collect();
        let out_strides = strides(&out_shape);
        (0..out_shape.iter().product())
            .map(|o| {
                perm.iter()
                    .enumerate()
                    .map(|(k, &p)| (o / out_strides[k]) % out_shape[k] * in_strides[p])
                    .sum()
            })
            .collect()
    }

    #[test]
    fn counted_sources_equal_the_definition() {
        let cases: &[(&[usize], &[usize])] = &[
            (&[5], &[0]),
            (&[3, 4], &[1, 0]),
            (&[2, 3, 4], &[2, 0, 1]),
            (&[2, 3, 4], &[1, 2, 0]),
            (&[4, 1, 3], &[0, 2, 1]),
            (&[2, 3, 1, 5], &[3, 1, 0, 2]),
            (&[2, 3, 4, 5, 2], &[4, 2, 3, 0, 1]),
            (&[0, 3], &[1, 0]),
        ];
        for &(shape, perm) in cases {
            let it = TransposeSources::new(shape, perm);
            assert_eq!(it.len(), shape.iter().product::<usize>());
            assert_eq!(
                it.collect::<Vec<_>>(),
                by_definition(shape, perm),
                "{shape:?} {perm:?}"
            );
        }
    }
}
