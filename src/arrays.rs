//! Sample arrays in and out: `.npy` (float32/float64, C order, shape [N, ...]) and `.csv` (one
//! sample a row, flattened).

use crate::error::{Error, Result};
use std::path::Path;

/// A batch of samples: `shape[0]` is the sample count.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

impl Array {
    /// Number of samples.
    pub fn rows(&self) -> usize {
        self.shape.first().copied().unwrap_or(0)
    }
    /// Values per sample.
    pub fn row_len(&self) -> usize {
        self.shape.iter().skip(1).product()
    }
    pub fn row(&self, i: usize) -> &[f64] {
        let n = self.row_len();
        &self.data[i * n..(i + 1) * n]
    }
    /// Builds `[rows, sample_shape...]` from rows.
    pub fn from_rows(sample_shape: &[usize], rows: &[Vec<f64>]) -> Array {
        let mut shape = vec![rows.len()];
        shape.extend_from_slice(sample_shape);
        Array {
            shape,
            data: rows.iter().flatten().copied().collect(),
        }
    }
}

fn is_csv(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

/// Reads samples and checks each holds `sample_shape` (CSV rows are reshaped to it).
pub fn read_samples(path: &Path, sample_shape: &[usize]) -> Result<Array> {
    let a = read(path)?;
    let want: usize = sample_shape.iter().product();
    if is_csv(path) {
        if a.row_len() != want {
            return Err(Error::input(format!(
                "rows have {} values; the model expects {want} per sample (shape {:?})",
                a.row_len(),
                sample_shape
            ))
            .in_file(path));
        }
        return Ok(Array::from_rows(
            sample_shape,
            &(0..a.rows()).map(|i| a.row(i).to_vec()).collect::<Vec<_>>(),
        ));
    }
    let got = &a.shape[1.min(a.shape.len())..];
    if got != sample_shape
        && !(a.shape.len() == 2 && a.row_len() == want && sample_shape.len() == 1)
    {
        return Err(Error::input(format!(
            "array shape {:?} does not match the model: expected [N, {}]",
            a.shape,
            sample_shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .in_file(path));
    }
    Ok(a)
}

/// Reads a `.npy` or `.csv` file.
pub fn read(path: &Path) -> Result<Array> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, "read the array", e))?;
    if is_csv(path) {
        parse_csv(&bytes).map_err(|e| e.in_file(path))
    } else {
        parse_npy(&bytes).map_err(|e| e.in_file(path))
    }
}

fn parse_csv(bytes: &[u8]) -> Result<Array> {
    let text = std::str::from_utf8(bytes).map_err(|_| Error::input("CSV is not UTF-8"))?;
    let mut rows = Vec::new();
    for (ln, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let row: Vec<f64> = line
            .split([',', ' ', '\t'])
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<f64>()
                    .map_err(|_| Error::input(format!("line {}: '{s}' is not a number", ln + 1)))
            })
            .collect::<Result<_>>()?;
        if let Some(first) = rows.first().map(|r: &Vec<f64>| r.len())
            && row.len() != first
        {
            return Err(Error::input(format!(
                "line {}: {} values, previous rows have {first}",
                ln + 1,
                row.len()
            )));
        }
        rows.push(row);
    }
    let n = rows.first().map(Vec::len).unwrap_or(0);
    Ok(Array::from_rows(&[n], &rows))
}

fn parse_npy(bytes: &[u8]) -> Result<Array> {
    let bad = |why: &str| Error::input(format!("not a valid .npy file: {why}"));
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("missing magic"));
    }
    let (hlen, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        _ => return Err(bad("unknown version")),
    };
    let header = bytes
        .get(start..start + hlen)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or_else(|| bad("truncated header"))?;
    let field = |key: &str| -> Option<&str> {
        let at = header.find(&format!("'{key}'"))?;
        let rest = header[at + key.len() + 2..]
            .trim_start()
            .strip_prefix(':')?;
        Some(rest.trim_start())
    };
    let descr = field("descr").ok_or_else(|| bad("no descr"))?;
    let descr = descr[1..].split('\'').next().unwrap_or("");
    let size = match descr {
        "<f4" => 4,
        "<f8" => 8,
        _ => {
            return Err(Error::input(format!(
                "array dtype '{descr}' is not supported; expected float32 or float64 (little-endian)"
            )));
        }
    };
    if field("fortran_order").is_some_and(|v| v.starts_with("True")) {
        return Err(Error::input(
            "Fortran-ordered arrays are not supported; expected C order",
        ));
    }
    let shape_s = field("shape").ok_or_else(|| bad("no shape"))?;
    let inner = shape_s
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| bad("bad shape"))?;
    let shape: Vec<usize> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|_| bad("bad shape")))
        .collect::<Result<_>>()?;
    let n: usize = shape.iter().product();
    let body = &bytes[start + hlen..];
    if body.len() < n * size {
        return Err(bad("truncated data"));
    }
    let data = body[..n * size]
        .chunks_exact(size)
        .map(|c| {
            if size == 4 {
                f32::from_le_bytes(c.try_into().unwrap()) as f64
            } else {
                f64::from_le_bytes(c.try_into().unwrap())
            }
        })
        .collect();
    Ok(Array { shape, data })
}

/// Writes `.npy` (float64) or `.csv`.
pub fn write(path: &Path, a: &Array) -> Result<()> {
    let bytes = if is_csv(path) {
        let n = a.row_len();
        let mut s = String::new();
        for r in 0..a.rows() {
            let row: Vec<String> = a.data[r * n..(r + 1) * n]
                .iter()
                .map(|v| format!("{v}"))
                .collect();
            s.push_str(&row.join(","));
            s.push('\n');
        }
        s.into_bytes()
    } else {
        npy_bytes(a)
    };
    std::fs::write(path, bytes).map_err(|e| Error::io(path, "write the array", e))
}

/// `.npy` version 1.0, float64, C order.
pub fn npy_bytes(a: &Array) -> Vec<u8> {
    let dims: Vec<String> = a.shape.iter().map(|d| d.to_string()).collect();
    let shape = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in &a.data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_round_trip() {
        let a = Array {
            shape: vec![2, 3],
            data: vec![1.0, -2.5, 3.0, 0.125, 5.0, 6.0],
        };
        assert_eq!(parse_npy(&npy_bytes(&a)).unwrap(), a);
    }

    #[test]
    fn csv_rows() {
        let a = parse_csv(b"1,2,3\n4, 5, 6\n").unwrap();
        assert_eq!(a.shape, vec![2, 3]);
        assert!(parse_csv(b"1,2\n3\n").is_err());
    }
}
