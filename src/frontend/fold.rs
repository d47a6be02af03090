//! Constant folding of the small integer computations exporters put around layers: tf2onnx builds
//! a Keras LSTM's zero initial state as Expand(0, Concat(Slice(Cast(Shape(x))), [hidden])).
//! The design handles one sample, so a shape's batch is 1 and all of it folds to constants.

use crate::error::{Error, Result};
use crate::ir::Tensor;
use crate::ir::ops::{concat_sources, unflatten};
use crate::ir::tensor::strides;

/// ONNX Cast of a constant to type `to` (TensorProto.DataType): integers truncate toward zero,
/// floats round to their precision, bool is nonzero.
pub fn cast(t: &Tensor, to: i32) -> Result<Tensor> {
    let f: fn(f64) -> f64 = match to {
        1 => |v| v as f32 as f64,
        11 => |v| v,
        2..=7 | 12 | 13 => f64::trunc,
        9 => |v| (v != 0.0) as i32 as f64,
        other => {
            return Err(Error::input(format!(
                "Cast to data type {other} is not supported"
            )));
        }
    };
    Ok(Tensor::new(
        t.shape.clone(),
        t.data.iter().map(|&v| f(v)).collect(),
    ))
}

/// The indices ONNX Slice keeps along each axis of `dims`: per listed axis, start and end
/// (negative from the end, clamped) and step (default 1).
pub fn slice_picks(
    dims: &[usize],
    starts: &[i64],
    ends: &[i64],
    axes: &[usize],
    steps: Option<&[i64]>,
) -> Result<Vec<Vec<usize>>> {
    let mut picks: Vec<Vec<usize>> = dims.iter().map(|&d| (0..d).collect()).collect();
    for (k, &axis) in axes.iter().enumerate() {
        let d = dims[axis] as i64;
        let step = steps.map_or(1, |s| s[k]);
        if step == 0 {
            return Err(Error::input("Slice step 0"));
        }
        let norm = |v: i64, lo: i64, hi: i64| (if v < 0 { v + d } else { v }).clamp(lo, hi);
        let (mut i, end) = if step > 0 {
            (norm(starts[k], 0, d), norm(ends[k], 0, d))
        } else {
            (norm(starts[k], -1, d - 1), norm(ends[k], -1, d - 1))
        };
        let mut v = Vec::new();
        while (step > 0 && i < end) || (step < 0 && i > end) {
            v.push(i as usize);
            i += step;
        }
        picks[axis] = v;
    }
    Ok(picks)
}

/// The values of `t` at `picks` (one index list per axis), row-major.
pub fn take(t: &Tensor, picks: &[Vec<usize>]) -> Tensor {
    let shape: Vec<usize> = picks.iter().map(Vec::len).collect();
    let st = strides(&t.shape);
    let data = (0..shape.iter().product())
        .map(|flat| {
            let idx = unflatten(flat, &shape);
            let src: usize = idx
                .iter()
                .enumerate()
                .map(|(a, &i)| picks[a][i] * st[a])
                .sum();
            t.data[src]
        })
        .collect();
    Tensor::new(shape, data)
}

/// ONNX Concat of constants along `axis`.
pub fn concat(ts: &[Tensor], axis: usize) -> Result<Tensor> {
    let first = &ts[0].shape;
    if axis >= first.len()
        || ts.iter().any(|t| {
            t.shape.len() != first.len()
                || (0..first.len()).any(|a| a != axis && t.shape[a] != first[a])
        })
    {
        return Err(Error::input("Concat of constants with mismatched shapes"));
    }
    let shapes: Vec<Vec<usize>> = ts.iter().map(|t| t.shape.clone()).collect();
    let mut shape = first.clone();
    shape[axis] = ts.iter().map(|t| t.shape[axis]).sum();
    let data = concat_sources(&shapes, axis)
        .into_iter()
        .map(|(k, i)| ts[k].data[i])
        .collect();
    Ok(Tensor::new(shape, data))
}

/// ONNX Expand (numpy broadcasting) of a constant to `shape`.
pub fn expand(t: &Tensor, shape: &[i64]) -> Result<Tensor> {
    let rank = t.shape.len().max(shape.len());
    let pad = |s: Vec<usize>| [vec![1; rank - s.len()], s].concat();
    let ts = pad(t.shape.clone());
    let want = pad(shape.iter().map(|&d| d.max(0) as usize).collect());
    let out: Vec<usize> = ts
        .iter()
        .zip(&want)
        .map(|(&a, &b)| {
            if a == b || b == 1 {
                Ok(a)
            } else if a == 1 {
                Ok(b)
            } else {
                Err(Error::input(format!(
                    "Expand cannot broadcast {:?} to {shape:?}",
                    t.shape
                )))
            }
        })
        .collect::<Result<_>>()?;
    let n: usize = out.iter().product();
    if n > super::onnx::MAX_VALUES {
        return Err(Error::input(format!("Expand to {out:?} is too large")));
    }
    let st = strides(&ts);
    let data = (0..n)
        .map(|flat| {
            let idx = unflatten(flat, &out);
            let src: usize = idx
                .iter()
                .enumerate()
                .map(|(a, &i)| if ts[a] == 1 { 0 } else { i * st[a] })
                .sum();
            t.data[src]
        })
        .collect();
    Ok(Tensor::new(out, data))
}
